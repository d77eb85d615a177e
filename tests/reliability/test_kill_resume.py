"""Promise: a command killed with SIGKILL at any point loses nothing and redoes nothing.

``nbt convert``, ``nbt search``, ``nbt zc-score`` and ``nbt build-bench`` are run as child
processes and killed (``kill -9``, no chance to clean up) at several points: through the
``NBT_FAULT_KILL`` hook of :func:`nasbench_tools.io.fault_point` at exact points (after the
N-th stored run / training / cache flush, while the store is written, just before its
rename), and by a real ``kill -9`` from outside once progress shows on disk. Then:

* a previous output is intact (byte for byte) and no partial output is under its name;
* re-running the same command finishes with output identical to an uninterrupted run
  (arrays and rows compared);
* what was finished before the kill is not done again (counted: search runs written,
  networks scored, trainings stored by the re-run), and nothing finished is lost;
* the temporary file of the killed writer is removed by the next writer.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.cli.main import main

from . import _inputs as inp
from . import _proc


def _arrays(path: Path) -> Any:
    """Keys, indices and the values of every dataset, wall-clock times left out."""
    from nasbench_tools.store.format import H5Backend

    b = H5Backend(path)
    values = []
    for name, ds in b.meta.datasets.items():
        keep = [i for i, m in enumerate(ds.metrics) if not m.endswith("_time")]
        values.append(b.values(name)[..., keep])
    return b.keys(), b.indices().tolist(), values


def _assert_same_store(a: Path, b: Path) -> None:
    ka, ia, va = _arrays(a)
    kb, ib, vb = _arrays(b)
    assert (ka, ia) == (kb, ib)
    assert len(va) == len(vb)
    for x, y in zip(va, vb):
        np.testing.assert_array_equal(x, y)


def _temps(path: Path) -> list[Path]:
    return list(path.parent.glob(f".{path.name}.*.tmp"))


# ----------------------------------------------------------------------------- convert
@pytest.mark.parametrize("point", ["store.append:1", "store.replace:1"])
def test_convert_killed(tmp_path: Path, shared_data: Path, tally: Any, point: str) -> None:
    src = inp.nats_fast_dir(tmp_path, shared_data, "sss")
    ref, out = tmp_path / "ref.h5", tmp_path / "out.h5"
    assert main(["convert", str(src), "-o", str(ref), "-q", "--no-curves"]) == 0
    shutil.copyfile(ref, out)  # a previous output of the same command
    before = out.read_bytes()
    proc = _proc.run(["convert", str(src), "-o", str(out), "-q", "--no-curves"], kill_at=point)
    assert proc.returncode == -9, proc.stderr
    assert out.read_bytes() == before, "the previous output was touched"
    assert main(["convert", str(src), "-o", str(out), "-q", "--no-curves"]) == 0
    _assert_same_store(out, ref)
    assert not _temps(out), "the killed writer's temporary file is still there"
    tally.add("nbt convert", f"kill -9 at {point}", "previous output intact, rerun identical")


# ----------------------------------------------------------------------------- search
SEARCH = ["search", "--algo", "rea", "--runs", "6", "--budget-queries", "12",
          "--protocol", "nb201-cifar10", "--cost-model", "none", "--no-plots"]


@pytest.fixture(scope="module")
def search_bench(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole NB201 space (12- and 200-epoch tables of ../shared/data) as a store."""
    out = tmp_path_factory.mktemp("bench") / "nb201.h5"
    csvs = [shared_data / "nb201" / c for c in ("nb201_cifar10_200ep_naswot_scores.csv",
                                                 "nb201_hp12_mean_accuracies.csv")]
    assert main(["convert", "-q", "-o", str(out), *map(str, csvs)]) == 0
    return out


def _search_rows(db: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT label, run, seed, final_cell, queries, simulated_seconds, "
                           "final_value, metrics, trajectory FROM runs ORDER BY run").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("point", ["search.run_stored:1", "search.run_stored:4"])
