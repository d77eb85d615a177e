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


# ---------------------------------------------------------------------- budget_use="schedule"
class Counting:
    """Single-fidelity evaluator (no evaluate_at) over the toy table, counting look-ups."""

    def __init__(self, value: Any = None) -> None:
        self.inner = toy_evaluator()
        self.calls: dict[Any, int] = {}
        self.value = value  # optional cell -> value override
        self.has_costs = True

    def evaluate(self, cell: Any) -> Evaluation:
        self.calls[cell] = self.calls.get(cell, 0) + 1
        ev = self.inner.evaluate(cell)
        if self.value is not None:
            return Evaluation(self.value(cell), ev.cost, {"order": self.value(cell)})
        return ev

    def cost(self, cell: Any) -> float:
        return float(self.inner.evaluate(cell).cost)

    def describe(self) -> dict[str, Any]:
        return {"evaluator": "counting"}


class Recording(BOHBSearch):
    """BOHB remembering every ask and tell of the current run, with its budget."""

    def _start(self) -> None:
        self.asked: list[tuple[Any, float]] = []
        self.told: list[tuple[Any, float, float]] = []
        super()._start()

    def ask(self) -> Any:
        cell = super().ask()
        self.asked.append((cell, self.budget))
        return cell

    def tell(self, cell: Any, value: float) -> None:
        self.told.append((cell, self.budget, value))
        super().tell(cell, value)


def _schedule(**kw: Any) -> Recording:
    kw.setdefault("seed", 0)
    return Recording(TOY, fidelities=(12, 200), eta=3, budget_use="schedule", **kw)


@needs_bohb
def test_schedule_rungs_follow_the_nb201_brackets() -> None:
    s = _schedule()
    assert (s.multi_fidelity, s.repeats) == (False, "charge")
    assert np.round(s.budgets, 1).tolist() == [22.2, 66.7, 200.0]
    value = ToyBench()._val  # a fixed value per cell
    for _ in range(2 * 20):  # iterations 0-2 twice: 13 + 4 + 3 evaluations each cycle
        c = s.ask()
        s.tell(c, float(value[c.code]))
    rungs = [round(b, 1) for _, b, _ in s.told]
    cycle = [22.2] * 9 + [66.7] * 3 + [200.0] + [66.7] * 3 + [200.0] + [200.0] * 3
    assert rungs == cycle + cycle
    # each promotion takes the best of the rung below (the values, ties aside)
    vals = [v for _, _, v in s.told]
    assert sorted(vals[9:12]) == sorted(vals[:9])[-3:]
    assert vals[12] == max(vals[9:12])
    assert vals[16] == max(vals[13:16])
    # and promotes the same cells: evaluated again at the next rung
    assert {c for c, _, _ in s.told[9:12]} <= {c for c, _, _ in s.told[:9]}
    assert s.told[12][0] in {c for c, _, _ in s.told[9:12]}
    # the model side is hpbandster's: the KDEs are fitted per budget of the schedule
    assert set(s._generator.configs) <= {float(b) for b in s.budgets}


@needs_bohb
@pytest.mark.parametrize("seconds", [250.0, 400.0])
def test_schedule_charges_every_evaluation_and_stops_at_the_time_budget(seconds: float) -> None:
    ev = Counting()
    s = _schedule(seed=3)
    res = run_search(s, ev, Budget(seconds=seconds), seed=None)
    told = [c for c, _, _ in s.told]
    # every told evaluation was a charged query, promotions included ...
    assert res.queries == len(told)
    assert res.simulated_seconds == pytest.approx(sum(ev.cost(c) for c in told))
    # (repeats counts the asks of known cells, the discarded last one included)
    assert res.repeats == len(told) - len(set(told)) + (s.asked[-1][0] in told)
    assert res.repeats > 0
    # ... looked up once per cell ...
    assert max(ev.calls.values()) == 1 and set(ev.calls) >= set(told)
    # ... and the run ended at the first query that did not fit, which was not told
    assert len(s.asked) == len(told) + 1
    assert res.simulated_seconds <= seconds < res.simulated_seconds + ev.cost(s.asked[-1][0])


