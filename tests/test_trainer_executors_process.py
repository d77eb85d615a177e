"""The ``process`` executor running real trainings (:func:`run_job`) in spawned workers.

``tests/test_trainer_executors.py`` checks the pool with a stand-in task; here every job is a
real (tiny) training, so what crosses the process boundary is the real job (recipe, cell
string, dataset name) and the real result, and the results must equal the serial ones bit
for bit (training is deterministic per seed).
"""

from __future__ import annotations

from typing import Any

import pytest

from nasbench_tools.trainer.executors import RunSummary, make_executor, run_jobs
from nasbench_tools.trainer.recipes import get_recipe
from nasbench_tools.trainer.results import Job, ResultsDB

# One epoch of a C=4, N=1 network on digits: about a second per training.
TINY = get_recipe("quick-cpu", epochs=1, network={"C": 4, "N": 1})
CELLS = (
    "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
)
#: Result fields that are measured, not computed: they differ between any two runs.
TIMES = ("train_time", "val_time", "test_time")


def _jobs() -> list[Job]:
    return [Job("nb201", c, "digits", TINY, s) for c in CELLS for s in (0, 1)]


def _deterministic(result: dict[str, Any]) -> dict[str, Any]:
    """A stored result without its timings (wall time, per-epoch times)."""
    out = {k: v for k, v in result.items() if k != "wall_time"}
    out["records"] = [{k: v for k, v in r.items() if k not in TIMES} for r in result["records"]]
    return out


BAD_CELL = Job("nb201", "|nor_conv_3x3~0|+|not_an_op~0|", "digits", TINY, 0)
BAD_DATA = Job("nb201", CELLS[0], "mnist-fashion", TINY, 0)


@pytest.fixture(scope="module")
def serial_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    db = ResultsDB(tmp_path_factory.mktemp("serial") / "r.sqlite")
    with make_executor("serial") as ex:
        summary = run_jobs(_jobs(), db, ex)
    assert summary.failed == {} and summary.stored == 4
    return {j.key: db.get(j.key) for j in _jobs()}


@pytest.fixture(scope="module")
def process_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunSummary, ResultsDB]:
    """One pool of 2 spawned workers (starting them is most of the cost) for 6 jobs: the 4
    real trainings, with a cell that does not parse and an unknown dataset among them."""
    good = _jobs()
    db = ResultsDB(tmp_path_factory.mktemp("process") / "r.sqlite")
    with make_executor("process", workers=2) as ex:
        summary = run_jobs([BAD_CELL, *good[:2], BAD_DATA, *good[2:]], db, ex)
    return summary, db


def test_process_executor_runs_real_trainings_like_the_serial_one(
        process_run: tuple[RunSummary, ResultsDB],
        serial_results: dict[str, dict[str, Any]]) -> None:
    summary, db = process_run
    jobs = _jobs()
    assert (summary.submitted, summary.stored, summary.duplicates) == (6, 4, 0)
    keys = db.keys()
    assert len(keys) == len(set(keys)) == 4 and set(keys) == {j.key for j in jobs}
    for j in jobs:
        got = db.get(j.key)
        assert got["key"] == j.key and got["cell"] == j.cell and got["seed"] == j.seed
        assert len(got["records"]) == 1 and got["params"] > 0
        # bit-identical metrics: == on floats, not approx
        assert _deterministic(got) == _deterministic(serial_results[j.key])
    # the two seeds of a cell trained differently (the seed reached the worker)
    a, b = (db.get(j.key)["records"][0]["train_loss"] for j in jobs[:2])
    assert a != b
    with make_executor("process", workers=2) as ex:  # everything is stored: nothing to do
        again = run_jobs(jobs, db, ex)
    assert (again.submitted, again.stored, again.failed) == (0, 0, {})
    assert len(db) == 4


def test_process_executor_reports_failed_trainings_and_stores_the_rest(
        process_run: tuple[RunSummary, ResultsDB]) -> None:
    summary, db = process_run
    assert set(summary.failed) == {BAD_CELL.key, BAD_DATA.key}
    # the worker's exception comes back with its class and message
    assert "OutOfDomainError" in summary.failed[BAD_CELL.key]
    assert "OutOfDomainError" in summary.failed[BAD_DATA.key]
    assert "unknown dataset 'mnist-fashion'" in summary.failed[BAD_DATA.key]
    assert BAD_CELL.key not in db and BAD_DATA.key not in db
    assert len(db) == 4  # the good ones, each once
