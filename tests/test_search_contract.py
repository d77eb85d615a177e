"""One contract over every searcher: determinism, budgets, no double evaluation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_search_helpers import TOY, ToyScorer, toy_evaluator

from nasbench_tools.search import (
    AREA,
    BANANASSearch,
    Budget,
    Evaluation,
    GBDTNASSearch,
    LocalSearch,
    NASWOTSearch,
    NeuralPredictorSearch,
    OptunaSearch,
    PredictorGuidedSearch,
    RandomSearch,
    RegularizedEvolution,
    Reinforce,
    ReNASSearch,
    Searcher,
    run_search,
)
from nasbench_tools.search.bohb import BOHBSearch, bohb_available
from nasbench_tools.search.optuna_wrap import optuna_available
from nasbench_tools.search.registry import REGISTRY
from nasbench_tools.search.robot import RoBoT


def _ridge() -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0)


def _tiny_bananas() -> Any:
    from predictors.bananas import BANANASPredictor

    return BANANASPredictor(n_ensemble=3, n_layers=2, width=8, epochs=5)


def _tiny_gcn() -> Any:
    from predictors.gcn import GCNPredictor

    return GCNPredictor(layout=None, hidden=8, linear_hidden=8, epochs=3)


FACTORIES: dict[str, Callable[[int], Searcher]] = {
    "rs": lambda s: RandomSearch(TOY, seed=s),
    "rea": lambda s: RegularizedEvolution(TOY, population_size=5, sample_size=2, seed=s),
    "ls": lambda s: LocalSearch(TOY, seed=s),
    "ls-first": lambda s: LocalSearch(TOY, first_improvement=True, seed=s),
    "reinforce": lambda s: Reinforce(TOY, learning_rate=0.05, seed=s),
    "predictor": lambda s: PredictorGuidedSearch(
        TOY, _ridge(), encoding="onehot", n_init=5, top_k=3, seed=s
    ),
    "predictor-pool-s3": lambda s: PredictorGuidedSearch(
        TOY, _ridge(), encoding="onehot", n_init=5, top_k=3, pool_size=20, prune_features=2,
        seed=s,
    ),
    "gbdt-nas": lambda s: GBDTNASSearch(TOY, _ridge(), encoding="onehot", n_init=5, top_k=3,
                                        seed=s),
    "renas": lambda s: ReNASSearch(TOY, _ridge(), encoding="onehot", n_init=5, top_k=3, seed=s),
    "bananas": lambda s: BANANASSearch(
        TOY, _tiny_bananas(), encoding="onehot", n_init=5, top_k=5, n_candidates=15, seed=s
    ),
    "gcn": lambda s: NeuralPredictorSearch(TOY, _tiny_gcn(), encoding="onehot", n_init=6,
                                           top_k=4, seed=s),
    "naswot": lambda s: NASWOTSearch(TOY, ToyScorer(), n_samples=10, seed=s),
    "optuna-tpe": lambda s: OptunaSearch(TOY, sampler="tpe", seed=s),
    "area": lambda s: AREA(TOY, ToyScorer(), n_samples=30, population_size=5, sample_size=2,
                           seed=s),
    "bohb": lambda s: BOHBSearch(TOY, fidelities=(12, 200), seed=s),
    "bohb-schedule": lambda s: BOHBSearch(TOY, fidelities=(12, 200), budget_use="schedule",
                                          seed=s),
    "robot": lambda s: RoBoT(TOY, [ToyScorer(), NoiseScorer()], n_bo=4, seed=s),
}


class NoiseScorer:
    """A second, uninformative metric for RoBoT."""

    def score(self, cells: Any) -> np.ndarray:
        return np.random.default_rng(3).normal(size=64)[[c.code for c in cells]]


if not optuna_available():  # optional dependency: its searchers are then left out
    del FACTORIES["optuna-tpe"]
    del FACTORIES["robot"]
if not bohb_available():
    del FACTORIES["bohb"]
    del FACTORIES["bohb-schedule"]


def test_every_registered_searcher_is_covered() -> None:
    covered = {f(0).algo for f in FACTORIES.values()}
    optional = (set() if optuna_available() else {"optuna", "robot"}) | (
        set() if bohb_available() else {"bohb"}
    )
    assert covered == set(REGISTRY) - optional


class CountingEvaluator:
    """Wraps an evaluator and counts evaluations per cell."""

    def __init__(self) -> None:
        self.inner = toy_evaluator()
        self.calls: dict[Any, int] = {}
        self.has_costs = True

    def evaluate(self, cell: Any) -> Evaluation:
        self.calls[cell] = self.calls.get(cell, 0) + 1
        return self.inner.evaluate(cell)

    def evaluate_at(self, cell: Any, fidelity: int) -> Evaluation:
        """Multi-fidelity queries are counted per (cell, fidelity)."""
        key = (cell, fidelity)
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.inner.evaluate_at(cell, fidelity)

    def cost(self, key: Any) -> float:
        if isinstance(key, tuple):
            return float(self.inner.evaluate_at(*key).cost)
        return float(self.inner.evaluate(key).cost)

    def describe(self) -> dict[str, Any]:
        return {"evaluator": "counting"}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_same_seed_same_run(name: str) -> None:
    a = run_search(FACTORIES[name](0), toy_evaluator(), Budget(queries=25), seed=11)
    b = run_search(FACTORIES[name](99), toy_evaluator(), Budget(queries=25), seed=11)
    assert a.same_outcome(b)


@pytest.mark.parametrize("name", sorted(set(FACTORIES) - {"naswot"}))
def test_different_seeds_differ(name: str) -> None:
    outs = {
        tuple(map(tuple, run_search(FACTORIES[name](0), toy_evaluator(), Budget(queries=12),
                                    seed=s).trajectory))
        for s in range(4)
    }
    assert len(outs) > 1


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("seconds", [7.0, 60.0])
def test_time_budget_is_respected(name: str, seconds: float) -> None:
    ev = CountingEvaluator()
    searcher = FACTORIES[name](0)
    res = run_search(searcher, ev, Budget(seconds=seconds), seed=3)
    assert res.simulated_seconds <= seconds
    assert max(ev.calls.values()) == 1
    if searcher.repeats == "cache":
        charged = sum(ev.cost(c) for c in ev.calls)
        # every evaluated cell was charged except at most the one that broke the budget
        assert res.simulated_seconds <= charged
        assert res.queries <= len(ev.calls) <= res.queries + 1
    else:
        assert len(ev.calls) <= res.queries + 1


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_query_budget_and_no_double_evaluation(name: str) -> None:
    ev = CountingEvaluator()
    searcher = FACTORIES[name](0)
    res = run_search(searcher, ev, Budget(queries=30), seed=5)
    assert res.queries <= 30
    assert max(ev.calls.values()) == 1
    if searcher.repeats == "cache":
        assert res.queries == len(ev.calls)
    else:  # repeats are charged (counted) but still not evaluated again
        assert res.queries == len(ev.calls) + res.repeats
    if name not in ("naswot",):
        assert res.queries == 30


def test_charge_policy_recharges_repeats_without_reevaluating() -> None:
    ev = CountingEvaluator()
    res = run_search(RandomSearch(TOY, seed=0), ev, Budget(queries=60), seed=0, repeats="charge")
    assert res.queries == 60
    assert len(ev.calls) < 60  # 60 draws from 64 cells repeat some
    assert max(ev.calls.values()) == 1
    assert res.repeats == 60 - len(ev.calls)


def test_final_pick_is_best_value_seen() -> None:
    res = run_search(RandomSearch(TOY, seed=0), toy_evaluator(), Budget(queries=20), seed=2)
    values = [row[2] for row in res.trajectory]
    assert res.final_value == max(values)
    assert values == sorted(values)
    assert res.metrics["test_accuracy"] == res.trajectory[-1][3]


def test_naswot_picks_best_scored_sample() -> None:
    s = NASWOTSearch(TOY, ToyScorer(), n_samples=10, seed=4)
    scores = ToyScorer().score(s.sampled)
    assert s.ask() == s.sampled[int(np.argmax(scores))]


def test_area_starts_from_top_scored_cells() -> None:
    s = AREA(TOY, ToyScorer(), n_samples=30, population_size=5, seed=4)
    scorer = ToyScorer()
    expected = sorted(set(s.sampled), key=lambda c: -scorer.score([c])[0])[:5]
    asked = []
    for _ in range(5):
        c = s.ask()
        asked.append(c)
        s.tell(c, 1.0)
    assert asked == expected


def test_local_search_climbs_to_a_local_optimum() -> None:
    ev = toy_evaluator()
    s = LocalSearch(TOY, seed=1)
    seen: dict[Any, float] = {}
    while s.restarts == 0:
        c = s.ask()
        seen[c] = ev.evaluate(c).value
        s.tell(c, seen[c])
    # the last current cell beat all its neighbours
    best = max(seen, key=seen.__getitem__)
    assert all(seen[n] <= seen[best] for n in TOY.neighbours(best) if n in seen)
    assert all(n in seen for n in TOY.neighbours(best))


def test_reinforce_learns_a_preference() -> None:
    s = Reinforce(TOY, learning_rate=0.3, seed=0)
    for _ in range(150):
        c = s.ask()
        s.tell(c, 100.0 if c.digits()[0] == 2 else 0.0)
    assert int(np.argmax(s.probabilities()[0])) == 2
    assert s.probabilities()[0, 2] > 0.5


def test_pool_proposals_sample_only_from_the_pool() -> None:
    from nasbench_tools.errors import OutOfDomainError
    from nasbench_tools.search.base import PoolProposals

    pool = TOY.all_cells()[:5]
    s = NASWOTSearch(TOY, ToyScorer(), n_samples=30, proposals=PoolProposals(pool), seed=0)
    assert set(s.sampled) <= set(pool)
    assert len(set(s.sampled)) > 1
    with pytest.raises(OutOfDomainError, match="cannot mutate"):
        PoolProposals(pool).mutate(pool[0], np.random.default_rng(0))


def test_digit_proposals_mutate_one_position_uniformly() -> None:
    from nasbench_tools.search.base import proposals_for

    kernel = proposals_for(TOY)
    rng = np.random.default_rng(0)
    cell = TOY.all_cells()[0]
    children = [kernel.mutate(cell, rng) for _ in range(3000)]
    counts = np.bincount([c.code for c in children], minlength=64)
    neighbours = {n.code for n in TOY.neighbours(cell)}
    assert set(np.flatnonzero(counts)) == neighbours
    # 9 neighbours, each about 1/9 of the draws
    assert counts[list(neighbours)].min() > 3000 / 9 * 0.8


@pytest.mark.skipif(not optuna_available(), reason="optuna is not installed")
def test_optuna_tell_must_answer_the_last_ask() -> None:
    from nasbench_tools.errors import OutOfDomainError

    s = OptunaSearch(TOY, seed=0)
    c = s.ask()
    with pytest.raises(OutOfDomainError, match="last ask"):
        s.tell(TOY.all_cells()[(c.code + 1) % 64], 1.0)


def _nb101_value(cell: Any, seed: int) -> dict[str, float]:
    """A fake, deterministic 'training' for NB101 cells: a hash-derived value."""
    return {"val_accuracy": int(cell.hash[:6], 16) / 2**24, "train_seconds": 1.0}


@pytest.mark.parametrize("algo", ["rs", "rea", "ls"])
def test_generic_space_path_on_nb101(algo: str) -> None:
    """NB101 has no code layout: searchers use the space's own sample / mutate / neighbours."""
    from nasbench_tools.search import SearcherSpec, TrainerEvaluator, run_many
    from nasbench_tools.search.base import SpaceProposals
    from nasbench_tools.spaces import get_space

    space = get_space("nb101")
    spec = SearcherSpec(algo, "nb101")
    assert isinstance(spec.build(0).proposals, SpaceProposals)  # type: ignore[attr-defined]
    a = run_many(spec, TrainerEvaluator(_nb101_value), Budget(seconds=15), runs=2, seed=4)
    b = run_many(spec, TrainerEvaluator(_nb101_value), Budget(seconds=15), runs=2, seed=4)
    assert all(x.same_outcome(y) for x, y in zip(a, b))
    assert all(r.queries == 15 and r.simulated_seconds == 15.0 for r in a)
    assert a[0].final_cell != a[1].final_cell
    assert space.parse(a[0].final_cell) is not None


def test_bananas_candidates_are_new_mutations_of_the_best() -> None:
    s = BANANASSearch(TOY, _tiny_bananas(), encoding="onehot", n_init=5, top_k=3,
                      n_candidates=12, n_mutate=1, seed=0)
    ev = toy_evaluator()
    for _ in range(5):
        c = s.ask()
        s.tell(c, ev.evaluate(c).value)
    cells, x = s._mutation_pool()
    best = max(s.history, key=lambda cv: cv[1])[0]
    neighbours = set(TOY.neighbours(best))
    assert cells and not set(cells) & {c for c, _ in s.history}
    assert set(cells) <= neighbours  # max_mutations=1: one step from the best cell
    assert x.shape == (len(cells), 12)


def test_its_needs_an_ensemble() -> None:
    from nasbench_tools.errors import OutOfDomainError
    from nasbench_tools.search.predictor_guided import its_acquisition

    with pytest.raises(OutOfDomainError, match="predict_ensemble"):
        its_acquisition(_ridge(), np.zeros((2, 3)), np.random.default_rng(0))


def test_every_registered_searcher_has_cli_arguments() -> None:
    from nasbench_tools.cli.cmd_search import KWARGS

    assert set(REGISTRY) <= set(KWARGS)
