"""Simple baselines behind the same interface: one-column ranking, random forest, MLP.

Examples
--------
>>> import numpy as np
>>> X = np.column_stack([np.arange(10.0), np.zeros(10)])
>>> ColumnPredictor(column=0).fit(X, 2 * np.arange(10.0)).predict(X[:2]).round(6).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from predictors.base import Predictor, seed_from_random_state

__all__ = ["ColumnPredictor", "MLPPredictor", "RandomForestPredictor"]


class ColumnPredictor(Predictor):
    """Rank by one feature column (e.g. a zero-cost score or the parameter count).

    ``fit`` only learns a least-squares line from the column to ``y`` (so predictions are on
    the scale of ``y``); with ``sign=0`` the direction is learnt from that line, otherwise
    ``sign`` (+1 or -1) fixes it. NaN in the column is replaced by the column's smallest
    training value.

    Parameters
    ----------
    column : int, default -1
        Index of the feature column.
    sign : float, default 0.0
        +1: larger column = better; -1: smaller = better; 0: learnt.
    random_state : None
        Unused; present so that every predictor accepts it.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(6.0)[:, None]
    >>> ColumnPredictor(column=0, sign=-1).fit(X, X[:, 0]).predict(X).argmax()
    np.int64(0)
    """

    _allow_nan = True

    def __init__(self, *, column: int = -1, sign: float = 0.0, random_state: Any = None) -> None:
        self.column = column
        self.sign = sign
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags

    def _raw(self, X: np.ndarray) -> np.ndarray:
        d = X.shape[1]
        if not -d <= int(self.column) < d:
            raise OutOfDomainError(
                f"column {self.column} out of range for {d} features; allowed: {-d}..{d - 1}"
            )
        return X[:, int(self.column)]

    def _col(self, X: np.ndarray) -> np.ndarray:
        c = self._raw(X)
        return np.where(np.isnan(c), self.fill_, c)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if float(self.sign) not in (-1.0, 0.0, 1.0):
            raise OutOfDomainError(f"sign must be -1, 0 or 1; got {self.sign!r}")
        raw = self._raw(X)
        finite = raw[np.isfinite(raw)]
        self.fill_ = float(finite.min()) if finite.size else 0.0
        c = self._col(X)
        var = float(c.var())
        slope = float(np.cov(c, y, bias=True)[0, 1] / var) if var > 0 else 0.0
        if float(self.sign) != 0.0 and np.sign(slope) != np.sign(self.sign):
            slope = float(self.sign) * 1e-12  # keep the fixed direction, flat on y's scale
        self.coef_ = (slope, float(y.mean() - slope * c.mean()))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        slope, intercept = self.coef_
        return slope * self._col(X) + intercept


class RandomForestPredictor(Predictor):
    """scikit-learn's random forest (NaN imputed by the column minimum of the training set).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3).repeat(4, axis=0)
    >>> m = RandomForestPredictor(n_estimators=20, random_state=0).fit(X, X @ [1.0, 2.0, 3.0])
    >>> np.argsort(m.predict(np.eye(3))).tolist()
    [0, 1, 2]
    """

    _allow_nan = True

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        max_features: float = 0.5,
        min_samples_leaf: int = 1,
        n_jobs: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fill(self, X: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(X), self.fill_[None, :], X)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        with np.errstate(all="ignore"):
            fill = np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0)
        self.fill_ = np.where(np.isfinite(fill), fill, 0.0)
        self.model_ = RandomForestRegressor(
            n_estimators=int(self.n_estimators),
            max_features=self.max_features,
            min_samples_leaf=int(self.min_samples_leaf),
            n_jobs=int(self.n_jobs),
            random_state=seed_from_random_state(self.random_state),
        ).fit(self._fill(X), y)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(self._fill(X)))


class MLPPredictor(Predictor):
    """A standardised multi-layer perceptron (scikit-learn ``MLPRegressor``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> m = MLPPredictor(random_state=0).fit(X, 3 * X[:, 0])
    >>> bool(m.predict(X[-1:])[0] > m.predict(X[:1])[0])
    True
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64, 64),
        alpha: float = 1e-3,
        learning_rate_init: float = 1e-3,
        max_iter: int = 1000,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        self.model_ = make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                alpha=float(self.alpha),
                learning_rate_init=float(self.learning_rate_init),
                max_iter=int(self.max_iter),
                random_state=seed_from_random_state(self.random_state),
            ),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_.fit(X, (y - self.y_mean_) / self.y_std_)
        self.n_iter_ = int(self.model_[-1].n_iter_)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(X)) * self.y_std_ + self.y_mean_
