"""RankVotePredictor (zero-cost rank vote as an extra column) and the gbdt_rf / gbdt_vote entries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from nasbench_tools.errors import OutOfDomainError
from predictors.ensemble import AveragePredictor, RankVotePredictor
from predictors.gbdt import GBDTPredictor
from predictors.registry import PREDICTORS, VOTE_FEATURES


def test_vote_is_the_mean_training_midrank_of_the_columns() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    m = RankVotePredictor(estimator=GBDTPredictor(n_estimators=5), vote_columns=(-2, -1),
                          random_state=0).fit(X, X[:, 0])
    # on the training rows the vote is the mean of the (1-based, scaled) mid-ranks
    expected = np.mean([(rankdata(X[:, c]) - 0.5) / 30 for c in (2, 3)], axis=0)
    np.testing.assert_allclose(m.vote(X), expected)
    assert m.columns_ == (2, 3)
    # a test row is ranked among the training rows: above all of them -> 1, below -> 0
    far = np.array([[0.0, 0.0, 99.0, 99.0], [0.0, 0.0, -99.0, -99.0]])
    np.testing.assert_allclose(m.vote(far), [1.0, 0.0])
    # the model sees one extra (last) column, the vote
    assert m.estimator_.n_features_in_ == 5


def test_vote_helps_when_the_target_is_a_sum_of_ranked_columns() -> None:
    """A sum of two heavy-tailed columns: the vote column is what a small tree model needs."""
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.integers(0, 2, size=(400, 3)), np.exp(rng.normal(size=(400, 2)) * 3)])
    y = rankdata(X[:, 3]) + rankdata(X[:, 4])
    tr, te = slice(0, 60), slice(60, None)
    plain = GBDTPredictor(n_estimators=60, random_state=0).fit(X[tr], y[tr])
    vote = RankVotePredictor(estimator=GBDTPredictor(n_estimators=60), vote_columns=(3, 4),
                             random_state=0).fit(X[tr], y[tr])
    def corr(p: np.ndarray) -> float:
        return float(np.corrcoef(rankdata(p), rankdata(y[te]))[0, 1])

    assert corr(vote.predict(X[te])) > corr(plain.predict(X[te])) + 0.02


@pytest.mark.parametrize("cols", [(), (5,), (-6,), (1, -4)])
def test_bad_vote_columns_name_the_allowed_range(cols: tuple[int, ...]) -> None:
    X = np.eye(5)
    with pytest.raises(OutOfDomainError, match="vote_columns"):
        RankVotePredictor(vote_columns=cols).fit(X, np.arange(5.0))


def test_registry_entries() -> None:
    rf = PREDICTORS["gbdt_rf"].build(random_state=3)
    assert isinstance(rf, AveragePredictor) and len(rf.estimators) == 2
    for name, k in (("gbdt_vote3", 3), ("gbdt_vote", 4), ("gbdt_vote5", 5)):
        spec = PREDICTORS[name]
        est = spec.build(random_state=3)
        assert isinstance(est, RankVotePredictor) and est.vote_columns == tuple(range(-k, 0))
        assert spec.features == VOTE_FEATURES[k]
        assert spec.accepts(VOTE_FEATURES[k][0]) and not spec.accepts("onehot")
