"""Many trainings on executors: idempotent results, and Dask surviving a killed worker."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.trainer.executors import make_executor, run_job, run_jobs
from nasbench_tools.trainer.recipes import get_recipe
from nasbench_tools.trainer.results import Job, ResultsDB

TINY = get_recipe("quick-cpu", epochs=1, network={"C": 4, "N": 1})
CELLS = (
    "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
)


def _jobs(seeds: tuple[int, ...] = (0, 1), kernel: str = "single") -> list[Job]:
    return [Job("nb201", c, "digits", TINY, s, kernel=kernel) for c in CELLS for s in seeds]


def _fake_train(job: Job) -> dict[str, Any]:
    """A stand-in task: deterministic, instant."""
    return {"key": job.key, "records": [], "params": len(job.cell) + job.seed}


def _failing(job: Job) -> dict[str, Any]:
    if job.seed == 1:
        raise RuntimeError("boom")
    return _fake_train(job)


def test_run_jobs_is_idempotent_and_skips_duplicates(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    jobs = _jobs() + _jobs()[:2]  # duplicates in the request
    s = run_jobs(jobs, db, cf.ThreadPoolExecutor(2), fn=_fake_train)
    assert (s.submitted, s.stored, s.duplicates) == (6, 6, 0)
    assert len(db) == 6 and sorted(db.keys()) == sorted({j.key for j in jobs})
    s2 = run_jobs(jobs, db, cf.ThreadPoolExecutor(2), fn=_fake_train)
    assert (s2.submitted, s2.stored) == (0, 0)
    assert db.get(jobs[1].key)["params"] == len(CELLS[0]) + 1


def test_on_start_gets_the_count_of_jobs_left_before_any_runs(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    jobs = _jobs()
    run_jobs(jobs[:2], db, cf.ThreadPoolExecutor(1), fn=_fake_train)
    events: list[tuple[str, int]] = []
    s = run_jobs(jobs + jobs[2:3], db, cf.ThreadPoolExecutor(1), fn=_fake_train,
                 on_start=lambda n: events.append(("start", n)),
                 on_result=lambda job, result: events.append(("stored", len(events))))
    # 6 distinct jobs, 2 stored before, a duplicate in the request: 4 left, counted first
    assert events[0] == ("start", 4) and len(events) == 5 and s.stored == 4


def test_serial_builds_store_each_result_before_the_next_training(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    seen: list[int] = []

    def counting(job: Job) -> dict[str, Any]:
        seen.append(len(ResultsDB(db.path)))  # what a killed build would have kept
        return _fake_train(job)

    with make_executor("serial") as ex:
        run_jobs(_jobs(), db, ex, fn=counting)
    assert seen == list(range(6))


def test_a_failed_training_is_reported_and_the_rest_still_run(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    with make_executor("serial") as ex:
        s = run_jobs(_jobs(), db, ex, fn=_failing)
    assert s.stored == 3 and len(s.failed) == 3
    assert all("boom" in v for v in s.failed.values())
    with make_executor("serial") as ex:  # a later run retries only the failed ones
        s = run_jobs(_jobs(), db, ex, fn=_fake_train)
    assert s.submitted == 3 and len(db) == 6


def test_process_pool_executor(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    with make_executor("process", workers=1) as ex:
        s = run_jobs(_jobs()[:2], db, ex, fn=_fake_train)
    assert s.stored == 2 and db.get(_jobs()[0].key)["params"] == len(CELLS[0])


def test_executor_options_are_checked() -> None:
    with pytest.raises(OutOfDomainError, match="'serial', 'process' or 'dask'"):
        make_executor("slurm")
    with pytest.raises(OutOfDomainError, match="needs the 'dask' executor"):
        make_executor("process", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(OutOfDomainError, match="workers"):
        make_executor("process", workers=0)


def test_run_job_trains_for_real() -> None:
    out = run_job(Job("nb201", CELLS[1], "digits", TINY, 3))
    assert out["seed"] == 3 and len(out["records"]) == 1
    assert 0 <= out["records"][0]["val_accuracy"] <= 100 and out["params"] > 0


@pytest.mark.parametrize("kernel", ["single", "packed"])
def test_dask_local_cluster_survives_a_killed_worker(tmp_path: Path, kernel: str) -> None:
    """2 single-threaded worker processes on loopback; one is killed mid-run.

    With the packed kernel a task is a pack (both seeds of a cell): a lost pack is rerun
    as a whole and each of its trainings is still stored once.
    """
    distributed = pytest.importorskip("distributed")
    jobs = _jobs(seeds=(0, 1), kernel=kernel)  # 6 real trainings (3 packs when packed)
    db = ResultsDB(tmp_path / "r.sqlite")
    killed: list[int] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        lock = threading.Lock()

        def kill_one(job: Job, result: dict[str, Any]) -> None:
            with lock:
                if killed:
                    return
                busy = [w for w, keys in client.processing().items() if keys]
                pids = client.run(os.getpid, workers=busy[:1]) if busy else {}
                for pid in pids.values():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        with make_executor("dask", scheduler=cluster.scheduler_address) as ex:
            summary = run_jobs(jobs, db, ex, on_result=kill_one)
    assert killed, "no worker was busy when the first result arrived"
    assert summary.failed == {}
    assert summary.stored == len(jobs) and summary.duplicates == 0
    keys = db.keys()
    assert len(keys) == len(set(keys)) == len(jobs)
    assert set(keys) == {j.key for j in jobs}
    for j in jobs:
        r = db.get(j.key)
        assert r["key"] == j.key and r["seed"] == j.seed and len(r["records"]) == 1