@needs_bohb
def test_schedule_picks_the_incumbent_at_the_largest_budget() -> None:
    from hpbandster.core.result import Result

    # value = order of first evaluation: later cells are better, so after iteration 0 (13
    # queries) and the first rung of iteration 1 (3 queries) the best value seen sits at
    # 66.7, not promoted, while the incumbent is iteration 0's cell at 200
    order: dict[Any, float] = {}
    ev = Counting(value=lambda c: order.setdefault(c, float(len(order) + 1)))
    s = _schedule(seed=1)
    res = run_search(s, ev, Budget(queries=16), seed=None)
    at_max = [(c, v) for c, b, v in s.told if b == 200.0]
    assert len(at_max) == 1 and res.queries == 16
    assert res.final_cell == at_max[0][0].to_string()
    assert res.final_value == at_max[0][1] < max(v for _, _, v in s.told)
    assert res.metrics == {"order": at_max[0][1]}
    assert res.trajectory[-1][2] == res.final_value
    # hpbandster's own get_incumbent_id names the same configuration
    result = Result([it.data for it in s._iterations], {"max_budget": 200.0, "time_ref": 0.0})
    cfg = result[result.get_incumbent_id()].config
    assert s.incumbent() == s._cell_of(cfg)[1] == at_max[0][0]


@needs_bohb
def test_schedule_incumbent_is_the_best_at_max_budget_over_a_long_run() -> None:
    s = _schedule(seed=5)
    res = run_search(s, toy_evaluator(), Budget(queries=90), seed=None)
    at_max = [(v, c) for c, b, v in s.told if b == 200.0]
    best_v = max(v for v, _ in at_max)
    first = next(c for v, c in at_max if v == best_v)
    assert res.final_cell == first.to_string() and res.final_value == best_v
    assert res.queries == 90


@needs_bohb
def test_schedule_is_deterministic_per_seed() -> None:
    ev = toy_evaluator()
    a = run_search(_schedule(seed=0), ev, Budget(seconds=150.0), seed=7)
    b = run_search(_schedule(seed=9), ev, Budget(seconds=150.0), seed=7)
    c = run_search(_schedule(seed=0), ev, Budget(seconds=150.0), seed=8)
    assert a.same_outcome(b) and a.trajectory == b.trajectory
    assert a.trajectory != c.trajectory


@needs_bohb
def test_schedule_stops_after_max_iterations() -> None:
    s = _schedule(max_iterations=2)
    res = run_search(s, toy_evaluator(), Budget(queries=1000), seed=0)
    assert s.done and res.queries == 13 + 4 == len(s.told)
    with pytest.raises(OutOfDomainError, match="done"):
        s.ask()


@needs_bohb
def test_nb201_script_preset() -> None:
    from nasbench_tools.search import SearcherSpec
    from nasbench_tools.search.bohb import BOHB_PRESETS

    spec = SearcherSpec("bohb", "nb201", dict(BOHB_PRESETS["nb201-script"]))
    d = spec.build(seed=0).describe()
    assert d["budget_use"] == "schedule" and d["budgets"] == [22.2222, 66.6667, 200.0]
    assert (d["num_samples"], d["random_fraction"], d["bandwidth_factor"],
            d["min_bandwidth"], d["max_iterations"], d["eta"]) == (4, 0.0, 3.0, 0.3, 50, 3)
    with pytest.raises(OutOfDomainError, match=r"budget_use.*allowed: 'epochs' or 'schedule'"):
        BOHBSearch(TOY, budget_use="rungs")
    with pytest.raises(OutOfDomainError, match="two values"):
        BOHBSearch(TOY, budget_use="schedule", fidelities=(12, 50, 200))


@needs_bohb
def test_cli_bohb_options() -> None:
    import argparse

    from nasbench_tools.cli.cmd_search import KWARGS

    ns = argparse.Namespace(bohb_preset="nb201-script", fidelities="12,200", eta=3,
                            budget_use="epochs")
    assert KWARGS["bohb"](ns, {})["budget_use"] == "schedule"
    ns.bohb_preset = None
    assert KWARGS["bohb"](ns, {}) == {"fidelities": [12, 200], "eta": 3, "budget_use": "epochs"}
    ns.bohb_preset = "nope"
    with pytest.raises(OutOfDomainError, match="allowed: 'nb201-script'"):
        KWARGS["bohb"](ns, {})
