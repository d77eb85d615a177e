"""Running ``nbt`` in a child process (for kill -9, concurrency and full-disk tests)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from nasbench_tools.io import FAULT_ENV

ROOT = Path(__file__).resolve().parents[2]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop(FAULT_ENV, None)
    env.update(extra or {})
    return env


def argv(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "nasbench_tools.cli.main", *args]


def run(args: Sequence[str], *, kill_at: str | None = None, fsize: int | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``nbt ARGS``; ``kill_at="POINT:N"`` makes it SIGKILL itself there (see
    :func:`nasbench_tools.io.fault_point`); ``fsize`` caps the size of any file it writes
    (``RLIMIT_FSIZE``, a full disk for that process: writes fail with EFBIG)."""
    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not die
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    extra = {FAULT_ENV: kill_at} if kill_at else {}
    return subprocess.run(argv(args), env=_env(extra), capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit if fsize is not None else None,
                          check=False)


def start(args: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv(args), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool],
              timeout: float = 120) -> bool:
    """``kill -9`` ``proc`` as soon as ``ready()``; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    raise AssertionError(f"no progress within {timeout} s: {proc.args}")


_HOLDER = """
import sys
from nasbench_tools.io import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


class LockHolder:
    """Another process holding the output lock of ``target`` until :meth:`release`."""

    def __init__(self, target: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(target)], env=_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", line
        self.pid = self.proc.pid

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
