"""BOHB through hpbandster: fidelity charging, promotions, reproducibility."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_search_helpers import TOY, ToyBench, toy_evaluator

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.search import Budget, Evaluation, RecordedCost, run_search
from nasbench_tools.search.bohb import BOHBSearch, bohb_available
from nasbench_tools.search.cost_models import ConstantCost
from nasbench_tools.search.evaluators import TabularEvaluator

needs_bohb = pytest.mark.skipif(not bohb_available(), reason="hpbandster not installed")


class Ledger:
    """Records every (cell, fidelity, cost) the runner asks the evaluator for."""

    def __init__(self) -> None:
        self.inner = toy_evaluator()
        self.log: list[tuple[Any, int, float]] = []
        self.has_costs = True

    def evaluate(self, cell: Any) -> Evaluation:
        return self.evaluate_at(cell, 12)

    def evaluate_at(self, cell: Any, fidelity: int) -> Evaluation:
        ev = self.inner.evaluate_at(cell, fidelity)
        self.log.append((cell, int(fidelity), ev.cost))
        return ev

    def describe(self) -> dict[str, Any]:
        return {"evaluator": "ledger"}


def test_evaluate_at_answers_and_charges_the_fidelity() -> None:
    ev = toy_evaluator()
    cell = TOY.all_cells()[9]
    low, high = ev.evaluate_at(cell, 12), ev.evaluate_at(cell, 200)
    assert low == ev.evaluate(cell)
    assert high.value == pytest.approx(low.value + 0.5)  # the toy's 200-epoch column
    assert high.cost == pytest.approx(low.cost * 200 / 12)  # linear in epochs
    assert high.metrics == low.metrics  # the report does not depend on the fidelity


def test_constant_and_recorded_costs_per_epoch() -> None:
    class Timed(ToyBench):
        def column(self, metric: str, dataset: str | None = None,
                   epoch: int | None = None) -> np.ndarray:
            if metric == "train_time":
                return np.full(len(self.keys), 10.0 * (epoch or 0))
            if metric == "val_time":
                return np.full(len(self.keys), 1.0)
            return super().column(metric, dataset, epoch)

    bench = Timed()
    rec = RecordedCost().per_row_at(bench, TOY, 200)
    assert rec.tolist() == [2001.0] * len(bench.keys)  # recorded, not scaled
    ev = TabularEvaluator(bench, cost_model=RecordedCost(), space=TOY)
    cell = TOY.all_cells()[0]
    assert (ev.evaluate(cell).cost, ev.evaluate_at(cell, 200).cost) == (121.0, 2001.0)
    assert ConstantCost(6.0).per_row_at(bench, TOY, 24).tolist()[0] == 12.0


def test_missing_fidelity_is_an_error() -> None:
    class NoLong(ToyBench):
        def column(self, metric: str, dataset: str | None = None,
                   epoch: int | None = None) -> np.ndarray:
            if metric == "val_accuracy" and epoch not in (12, 200):
                raise NotInBenchmarkError(f"no epoch {epoch}")
            return super().column(metric, dataset, epoch)

    ev = TabularEvaluator(NoLong(), cost_model=ConstantCost(1.0), space=TOY)
    with pytest.raises(NotInBenchmarkError, match="epoch 50"):
        ev.evaluate_at(TOY.all_cells()[0], 50)


@needs_bohb
def test_bohb_charges_each_fidelity_and_promotes() -> None:
    ev = Ledger()
    res = run_search(BOHBSearch(TOY, seed=0), ev, Budget(seconds=3000.0), seed=1)
    fids = {f for _, f, _ in ev.log}
    assert fids == {12, 200}
    # every query evaluated once per (cell, fidelity) ...
    keys = [(c, f) for c, f, _ in ev.log]
    assert len(keys) == len(set(keys))
    # ... and the run charged exactly what those queries cost (less the one that broke it)
    costs = [c for _, _, c in ev.log]
    assert res.simulated_seconds == pytest.approx(sum(costs[: res.queries]))
    assert res.simulated_seconds <= 3000.0
    # successive halving promotes some 12-epoch cells to 200 epochs
    low = {c for c, f, _ in ev.log if f == 12}
    high = {c for c, f, _ in ev.log if f == 200}
    assert low & high


@needs_bohb
def test_bohb_brackets_follow_hyperband() -> None:
    s = BOHBSearch(TOY, fidelities=(12, 200), eta=3, seed=0)
    fids = []
    for _ in range(9):  # bracket (3 at 12, best 1 at 200), bracket (2 at 200), again
        c = s.ask()
        fids.append(s.fidelity)
        s.tell(c, float(c.code))
    assert fids == [12, 12, 12, 200, 200, 200, 12, 12, 12]


@needs_bohb
def test_bohb_leaves_the_global_numpy_state_alone() -> None:
    np.random.seed(123)  # noqa: NPY002 (the legacy global state hpbandster uses)
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002 (the legacy global state hpbandster uses)
    s = BOHBSearch(TOY, seed=4)
    for _ in range(30):
        c = s.ask()
        s.tell(c, float(c.code))
    assert np.random.rand() == expected  # noqa: NPY002


@needs_bohb
def test_bohb_model_finds_good_cells_on_a_smooth_toy() -> None:
    # value = code: the KDE model should concentrate on high codes after enough results
    s = BOHBSearch(TOY, fidelities=(12, 200), seed=2, random_fraction=0.0)
    seen = []
    for _ in range(150):
        c = s.ask()
        s.tell(c, float(c.digits()[0] * 10 + c.digits()[1]))
        seen.append(c.digits()[0])
    assert np.mean(seen[-50:]) > np.mean(seen[:20])


@needs_bohb
def test_bohb_refuses_bad_settings_and_evaluators() -> None:
    with pytest.raises(OutOfDomainError, match="increasing"):
        BOHBSearch(TOY, fidelities=(200, 12))
    with pytest.raises(OutOfDomainError, match="eta"):
        BOHBSearch(TOY, eta=1)

    class Plain:
        has_costs = True

        def evaluate(self, cell: Any) -> Evaluation:
            return Evaluation(1.0, 1.0)

        def describe(self) -> dict[str, Any]:
            return {}

    with pytest.raises(OutOfDomainError, match="evaluate_at"):
        run_search(BOHBSearch(TOY), Plain(), Budget(queries=3), seed=0)
    s = BOHBSearch(TOY)
    c = s.ask()
    with pytest.raises(OutOfDomainError, match="tell"):
        s.ask()
    with pytest.raises(OutOfDomainError, match="last ask"):
        s.tell(TOY.all_cells()[(c.code + 1) % 64], 1.0)
