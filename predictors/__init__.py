"""Performance predictors behind one scikit-learn interface, and their evaluation harness.

Public names load lazily (importing ``predictors`` imports neither xgboost, torch nor
pandas):

* :class:`~predictors.gbdt.GBDTPredictor`, :class:`~predictors.renas.ReNASPredictor`,
  baselines in :mod:`predictors.baselines`;
* :class:`~predictors.features.FeatureSet` and the registry
  :data:`~predictors.features.FEATURE_SETS`;
* the predictor registry :data:`~predictors.registry.PREDICTORS`;
* the harness :func:`~predictors.evaluate.evaluate` (``predictors.evaluate(...)`` also
  works: the module is callable);
* GBDT-NAS-S3 pruning in :mod:`predictors.pruning`; zero-cost proxies in
  :mod:`predictors.zerocost`.

Examples
--------
>>> import predictors
>>> predictors.GBDTPredictor().learning_rate
0.05
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FEATURE_SETS",
    "PREDICTORS",
    "ColumnPredictor",
    "EvalData",
    "FeatureSet",
    "GBDTPredictor",
    "MLPPredictor",
    "PrunedSpace",
    "RandomForestPredictor",
    "ReNASPredictor",
    "evaluate",
    "get_feature_set",
    "get_predictor",
]

_LAZY: dict[str, str] = {
    "FEATURE_SETS": "predictors.features",
    "FeatureSet": "predictors.features",
    "get_feature_set": "predictors.features",
    "PREDICTORS": "predictors.registry",
    "get_predictor": "predictors.registry",
    "GBDTPredictor": "predictors.gbdt",
    "ReNASPredictor": "predictors.renas",
    "ColumnPredictor": "predictors.baselines",
    "MLPPredictor": "predictors.baselines",
    "RandomForestPredictor": "predictors.baselines",
    "PrunedSpace": "predictors.pruning",
    "EvalData": "predictors.evaluate",
}


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        return importlib.import_module("predictors.evaluate")  # a callable module
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")
