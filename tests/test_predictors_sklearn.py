"""scikit-learn's own estimator checks on every predictor class (fast settings).

ReNAS runs in its flat-input mode (``input_shape=None``: a row is a 1 x 1 x d image), so
every check applies; its ``poor_score`` tag relaxes only the R^2 threshold of the
regression checks, because a ranking loss does not aim at the squared error.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from predictors.bananas import BANANASPredictor
from predictors.baselines import ColumnPredictor, MLPPredictor, RandomForestPredictor
from predictors.ensemble import AveragePredictor, RankVotePredictor
from predictors.gbdt import GBDTPredictor
from predictors.gcn import GCNPredictor
from predictors.pretrained import PretrainedMLPPredictor
from predictors.renas import ReNASPredictor
from predictors.robot import RoBoTPredictor, gp_available

ESTIMATORS = [
    GBDTPredictor(n_estimators=25, random_state=0),
    GBDTPredictor(n_estimators=25, objective="rank:pairwise", random_state=0),
    ReNASPredictor(channels=(4,), hidden=8, epochs=8, random_state=0),
    RandomForestPredictor(n_estimators=10, random_state=0),
    MLPPredictor(hidden_layer_sizes=(16,), max_iter=80, random_state=0),
    ColumnPredictor(column=0),
    BANANASPredictor(n_ensemble=2, n_layers=2, width=16, epochs=15, learning_rate=0.02,
                     random_state=0),
    GCNPredictor(layout=None, hidden=16, linear_hidden=16, epochs=12, batch_size=32,
                 learning_rate=1e-2, random_state=0),
    PretrainedMLPPredictor(hidden=(16,), epochs=40, learning_rate=1e-2, min_updates=50,
                           random_state=0),
    PretrainedMLPPredictor(pretrain="columns", stat_columns=(0,), stats_as_input=True,
                           hidden=(16,), pretrain_epochs=3, epochs=40, learning_rate=1e-2,
                           finetune_lr_factor=1.0, min_updates=50, random_state=0),
    AveragePredictor(estimators=(GBDTPredictor(n_estimators=25),
                                 RandomForestPredictor(n_estimators=10)), random_state=0),
    RankVotePredictor(estimator=GBDTPredictor(n_estimators=25), vote_columns=(-1,),
                      random_state=0),
]
if gp_available():  # optuna's GP sampler (the search extra)
    ESTIMATORS.append(RoBoTPredictor(n_trials=2, random_state=0))


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_renas_declares_poor_score_only() -> None:
    tags = ReNASPredictor().__sklearn_tags__()
    assert tags.regressor_tags.poor_score and not tags.input_tags.allow_nan
    assert GBDTPredictor().__sklearn_tags__().input_tags.allow_nan


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_repr_shows_changed_params(est: Any) -> None:
    assert type(est).__name__ in repr(est)
