"""RoBoT: weight search by GP-BO, free repeats in the BO phase, greedy exploitation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search import Budget, Evaluation, run_search
from nasbench_tools.search.naswot import ArrayScorer
from nasbench_tools.search.robot import RoBoT
from nasbench_tools.spaces import get_space
from predictors.robot import CombinedScorer, RoBoTPredictor, combine, gp_available, minmax

pytestmark = pytest.mark.skipif(not gp_available(), reason="optuna >= 3.6 not installed")

SPACE = get_space("nb201")
RNG = np.random.default_rng(11)
POOL_CODES = RNG.choice(15625, size=150, replace=False)
OBJ = RNG.permutation(150).astype(float)  # the objective on the pool


def _by_code(values: np.ndarray) -> ArrayScorer:
    full = np.full(15625, np.nan)
    full[POOL_CODES] = values
    return ArrayScorer.by_code(full, SPACE)


POOL = [SPACE.all_cells()[int(c)] for c in POOL_CODES]
VALUE = {c: float(v) for c, v in zip(POOL, OBJ)}


class PoolEvaluator:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.has_costs = True

    def evaluate(self, cell: Any) -> Evaluation:
        self.calls.append(cell)
        return Evaluation(VALUE[cell], 1.0, {"test_accuracy": VALUE[cell]})

    def describe(self) -> dict[str, Any]:
        return {"evaluator": "pool"}


def _robot(seed: int = 0, n_bo: int = 20, informative: int = 0) -> RoBoT:
    noise = np.random.default_rng(5).normal(size=(150, 3)) * 50
    cols = [noise[:, 0], noise[:, 1], noise[:, 2]]
    cols.insert(informative, OBJ.copy())  # one metric is the objective itself
    return RoBoT(SPACE, [_by_code(c) for c in cols], pool=POOL, n_bo=n_bo, seed=seed)


def test_bo_finds_weights_that_favour_the_informative_metric() -> None:
    # metric 2 is the objective, the three others are noise of the same (normalised) range
    s = _robot(informative=2, n_bo=10)
    res = run_search(s, PoolEvaluator(), Budget(queries=10), seed=3)
    top3 = np.sort(OBJ)[-3]
    assert res.final_value >= top3  # 10 queries find a top-2% cell of 150
    assert s.best_weights[2] > 0  # the best weights favour the objective's metric
    top = int(np.argmax(combine(s.metrics, s.best_weights)))
    assert OBJ[top] == s._bo.best_value  # and their objective is their top cell's value


@pytest.mark.slow
def test_without_the_informative_metric_robot_does_worse() -> None:
    blind = RoBoT(SPACE, [_by_code(c) for c in np.random.default_rng(5).normal(size=(3, 150))],
                  pool=POOL, n_bo=10, seed=0)
    top3 = np.sort(OBJ)[-3]
    assert run_search(blind, PoolEvaluator(), Budget(queries=10), seed=3).final_value < top3


def test_bo_repeats_are_free_and_greedy_follows_the_ranking() -> None:
    ev = PoolEvaluator()
    s = _robot(seed=1, n_bo=5)
    res = run_search(s, ev, Budget(queries=12), seed=1)
    assert len(ev.calls) == len(set(ev.calls)) == res.queries == 12
    assert 1 <= s.t0 <= 5
    greedy = ev.calls[s.t0:]
    rank = combine(s.metrics, s.best_weights)
    pos = {c: i for i, c in enumerate(POOL)}
    scores = [rank[pos[c]] for c in greedy]
    assert scores == sorted(scores, reverse=True)
    # the greedy cells are the best-ranked ones not queried during BO
    order = [POOL[int(i)] for i in np.argsort(-rank, kind="stable")]
    expected = [c for c in order if c not in set(ev.calls[: s.t0])][: len(greedy)]
    assert greedy == expected


def test_pool_exhaustion_ends_the_run() -> None:
    pool = POOL[:6]
    s = RoBoT(SPACE, [_by_code(OBJ)], pool=pool, n_bo=3, seed=0)
    res = run_search(s, PoolEvaluator(), Budget(queries=50), seed=0)
    assert res.queries == 6 and s.done


def test_robot_refuses_bad_input() -> None:
    with pytest.raises(OutOfDomainError, match="at least one"):
        RoBoT(SPACE, [], pool=POOL)
    with pytest.raises(OutOfDomainError, match="n_bo"):
        RoBoT(SPACE, [_by_code(OBJ)], pool=POOL, n_bo=0)
    s = _robot()
    c = s.ask()
    with pytest.raises(OutOfDomainError, match="tell"):
        s.ask()
    with pytest.raises(OutOfDomainError, match="last ask"):
        s.tell(next(p for p in POOL if p != c), 1.0)


def test_minmax_and_nan_metrics() -> None:
    m = minmax(np.array([[0.0, np.nan], [4.0, 2.0], [2.0, 4.0]]))
    np.testing.assert_allclose(m, [[0.0, np.nan], [1.0, 0.0], [0.5, 1.0]])
    assert combine(m, np.array([1.0, 1.0])).tolist() == [0.0, 1.0, 1.5]


def test_predictor_fits_weights_by_kendall() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = 90 - 3 * X[:, 2] + 0.05 * rng.normal(size=80)  # the third column, negated
    model = RoBoTPredictor(n_trials=20, random_state=0).fit(X, y)
    assert int(np.argmax(np.abs(model.weights_))) == 2 and model.weights_[2] < 0
    Xt = rng.normal(size=(200, 3))
    yt = 90 - 3 * Xt[:, 2]
    assert kendalltau(model.predict(Xt), yt).statistic > 0.8
    top1 = RoBoTPredictor(n_trials=5, objective="top1", random_state=0).fit(X, y)
    # RoBoT's own objective: the y of the best-scored training cell under the weights
    best = int(np.argmax(combine(minmax(X), top1.weights_)))
    assert top1.train_objective_ == pytest.approx(y[best])
    with pytest.raises(OutOfDomainError, match="objective"):
        RoBoTPredictor(objective="nope").fit(X, y)


def test_combined_scorer_weights_the_proxies() -> None:
    cells = POOL[:5]
    s = CombinedScorer(("params", "flops"), weights=(1.0, 0.0))
    raw = s.metrics(cells)
    np.testing.assert_allclose(s.score(cells), minmax(raw)[:, 0])
    with pytest.raises(OutOfDomainError, match="one weight per proxy"):
        CombinedScorer(("params",), weights=(1.0, 2.0))


def test_cli_metric_log_prefix_reads_the_feature_through_a_signed_log() -> None:
    from nasbench_tools.cli.cmd_search import _metric_column

    class Source:
        def features(self) -> tuple[str, ...]:
            return ("zc_synflow",)

        def feature(self, name: str) -> np.ndarray:
            if name != "zc_synflow":
                raise KeyError(name)
            return np.array([0.0, 9.0, 7.7e49])

    np.testing.assert_allclose(_metric_column(Source(), "log_zc_synflow"),
                               [0.0, 1.0, np.log10(1 + 7.7e49)])
    np.testing.assert_array_equal(_metric_column(Source(), "zc_synflow"), [0.0, 9.0, 7.7e49])
    with pytest.raises(KeyError):
        _metric_column(Source(), "log_zc_nope")
