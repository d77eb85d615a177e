"""Combinations of trained predictors, and of zero-cost columns.

:class:`AveragePredictor` fits clones of its ``estimators`` on the same ``(X, y)``; each
member's predictions are standardised with the mean and standard deviation of its own
predictions on the training rows, averaged with ``weights``, and mapped back to the
scale of ``y``. It is how the harness combines a tree model with a neural one (registry
entry ``gbdt_fbnet``: ``gbdt_tuned`` + the pretrained MLP with the statistics as inputs)
and two tree models (``gbdt_rf``: ``gbdt_tuned`` + the random forest).

:class:`RankVotePredictor` appends one column to ``X`` before fitting its ``estimator``:
the mean, over ``vote_columns`` (the zero-cost proxies of a feature set), of each column's
mid-rank among the *training* rows (empirical CDF in ``[0, 1]``). It is the training-free
"vote" of several proxies (an equal-weight rank average) given to the model as a feature:
a tree cannot form a sum of several continuous columns from 100 cells, a rank average it
can split on. Ranks are a monotone map of each column, so the vote is insensitive to the
proxies' scales (synflow spans dozens of orders of magnitude).

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from sklearn.tree import DecisionTreeRegressor
>>> X = np.random.default_rng(0).normal(size=(50, 3)); y = X[:, 0]
>>> m = AveragePredictor(estimators=(Ridge(), DecisionTreeRegressor(random_state=0)))
>>> m.fit(X, y).predict(X[:2]).shape
(2,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from nasbench_tools.errors import OutOfDomainError
from predictors.base import Predictor, seed_from_random_state

__all__ = ["AveragePredictor", "RankVotePredictor"]


class AveragePredictor(Predictor):
    """Weighted average of standardised member predictions.

    Parameters
    ----------
    estimators : tuple of estimators, default ()
        Members (cloned at ``fit``; a member's ``random_state`` is set from ours).
    weights : tuple of float or None, default None
        One per member; ``None`` = equal.
    pretrain_pool : ndarray or None, default None
        Given to every member with a ``pretrain_pool`` parameter that has none
        (:class:`~predictors.pretrained.PretrainedMLPPredictor`); the harness fills it.
    random_state : int, Generator or None, default None

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> AveragePredictor(estimators=(Ridge(),)).fit(np.eye(3), [1.0, 2.0, 3.0]).predict(
    ...     np.eye(3)).round(2).tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(
        self,
        *,
        estimators: tuple[Any, ...] = (),
        weights: tuple[float, ...] | None = None,
        pretrain_pool: np.ndarray | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.estimators = estimators
        self.weights = weights
        self.pretrain_pool = pretrain_pool
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if not self.estimators:
            raise OutOfDomainError("AveragePredictor needs at least one estimator")
        w = np.ones(len(self.estimators)) if self.weights is None else np.asarray(self.weights)
        if w.shape != (len(self.estimators),) or not (w >= 0).all() or w.sum() <= 0:
            raise OutOfDomainError(
                f"weights must be {len(self.estimators)} non-negative numbers, not all 0; "
                f"got {self.weights}"
            )
        seed = seed_from_random_state(self.random_state)
        self.weights_ = w / w.sum()
        self.estimators_ = []
        self.scales_ = []
        for est in self.estimators:
            member = clone(est)
            params = member.get_params()
            if "random_state" in params:
                member.set_params(random_state=seed)
            if self.pretrain_pool is not None and params.get("pretrain_pool", 0) is None:
                member.set_params(pretrain_pool=self.pretrain_pool)
            member.fit(X, y)
            p = np.asarray(member.predict(X), dtype=np.float64)
            self.estimators_.append(member)
            self.scales_.append((float(p.mean()), float(p.std()) or 1.0))
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0

    def _predict(self, X: np.ndarray) -> np.ndarray:
        z = np.zeros(X.shape[0])
        for wi, member, (mu, sd) in zip(self.weights_, self.estimators_, self.scales_):
            z += wi * (np.asarray(member.predict(X), dtype=np.float64) - mu) / sd
        return z * self.y_std_ + self.y_mean_


def _midrank(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mid-rank of ``x`` among the sorted ``reference`` values, scaled to ``[0, 1]``."""
    lo = np.searchsorted(reference, x, side="left")
    hi = np.searchsorted(reference, x, side="right")
    return (lo + hi) / (2.0 * reference.size)


class RankVotePredictor(Predictor):
    """Fit ``estimator`` on ``X`` plus the mean training-set rank of ``vote_columns``.

    Parameters
    ----------
    estimator : estimator or None, default None
        The model fitted on the augmented rows (cloned at ``fit``; its ``random_state`` is
        set from ours); ``None`` = :class:`~predictors.gbdt.GBDTPredictor` with its defaults.
    vote_columns : tuple of int, default (-1,)
        Columns of ``X`` whose ranks are averaged (negative = from the end), e.g.
        ``(-4, -3, -2, -1)`` for NASWOT, synflow, params and FLOPs ending a feature set.
        The columns are kept as they are; the vote is one extra last column.
    random_state : int, Generator or None, default None

    Attributes
    ----------
    columns_ : tuple of int
        ``vote_columns`` as non-negative indices.
    reference_ : list of ndarray
        The sorted training values of each vote column (what test rows are ranked among).
    estimator_ : the fitted model.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)); y = X[:, 1] + X[:, 2]
    >>> m = RankVotePredictor(vote_columns=(1, 2), random_state=0).fit(X, y)
    >>> m.columns_, m.vote(X[:2]).round(3).tolist()
    ((1, 2), [0.55, 0.425])
    """

    def __init__(
        self,
        *,
        estimator: Any = None,
        vote_columns: tuple[int, ...] = (-1,),
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.estimator = estimator
        self.vote_columns = vote_columns
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """This estimator's own parameters; the member's are not expanded (as for
        :class:`AveragePredictor`'s tuple of members), so ``type(m)(**m.get_params())``
        rebuilds it. Set the member's with ``set_params(estimator=...)``."""
        return super().get_params(deep=False)

    def _resolve(self, d: int) -> tuple[int, ...]:
        cols = tuple(int(c) for c in self.vote_columns)
        if not cols or any(not -d <= c < d for c in cols):
            raise OutOfDomainError(
                f"vote_columns must be a non-empty tuple of column indices in [-{d}, {d - 1}] "
                f"for {d} feature columns; got {self.vote_columns!r}"
            )
        out = tuple(c % d for c in cols)
        if len(set(out)) != len(out):
            raise OutOfDomainError(f"vote_columns name a column twice: {self.vote_columns!r}")
        return out

    def vote(self, X: Any) -> np.ndarray:
        """The vote column of rows ``X`` (mean mid-rank among the training rows), shape (n,).

        Examples
        --------
        >>> m = RankVotePredictor(vote_columns=(0,)).fit(np.arange(4.0)[:, None], np.arange(4.0))
        >>> m.vote(np.array([[-1.0], [1.0], [9.0]])).tolist()
        [0.0, 0.375, 1.0]
        """
        X_ = self._validate_predict(X)
        return self._vote(X_)

    def _vote(self, X: np.ndarray) -> np.ndarray:
        ranks = [_midrank(ref, X[:, c]) for c, ref in zip(self.columns_, self.reference_)]
        return np.mean(ranks, axis=0)

    def _augment(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([X, self._vote(X)])

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.columns_ = self._resolve(X.shape[1])
        self.reference_ = [np.sort(X[:, c]) for c in self.columns_]
        if self.estimator is None:
            from predictors.gbdt import GBDTPredictor

            model: Any = GBDTPredictor()
        else:
            model = clone(self.estimator)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed_from_random_state(self.random_state))
        self.estimator_ = model.fit(self._augment(X), y)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict(self._augment(X)), dtype=np.float64)
