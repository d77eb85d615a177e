"""Registry of zero-cost proxies, and cached scoring of many cells.

Examples
--------
>>> from nasbench_tools.spaces.nb201 import Cell
>>> proxy = get_proxy("params")
>>> score_cells(proxy, [Cell(("none",) * 6)]).tolist()
[73306.0]
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.zerocost.base import ZeroCostProxy
from predictors.zerocost.naswot import NASWOT
from predictors.zerocost.proxies import Fisher, Flops, GradNorm, JacobCov, Params, Snip, SynFlow

__all__ = ["PROXIES", "ScoreRun", "get_proxy", "score_cells", "score_classes"]

logger = logging.getLogger(__name__)

#: Proxy name -> class.
PROXIES: dict[str, type[ZeroCostProxy]] = {
    cls.name: cls for cls in (NASWOT, SynFlow, Snip, GradNorm, JacobCov, Fisher, Params, Flops)
}


def get_proxy(name: str, **kwargs: Any) -> ZeroCostProxy:
    """Instantiate the proxy registered as ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`PROXIES`.
    **kwargs
        Passed to the proxy (``dataset``, ``batch_size``, ``data``, ``random_state``,
        ``network_overrides``).

    Raises
    ------
    OutOfDomainError
        For an unknown proxy name.

    Examples
    --------
    >>> get_proxy("naswot", batch_size=64).batch_size
    64
    """
    try:
        cls = PROXIES[name]
    except KeyError:
        raise OutOfDomainError(
            f"unknown zero-cost proxy {name!r}; allowed: {allowed(PROXIES)}"
        ) from None
    return cls(**kwargs)


def score_cells(
    proxy: ZeroCostProxy,
    cells: Iterable[Any],
    cache: str | Path | None = None,
    *,
    flush_every: int = 256,
) -> np.ndarray:
    """Score ``cells``, reading and extending an HDF5 score cache when ``cache`` is given.

    Only cells whose isomorphism class is not in the cache are computed; the cache is
    written (atomically) every ``flush_every`` new classes and at the end, so an interrupted
    run resumes where it stopped.

    Parameters
    ----------
    proxy : ZeroCostProxy
    cells : iterable of Cell
    cache : path, optional
        HDF5 file (see :mod:`predictors.zerocost.cache`).
    flush_every : int, default 256

    Returns
    -------
    numpy.ndarray
        One float64 score per cell.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "zc.h5"
    >>> cells = [Cell(("none",) * 6), Cell(("skip_connect",) * 6)]
    >>> first = score_cells(get_proxy("params"), cells, cache=path)
    >>> bool((score_cells(get_proxy("params"), cells, cache=path) == first).all())
    True
    """
    cells = list(cells)
    if cache is None:
        return proxy.score(cells)
    from predictors.zerocost.cache import ScoreCache

    store = ScoreCache(cache)
    unique = proxy.unique_cells(cells)
    known = store.read(proxy.metadata)
    todo = [k for k in unique if k not in known]
    logger.info(
        "%s: %d unique cells, %d cached, %d to compute",
        proxy.name,
        len(unique),
        len(unique) - len(todo),
        len(todo),
    )
    fresh: dict[str, float] = {}
    for i, key in enumerate(todo, 1):
        fresh[key] = proxy.score_cell(unique[key])
        if i % flush_every == 0:
            store.update(proxy.metadata, fresh)
            known.update(fresh)
            fresh = {}
    if fresh:
        store.update(proxy.metadata, fresh)
        known.update(fresh)
    return np.array([known[proxy.key(c)] for c in cells], dtype=np.float64)


@dataclass
class ScoreRun:
    """What :func:`score_classes` did.

    Attributes
    ----------
    scores : dict of str to float
        ``{class key: score}`` for every isomorphism class of the cells that has a score
        now (cached before or computed in this run).
    n_classes : int
        Isomorphism classes among the cells.
    cached : int
        Classes found in the cache before the run.
    computed : int
        Classes computed in this run.
    complete : bool
        Whether every class has a score (False after ``should_stop`` ended the run early).
    wall_seconds, cpu_seconds : float
        Wall and CPU time of the computing part of this run (CPU includes worker processes).
    """

    scores: dict[str, float]
    n_classes: int
    cached: int
    computed: int
    complete: bool
    wall_seconds: float
    cpu_seconds: float


_WORKER_PROXY: ZeroCostProxy | None = None


def _init_worker(proxy: ZeroCostProxy) -> None:
    import signal

    import torch

    global _WORKER_PROXY
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    torch.set_num_threads(1)
    _WORKER_PROXY = proxy


def _score_in_worker(item: tuple[str, Any]) -> tuple[str, float]:
    assert _WORKER_PROXY is not None
    return item[0], _WORKER_PROXY.score_cell(item[1])


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(ru.ru_utime + ru.ru_stime)


def score_classes(
    proxy: ZeroCostProxy,
    cells: Iterable[Any],
    cache: str | Path | None = None,
    *,
    flush_every: int = 50,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScoreRun:
    """Score the isomorphism classes of ``cells`` that the cache lacks; stoppable, resumable.

    Classes are computed in the order of their first cell in ``cells`` (pass a shuffled
    order and a run stopped early leaves a random sample). The cache is rewritten atomically
    every ``flush_every`` new scores, together with the compute time spent on them
    (:meth:`ScoreCache.timing`), so a killed run loses at most ``flush_every`` scores and a
    re-run continues where it stopped. ``Ctrl-C`` (``KeyboardInterrupt``) also stops the run
    after saving what was computed.

    Parameters
    ----------
    proxy : ZeroCostProxy
    cells : iterable of Cell
    cache : path, optional
        HDF5 score cache (:mod:`predictors.zerocost.cache`); without it nothing is kept.
    flush_every : int, default 50
    workers : int, default 1
        Processes (``spawn``, one torch thread each). Scores do not depend on the process
        (per-cell seeding), so any number gives the same values.
    progress : callable, optional
        ``progress(done, total)``: called once before computing (``done=0``) and after
        every new score, with the classes computed so far and to compute in this run.
    should_stop : callable, optional
        Polled before the first and after every score; returning True ends the run early
        (results kept).

    Returns
    -------
    ScoreRun

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> run = score_classes(get_proxy("params"), [Cell(("none",) * 6), Cell(("none",) * 6)])
    >>> run.n_classes, run.computed, run.complete
    (1, 1, True)
    """
    if flush_every < 1:
        raise OutOfDomainError(f"flush_every must be a positive integer, got {flush_every!r}")
    if workers < 1:
        raise OutOfDomainError(f"workers must be a positive integer, got {workers!r}")
    from predictors.zerocost.cache import ScoreCache

    cells = list(cells)
    unique = proxy.unique_cells(cells)
    store = ScoreCache(cache) if cache is not None else None
    meta = proxy.metadata
    known = {k: v for k, v in (store.read(meta) if store else {}).items() if k in unique}
    cached = len(known)
    todo = [(k, c) for k, c in unique.items() if k not in known]
    logger.info("%s: %d classes, %d cached, %d to compute", proxy.name, len(unique), cached, len(todo))

    fresh: dict[str, float] = {}
    marks = {"wall": time.monotonic(), "cpu": time.process_time(), "children": _children_cpu()}
    start_wall, start_cpu, start_children = marks["wall"], marks["cpu"], marks["children"]

    def flush() -> None:
        now = {"wall": time.monotonic(), "cpu": time.process_time(), "children": _children_cpu()}
        if fresh and store is not None:
            spent = {
                "cells_computed": float(len(fresh)),
                "cpu_seconds": now["cpu"] - marks["cpu"] + now["children"] - marks["children"],
                "wall_seconds": now["wall"] - marks["wall"],
            }
            store.update(meta, fresh, timing=spent)
            marks.update(now)
        known.update(fresh)
        fresh.clear()

    def results() -> Generator[tuple[str, float], None, None]:
        if workers == 1 or len(todo) < 2:
            for key, cell in todo:
                yield key, proxy.score_cell(cell)
            return
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(proxy,)) as pool:
            it = pool.map(_score_in_worker, todo, chunksize=4)
            try:
                yield from it
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    computed = 0
    stopped = False
    if progress is not None:
        progress(0, len(todo))
    if todo and should_stop is not None and should_stop():
        todo, stopped = [], True
    stream = results()
    try:
        for key, value in stream:
            fresh[key] = value
            computed += 1
            if progress is not None:
                progress(computed, len(todo))
            if len(fresh) >= flush_every:
                flush()
            if should_stop is not None and computed < len(todo) and should_stop():
                stopped = True
                break
    except KeyboardInterrupt:
        stopped = True
        logger.warning("interrupted: keeping the %d scores computed so far", computed)
    finally:
        stream.close()
    flush()
    cpu = time.process_time() - start_cpu + _children_cpu() - start_children
    return ScoreRun(
        scores=known,
        n_classes=len(unique),
        cached=cached,
        computed=computed,
        complete=not stopped and len(known) == len(unique),
        wall_seconds=time.monotonic() - start_wall,
        cpu_seconds=cpu,
    )
