"""GBDT predictor: GBDT-NAS defaults, SHAP values, ranking objective; S3 pruning."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_tools.errors import OutOfDomainError
from predictors.gbdt import GBDT_NAS_DEFAULTS, GBDTPredictor
from predictors.metrics import kendall_tau
from predictors.pruning import (
    PrunedSpace,
    feature_names,
    first_order_effects,
    gbdt_nas_s3,
    prune_rules,
    second_order_effects,
)


def _binary(n: int = 400, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(n, d)).astype(float)


def test_defaults_are_gbdt_nas_settings() -> None:
    m = GBDTPredictor()
    assert m.max_leaves == GBDT_NAS_DEFAULTS["num_leaves"] == 31
    assert m.learning_rate == GBDT_NAS_DEFAULTS["learning_rate"] == 0.05
    assert m.n_estimators == GBDT_NAS_DEFAULTS["num_boost_round"] == 100
    assert m.colsample_bytree == GBDT_NAS_DEFAULTS["feature_fraction"]
    assert m.subsample == GBDT_NAS_DEFAULTS["bagging_fraction"]


def test_shap_values_add_up_to_prediction() -> None:
    X = _binary()
    y = X @ np.linspace(-1, 1, 8) + 50.0
    m = GBDTPredictor(random_state=0).fit(X, y)
    phi = m.shap_values(X[:20], with_bias=True)
    assert phi.shape == (20, 9)
    np.testing.assert_allclose(phi.sum(axis=1), m.predict(X[:20]), atol=1e-3)
    inter = m.shap_interactions(X[:20])
    assert inter.shape == (20, 8, 8)
    # interaction rows sum to the first-order values
    np.testing.assert_allclose(inter.sum(axis=2), m.shap_values(X[:20]), atol=1e-3)


def test_feature_importances_find_the_signal() -> None:
    X = _binary()
    m = GBDTPredictor(random_state=0).fit(X, 3 * X[:, 5])
    assert m.feature_importances_.argmax() == 5
    assert m.feature_importances_.sum() == pytest.approx(1.0)


def test_nan_features_are_accepted() -> None:
    X = _binary()
    X[::7, 0] = np.nan
    m = GBDTPredictor(random_state=0).fit(X, np.nan_to_num(X[:, 0]) + X[:, 1])
    assert np.isfinite(m.predict(X)).all()


@pytest.mark.parametrize("objective", ["rank:pairwise", "rank:ndcg", "reg:pseudohubererror"])
def test_other_objectives_rank_well(objective: str) -> None:
    X = _binary(300)
    y = X @ np.arange(8.0)
    m = GBDTPredictor(objective=objective, n_estimators=200, random_state=0).fit(X, y)
    assert kendall_tau(y, m.predict(X)) > 0.7


def test_unknown_objective_names_allowed_ones() -> None:
    with pytest.raises(OutOfDomainError, match="rank:pairwise"):
        GBDTPredictor(objective="binary:logistic").fit(_binary(), np.zeros(400) + np.arange(400))


# ------------------------------------------------------------------ pruning
def test_first_order_pruning_removes_planted_harmful_feature() -> None:
    X = _binary(500, 8, seed=1)
    rng = np.random.default_rng(2)
    y = 0.5 * X[:, 0] + 0.3 * X[:, 1] - 4.0 * X[:, 6] + rng.normal(scale=0.1, size=500)
    m = GBDTPredictor(random_state=0).fit(X, y)
    effects = first_order_effects(m, X)
    assert effects[0].feature == 6 and effects[0].mean_shap < -1.0
    rules = prune_rules(m, X, order=1, max_rules=1)
    assert rules == [((6, 1.0),)]
    # a helpful feature is never pruned even with many rules allowed
    assert ((0, 1.0),) not in prune_rules(m, X, order=1, max_rules=8)


def test_second_order_pruning_finds_planted_interaction() -> None:
    X = _binary(600, 6, seed=3)
    y = -3.0 * X[:, 1] * X[:, 4] + 0.2 * X[:, 0]
    m = GBDTPredictor(n_estimators=200, random_state=0).fit(X, y)
    top = second_order_effects(m, X)[0]
    assert (top.feature_a, top.feature_b) == (1, 4) and top.mean_interaction < 0
    assert prune_rules(m, X, order=2, max_rules=1) == [((1, 1.0), (4, 1.0))]
    assert prune_rules(m, X, order=2, max_rules=2, pairs="separate") == [((1, 1.0),), ((4, 1.0),)]


def test_pruned_space_nb201_contains_and_samples() -> None:
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    names = feature_names("nb201", "adjacency_onehot")
    f = names.index("edge 3<-0 = none")
    pruned = PrunedSpace(space, [(f, 1)], encoding="adjacency_onehot")
    cells = pruned.sample(np.random.default_rng(0), 200)
    assert len(cells) == 200 and all(c.ops[3] != "none" for c in cells)
    bad = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert not pruned.contains(bad)
    child = pruned.mutate(cells[0], np.random.default_rng(1))
    assert pruned.contains(child)
    assert all(pruned.contains(c) for c in pruned.neighbours(cells[0]))
    assert pruned.size() == space.size()  # delegated attribute of the base space


def test_pruned_space_that_excludes_everything_raises() -> None:
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    every_op_on_edge0 = [(o, 1) for o in range(5)]
    pruned = PrunedSpace(space, every_op_on_edge0, encoding="adjacency_onehot", max_tries=5)
    with pytest.raises(OutOfDomainError, match="exclude"):
        pruned.sample(np.random.default_rng(0), 3)


def test_gbdt_nas_s3_end_to_end_nb201() -> None:
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    cells = space.sample(np.random.default_rng(4), 400)
    # planted: a 'none' on the last edge (3<-2) costs 5 points
    y = np.array([90.0 - 5.0 * (c.ops[5] == "none") + (c.ops[0] == "nor_conv_3x3") for c in cells])
    pruned = gbdt_nas_s3(space, cells, y, encoding="adjacency_onehot", max_rules=1, random_state=0)
    names = feature_names("nb201", "adjacency_onehot")
    assert [names[f] for (f, _), in pruned.forbidden] == ["edge 3<-2 = none"]
    assert all(c.ops[5] != "none" for c in pruned.sample(np.random.default_rng(5), 100))


def test_nb101_gbdt_feature_names_match_encoding_width() -> None:
    from nasbench_tools.spaces import get_space

    space = get_space("nb101")
    cell = space.sample(np.random.default_rng(0))
    assert space.encode([cell], "gbdt").shape[1] == len(feature_names("nb101", "gbdt")) == 45
