"""Ranking metrics for performance predictors.

Every function takes the true targets ``y_true`` and the predicted scores ``y_pred`` (only
their order matters, except for :func:`pearson`) as 1-D arrays of equal length, larger is
better. Ties in ``y_pred`` are broken by position (stable sort), so the result is
deterministic.

Definitions
-----------
``kendall_tau``
    Kendall's tau-b (``scipy.stats.kendalltau``), handles ties.
``spearman``
    Spearman's rank correlation rho.
``pearson``
    Pearson's linear correlation r of the raw values.
``precision_at_k``
    ``|P_k ∩ T_k| / k`` where ``P_k`` are the ``k`` cells with the highest prediction and
    ``T_k`` the ``k`` cells with the highest true value: the fraction of the predicted
    top-k that truly is in the top-k.
``top_k_overlap``
    Jaccard overlap ``|P_k ∩ T_k| / |P_k ∪ T_k|`` of the same two sets (1 when the sets
    coincide, 0 when disjoint); stricter than precision@k.
``n_at_k``
    The ReNAS "N@K": the best true rank (1 = best cell) among the predicted top-k.
``regret_at_k``
    ``max(y_true) - max(y_true[P_k])``: what you lose by taking the best of the predicted
    top-k instead of the best cell.

Examples
--------
>>> import numpy as np
>>> y = np.array([1.0, 2.0, 3.0, 4.0])
>>> round(kendall_tau(y, y), 3), precision_at_k(y, -y, k=2)
(1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from nasbench_tools.errors import OutOfDomainError

__all__ = [
    "METRICS",
    "all_metrics",
    "kendall_tau",
    "n_at_k",
    "pearson",
    "precision_at_k",
    "regret_at_k",
    "spearman",
    "top_k_indices",
    "top_k_overlap",
]


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64).ravel()
    b = np.asarray(y_pred, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise OutOfDomainError(
            f"y_true and y_pred must have the same length; got {a.shape[0]} and {b.shape[0]}"
        )
    if a.size < 2:
        raise OutOfDomainError(f"ranking metrics need at least 2 values; got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise OutOfDomainError("y_true and y_pred must be finite (no NaN or inf)")
    return a, b


def _check_k(k: int, n: int) -> int:
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise OutOfDomainError(f"k must be a positive integer; got {k!r}")
    return int(min(k, n))


def _correlation(statistic: Callable[..., Any], y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``statistic(a, b).statistic`` of the checked inputs; 0 when either is constant."""
    a, b = _check(y_true, y_pred)
    if np.ptp(b) == 0 or np.ptp(a) == 0:
        return 0.0
    return float(statistic(a, b).statistic)


def top_k_indices(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, best first; ties broken by position.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Scores, larger is better.
    k : int
        How many (clipped to ``n``).

    Returns
    -------
    ndarray of int64, shape (min(k, n),)

    Examples
    --------
    >>> top_k_indices(np.array([0.1, 0.9, 0.5, 0.9]), 2).tolist()
    [1, 3]
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    k = _check_k(k, v.size)
    return np.argsort(-v, kind="stable")[:k].astype(np.int64)


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall's tau-b between targets and predictions.

    Examples
    --------
    >>> kendall_tau(np.array([1, 2, 3]), np.array([3, 2, 1]))
    -1.0
    """
    return _correlation(stats.kendalltau, y_true, y_pred)


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman's rank correlation rho.

    Examples
    --------
    >>> spearman(np.array([1, 2, 3]), np.array([10, 20, 30]))
    1.0
    """
    return _correlation(stats.spearmanr, y_true, y_pred)


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson's linear correlation r (0 when either input is constant).

    Examples
    --------
    >>> round(pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])), 6)
    1.0
    """
    return _correlation(stats.pearsonr, y_true, y_pred)


def precision_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Fraction of the predicted top-k that is in the true top-k.

    Examples
    --------
    >>> precision_at_k(np.array([1, 2, 3, 4]), np.array([1, 2, 4, 3]), k=2)
    1.0
    >>> precision_at_k(np.array([1, 2, 3, 4]), np.array([4, 3, 1, 2]), k=2)
    0.0
    """
    a, b = _check(y_true, y_pred)
    k = _check_k(k, a.size)
    hit = np.intersect1d(top_k_indices(a, k), top_k_indices(b, k)).size
    return hit / k


def top_k_overlap(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Jaccard overlap of the predicted and the true top-k sets.

    Examples
    --------
    >>> round(top_k_overlap(np.array([1, 2, 3, 4]), np.array([1, 3, 4, 2]), k=2), 4)
    0.3333
    """
    a, b = _check(y_true, y_pred)
    k = _check_k(k, a.size)
    t, p = top_k_indices(a, k), top_k_indices(b, k)
    return np.intersect1d(t, p).size / np.union1d(t, p).size


def n_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> int:
    """Best true rank (1 = best) among the predicted top-k (ReNAS's N@K).

    Examples
    --------
    >>> n_at_k(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1]), k=2)
    3
    """
    a, b = _check(y_true, y_pred)
    k = _check_k(k, a.size)
    # rank 1 for the largest true value; ties share the best (min) rank.
    ranks = stats.rankdata(-a, method="min")
    return int(ranks[top_k_indices(b, k)].min())


def regret_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """``max(y_true)`` minus the best true value among the predicted top-k.

    Examples
    --------
    >>> regret_at_k(np.array([1.0, 2.0, 5.0]), np.array([3.0, 2.0, 1.0]), k=1)
    4.0
    """
    a, b = _check(y_true, y_pred)
    k = _check_k(k, a.size)
    return float(a.max() - a[top_k_indices(b, k)].max())


MetricFn = Callable[[np.ndarray, np.ndarray], float]

#: Column name -> metric without ``k``.
METRICS: dict[str, MetricFn] = {
    "kendall_tau": kendall_tau,
    "spearman": spearman,
    "pearson": pearson,
}

#: Column name -> metric that takes ``k``.
K_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "precision_at_k": precision_at_k,
    "top_k_overlap": top_k_overlap,
    "n_at_k": n_at_k,
    "regret_at_k": regret_at_k,
}


def all_metrics(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> dict[str, float]:
    """Every metric of this module, as a dict keyed by column name.

    Examples
    --------
    >>> m = all_metrics(np.arange(10.0), np.arange(10.0), k=3)
    >>> round(m["kendall_tau"], 6), m["precision_at_k"], m["n_at_k"]
    (1.0, 1.0, 1)
    """
    out: dict[str, float] = {name: fn(y_true, y_pred) for name, fn in METRICS.items()}
    out.update({name: fn(y_true, y_pred, k) for name, fn in K_METRICS.items()})
    return out
