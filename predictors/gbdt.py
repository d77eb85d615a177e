"""Gradient-boosted trees (XGBoost) as an architecture-performance predictor (GBDT-NAS).

Luo et al., "Accuracy Prediction with Non-neural Model for Neural Architecture Search"
(arXiv:2007.04785; code: github.com/renqianluo/GBDT-NAS) fit a LightGBM regressor on a
binary architecture encoding with ``num_leaves=31``, ``learning_rate=0.05``,
``num_boost_round=100``, ``feature_fraction=0.9``, ``bagging_fraction=0.8`` (every 5
rounds) and targets standardised by a mean and a standard deviation
(``nasbench/train_gbdtnas.py`` of that repository). The defaults of
:class:`GBDTPredictor` are the XGBoost equivalents: leaf-wise growth
(``grow_policy="lossguide"``, ``max_leaves=31``, no depth limit), ``learning_rate=0.05``,
``n_estimators=100``, ``colsample_bytree=0.9``, ``subsample=0.8`` (XGBoost re-samples
every round) and ``standardize_target=True``. ``min_child_weight=1`` is XGBoost's default
(LightGBM's would be 20 samples per leaf, which leaves almost no split with 100 training
cells).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.integers(0, 2, size=(200, 6)).astype(float)
>>> y = X @ np.array([3.0, -2.0, 1.0, 0.0, 0.5, 0.0])
>>> model = GBDTPredictor(random_state=0).fit(X, y)
>>> model.predict(X[:2]).shape, model.shap_values(X[:2]).shape
((2,), (2, 6))
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.base import Predictor, seed_from_random_state

__all__ = ["GBDT_NAS_DEFAULTS", "OBJECTIVES", "GBDTPredictor"]

log = logging.getLogger(__name__)

#: The GBDT-NAS hyper-parameters (LightGBM names) and where each default comes from.
GBDT_NAS_DEFAULTS: dict[str, Any] = {
    "num_leaves": 31,
    "learning_rate": 0.05,
    "num_boost_round": 100,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 5,
}

#: Objectives accepted by ``objective``; ranking objectives are calibrated afterwards.
OBJECTIVES: dict[str, bool] = {
    "reg:squarederror": False,
    "reg:pseudohubererror": False,
    "reg:absoluteerror": False,
    "rank:pairwise": True,
    "rank:ndcg": True,
}


class GBDTPredictor(Predictor):
    """XGBoost regressor (or ranker) on any array encoding, with SHAP values.

    Parameters
    ----------
    n_estimators : int, default 100
        Boosting rounds (GBDT-NAS: 100).
    learning_rate : float, default 0.05
        Shrinkage (GBDT-NAS: 0.05).
    max_leaves : int, default 31
        Leaves per tree (GBDT-NAS ``num_leaves``: 31).
    max_depth : int, default 0
        Depth limit; 0 = none (leaf-wise growth as in LightGBM).
    grow_policy : {"lossguide", "depthwise"}, default "lossguide"
        XGBoost's tree growth.
    min_child_weight : float, default 1.0
        Minimum hessian (= samples for squared error) per leaf.
    subsample : float, default 0.8
        Row sampling per round (GBDT-NAS ``bagging_fraction``).
    colsample_bytree : float, default 0.9
        Feature sampling per tree (GBDT-NAS ``feature_fraction``).
    reg_lambda, reg_alpha : float, default 1.0, 0.0
        L2 and L1 leaf regularisation.
    objective : str, default "reg:squarederror"
        A key of :data:`OBJECTIVES`. Ranking objectives treat the training set as one
        query; their raw scores are mapped to the scale of ``y`` by a least-squares line.
    standardize_target : bool, default True
        Fit on ``(y - mean) / std`` as GBDT-NAS does.
    rank_pairs_per_sample : int, default 8
        ``rank:pairwise`` only: pairs drawn per training cell, uniformly among all cells
        of the query (XGBoost ``lambdarank_pair_method="mean"``); XGBoost's own default
        (top-k pairs) ranks badly when the whole training set is one query.
    tree_method : str, default "hist"
        XGBoost's tree method.
    n_jobs : int, default 1
        XGBoost threads.
    random_state : int, Generator or None, default None
        Seed of XGBoost's sampling (``None`` means seed 0).

    Attributes
    ----------
    booster_ : xgboost.Booster
    feature_importances_ : ndarray, shape (n_features,)
        Total gain per feature, normalised to sum to 1 (zeros when no split was made).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(4).repeat(10, axis=0)
    >>> y = X @ np.array([1.0, 2.0, 3.0, 4.0])
    >>> m = GBDTPredictor(n_estimators=200, learning_rate=0.3, random_state=1).fit(X, y)
    >>> np.argsort(m.predict(np.eye(4))).tolist()
    [0, 1, 2, 3]
    """

    _allow_nan = True

    def __init__(
        self,
        *,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        max_leaves: int = 31,
        max_depth: int = 0,
        grow_policy: str = "lossguide",
        min_child_weight: float = 1.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.9,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        objective: str = "reg:squarederror",
        standardize_target: bool = True,
        rank_pairs_per_sample: int = 8,
        tree_method: str = "hist",
        n_jobs: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.max_depth = max_depth
        self.grow_policy = grow_policy
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.objective = objective
        self.standardize_target = standardize_target
        self.rank_pairs_per_sample = rank_pairs_per_sample
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _params(self) -> dict[str, Any]:
        if self.objective not in OBJECTIVES:
            raise OutOfDomainError(
                f"unknown objective {self.objective!r}; allowed: {allowed(OBJECTIVES)}"
            )
        if int(self.n_estimators) < 1:
            raise OutOfDomainError(f"n_estimators must be >= 1; got {self.n_estimators}")
        params: dict[str, Any] = {
            "objective": self.objective,
            "eta": float(self.learning_rate),
            "max_leaves": int(self.max_leaves),
            "max_depth": int(self.max_depth),
            "grow_policy": self.grow_policy,
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "lambda": float(self.reg_lambda),
            "alpha": float(self.reg_alpha),
            "tree_method": self.tree_method,
            "nthread": int(self.n_jobs),
            "seed": seed_from_random_state(self.random_state),
            "verbosity": 0,
        }
        if self.objective == "rank:pairwise":
            params["lambdarank_pair_method"] = "mean"
            params["lambdarank_num_pair_per_sample"] = int(self.rank_pairs_per_sample)
        return params

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import xgboost as xgb

        params = self._params()
        self.y_mean_ = float(y.mean()) if self.standardize_target else 0.0
        std = float(y.std()) if self.standardize_target else 1.0
        self.y_std_ = std if std > 0 else 1.0
        target = (y - self.y_mean_) / self.y_std_
        ranking = OBJECTIVES[self.objective]
        if ranking and self.objective == "rank:ndcg":
            # NDCG needs small non-negative integer relevance labels: use 32 quantile bins.
            ranks = np.argsort(np.argsort(y, kind="stable"), kind="stable")
            target = np.floor(ranks * 31 / max(len(y) - 1, 1))
        dtrain = xgb.DMatrix(X, label=target, missing=np.nan, nthread=int(self.n_jobs))
        self.booster_ = xgb.train(params, dtrain, num_boost_round=int(self.n_estimators))
        # Calibration: the identity for regression; a least-squares line for ranking.
        self.calibration_ = (1.0, 0.0)
        if ranking:
            raw = self.booster_.predict(dtrain)
            var = float(raw.var())
            slope = float(np.cov(raw, target, bias=True)[0, 1] / var) if var > 0 else 0.0
            self.calibration_ = (slope, float(target.mean() - slope * raw.mean()))
        gain = self.booster_.get_score(importance_type="total_gain")
        imp = np.zeros(X.shape[1])
        for name, value in gain.items():
            imp[int(name[1:])] = float(value)  # type: ignore[arg-type]
        total = imp.sum()
        self.feature_importances_ = imp / total if total > 0 else imp
        log.debug("GBDT fit on %d x %d, objective %s", X.shape[0], X.shape[1], self.objective)

    def _dmatrix(self, X: np.ndarray) -> Any:
        import xgboost as xgb

        return xgb.DMatrix(X, missing=np.nan, nthread=int(self.n_jobs))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raw = self.booster_.predict(self._dmatrix(X)).astype(np.float64)
        slope, intercept = self.calibration_
        return (slope * raw + intercept) * self.y_std_ + self.y_mean_

    # ------------------------------------------------------------------ SHAP
    def shap_values(self, X: Any, *, with_bias: bool = False) -> np.ndarray:
        """First-order SHAP values (TreeSHAP, XGBoost ``pred_contribs=True``).

        Parameters
        ----------
        X : array-like, shape (n, n_features)
        with_bias : bool, default False
            Append the bias (expected value) as a last column; then every row sums to the
            model output on the scale of ``y`` (regression objectives).

        Returns
        -------
        ndarray, shape (n, n_features) or (n, n_features + 1)
            Contributions in units of ``y`` (ranking objectives: in raw score units).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.eye(3).repeat(5, axis=0)
        >>> m = GBDTPredictor(n_estimators=20, random_state=0).fit(X, X @ [1.0, 2.0, 3.0])
        >>> phi = m.shap_values(X, with_bias=True)
        >>> bool(np.allclose(phi.sum(axis=1), m.predict(X), atol=1e-4))
        True
        """
        X_ = self._validate_predict(X)
        contrib = self.booster_.predict(self._dmatrix(X_), pred_contribs=True).astype(np.float64)
        scale = self.y_std_ * (self.calibration_[0] if OBJECTIVES[self.objective] else 1.0)
        contrib *= scale
        if not with_bias:
            return contrib[:, :-1]
        contrib[:, -1] += self.y_mean_ + (
            self.calibration_[1] * self.y_std_ if OBJECTIVES[self.objective] else 0.0
        )
        return contrib

    def shap_interactions(self, X: Any) -> np.ndarray:
        """Second-order SHAP interaction values (XGBoost ``pred_interactions=True``).

        Returns
        -------
        ndarray, shape (n, n_features, n_features)
            Symmetric; off-diagonal ``[k, i, j] + [k, j, i]`` is the interaction effect of
            features ``i`` and ``j`` on row ``k``, the diagonal the main effects, in units of
            ``y``. The bias row/column of XGBoost is dropped.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.integers(0, 2, size=(50, 3)).astype(float)
        >>> m = GBDTPredictor(random_state=0).fit(X, X[:, 0] * X[:, 1])
        >>> m.shap_interactions(X[:4]).shape
        (4, 3, 3)
        """
        X_ = self._validate_predict(X)
        inter = self.booster_.predict(self._dmatrix(X_), pred_interactions=True)
        scale = self.y_std_ * (self.calibration_[0] if OBJECTIVES[self.objective] else 1.0)
        return np.asarray(inter[:, :-1, :-1], dtype=np.float64) * scale
