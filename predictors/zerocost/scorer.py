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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.zerocost.base import ZeroCostProxy
from predictors.zerocost.naswot import NASWOT
from predictors.zerocost.proxies import Fisher, Flops, GradNorm, JacobCov, Params, Snip, SynFlow

__all__ = ["PROXIES", "get_proxy", "score_cells"]

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
