"""Zero-cost (training-free) proxies scored on real, untrained networks.

Every proxy is a :class:`~predictors.zerocost.base.ZeroCostProxy` registered in
:data:`~predictors.zerocost.scorer.PROXIES`; :func:`get_proxy` builds one by name and
:func:`score_cells` adds the on-disk cache; :func:`score_space` scores a whole space (or a
seeded random part of it), resumably, into a :class:`SpaceScores` or a store.

Examples
--------
>>> from predictors.zerocost import PROXIES
>>> sorted(PROXIES)
['fisher', 'flops', 'grad_norm', 'jacob_cov', 'naswot', 'params', 'snip', 'synflow']
"""

from __future__ import annotations

from predictors.zerocost.base import ZeroCostProxy
from predictors.zerocost.data import DataSource, DigitsSource, make_source
from predictors.zerocost.naswot import NASWOT
from predictors.zerocost.scorer import PROXIES, get_proxy, score_cells
from predictors.zerocost.space_scoring import SpaceScores, score_space

__all__ = [
    "NASWOT",
    "PROXIES",
    "DataSource",
    "DigitsSource",
    "SpaceScores",
    "ZeroCostProxy",
    "get_proxy",
    "make_source",
    "score_cells",
    "score_space",
]
