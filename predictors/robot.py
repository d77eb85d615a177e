"""RoBoT's robust metric (He et al., ICLR 2024): a weighted sum of training-free metrics.

RoBoT ("Robustifying and Boosting Training-Free NAS") scores a cell with
``M(A; w) = sum_i w_i * m_i(A)``, where the ``m_i`` are training-free metrics (zero-cost
proxies, parameters, FLOPs) min-max normalised to ``[0, 1]`` over the candidate pool, and
finds the weight vector ``w`` in ``[-1, 1]^M`` by Bayesian optimisation of the search
objective: the value of the pool's best-scored cell under ``w``. A missing metric value
(NaN) contributes nothing to the sum, as in the authors' NAS-Bench-201 script.

The Bayesian optimisation is optuna's Gaussian-process sampler
(:class:`optuna.samplers.GPSampler`; optuna >= 3.6, the ``search`` extra), driven step by
step by :class:`WeightSearch` so that the searcher of :mod:`nasbench_tools.search.robot` can
query the benchmark in between. This module holds what that searcher and the predictor
harness share:

* :func:`minmax` and :func:`combine` -- the normalisation and the weighted sum;
* :class:`WeightSearch` -- propose a weight vector, observe its objective, keep the best;
* :class:`RoBoTPredictor` -- a scikit-learn regressor over metric columns (e.g. the feature
  set ``zc``) whose weights are fitted by that BO on the training cells (objective
  ``"kendall"``: Kendall tau of the combined metric with ``y``; or ``"top1"``: the ``y`` of
  the best-scored training cell, RoBoT's own objective);
* :class:`CombinedScorer` -- a training-free scorer combining the zero-cost proxies of
  :mod:`predictors.zerocost` with given weights (normalised over the cells scored).

Examples
--------
>>> M = np.array([[0.0, 10.0], [1.0, 30.0], [2.0, 20.0]])
>>> minmax(M).tolist()
[[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]]
>>> combine(minmax(M), np.array([1.0, -1.0])).tolist()
[0.0, -0.5, 0.5]
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import kendalltau
from sklearn.utils.validation import check_is_fitted, validate_data

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.base import Predictor, seed_from_random_state

__all__ = [
    "OBJECTIVES",
    "CombinedScorer",
    "RoBoTPredictor",
    "WeightSearch",
    "combine",
    "gp_available",
    "minmax",
]

log = logging.getLogger(__name__)


def gp_available() -> bool:
    """Whether optuna with ``GPSampler`` (optuna >= 3.6) is importable.

    Examples
    --------
    >>> isinstance(gp_available(), bool)
    True
    """
    try:
        import optuna
    except ImportError:
        return False
    return hasattr(optuna.samplers, "GPSampler")


def minmax(
    values: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> np.ndarray:
    """Min-max normalise each column to ``[0, 1]`` (NaN kept; constant columns left as is).

    Parameters
    ----------
    values : numpy.ndarray
        ``(n_cells, n_metrics)``.
    lo, hi : numpy.ndarray, optional
        Column minima and maxima to use (default: those of ``values``, ignoring NaN).

    Examples
    --------
    >>> minmax(np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])).tolist()
    [[0.0, 5.0], [1.0, 5.0], [nan, 5.0]]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise OutOfDomainError(f"need a (cells, metrics) array, got shape {v.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lo = np.nanmin(v, axis=0) if lo is None else np.asarray(lo, dtype=np.float64)
        hi = np.nanmax(v, axis=0) if hi is None else np.asarray(hi, dtype=np.float64)
    span = hi - lo
    ok = np.isfinite(span) & (span > 0)
    out = v.copy()
    out[:, ok] = (v[:, ok] - lo[ok]) / span[ok]
    return out


def combine(normalised: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i m_i`` per row; a NaN metric value contributes 0.

    Examples
    --------
    >>> combine(np.array([[1.0, np.nan]]), np.array([0.5, 1.0])).tolist()
    [0.5]
    """
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(np.nan_to_num(np.asarray(normalised, dtype=np.float64), nan=0.0) @ w)


class WeightSearch:
    """Bayesian optimisation of the metric weights with optuna's GP sampler, step by step.

    Parameters
    ----------
    n_metrics : int
        Number of weights (each in ``[-1, 1]``, the authors' domain).
    seed : int
        Seed of the sampler.
    n_startup : int, default 1
        Random weight vectors before the GP takes over (the authors' script: one).

    Examples
    --------
    >>> ws = WeightSearch(2, seed=0)  # doctest: +SKIP
    >>> w = ws.propose(); ws.observe(float(w.sum()))  # doctest: +SKIP
    """

    def __init__(self, n_metrics: int, *, seed: int, n_startup: int = 1) -> None:
        if not gp_available():
            raise OutOfDomainError(
                "RoBoT's weight search needs optuna >= 3.6 (GPSampler): "
                "pip install 'nasbench-tools[search]'"
            )
        if n_metrics < 1:
            raise OutOfDomainError(f"need at least one metric, got {n_metrics}")
        import optuna
        from optuna.distributions import FloatDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.GPSampler(
                seed=int(seed), n_startup_trials=int(n_startup), deterministic_objective=True
            )
        self._study = optuna.create_study(direction="maximize", sampler=sampler)
        self._dists: dict[str, Any] = {
            f"w{i}": FloatDistribution(-1.0, 1.0) for i in range(n_metrics)
        }
        self.n_metrics = int(n_metrics)
        self._trial: Any = None
        self.best_weights = np.ones(n_metrics)
        self.best_value = -np.inf
        self.n_observed = 0

    def propose(self) -> np.ndarray:
        """The next weight vector to try (call :meth:`observe` before proposing again)."""
        if self._trial is not None:
            raise OutOfDomainError("WeightSearch.propose called before observe()")
        with warnings.catch_warnings(), _OneThread():
            warnings.simplefilter("ignore")
            self._trial = self._study.ask(self._dists)
        return np.array([self._trial.params[f"w{i}"] for i in range(self.n_metrics)])

    def observe(self, value: float) -> None:
        """The objective of the last proposal; the best so far (latest on ties) is kept."""
        if self._trial is None:
            raise OutOfDomainError("WeightSearch.observe called without a proposal")
        trial, self._trial = self._trial, None
        w = np.array([trial.params[f"w{i}"] for i in range(self.n_metrics)])
        with warnings.catch_warnings(), _OneThread():
            warnings.simplefilter("ignore")
            self._study.tell(trial, float(value))
        self.n_observed += 1
        if float(value) >= self.best_value:
            self.best_value, self.best_weights = float(value), w


class _OneThread:
    """Run optuna's GP (torch) on one thread, restoring the caller's setting (much faster on a
    shared machine than torch's default of one thread per core)."""

    def __enter__(self) -> None:
        import torch

        self._before = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self._before)


def _kendall(pred: np.ndarray, y: np.ndarray) -> float:
    tau = kendalltau(pred, y).statistic
    return float(tau) if np.isfinite(tau) else -1.0


def _top1(pred: np.ndarray, y: np.ndarray) -> float:
    return float(y[int(np.argmax(pred))])


#: Objective of the predictor's weight fit: ``objective(combined_scores, y) -> float``.
OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "kendall": _kendall,
    "top1": _top1,
}


class RoBoTPredictor(Predictor):
    """RoBoT's weighted metric as a regressor over metric columns, weights fitted by BO.

    Parameters
    ----------
    n_trials : int, default 20
        Weight vectors tried by the GP sampler during ``fit``.
    objective : {"kendall", "top1"}, default "kendall"
        What the weights maximise on the training cells (see :data:`OBJECTIVES`).
    random_state : int, optional
        Seed of the sampler.

    Attributes
    ----------
    weights_ : numpy.ndarray
        The fitted weights (one per column of ``X``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = X[:, 1] + 0.01 * rng.normal(size=60)
    >>> model = RoBoTPredictor(n_trials=25, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> int(np.argmax(np.abs(model.weights_)))  # doctest: +SKIP
    1
    """

    def __init__(
        self, *, n_trials: int = 20, objective: str = "kendall", random_state: Any = None
    ) -> None:
        self.n_trials = n_trials
        self.objective = objective
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing metric contributes nothing
        tags.regressor_tags.poor_score = True  # a ranking (Kendall / top-1) objective, not R^2
        return tags

    def fit(self, X: Any, y: Any) -> RoBoTPredictor:
        """Fit min-max ranges on ``X`` and the weights by BO on the training objective."""
        if self.objective not in OBJECTIVES:
            raise OutOfDomainError(
                f"unknown objective {self.objective!r}; allowed: {allowed(OBJECTIVES)}"
            )
        if self.n_trials < 1:
            raise OutOfDomainError(f"n_trials must be >= 1, got {self.n_trials}")
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.lo_, self.hi_ = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        norm = minmax(X, self.lo_, self.hi_)
        score = OBJECTIVES[self.objective]
        search = WeightSearch(X.shape[1], seed=seed_from_random_state(self.random_state))
        for _ in range(int(self.n_trials)):
            w = search.propose()
            search.observe(score(combine(norm, w), y))
        self.weights_ = search.best_weights
        self.train_objective_ = search.best_value
        # calibrate to the scale of y (the order is what matters)
        pred = combine(norm, self.weights_)
        if np.ptp(pred) > 0:
            self.slope_, self.intercept_ = (float(v) for v in np.polyfit(pred, y, 1))
        else:
            self.slope_, self.intercept_ = 0.0, float(np.mean(y))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Combined metric of each row, on the scale of the training ``y``."""
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        pred = combine(minmax(X, self.lo_, self.hi_), self.weights_)
        return np.asarray(self.intercept_ + self.slope_ * pred, dtype=np.float64)


class CombinedScorer:
    """Training-free: RoBoT's weighted sum of zero-cost proxies, with given weights.

    Each proxy of :mod:`predictors.zerocost` scores the cells; the columns are min-max
    normalised over the cells of the call and summed with ``weights``.

    Parameters
    ----------
    proxies : sequence of str
        Names in ``predictors.zerocost.PROXIES``.
    weights : sequence of float, optional
        One per proxy, in ``[-1, 1]`` (default: all 1, the plain sum of normalised ranks).
    **proxy_kwargs
        Passed to every ``get_proxy`` (e.g. ``batch_size``, ``data``, ``random_state``).

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> s = CombinedScorer(("params", "flops"), weights=(1.0, -1.0))
    >>> cells = [sp.parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
    ...          sp.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")]
    >>> s.score(cells).tolist()
    [0.0, 0.0]
    """

    def __init__(
        self,
        proxies: Sequence[str] = ("naswot", "synflow", "snip", "grad_norm", "jacob_cov",
                                  "fisher", "params", "flops"),
        weights: Sequence[float] | None = None,
        **proxy_kwargs: Any,
    ) -> None:
        from predictors.zerocost import get_proxy

        self.proxies = tuple(proxies)
        if not self.proxies:
            raise OutOfDomainError("CombinedScorer needs at least one proxy")
        self.weights = np.ones(len(self.proxies)) if weights is None else np.asarray(
            weights, dtype=np.float64
        )
        if self.weights.shape != (len(self.proxies),):
            raise OutOfDomainError(
                f"need one weight per proxy ({len(self.proxies)}), got {self.weights.shape}"
            )
        self._scorers = [get_proxy(p, **proxy_kwargs) for p in self.proxies]

    def metrics(self, cells: Sequence[Any]) -> np.ndarray:
        """Raw proxy values, ``(len(cells), len(proxies))``."""
        return np.column_stack(
            [np.asarray(s.score(list(cells)), dtype=np.float64) for s in self._scorers]
        )

    def score(self, cells: Sequence[Any]) -> np.ndarray:
        """Weighted sum of the proxies normalised over ``cells``."""
        return combine(minmax(self.metrics(cells)), self.weights)
