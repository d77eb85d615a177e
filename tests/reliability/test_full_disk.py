"""Promise: a full disk during conversion or training gives a clear error and loses nothing.

The child process writes with a file-size limit (``RLIMIT_FSIZE``: writes past it fail
with EFBIG, the way a full file system fails them with ENOSPC) or, where this machine lets
the suite mount one, on a small ``tmpfs`` that fills up for real. Then:

* ``nbt convert`` exits 1 with one line naming the store and the system's reason; the
  previous store is byte for byte unchanged and no temporary file is left;
* ``nbt build-bench`` exits 1 with one line; its previous store and its journal are intact
  (the journal still opens, with every training finished before), and running the command
  again without the limit finishes without redoing those trainings.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nasbench_tools.cli.main import main

from . import _proc

CSV = "nb201_cifar10_200ep_naswot_scores.csv"


@contextlib.contextmanager
def small_tmpfs(where: Path, size: int) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the RLIMIT_FSIZE case covers a full disk")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def _one_line_error(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 1, (proc.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert all(n in err for n in names), err
    return err


@pytest.mark.parametrize("how", ["rlimit", "tmpfs"])
def test_convert_on_a_full_disk(tmp_path: Path, shared_data: Path, tally: Any,
                                how: str) -> None:
    src = shared_data / "nb201" / CSV
    if how == "tmpfs":
        ref = tmp_path / "ref.h5"
        assert main(["convert", str(src), "-o", str(ref), "-q"]) == 0
        ctx: Any = small_tmpfs(tmp_path / "fs", ref.stat().st_size + 256 * 1024)
    else:
        ctx = contextlib.nullcontext(tmp_path)
    with ctx as root:
        out = root / "store.h5"
        assert main(["convert", str(src), "-o", str(out), "-q"]) == 0
        before = out.read_bytes()
        proc = _proc.run(["convert", str(src), "-o", str(out), "-q"],
                         fsize=200_000 if how == "rlimit" else None)
        err = _one_line_error(proc, "store.h5")
        assert ("File too large" in err) if how == "rlimit" else ("No space left" in err), err
        assert out.read_bytes() == before, "the previous store changed"
        assert not list(root.glob(".store.h5.*.tmp")), "a temporary file was left"
    tally.add("nbt convert", f"full disk ({how})", "one-line error, previous output intact")


def test_build_bench_on_a_full_disk(tmp_path: Path, tally: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    out = tmp_path / "b.h5"
    base = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
            "--epochs", "1", "--seeds", "0", "-o", str(out)]
    assert main([*base, "--cells", "1"]) == 0
    before = out.read_bytes()
    proc = _proc.run([*base, "--cells", "2"], fsize=8192)
    _one_line_error(proc, "b.h5")
    assert out.read_bytes() == before
    assert not list(tmp_path.glob(".b.h5.*.tmp"))
    db = tmp_path / "b.h5.runs.sqlite"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= 1
    con.close()
    capsys.readouterr()
    assert main([*base, "--cells", "2"]) == 0
    assert "trained 1 new run(s)" in capsys.readouterr().out
    tally.add("nbt build-bench", "full disk (rlimit)",
              "one-line error, previous output and journal intact, resumed")
