"""What every long-running command shares: a progress bar and a graceful stop on ``SIGTERM``.

A store build or a whole-space score runs for hours. The user wants to see how far it got
and how long is left (a tqdm bar on stderr, off with ``--quiet``), and a scheduler's or a
user's ``kill`` (SIGTERM) should end it the way a time limit does: nothing new is started,
the work in flight finishes and is saved, and the output is written.

Examples
--------
>>> with stop_on_sigterm("stopping") as stopped, progress_bar("demo", "cell", enabled=False) as bar:
...     stopped(), bar is None
(False, True)
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["progress_bar", "stop_on_sigterm"]

log = logging.getLogger(__name__)


@contextmanager
def stop_on_sigterm(what: str) -> Iterator[Callable[[], bool]]:
    """Turn ``SIGTERM`` into a flag for the duration of the block.

    Parameters
    ----------
    what : str
        What the command does on the signal, for the warning it logs
        (e.g. ``"stopping after the trainings in flight"``).

    Yields
    ------
    callable
        ``stopped()``: True once the signal arrived. The previous handler is restored on exit.

    Examples
    --------
    >>> import os, signal
    >>> with stop_on_sigterm("stopping") as stopped:
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     stopped()
    True
    """
    flag = [False]

    def on_term(signum: int, frame: FrameType | None) -> None:
        log.warning("signal %d: %s", signum, what)
        flag[0] = True

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield lambda: flag[0]
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def progress_bar(desc: str, unit: str, *,
                 enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr, or None if disabled.

    The bar is created at the first call, when ``total`` is known, and closed on exit.

    Examples
    --------
    >>> with progress_bar("cells", "cell", enabled=False) as update:
    ...     update is None
    True
    """
    if not enabled:
        yield None
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(desc=desc, total=total, unit=unit, file=sys.stderr, smoothing=0.05)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
