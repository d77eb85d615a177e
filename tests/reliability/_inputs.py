"""Builders of small valid inputs in every format the project reads, and ways to damage them.

Valid inputs come from the official-format writers of ``tests/fixtures_official.py`` and
from the real small fixtures of ``../shared/data`` (copied into ``tmp_path`` first, never
damaged in place). Each reader is wrapped as ``read(path)`` so that a test can feed any
damaged copy to it and check what comes out.
"""

from __future__ import annotations

import bz2
import io
import os
import pickle
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fixtures_official import (
    official_rows_to_records,
    read_official_nb101_csv,
    write_tfrecord,
)


# ----------------------------------------------------------------------------- hostile pickles
def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def hostile_pickles(canary: Path) -> dict[str, bytes]:
    """Pickles that create ``canary`` when a plain ``pickle.loads`` reads them.

    ``os.system`` (the classic), ``builtins.eval``, a ``builtins.getattr`` chain that
    fetches ``os.system`` through ``__import__``, and a nested reduce that hides the call
    inside the arguments of an allowed global (``collections.OrderedDict``).
    """
    touch = f"touch {canary}"
    system = _global("os", "system") + b"(" + _binunicode(touch) + b"tR"
    evil_eval = (_global("builtins", "eval") + b"("
                 + _binunicode(f"open({str(canary)!r}, 'w').close()") + b"tR")
    chain = (_global("builtins", "getattr") + b"("
             + _global("builtins", "__import__") + b"(" + _binunicode("os") + b"tR"
             + _binunicode("system") + b"tR" + b"(" + _binunicode(touch) + b"tR")
    nested = (_global("collections", "OrderedDict") + b"(" + b"]" + b"("
              + b"(" + _binunicode("k") + system + b"t" + b"e" + b"tR")
    return {
        "os.system": b"\x80\x02" + system + b".",
        "builtins.eval": b"\x80\x02" + evil_eval + b".",
        "getattr chain": b"\x80\x02" + chain + b".",
        "nested reduce": b"\x80\x02" + nested + b".",
    }


# ----------------------------------------------------------------------------- damage
def truncation_offsets(size: int, n: int) -> list[int]:
    """``n`` distinct offsets spread over ``[0, size)``, always 0, 1 and ``size - 1``."""
    spread = np.linspace(0, size - 1, num=max(n - 2, 2)).astype(int).tolist()
    return sorted({0, 1, size - 1, *spread})[:max(n, 3)]


def flip_positions(size: int, n: int, rng: np.random.Generator) -> list[int]:
    """``n`` byte positions: the first and last byte and random ones in between."""
    return sorted({0, size - 1, *rng.integers(0, size, max(n - 2, 0)).tolist()})


def truncate(path: Path, offset: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:offset])


def flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def replace_dir_by_file_or_file_by_dir(path: Path) -> None:
    """Put a directory where a file was (or an empty file where a directory was)."""
    if path.is_dir():
        shutil.rmtree(path)
        path.write_bytes(b"")
    else:
        path.unlink()
        path.mkdir()


# ----------------------------------------------------------------------------- valid inputs
def nb101_tfrecord(dest: Path, shared: Path, n: int = 6) -> Path:
    """A tfrecord of the first ``n`` official records (3 repeats each, 108 epochs)."""
    rows = read_official_nb101_csv(shared / "nb101" / "nb101_official_records_20arch.csv")
    return write_tfrecord(dest / "nasbench_small.tfrecord",
                          official_rows_to_records(rows[: 3 * n]))


def nb201_pth(dest: Path, shared: Path, legacy: bool) -> Path:
    name = "NAS-Bench-201-fixture-legacy.pth" if legacy else "NAS-Bench-201-fixture.pth"
    out = dest / name
    shutil.copyfile(shared / "nb201" / name, out)
    return out


def nats_fast_dir(dest: Path, shared: Path, space: str = "sss") -> Path:
    name = {"sss": "NATS-sss-v1_0-50262-simple", "tss": "NATS-tss-v1_0-3ffb9-simple"}[space]
    out = dest / name
    shutil.copytree(shared / "nats" / "fake_torch_dir" / name, out)
    for p in [out, *out.iterdir()]:  # the shared copy is read-only
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return out


def nats_single_file(dest: Path, shared: Path) -> Path:
    """The single-file layout: meta and the cells of the real sss fast-mode dir in one pbz2."""
    from nasbench_tools.store.converters.safe_pickle import load_pbz2

    src = shared / "nats" / "fake_torch_dir" / "NATS-sss-v1_0-50262-simple"
    meta = load_pbz2(src / "meta.pickle.pbz2")
    cells = {int(p.name.split(".")[0]): load_pbz2(p) for p in sorted(src.glob("0*.pickle.pbz2"))}
    obj = {"meta_archs": meta["meta_archs"], "arch2infos": cells,
           "evaluated_indexes": set(cells)}
    out = dest / "NATS-sss-v1_0-50262.pickle.pbz2"
    out.write_bytes(bz2.compress(pickle.dumps(obj, protocol=4)))
    return out


