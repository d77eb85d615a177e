"""Run the reliability suite and write its counts to ``benchmarks/results/reliability.md``.

The suite (``tests/reliability``, marker ``reliability``) counts every input it tries, the
fault each carries and the outcome (``tests/reliability/conftest.py``); this script runs it
with ``NBT_RELIABILITY_REPORT`` set and puts the table under a header with the command,
the date and pytest's closing line. See ``docs/reliability.md``.

Examples
--------
``python benchmarks/reliability_summary.py`` (about 4 minutes of wall time on 2 busy cores).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "reliability.md"
CMD = [sys.executable, "-m", "pytest", "-m", "reliability", "-n", "2", "-q", "-p",
       "no:cacheprovider", "tests/reliability"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "table.md"
        env = {**os.environ, "NBT_RELIABILITY_REPORT": str(table),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run(CMD, cwd=ROOT, env=env, capture_output=True, text=True,
                              check=False)
        closing = [ln for ln in done.stdout.splitlines() if " passed" in ln or " failed" in ln]
        text = table.read_text() if table.exists() else "(no counts were written)\n"
    OUT.write_text(
        "# Reliability suite: inputs tried, faults injected, outcomes\n\n"
        f"Made by `python benchmarks/reliability_summary.py`, which runs "
        f"`pytest -m reliability -n 2 tests/reliability` with `NBT_RELIABILITY_REPORT` set "
        f"({dt.date.today().isoformat()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores). pytest: `{closing[-1].strip('= ') if closing else '?'}`.\n\n"
        "Each row is one area (a reader or an `nbt` command); an input is one damaged file, "
        "one hostile pickle, one kill, one concurrent writer, one full disk or one bad "
        "command line. `accepted` means a flip hit bytes no checksum covers and the reader "
        "returned what the file says (for checksummed formats the suite checks that the "
        "data then equal the intact file's). Promises and method: `docs/reliability.md`.\n\n"
        + text)
    sys.stdout.write(done.stdout[-2000:])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
