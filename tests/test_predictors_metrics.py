"""Ranking metrics against scipy and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nasbench_tools.errors import OutOfDomainError
from predictors import metrics


@pytest.fixture()
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    return y, y + rng.normal(scale=0.7, size=200)


def test_correlations_match_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = pair
    assert metrics.kendall_tau(y, p) == pytest.approx(stats.kendalltau(y, p).statistic)
    assert metrics.spearman(y, p) == pytest.approx(stats.spearmanr(y, p).statistic)
    assert metrics.pearson(y, p) == pytest.approx(stats.pearsonr(y, p).statistic)
    assert 0.3 < metrics.kendall_tau(y, p) < 0.9


def test_tau_with_ties_is_tau_b() -> None:
    y = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    assert metrics.kendall_tau(y, p) == pytest.approx(stats.kendalltau(y, p, variant="b").statistic)


def test_precision_and_overlap_hand_computed() -> None:
    y = np.array([10.0, 9.0, 8.0, 7.0, 6.0, 5.0])  # true top-3: {0, 1, 2}
    p = np.array([6.0, 1.0, 5.0, 4.0, 0.0, 0.0])  # predicted top-3: {0, 2, 3}
    assert metrics.precision_at_k(y, p, 3) == pytest.approx(2 / 3)
    assert metrics.top_k_overlap(y, p, 3) == pytest.approx(2 / 4)
    assert metrics.n_at_k(y, p, 3) == 1
    assert metrics.n_at_k(y, -y, 2) == 5
    assert metrics.regret_at_k(y, -y, 2) == pytest.approx(10.0 - 6.0)


def test_k_larger_than_n_is_clipped() -> None:
    y = np.arange(5.0)
    assert metrics.precision_at_k(y, y[::-1], 50) == 1.0


def test_perfect_and_reversed() -> None:
    y = np.arange(30.0)
    m = metrics.all_metrics(y, y, k=5)
    assert m["kendall_tau"] == pytest.approx(1.0) and m["precision_at_k"] == 1.0
    r = metrics.all_metrics(y, -y, k=5)
    assert r["kendall_tau"] == pytest.approx(-1.0) and r["precision_at_k"] == 0.0


def test_constant_prediction_scores_zero_not_nan() -> None:
    assert metrics.kendall_tau(np.arange(4.0), np.zeros(4)) == 0.0


@pytest.mark.parametrize(
    ("y", "p", "k"),
    [
        (np.arange(3.0), np.arange(4.0), 1),
        (np.array([1.0]), np.array([1.0]), 1),
        (np.array([1.0, np.nan]), np.array([1.0, 2.0]), 1),
        (np.arange(3.0), np.arange(3.0), 0),
    ],
)
def test_bad_inputs_raise(y: np.ndarray, p: np.ndarray, k: int) -> None:
    with pytest.raises(OutOfDomainError):
        metrics.precision_at_k(y, p, k)
