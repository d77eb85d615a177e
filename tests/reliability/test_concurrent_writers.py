"""Promise: two processes writing the same output are refused or serialised, never mixed.

* ``nbt convert``, ``nbt build-bench`` and ``nbt zc-score`` hold an exclusive lock
  (``fcntl.flock`` on ``.<output>.lock``, :func:`nasbench_tools.io.output_lock`) while they
  write: a second one is refused at once with one line naming the output and the other
  process (exit 2), and the output of the first is untouched.
* Two real ``nbt convert`` started together on one output: each finishes or is refused;
  the output is the one an uninterrupted run writes.
* Two ``nbt search`` into one output directory run side by side: SQLite serialises their
  rows (one transaction per run, each run stored once) and the CSV files are rewritten one
  process at a time; the result equals a single uninterrupted run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.cli.main import main

from . import _inputs as inp
from . import _proc


def _refused(capsys: pytest.CaptureFixture[str], code: int, holder: _proc.LockHolder) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "being written by another process" in err and str(holder.pid) in err, err


@pytest.mark.parametrize("command", ["convert", "build-bench", "zc-score"])
def test_second_writer_refused(tmp_path: Path, shared_data: Path, tally: Any,
                               capsys: pytest.CaptureFixture[str], command: str) -> None:
    out = tmp_path / "out.h5"
    csv = inp.csv_table(tmp_path, shared_data)
    argv = {
        "convert": ["convert", str(csv), "-o", str(out), "-q"],
        "build-bench": ["build-bench", "nb201", "--preset", "quick-cpu", "--epochs", "1",
                        "--cells", "1", "--seeds", "0", "-o", str(out)],
        "zc-score": ["zc-score", "nb201", "--cells", "1", "--batch-size", "8", "-q",
                     "-o", str(out)],
    }[command]
    assert main(["convert", str(csv), "-o", str(out), "-q"]) == 0
    before = out.read_bytes()
    holder = _proc.LockHolder(out)
    try:
        _refused(capsys, main(argv), holder)
    finally:
        holder.release()
    assert out.read_bytes() == before
    assert not list(tmp_path.glob(".out.h5.*.tmp"))
    tally.add(f"nbt {command}", "second writer of the same output", "refused (BusyError)")


def test_two_converts_race(tmp_path: Path, shared_data: Path, tally: Any) -> None:
    csv = inp.csv_table(tmp_path, shared_data, rows=400)
    ref, out = tmp_path / "ref.h5", tmp_path / "out.h5"
    assert main(["convert", str(csv), "-o", str(ref), "-q"]) == 0
    procs = [_proc.start(["convert", str(csv), "-o", str(out), "-q"]) for _ in range(2)]
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    for code, err in results:
        assert code == 0 or (code == 2 and "being written by another process" in err), err
        tally.add("nbt convert", "two writers at once",
                  "finished" if code == 0 else "refused (BusyError)")
    assert any(code == 0 for code, _ in results)
    a, b = inp.read_store(out), inp.read_store(ref)
    assert a[0] == b[0] and a[1].tolist() == b[1].tolist()
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)
    assert not list(tmp_path.glob(".out.h5.*.tmp"))


def test_two_searches_into_one_output(tmp_path: Path, shared_data: Path, tally: Any) -> None:
    bench = tmp_path / "nb201.h5"
    csvs = [shared_data / "nb201" / c for c in ("nb201_cifar10_200ep_naswot_scores.csv",
                                                 "nb201_hp12_mean_accuracies.csv")]
    assert main(["convert", "-q", "-o", str(bench), *map(str, csvs)]) == 0
    args = ["search", "--bench", str(bench), "--algo", "rs", "--runs", "40",
            "--budget-queries", "30", "--cost-model", "none", "--no-plots",
            "--no-vectorize"]
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert main([*args, "--output", str(ref)]) == 0
    procs = [_proc.start([*args, "--output", str(out)]) for _ in range(2)]
    for p in procs:
        code, err = p.wait(timeout=180), p.communicate()[1]
        assert code == 0, err
    tally.add("nbt search", "two writers at once", "serialised by SQLite, identical", n=2)

    def rows(d: Path) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(d / "runs.sqlite")
        try:
            return con.execute("SELECT label, run, seed, final_cell, queries, final_value, "
                               "metrics, trajectory FROM runs ORDER BY run").fetchall()
        finally:
            con.close()

    assert rows(out) == rows(ref)  # 40 runs, each once, as a single process writes them
    assert (out / "runs.csv").read_text() == (ref / "runs.csv").read_text()