def csv_table(dest: Path, shared: Path, rows: int = 25) -> Path:
    src = shared / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv"
    with src.open() as fh:
        lines = [next(fh) for _ in range(rows + 1)]
    out = dest / "nb201_small.csv"
    out.write_text("".join(lines))
    return out


def hdf5_store(dest: Path) -> Path:
    from nasbench_tools.store import DatasetTable, TableData, write_store

    keys = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
            "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
            "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    ds = DatasetTable("cifar10", (0, 1), ((200, 200),), ("val_accuracy",),
                      np.arange(6, dtype=np.float32).reshape(3, 2, 1, 1) + 50,
                      costs={"params": np.array([0.1, 0.2, 0.3])})
    return write_store(TableData("nb201", keys, np.arange(3), {"cifar10": ds}),
                       dest / "store.h5", command="reliability fixture")


def search_sqlite(dest: Path) -> Path:
    from nasbench_tools.search.results import ResultsDB, RunResult

    db = ResultsDB(dest / "runs.sqlite")
    db.begin("rs", {"algo": "rs"})
    for r in range(3):
        db.write(RunResult("rs", r, r, "cell", 3, 360.0, 80.0 + r, {"test_accuracy": 90.0},
                           [[1, 120.0, 80.0, 90.0]], ["test_accuracy"]))
    db.close()
    _checkpoint(db.path)
    return db.path


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so the damage hits the data itself."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


def train_sqlite(dest: Path) -> Path:
    """The build-bench journal with two finished (made-up) trainings."""
    from nasbench_tools.trainer.recipes import get_recipe
    from nasbench_tools.trainer.results import Job, ResultsDB

    db = ResultsDB(dest / "build.runs.sqlite")
    for seed in (0, 1):
        job = Job(space="nb201", cell="|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                  dataset="digits", recipe=get_recipe("quick-cpu"), seed=seed)
        db.add(job, {"records": [[1, 0.5]], "params": 10 + seed})
    db.set_meta("spec", {"cells": 1})
    db.close()
    _checkpoint(db.path)
    return db.path


def cifar10_dir(dest: Path) -> Path:
    """A CIFAR-10 python-format directory with 2 images per batch."""
    root = dest / "cifar-10-batches-py"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": [int(rng.integers(10)) for _ in range(2)],
                 b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8)}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    return root


# ----------------------------------------------------------------------------- readers
def convert_reader(out: Path, **options: Any) -> Callable[[Path], Any]:
    """``nbt convert``'s library call, writing to ``out``.

    ``curves=False`` (``--no-curves``) reads every record as fully but writes only the final
    epochs: a much smaller store, so the many damaged copies convert fast.
    """
    def read(path: Path) -> Any:
        from nasbench_tools.store.converters.registry import convert_to_store

        return convert_to_store([path], out, command="reliability", options=options)
    return read


def read_store(path: Path) -> Any:
    from nasbench_tools.store.format import H5Backend

    b = H5Backend(path)
    return b.keys(), b.indices(), [b.values(d) for d in b.meta.datasets]


def read_search_sqlite(path: Path) -> Any:
    from nasbench_tools.search.results import ResultsDB

    db = ResultsDB(path)
    try:
        return db.load()
    finally:
        db.close()


def read_train_sqlite(path: Path) -> Any:
    from nasbench_tools.trainer.results import ResultsDB

    db = ResultsDB(path)
    try:
        return list(db.rows()), db.get_meta("spec")
    finally:
        db.close()


def read_cifar10(path: Path) -> Any:
    from nasbench_tools.trainer.datasets import load_dataset

    return load_dataset("cifar10", path, cache=False)


def pickle_in_torch_zip(template: Path, payload: bytes, out: Path) -> Path:
    """``template`` (a torch zip) with its ``data.pkl`` replaced by ``payload``."""
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = payload if info.filename.endswith("/data.pkl") else src.read(info)
            dst.writestr(info, data)
    return out


def pickle_in_torch_legacy(template: Path, payload: bytes, out: Path) -> Path:
    """``template`` (a legacy torch file) with its object pickle replaced by ``payload``."""
    raw = template.read_bytes()
    fh = io.BytesIO(raw)
    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(fh)
    out.write_bytes(raw[: fh.tell()] + payload + pickle.dumps([], protocol=2))
    return out
