"""Evaluators (tabular, trainer, fallback and caches) and cost models."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_search_helpers import TOY, ToyBench, ToyCell, toy_evaluator

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.search import (
    ConstantCost,
    FlopsCost,
    RecordedCost,
    TabularEvaluator,
    TrainerEvaluator,
    get_cost_model,
)
from nasbench_tools.search.cost_models import OFFICIAL_HP12_RECORDS
from nasbench_tools.search.evaluators import Protocol_, Query


def test_tabular_reads_search_value_cost_and_reported_metrics() -> None:
    ev = toy_evaluator()
    bench = ToyBench()
    e = ev.evaluate(ToyCell(5))
    assert e.value == bench.column("val_accuracy", epoch=12)[5]
    assert e.metrics["val_accuracy"] == bench.column("val_accuracy", epoch=200)[5]
    assert e.metrics["test_accuracy"] == bench.column("test_accuracy")[5]
    assert e.cost == 1 + 5 % 7
    assert e.source == "table"


def test_missing_cell_without_fallback_raises() -> None:
    ev = toy_evaluator(missing=[9])
    with pytest.raises(NotInBenchmarkError, match="no fallback"):
        ev.evaluate(ToyCell(9))


class FakeTrainer:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, cell: Any, seed: int) -> dict[str, float]:
        self.calls.append(cell)
        return {"val_accuracy": 1000.0 + cell.code, "test_accuracy": 7.0, "train_seconds": 3.5}


def test_missing_cell_falls_back_to_the_trainer_once() -> None:
    trainer = FakeTrainer()
    ev = toy_evaluator(missing=[9], fallback=TrainerEvaluator(trainer))
    first = ev.evaluate(ToyCell(9))
    again = ev.evaluate(ToyCell(9))
    assert first.value == 1009.0 and first.cost == 3.5 and first.metrics["test_accuracy"] == 7.0
    assert again == first
    assert trainer.calls == [ToyCell(9)]
    assert ev.evaluate(ToyCell(8)).source == "table"
    assert trainer.calls == [ToyCell(9)]


def test_trainer_cache_file_survives_a_new_evaluator(tmp_path: Path) -> None:
    trainer = FakeTrainer()
    TrainerEvaluator(trainer, cache_path=tmp_path / "c.sqlite").evaluate(ToyCell(2))
    other = FakeTrainer()
    e = TrainerEvaluator(other, cache_path=tmp_path / "c.sqlite").evaluate(ToyCell(2))
    assert other.calls == [] and e.value == 1002.0 and e.source == "cache"


def test_trainer_without_value_key_is_an_error() -> None:
    ev = TrainerEvaluator(lambda c, s: {"loss": 1.0})
    with pytest.raises(OutOfDomainError, match="val_accuracy"):
        ev.evaluate(ToyCell(1))


def test_trainer_measures_time_when_not_reported() -> None:
    e = TrainerEvaluator(lambda c, s: {"val_accuracy": 1.0}).evaluate(ToyCell(1))
    assert e.cost >= 0.0


def test_unknown_protocol_names_the_allowed_ones() -> None:
    with pytest.raises(OutOfDomainError, match="nb201-cifar10"):
        TabularEvaluator(ToyBench(), protocol="nope", space=TOY)


def test_evaluator_pickles_without_the_store() -> None:
    ev = toy_evaluator()
    clone = pickle.loads(pickle.dumps(ev))
    assert clone.bench is None
    assert clone.evaluate(ToyCell(11)) == ev.evaluate(ToyCell(11))


def test_code_arrays_and_per_code() -> None:
    ev = toy_evaluator()
    arr = ev.code_arrays()
    assert arr.value[7] == ev.evaluate(ToyCell(7)).value
    assert np.array_equal(ev.per_code(np.arange(64.0)), np.arange(64.0))


def test_custom_protocol() -> None:
    p = Protocol_(Query("test_accuracy", "x", 1), {})
    ev = TabularEvaluator(ToyBench(), protocol=p, space=TOY)
    assert ev.evaluate(ToyCell(3)).value == ToyBench().column("test_accuracy")[3]
    assert ev.describe()["protocol"] == "custom"


# ------------------------------------------------------------------ cost models
def test_official_fit_reproduces_the_records_roughly() -> None:
    fit = FlopsCost.official_fit()
    f, t = np.array(OFFICIAL_HP12_RECORDS).T
    pred = fit.per_row_from_flops(f)
    assert np.corrcoef(pred, t)[0, 1] > 0.9
    assert abs(pred.mean() - t.mean()) < 1e-6  # least squares keeps the mean


def test_flops_120_has_mean_120_over_the_rows() -> None:
    m = get_cost_model("flops-120")
    secs = m.per_row(ToyBench(), TOY)
    assert secs.mean() == pytest.approx(120.0)
    assert np.all(np.diff(secs) > 0)  # toy FLOPs grow with the code


def test_constant_and_recorded_costs() -> None:
    assert np.all(ConstantCost(5.0).per_row(ToyBench(), TOY) == 5.0)
    rec = RecordedCost(dataset="x", epoch=12).per_row(ToyBench(), TOY)
    assert np.array_equal(rec, 1.0 + np.arange(64) % 7)


def test_bad_cost_models_are_refused() -> None:
    with pytest.raises(OutOfDomainError):
        ConstantCost(0.0)
    with pytest.raises(OutOfDomainError):
        FlopsCost(0.0, 0.0)
    with pytest.raises(OutOfDomainError, match="flops-120"):
        get_cost_model("nope")
