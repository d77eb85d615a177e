"""Runner, results database, resume after a crash, executors, vectorised identity."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_search_helpers import TOY, toy_evaluator

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search import (
    Budget,
    RegularizedEvolution,
    ResultsDB,
    RunResult,
    SearcherSpec,
    run_many,
    run_search,
    summary_table,
    write_outputs,
)
from nasbench_tools.search.vectorized import run_vectorized, unsupported


class Crash(RuntimeError):
    pass


def _table(db_path: Path) -> Any:
    return ResultsDB(db_path).frame().sort_values(["algo", "run"]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("algo", "kwargs", "vectorize"),
    [
        ("rea", {"population_size": 5, "sample_size": 2}, "auto"),
        ("rea", {"population_size": 5, "sample_size": 2}, False),
        ("ls", {}, False),
        ("reinforce", {"learning_rate": 0.05}, False),
    ],
)
def test_interrupted_search_resumes_to_the_same_table(
    tmp_path: Path, algo: str, kwargs: dict[str, Any], vectorize: Any
) -> None:
    spec = SearcherSpec(algo, TOY, kwargs)
    budget = Budget(seconds=60)
    whole = tmp_path / "whole.sqlite"
    run_many(spec, toy_evaluator(), budget, runs=12, seed=7, db=whole, vectorize=vectorize)

    broken = tmp_path / "broken.sqlite"
    seen: list[int] = []

    def crash_after_five(res: RunResult) -> None:
        seen.append(res.run)
        if len(seen) == 5:
            raise Crash("simulated crash")

    with pytest.raises(Crash):
        run_many(spec, toy_evaluator(), budget, runs=12, seed=7, db=broken,
                 vectorize=vectorize, on_result=crash_after_five)
    assert len(ResultsDB(broken).finished_runs(algo)) == 5
    redone: list[int] = []
    run_many(spec, toy_evaluator(), budget, runs=12, seed=7, db=broken, vectorize=vectorize,
             on_result=lambda r: redone.append(r.run))
    assert sorted(redone) == sorted(set(range(12)) - set(seen))
    a, b = _table(whole), _table(broken)
    assert len(a) == 12
    assert a.equals(b)


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    run_many(SearcherSpec("rs", TOY), toy_evaluator(), Budget(queries=5), runs=2, db=db)
    with pytest.raises(OutOfDomainError, match="other settings"):
        run_many(SearcherSpec("rs", TOY), toy_evaluator(), Budget(queries=6), runs=2, db=db)


def test_thread_executor_gives_the_sequential_results(tmp_path: Path) -> None:
    spec = SearcherSpec("ls", TOY)
    seq = run_many(spec, toy_evaluator(), Budget(queries=15), runs=8, seed=3)
    with ThreadPoolExecutor(2) as ex:
        par = run_many(spec, toy_evaluator(), Budget(queries=15), runs=8, seed=3, executor=ex,
                       db=tmp_path / "p.sqlite")
    assert all(a.same_outcome(b) for a, b in zip(seq, par))
    assert len(ResultsDB(tmp_path / "p.sqlite").finished_runs("ls")) == 8


def test_process_executor_pickles_specs_and_evaluators(tmp_path: Path) -> None:
    spec = SearcherSpec("rea", TOY, {"population_size": 4, "sample_size": 2})
    seq = run_many(spec, toy_evaluator(), Budget(queries=12), runs=4, seed=1, vectorize=False)
    with ProcessPoolExecutor(2) as ex:
        par = run_many(spec, toy_evaluator(), Budget(queries=12), runs=4, seed=1, executor=ex,
                       vectorize=False)
    assert all(a.same_outcome(b) for a, b in zip(seq, par))


@pytest.mark.parametrize("algo", ["rs", "rea"])
@pytest.mark.parametrize("budget", [Budget(queries=30), Budget(seconds=80.0),
                                    Budget(seconds=500.0, queries=40)])
def test_vectorized_equals_ask_tell_bit_for_bit(algo: str, budget: Budget) -> None:
    kwargs = {"population_size": 6, "sample_size": 3} if algo == "rea" else {}
    spec = SearcherSpec(algo, TOY, kwargs)
    ev = toy_evaluator()
    seeds = list(range(100, 140))
    vec = run_vectorized(spec, ev, budget, seeds=seeds, runs=list(range(40)), label=algo)
    searcher = spec.build(0)
    for i, s in enumerate(seeds):
        ref = run_search(searcher, ev, budget, seed=s, label=algo, run=i)
        assert ref.same_outcome(vec[i]), (ref, vec[i])
    # the toy space is small: repeats happen and are exercised
    assert sum(r.repeats for r in vec) > 0


def test_vectorize_true_refuses_unsupported_searches() -> None:
    assert "not vectorised" in unsupported(SearcherSpec("ls", TOY), toy_evaluator(), "cache")
    assert "repeats" in unsupported(SearcherSpec("rs", TOY), toy_evaluator(), "charge")
    with pytest.raises(OutOfDomainError, match="cannot vectorise"):
        run_many(SearcherSpec("ls", TOY), toy_evaluator(), Budget(queries=3), runs=1,
                 vectorize=True)


def test_vectorize_refuses_tables_with_holes() -> None:
    ev = toy_evaluator(missing=[3])
    assert "every cell" in unsupported(SearcherSpec("rs", TOY), ev, "cache")


def test_time_budget_below_first_query_is_an_error() -> None:
    with pytest.raises(OutOfDomainError, match="evaluated no cell"):
        run_search(RegularizedEvolution(TOY), toy_evaluator(), Budget(seconds=0.5), seed=0)


def test_time_budget_needs_costs() -> None:
    with pytest.raises(OutOfDomainError, match="cost_model"):
        run_search(RegularizedEvolution(TOY), toy_evaluator(cost_model=None),
                   Budget(seconds=10), seed=0)


def test_outputs_and_summary(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "runs.sqlite")
    for algo in ("rs", "rea"):
        run_many(SearcherSpec(algo, TOY), toy_evaluator(), Budget(seconds=40), runs=6, db=db)
    written = write_outputs(db, tmp_path / "out", command="nbt search ...")
    import pandas as pd

    runs = pd.read_csv(written["runs"])
    need = {"algo", "run", "seed", "final_cell", "queries", "simulated_seconds",
            "test_accuracy", "val_accuracy"}
    assert need <= set(runs.columns)
    assert len(runs) == 12
    summary = pd.read_csv(written["summary"])
    rs = runs[runs.algo == "rs"].test_accuracy
    row = summary[summary.algo == "rs"].iloc[0]
    assert row.test_accuracy_mean == pytest.approx(rs.mean(), abs=1e-4)
    assert row.test_accuracy_std == pytest.approx(rs.std(ddof=1), abs=1e-4)
    assert (tmp_path / "out" / "trajectory_test_accuracy.png").stat().st_size > 1000
    assert (tmp_path / "out" / "command.txt").read_text() == "nbt search ...\n"
    assert list(summary_table(runs).algo) == ["rs", "rea"]


def test_trajectory_is_monotone_and_ends_at_the_final_state() -> None:
    res = run_search(RegularizedEvolution(TOY), toy_evaluator(), Budget(seconds=100), seed=4)
    t = np.asarray(res.trajectory)
    assert np.all(np.diff(t[:, 2]) > 0) or len(t) == 1 or t[-1, 2] == t[-2, 2]
    assert np.all(np.diff(t[:, 1]) > 0)
    assert t[-1, 0] == res.queries and t[-1, 1] == res.simulated_seconds
    assert t[-1, 2] == res.final_value


def test_dask_executor_runs_the_searches(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    spec = SearcherSpec("ls", TOY)
    seq = run_many(spec, toy_evaluator(), Budget(queries=10), runs=4, seed=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=":0") as client:
        par = run_many(spec, toy_evaluator(), Budget(queries=10), runs=4, seed=2,
                       executor=client.get_executor(), db=tmp_path / "d.sqlite")
    assert all(a.same_outcome(b) for a, b in zip(seq, par))
    assert ResultsDB(tmp_path / "d.sqlite").finished_runs("ls") == {0, 1, 2, 3}


def _fill(db_path: str, algo: str) -> int:
    res = run_many(SearcherSpec(algo, TOY), toy_evaluator(), Budget(queries=8), runs=15,
                   db=db_path, vectorize=False)
    return len(res)


def test_two_processes_share_one_database(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.sqlite")
    with ProcessPoolExecutor(2) as ex:
        futures = [ex.submit(_fill, db, algo) for algo in ("rs", "ls", "rs")]
        assert [f.result() for f in futures] == [15, 15, 15]
    stored = ResultsDB(db)
    assert stored.finished_runs("rs") == set(range(15))
    assert stored.finished_runs("ls") == set(range(15))
    assert len(stored.frame()) == 30


def test_vectorized_batches_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    from nasbench_tools.search import runner

    spec = SearcherSpec("rea", TOY, {"population_size": 4, "sample_size": 2})
    whole = run_many(spec, toy_evaluator(), Budget(seconds=50), runs=23, seed=9)
    monkeypatch.setattr(runner, "VECTOR_BATCH", 5)
    batched = run_many(spec, toy_evaluator(), Budget(seconds=50), runs=23, seed=9)
    assert all(a.same_outcome(b) for a, b in zip(whole, batched))
    assert {r.path for r in batched} == {"vectorized"}
