"""Timing and result-writing helpers shared by the benchmark scripts.

The scripts run as ``python benchmarks/<name>.py``, so this module is importable as
``_common`` (the script's folder is on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nasbench_tools.io import atomic_write_text


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Smallest wall-clock time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def utc_stamp() -> str:
    """Now, as ``YYYY-MM-DD HH:MM UTC``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine_note(*versions: str) -> str:
    """``Python x, numpy y, <versions>, <machine>, N CPU(s), load average L (1 min), nice K.``

    The load and niceness are read when the note is written, so a results file says how
    busy the machine was instead of assuming it (timings on a shared 2-core machine move
    by a third with the load).

    Examples
    --------
    >>> note = machine_note("torch 2.13.0")
    >>> "torch 2.13.0" in note and "load average" in note and note.endswith(".")
    True
    """
    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}", *versions,
             platform.machine(), f"{os.cpu_count()} CPU(s)"]
    # os.getloadavg and os.nice are Unix-only (absent on Windows): say so rather than guess
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f} (1 min) when written")
    else:
        parts.append("load average unknown")
    if hasattr(os, "nice"):
        parts.append(f"nice {os.nice(0)}")
    return ", ".join(parts) + "."


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]],
                   right: Sequence[int] = ()) -> list[str]:
    """Lines of a Markdown table; the columns in ``right`` are right-aligned."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    return ["| " + " | ".join(map(str, r)) + " |" for r in (header, rule, *rows)]


def write_results(path: Path, lines: Sequence[str]) -> None:
    """Write ``lines`` (joined by newlines) to ``path`` atomically and echo them to stdout."""
    text = "\n".join(lines)
    atomic_write_text(path, text)
    sys.stdout.write(text)