def test_search_killed(tmp_path: Path, search_bench: Path, tally: Any,
                       monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    from nasbench_tools.search.results import ResultsDB

    args = [*SEARCH, "--bench", str(search_bench)]
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert main([*args, "--output", str(ref)]) == 0
    proc = _proc.run([*args, "--output", str(out)], kill_at=point)
    assert proc.returncode == -9, proc.stderr
    stored = len(_search_rows(out / "runs.sqlite"))
    assert stored == int(point.split(":")[1]), "a finished run was lost"
    writes: list[bool] = []
    original = ResultsDB.write

    def spy(self: ResultsDB, result: Any) -> bool:
        new = original(self, result)
        writes.append(new)
        return new

    monkeypatch.setattr(ResultsDB, "write", spy)
    assert main([*args, "--output", str(out)]) == 0
    # Everything the rerun writes is new, and it writes exactly the runs the kill left out
    # (the searched algorithm's and those of its random-search baseline, nbt search's default).
    missing = len(_search_rows(ref / "runs.sqlite")) - stored
    assert len(writes) == missing and all(writes), "the rerun redid finished runs"
    assert _search_rows(out / "runs.sqlite") == _search_rows(ref / "runs.sqlite")
    assert (out / "runs.csv").read_text() == (ref / "runs.csv").read_text()
    tally.add("nbt search", f"kill -9 at {point}",
              f"resumed identical, {stored} finished runs not redone")


# ----------------------------------------------------------------------------- zc-score
ZC = ["zc-score", "nb201", "--proxy", "naswot", "--batch-size", "16", "--cells", "4",
      "--flush-every", "1", "-q"]


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from predictors.zerocost import NASWOT

    calls: list[str] = []
    original = NASWOT.score_cell

    def score_cell(self: Any, cell: Any) -> float:
        calls.append(cell.to_string())
        return original(self, cell)

    monkeypatch.setattr(NASWOT, "score_cell", score_cell)
    return calls


def _cached(cache: Path) -> int:
    from predictors.zerocost import get_proxy
    from predictors.zerocost.cache import ScoreCache

    return len(ScoreCache(cache).read(get_proxy("naswot", batch_size=16).metadata))


@pytest.mark.parametrize("how", ["atomic.replaced:2", "external kill -9"])
def test_zc_score_killed(tmp_path: Path, tally: Any, scored: list[str], how: str) -> None:
    from nasbench_tools.store import load_benchmark

    ref, out = tmp_path / "ref.h5", tmp_path / "out.h5"
    cache = out.with_name(out.name + ".cache.h5")
    if how == "external kill -9":
        proc = _proc.start([*ZC, "-o", str(out)])
        assert _proc.kill_when(proc, cache.exists), "finished before the kill"
    else:
        done = _proc.run([*ZC, "-o", str(out)], kill_at=how)
        assert done.returncode == -9, done.stderr
    assert not out.exists()
    saved = _cached(cache)
    assert 1 <= saved < 4
    assert main([*ZC, "-o", str(out)]) == 0
    assert len(scored) == 4 - saved, "the rerun scored cached cells again"
    scored.clear()
    assert main([*ZC, "-o", str(ref), "--cache", str(tmp_path / "ref.cache.h5")]) == 0
    a, b = load_benchmark(out), load_benchmark(ref)
    assert a.keys == b.keys
    np.testing.assert_array_equal(a.feature("zc_naswot"), b.feature("zc_naswot"))
    tally.add("nbt zc-score", f"kill -9 ({how})",
              f"resumed identical, {saved} cached scores not redone")


# ----------------------------------------------------------------------------- build-bench
BUILD = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu", "--epochs",
         "1", "--cells", "2", "--seeds", "0", "1"]


@pytest.fixture(scope="module")
def build_ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "ref.h5"
    assert main([*BUILD, "-o", str(out)]) == 0
    return out


def _journal(db: Path) -> int:
    """Finished trainings in the build journal (0 while it is being created)."""
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


@pytest.mark.parametrize("how", ["train.stored:1", "external kill -9"])
def test_build_bench_killed(tmp_path: Path, build_ref: Path, tally: Any,
                            capsys: pytest.CaptureFixture[str], how: str) -> None:
    out = tmp_path / "b.h5"
    db = out.with_name(out.name + ".runs.sqlite")
    if how == "external kill -9":
        proc = _proc.start([*BUILD, "-o", str(out)])
        assert _proc.kill_when(proc, lambda: _journal(db) >= 1)
    else:
        done = _proc.run([*BUILD, "-o", str(out)], kill_at=how)
        assert done.returncode == -9, done.stderr
    assert not out.exists()
    finished = _journal(db)
    assert finished in (2, 4) or how != "train.stored:1"  # packs are stored whole
    assert finished >= 1
    capsys.readouterr()
    assert main([*BUILD, "-o", str(out)]) == 0
    assert f"trained {4 - finished} new run(s)" in capsys.readouterr().out, "work was redone"
    assert _journal(db) == 4
    _assert_same_store(out, build_ref)
    assert not _temps(out)
    tally.add("nbt build-bench", f"kill -9 ({how})",
              f"resumed identical, {finished} finished trainings not redone")
