"""Converter of the official NATS-Bench files (topology ``tss`` and size ``sss`` spaces).

Two official layouts, both bz2-compressed pickles read with the allow-list unpickler of
:mod:`~nasbench_tools.store.converters.safe_pickle`:

* one file, ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` / ``NATS-sss-v1_0-50262.pickle.pbz2``: a dict
  with ``meta_archs`` (cell strings in official index order), ``arch2infos``
  (``{index: {hp: ArchResults state dict}}``) and ``evaluated_indexes``;
* the "fast mode" directory, ``NATS-tss-v1_0-3ffb9-simple/`` (or ``-full``):
  ``meta.pickle.pbz2`` (``meta_archs``, ``total_archs``, ``arch2infos=None``, an empty
  ``evaluated_indexes``) plus one ``NNNNNN.pickle.pbz2`` per cell (six-digit index; the
  official API also accepts the undecorated ``N.pickle.pbz2``) holding ``{hp: ArchResults
  state dict}``. The directory is streamed cell by cell, one file in memory at a time.

hp keys are ``"12"``/``"200"`` (tss) and ``"01"``/``"12"``/``"90"`` (sss); they become the
fidelity budgets. The record-to-table mapping is the NAS-Bench-201 one
(:class:`~nasbench_tools.store.converters.nb201_pth.ArchResultsTable`), except that
params/flops follow the NATS API's rule (seed 888's value when the trials disagree).

Examples
--------
>>> from nasbench_tools.store.converters import nats_pbz2
>>> nats_pbz2.FORMAT
'nats_pbz2'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, allowed
from nasbench_tools.store.converters.hashing import source_sha256
from nasbench_tools.store.converters.nb201_pth import (
    HP_BUDGETS,
    TOPOLOGY_SEEDS,
    ArchResultsTable,
    stream_records,
)
from nasbench_tools.store.converters.safe_pickle import load_pbz2
from nasbench_tools.store.table import TableData

__all__ = ["FORMAT", "SPACES", "convert", "convert_streaming", "detect", "iter_cells",
           "read_meta"]

logger = logging.getLogger(__name__)

#: Name under which the converter registry lists this module.
FORMAT = "nats_pbz2"

CONVERTER_VERSION = 1

#: NATS-Bench space -> (our space name, expected trial seeds, schedule budgets).
SPACES: Mapping[str, tuple[str, tuple[int, ...], tuple[int, ...]]] = {
    "tss": ("nb201", TOPOLOGY_SEEDS, (12, 200)),
    "sss": ("nats_sss", (777, 888, 999), (1, 12, 90)),
}

_CELL_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")
_META = "meta.pickle.pbz2"


def _space_of(meta_archs: Sequence[str], where: str) -> str:
    if not meta_archs:
        raise FormatError(f"{where}: 'meta_archs' is empty")
    first = str(meta_archs[0])
    if first.startswith("|"):
        return "tss"
    if re.fullmatch(r"\d+(:\d+)+", first):
        return "sss"
    raise FormatError(
        f"{where}: cell string {first!r} is neither a topology string ('|op~0|+...') nor a "
        "size string ('8:16:24:32:64')"
    )


def detect(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a NATS-Bench ``.pickle.pbz2`` file or a fast-mode directory.

    Examples
    --------
    >>> detect("no-such-dir")
    False
    """
    path = Path(path)
    if path.is_dir():
        return (path / _META).is_file()
    if not path.is_file() or not path.name.endswith(".pickle.pbz2"):
        return False
    with path.open("rb") as fh:
        return fh.read(3) == b"BZh"


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the benchmark meta information (``meta_archs`` and which layout).

    Parameters
    ----------
    path : path-like
        A fast-mode directory or a single NATS ``.pickle.pbz2`` file.

    Returns
    -------
    dict
        ``{"space": "tss"|"sss", "meta_archs": list[str], "fast_mode": bool}``.

    Examples
    --------
    >>> import tempfile, pathlib, pickle, bz2
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(
    ...     {"meta_archs": ["8:8:8:8:8"], "total_archs": 1, "arch2infos": None,
    ...      "evaluated_indexes": set()})))
    >>> read_meta(d)["space"]
    'sss'
    """
    info = _open(Path(path))
    return {"space": info[0], "meta_archs": info[1], "fast_mode": info[2] is None}


def _open(path: Path) -> tuple[str, list[str], Mapping[str, Any] | None]:
    """(space, meta_archs, whole object or None for a fast-mode directory)."""
    obj: Mapping[str, Any] | None
    if path.is_dir():
        meta = load_pbz2(path / _META)
        obj = None
    else:
        meta = load_pbz2(path)
        obj = meta
    if not isinstance(meta, Mapping) or "meta_archs" not in meta:
        raise FormatError(f"{path}: no 'meta_archs' in the NATS-Bench meta record")
    archs = [str(s) for s in meta["meta_archs"]]
    if obj is not None and not isinstance(obj.get("arch2infos"), Mapping):
        raise FormatError(f"{path}: no 'arch2infos' dict; a NATS-Bench file holds "
                          "'meta_archs', 'arch2infos' and 'evaluated_indexes'")
    return _space_of(archs, str(path)), archs, obj


def _cell_files(path: Path) -> list[tuple[int, Path]]:
    found: dict[int, Path] = {}
    for p in path.iterdir():
        m = _CELL_FILE.match(p.name)
        if m:
            idx = int(m.group(1))
            if idx in found:
                raise FormatError(f"{path}: index {idx} has two files, {found[idx].name} and "
                                  f"{p.name}")
            found[idx] = p
    return sorted(found.items())


def _hp_records(obj: Any, where: str) -> dict[int, Mapping[str, Any]]:
    if not isinstance(obj, Mapping):
        raise FormatError(f"{where}: holds a {type(obj).__name__}, expected {{hp: ArchResults}}")
    out: dict[int, Mapping[str, Any]] = {}
    for key, rec in obj.items():
        try:
            out[HP_BUDGETS[str(key)]] = rec
        except KeyError:
            raise FormatError(f"{where}: unknown hp key {key!r}; allowed: "
                              f"{allowed(HP_BUDGETS)}") from None
    return out


def iter_cells(path: str | os.PathLike[str], *, progress: bool = False,
               ) -> Iterator[tuple[int, dict[int, Mapping[str, Any]]]]:
    """Yield ``(official index, {budget: ArchResults state dict})`` for every record.

    A fast-mode directory is read one cell file at a time (bounded memory).

    Examples
    --------
    >>> import tempfile, pathlib, pickle, bz2
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(
    ...     {"meta_archs": ["8:8:8:8:8"], "arch2infos": None, "evaluated_indexes": set()})))
    >>> _ = (d / "000000.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"90": {}})))
    >>> [(i, list(r)) for i, r in iter_cells(d)]
    [(0, [90])]
    """
    path = Path(path)
    if path.is_dir():
        files = _cell_files(path)
        it: Any = files
        if progress:
            from tqdm import tqdm

            it = tqdm(files, desc=f"NATS {path.name}", unit="cell")
        for idx, f in it:
            yield idx, _hp_records(load_pbz2(f), str(f))
        return
    yield from _iter_obj(_open(path)[2] or {}, path)


def _iter_obj(obj: Mapping[str, Any], path: Path,
              ) -> Iterator[tuple[int, dict[int, Mapping[str, Any]]]]:
    arch2infos = obj.get("arch2infos") or {}
    for idx in sorted(arch2infos):
        yield int(idx), _hp_records(arch2infos[idx], f"{path} index {idx}")


def convert(path: str | os.PathLike[str], *, curves: bool = True,
            progress: bool = True, sha256: str | None = None) -> TableData:
    """Convert a NATS-Bench file or fast-mode directory into a :class:`TableData`.

    Parameters
    ----------
    path : path-like
        ``NATS-tss-v1_0-3ffb9.pickle.pbz2``, ``NATS-sss-v1_0-50262.pickle.pbz2`` or a
        fast-mode directory such as ``NATS-tss-v1_0-3ffb9-simple/``.
    curves : bool, default True
        Keep per-epoch curves; if False only the final epoch of each schedule.
    progress : bool, default True
        Show a tqdm progress bar while reading a directory.
    sha256 : str, optional
        SHA-256 of ``path`` when the caller has computed it already (the registry does);
        otherwise computed here.

    Returns
    -------
    TableData
        Space ``"nb201"`` (tss) or ``"nats_sss"`` (sss); one row per cell with records,
        ``keys`` the official strings, ``indices`` the official indices.

    Raises
    ------
    FormatError
        Broken bz2 stream, unknown hp key, malformed record.
    UnsafePickleError
        If a pickle names a global outside the allow-list.

    Examples
    --------
    >>> import tempfile, pathlib, pickle, bz2
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "NATS-sss-mini"
    >>> d.mkdir()
    >>> _ = (d / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(
    ...     {"meta_archs": ["8:8:8:8:8"], "arch2infos": None, "evaluated_indexes": set()})))
    >>> rec = {"dataset_seed": {"cifar10": [777]}, "all_results": {("cifar10", 777): {
    ...     "epochs": 1, "train_acc1es": {0: 30.0}, "train_losses": {0: 1.9},
    ...     "train_times": {0: 3.5}, "eval_acc1es": {"ori-test@0": 29.0},
    ...     "eval_losses": {"ori-test@0": 1.8}, "eval_times": {"ori-test@0": 0.5},
    ...     "params": 0.01, "flop": 4.5, "latency": [0.013]}}}
    >>> _ = (d / "000000.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"01": rec})))
    >>> t = convert(d, progress=False)
    >>> t.space, t.keys
    ('nats_sss', ['8:8:8:8:8'])
    >>> c = t.datasets["cifar10"]
    >>> float(c.values[0, c.seeds.index(777), c.fidelities.index((1, 1)),
    ...                c.metrics.index("test_accuracy")])
    29.0
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file or directory")
    kind, meta_archs, obj = _open(path)
    space, seeds, budgets = SPACES[kind]
    if obj is None:
        n = len(_cell_files(path))
        cells = iter_cells(path, progress=progress)
    else:
        n = len(obj["arch2infos"])
        cells = _iter_obj(obj, path)
    table = ArchResultsTable(n, seeds=seeds, budgets=budgets, curves=curves, cost_rule="nats")
    indices = np.empty(n, dtype=np.int64)
    for row, (idx, hp_records) in enumerate(cells):
        if not 0 <= idx < len(meta_archs):
            raise FormatError(f"{path}: cell index {idx} outside 0..{len(meta_archs) - 1}")
        skipped = sorted(set(hp_records) - set(budgets))
        if skipped:
            logger.warning("%s index %d: hp budgets %s are not among %s; skipped", path, idx,
                           skipped, budgets)
        table.add(row, hp_records, where=f"{path} index {idx}")
        indices[row] = idx
    logger.info("converted %d NATS-Bench (%s) cells from %s", n, space, path)
    return TableData(
        space=space,
        keys=[meta_archs[i] for i in indices],
        indices=indices,
        datasets=table.tables(),
        provenance=_provenance(path, sha256, obj is None, meta_archs, budgets, curves,
                               evaluated_indexes=int(n)),
    )


def convert_streaming(path: str | os.PathLike[str], writer: Any, *, curves: bool = True,
                      chunk_rows: int = 1024, progress: bool = True,
                      sha256: str | None = None) -> int:
    """Convert a NATS-Bench file or fast-mode directory into a ``StoreWriter``, by chunks.

    With a fast-mode directory, memory holds one cell file and one chunk of ``chunk_rows``
    table rows at a time. The seed axis is fixed to the space's trial seeds (a record with
    another seed raises :class:`FormatError`; :func:`convert` accepts it).

    Parameters
    ----------
    path : path-like
        As in :func:`convert`.
    writer : nasbench_tools.store.StoreWriter
        An open writer.
    curves : bool, default True
        Keep per-epoch curves.
    chunk_rows : int, default 1024
        Cells per appended chunk.
    progress : bool, default True
        tqdm bar over the cell files.
    sha256 : str, optional
        As in :func:`convert`.

    Returns
    -------
    int
        Cells written.

    Examples
    --------
    >>> import tempfile, pathlib, pickle, bz2
    >>> class Collect:
    ...     def __init__(self):
    ...         self.keys = []
    ...     def append(self, chunk):
    ...         self.keys += chunk.keys
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(
    ...     {"meta_archs": ["8:8:8:8:8", "8:8:8:8:16"], "arch2infos": None})))
    >>> for i in (0, 1):
    ...     _ = (d / f"{i:06d}.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"90": {
    ...         "dataset_seed": {}, "all_results": {}}})))
    >>> w = Collect()
    >>> convert_streaming(d, w, chunk_rows=1, progress=False), w.keys
    (2, ['8:8:8:8:8', '8:8:8:8:16'])
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file or directory")
    kind, meta_archs, obj = _open(path)
    space, seeds, budgets = SPACES[kind]
    cells = iter_cells(path, progress=progress) if obj is None else _iter_obj(obj, path)
    prov = _provenance(path, sha256, obj is None, meta_archs, budgets, curves)
    return stream_records(cells, writer, space=space, meta_archs=meta_archs, seeds=seeds,
                          budgets=budgets, curves=curves, cost_rule="nats", provenance=prov,
                          chunk_rows=chunk_rows, where=str(path))


def _provenance(path: Path, sha256: str | None, fast_mode: bool, meta_archs: Sequence[str],
                budgets: Sequence[int], curves: bool, **extra: Any) -> dict[str, Any]:
    """The converter's provenance (``extra`` goes in after ``num_archs``)."""
    return {"format": FORMAT, "converter_version": CONVERTER_VERSION, "source": path.name,
            "source_sha256": source_sha256(path, sha256), "fast_mode": fast_mode,
            "num_archs": len(meta_archs), **extra, "budgets": list(budgets), "curves": curves,
            "cost_rule": "NATS-Bench API: seed 888's params/flops when trials disagree"}
