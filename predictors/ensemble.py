"""Average of several trained predictors, each put on a common scale first.

:class:`AveragePredictor` fits clones of its ``estimators`` on the same ``(X, y)``; each
member's predictions are standardised with the mean and standard deviation of its own
predictions on the training rows, averaged with ``weights``, and mapped back to the
scale of ``y``. It is how the harness combines a tree model with a neural one (registry
entry ``gbdt_fbnet``: ``gbdt_tuned`` + the pretrained MLP with the statistics as inputs).

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

__all__ = ["AveragePredictor"]


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
