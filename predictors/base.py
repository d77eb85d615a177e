"""The one interface every trained predictor follows, and the protocol of training-free scorers.

Trained predictors are scikit-learn regressors: keyword-only ``__init__`` that stores its
arguments unchanged, ``fit(X, y) -> self``, ``predict(X) -> ndarray (n,)``,
``get_params`` / ``set_params`` (from :class:`sklearn.base.BaseEstimator`), a
``random_state`` parameter, and they see only arrays. The harness and the searchers use
only the *order* of the predictions, but every predictor returns values on the scale of
``y`` where it can (ranking models are calibrated by a least-squares line on the training
data), so ``score`` (R^2) and scatter plots stay meaningful.

Training-free scorers (``predictors.zerocost``) follow :class:`Scorer`: one method
``score(cells) -> ndarray`` (larger = predicted better), no fitting.

Examples
--------
>>> import numpy as np
>>> from predictors.gbdt import GBDTPredictor
>>> rng = np.random.default_rng(0)
>>> X = rng.integers(0, 2, size=(64, 5)).astype(float)
>>> y = X @ np.arange(5.0)
>>> model = GBDTPredictor(n_estimators=50, random_state=0).fit(X, y)
>>> is_trained_predictor(model), is_scorer(model)
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "Predictor",
    "Scorer",
    "is_scorer",
    "is_trained_predictor",
    "seed_from_random_state",
]


@runtime_checkable
class Scorer(Protocol):
    """A training-free scorer: ``score(cells)`` returns one float per cell, larger is better."""

    def score(self, cells: Sequence[Any]) -> np.ndarray:
        """Score ``cells``; shape ``(len(cells),)``."""
        ...


def is_trained_predictor(obj: object) -> bool:
    """True for objects with ``fit`` and ``predict`` (scikit-learn regressors).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> is_trained_predictor(Ridge())
    True
    """
    return callable(getattr(obj, "fit", None)) and callable(getattr(obj, "predict", None))


def is_scorer(obj: object) -> bool:
    """True for training-free scorers: a ``score`` method and no ``fit``.

    Examples
    --------
    >>> class Params:
    ...     def score(self, cells):
    ...         return np.array([float(len(c)) for c in cells])
    >>> is_scorer(Params())
    True
    """
    return callable(getattr(obj, "score", None)) and not is_trained_predictor(obj)


def seed_from_random_state(random_state: int | np.random.Generator | None) -> int:
    """Turn an estimator's ``random_state`` into a non-negative 31-bit integer seed.

    ``None`` maps to 0 so that unseeded estimators are still deterministic (the harness
    always passes a seed). A ``numpy.random.Generator`` or ``RandomState`` is drawn from.

    Examples
    --------
    >>> seed_from_random_state(7), seed_from_random_state(None)
    (7, 0)
    """
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) % (2**31 - 1)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    from nasbench_tools.errors import OutOfDomainError

    raise OutOfDomainError(
        f"random_state must be None, an int or a numpy Generator; got {type(random_state).__name__}"
    )


class Predictor(RegressorMixin, BaseEstimator):
    """Base class of the project's trained predictors (a scikit-learn regressor).

    Subclasses implement ``_fit(X, y)`` and ``_predict(X)`` on validated float arrays;
    validation, ``n_features_in_`` and the fitted check live here. Set the class attribute
    ``_allow_nan = True`` when the model handles missing values (NaN) itself.
    """

    _allow_nan: bool = False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allow_nan
        return tags

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X_, y_ = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if self._allow_nan else True,
            y_numeric=True,
        )
        return np.asarray(X_, dtype=np.float64), np.asarray(y_, dtype=np.float64).ravel()

    def _validate_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X_ = validate_data(
            self,
            X,
            dtype=np.float64,
            reset=False,
            ensure_all_finite="allow-nan" if self._allow_nan else True,
        )
        return np.asarray(X_, dtype=np.float64)

    def fit(self, X: Any, y: Any) -> Predictor:
        """Fit on features ``X`` (n, d) and targets ``y`` (n,); returns ``self``."""
        X_, y_ = self._validate_fit(X, y)
        self._fit(X_, y_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted target (or a monotone score) for each row of ``X``, shape (n,)."""
        X_ = self._validate_predict(X)
        return np.asarray(self._predict(X_), dtype=np.float64).ravel()

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError
