"""Many trainings at once on a ``concurrent.futures.Executor``; Dask for clusters.

:func:`run_jobs` submits every job that the :class:`~nasbench_tools.trainer.results.ResultsDB`
does not hold yet and stores each result as it arrives, in the calling process, keyed by the
job's idempotency key. An executor that runs a job twice (a retry, a worker lost after it had
finished) therefore never stores it twice, and a build killed at any point resumes where it
stopped.

Executors (:data:`EXECUTORS`, used by :func:`make_executor`):

* ``serial``: runs jobs in the calling process, one after the other (no pool);
* ``process``: a ``ProcessPoolExecutor`` (spawned workers) on this machine;
* ``dask``: Dask distributed; a ``LocalCluster`` of ``workers`` single-threaded worker
  processes on 127.0.0.1 by default, or an existing cluster given by ``scheduler``
  (``tcp://host:port``). Tasks are retried (``retries``) and rescheduled when a worker dies.

Examples
--------
>>> import tempfile, pathlib
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> from nasbench_tools.trainer.results import Job, ResultsDB
>>> db = ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
>>> cell = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
>>> jobs = [Job("nb201", cell, "digits", get_recipe("quick-cpu", epochs=1), s) for s in (0, 1)]
>>> with make_executor("serial") as ex:
...     summary = run_jobs(jobs, db, ex)
>>> summary.submitted, summary.stored, len(db)
(2, 2, 2)
>>> with make_executor("serial") as ex:
...     run_jobs(jobs, db, ex).submitted
0
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.trainer.results import Job, ResultsDB

__all__ = ["DEFAULT_PACK", "EXECUTORS", "PACK_TRAINERS", "RunSummary", "SerialExecutor",
           "make_executor", "pack_tasks", "run_job", "run_job_pack", "run_jobs"]

log = logging.getLogger(__name__)


def run_job(job: Job) -> dict[str, Any]:
    """Train one job (in whichever process runs it) and return its JSON-able result.

    The worker uses one torch thread, so concurrent workers do not oversubscribe the cores.
    A ``packed`` job is trained as a pack of one (:func:`run_job_pack`).

    Examples
    --------
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> job = Job("nb201", "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
    ...           "digits", get_recipe("quick-cpu", epochs=1), seed=0)
    >>> out = run_job(job)
    >>> out["key"] == job.key, len(out["records"])
    (True, 1)
    """
    import torch

    from nasbench_tools.spaces import get_space
    from nasbench_tools.trainer.loop import train_cell

    if job.kernel != "single":
        return run_job_pack([job])[0]
    torch.set_num_threads(1)
    cell = get_space(job.space).parse(job.cell)
    t0 = time.perf_counter()
    result = train_cell(cell, job.dataset, job.recipe, seed=job.seed, data_root=job.data_root)
    out = result.to_dict()
    out.update(key=job.key, cell=job.cell, seed=job.seed, wall_time=time.perf_counter() - t0)
    return out


def _train_packed(jobs: Sequence[Job]) -> list[Any]:
    from nasbench_tools.spaces import get_space
    from nasbench_tools.trainer.packed import train_cell_seeds

    first = jobs[0]
    cell = get_space(first.space).parse(first.cell)
    return train_cell_seeds(cell, first.dataset, first.recipe, seeds=[j.seed for j in jobs],
                            data_root=first.data_root)


def _train_multiarch(jobs: Sequence[Job]) -> list[Any]:
    from nasbench_tools.spaces import get_space
    from nasbench_tools.trainer.multiarch import train_cells_multiarch

    first = jobs[0]
    space = get_space(first.space)
    return train_cells_multiarch([(space.parse(j.cell), j.seed) for j in jobs], first.dataset,
                                 first.recipe, data_root=first.data_root)


#: Kernel -> trainer of a pack of its jobs (one ``TrainResult`` per job, in order).
PACK_TRAINERS: dict[str, Callable[[Sequence[Job]], list[Any]]] = {
    "packed": _train_packed,
    "multiarch": _train_multiarch,
}

#: Default most jobs per pack of a kernel (``packed``: all missing seeds of a cell). Chosen
#: by ``benchmarks/bench_trainer.py`` (see ``benchmarks/results/trainer.md``).
DEFAULT_PACK: dict[str, int] = {"multiarch": 32}


def run_job_pack(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Train jobs that can share a training of their kernel as one; one result per job.

    ``packed`` jobs (one cell, several seeds) go to
    :func:`nasbench_tools.trainer.packed.train_cell_seeds`, ``multiarch`` jobs (several cells
    and seeds of one skeleton) to
    :func:`nasbench_tools.trainer.multiarch.train_cells_multiarch`; one torch thread.
    ``wall_time`` of each result is its share of the pack's wall time.

    Examples
    --------
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> cell = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
    >>> jobs = [Job("nb201", cell, "digits", get_recipe("quick-cpu", epochs=1), s,
    ...             kernel="packed") for s in (0, 1)]
    >>> [r["seed"] for r in run_job_pack(jobs)], run_job_pack(jobs)[1]["key"] == jobs[1].key
    ([0, 1], True)
    """
    import torch

    if not jobs or len({j.pack_key() for j in jobs}) != 1:
        raise OutOfDomainError(
            "a pack needs one or more jobs of one kernel that can share a training (packed: "
            f"one cell; multiarch: one skeleton); got {sorted({j.pack_key()[:2] for j in jobs})}"
        )
    if jobs[0].kernel not in PACK_TRAINERS:
        raise OutOfDomainError(f"kernel {jobs[0].kernel!r} does not pack; allowed: "
                               f"{allowed(PACK_TRAINERS)}")
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = PACK_TRAINERS[jobs[0].kernel](jobs)
    share = (time.perf_counter() - t0) / len(jobs)
    out = []
    for job, res in zip(jobs, results):
        d = res.to_dict()
        d.update(key=job.key, cell=job.cell, seed=job.seed, wall_time=share)
        out.append(d)
    return out


def pack_tasks(jobs: Sequence[Job], max_pack: int | None = None) -> list[list[Job]]:
    """Group jobs into tasks: consecutive ``packed`` jobs of one cell form one task.

    ``single`` jobs stay alone; a pack holds at most ``max_pack`` jobs (no limit by default
    for ``packed``, :data:`DEFAULT_PACK` for ``multiarch``). ``multiarch`` jobs are packed
    with the earlier jobs of their pack key (one skeleton), in order, even when jobs of
    other shapes come between them (NB101 cells are grouped by adjacency matrix).

    Examples
    --------
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> r = get_recipe("quick-cpu")
    >>> jobs = [Job("nb201", c, "digits", r, s, kernel="packed") for c in "ab" for s in (0, 1, 2)]
    >>> [[j.seed for j in t] for t in pack_tasks(jobs, max_pack=2)]
    [[0, 1], [2], [0, 1], [2]]
    >>> len(pack_tasks([Job("nb201", "a", "digits", r, s) for s in (0, 1)]))
    2
    """
    tasks: list[list[Job]] = []
    open_multi: dict[Any, list[Job]] = {}  # pack key -> the multiarch pack being filled
    for job in jobs:
        if job.kernel == "multiarch":
            limit = max_pack if max_pack is not None else DEFAULT_PACK["multiarch"]
            key = job.pack_key()
            task = open_multi.get(key)
            if task is not None and len(task) < limit:
                task.append(job)
            else:
                open_multi[key] = [job]
                tasks.append(open_multi[key])
            continue
        last = tasks[-1] if tasks else None
        if (job.kernel == "packed" and last is not None and last[0].kernel == "packed"
                and last[0].pack_key() == job.pack_key()
                and (max_pack is None or len(last) < max_pack)):
            last.append(job)
        else:
            tasks.append([job])
    return tasks


class SerialExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` that runs each task at submission, in this process.

    Examples
    --------
    >>> SerialExecutor().submit(pow, 2, 5).result()
    32
    """

    #: :func:`run_jobs` submits one job at a time to it, so each result is stored before the
    #: next training starts.
    max_in_flight = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, like a pool would
            fut.set_exception(exc)
        return fut


@contextlib.contextmanager
def _serial(workers: int, scheduler: str | None, **kw: Any) -> Iterator[cf.Executor]:
    yield SerialExecutor()


@contextlib.contextmanager
def _process(workers: int, scheduler: str | None, **kw: Any) -> Iterator[cf.Executor]:
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        # Two tasks queued per worker keep it busy; more would only delay a stop request.
        ex.max_in_flight = 2 * workers  # type: ignore[attr-defined]
        yield ex


@contextlib.contextmanager
def _dask(workers: int, scheduler: str | None, *, retries: int = 3,
          **kw: Any) -> Iterator[cf.Executor]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client.get_executor(retries=retries, pure=False)
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client.get_executor(retries=retries, pure=False)


#: Executor name -> context manager factory ``(workers, scheduler, **options)``.
EXECUTORS: dict[str, Callable[..., contextlib.AbstractContextManager[cf.Executor]]] = {
    "serial": _serial,
    "process": _process,
    "dask": _dask,
}


def make_executor(kind: str = "serial", workers: int = 1, scheduler: str | None = None,
                  **options: Any) -> contextlib.AbstractContextManager[cf.Executor]:
    """Context manager yielding a ``concurrent.futures.Executor`` of the given kind.

    Parameters
    ----------
    kind : str, default "serial"
        A key of :data:`EXECUTORS`.
    workers : int, default 1
        Worker processes (``process``, local ``dask``).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); only with ``dask``.
    **options
        ``retries`` for Dask.

    Examples
    --------
    >>> with make_executor("serial") as ex:
    ...     ex.submit(sum, [1, 2]).result()
    3
    >>> make_executor("mpi")
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: unknown executor 'mpi'; allowed: 'serial', 'process' or 'dask'
    """
    if kind not in EXECUTORS:
        raise OutOfDomainError(f"unknown executor {kind!r}; allowed: {allowed(EXECUTORS)}")
    if scheduler is not None and kind != "dask":
        raise OutOfDomainError(f"a scheduler address needs the 'dask' executor, not {kind!r}")
    if workers < 1:
        raise OutOfDomainError(f"workers must be a positive integer; got {workers!r}")
    return EXECUTORS[kind](workers, scheduler, **options)


@dataclass
class RunSummary:
    """What :func:`run_jobs` did: ``submitted`` jobs, ``stored`` results, ``failed`` keys."""

    submitted: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def run_jobs(
    jobs: Sequence[Job],
    db: ResultsDB,
    executor: cf.Executor,
    *,
    fn: Callable[[Job], dict[str, Any]] = run_job,
    pack_fn: Callable[[Sequence[Job]], list[dict[str, Any]]] = run_job_pack,
    max_pack: int | None = None,
    max_in_flight: int = 64,
    on_result: Callable[[Job, dict[str, Any]], None] | None = None,
    stop: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunSummary:
    """Run every job of ``jobs`` not yet in ``db`` on ``executor``; store each result once.

    Parameters
    ----------
    jobs : sequence of Job
        Duplicates and already stored jobs are skipped.
    db : ResultsDB
        Where results go, committed one by one.
    executor : concurrent.futures.Executor
        From :func:`make_executor` or any other.
    fn : callable, default :func:`run_job`
        The task of a ``single`` job (a module-level function, so process pools can pickle
        it).
    pack_fn : callable, default :func:`run_job_pack`
        The task of a pack of ``packed`` jobs (:func:`pack_tasks`), returning one result per
        job in order.
    max_pack : int, optional
        Most jobs per pack (all missing seeds of a cell by default).
    max_in_flight : int, default 64
        Tasks submitted ahead of completed ones (an executor's own ``max_in_flight``
        attribute wins: 1 for :class:`SerialExecutor`).
    on_result : callable, optional
        Called as ``on_result(job, result)`` after each stored result.
    stop : callable, optional
        Checked before each submission; once it returns True no new task is submitted
        (those in flight finish and are stored). ``submitted`` counts what was submitted.
    on_start : callable, optional
        Called once as ``on_start(n)`` before the first submission, ``n`` the number of jobs
        to run (not yet stored, without duplicates): a progress bar's total, read from the
        same pass over ``db`` that finds the jobs.

    Returns
    -------
    RunSummary
        A failed job is logged and listed in ``failed``; the others still run.
    """
    t0 = time.perf_counter()
    max_in_flight = int(getattr(executor, "max_in_flight", max_in_flight))
    todo = db.missing(jobs)
    if on_start is not None:
        on_start(len(todo))
    summary = RunSummary()
    pending: dict[cf.Future[Any], list[Job]] = {}
    it = iter(pack_tasks(todo, max_pack))

    def fill() -> None:
        while len(pending) < max_in_flight:
            if stop is not None and stop():
                return
            task = next(it, None)
            if task is None:
                return
            if task[0].kernel == "single":
                pending[executor.submit(fn, task[0])] = task
            else:
                pending[executor.submit(pack_fn, task)] = task
            summary.submitted += len(task)

    fill()
    while pending:
        done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
        for fut in done:
            task = pending.pop(fut)
            try:
                out = fut.result()
                results = [out] if task[0].kernel == "single" else list(out)
                if len(results) != len(task):
                    raise RuntimeError(f"a pack of {len(task)} jobs returned {len(results)} results")
            except Exception as exc:
                for job in task:
                    log.error("training %s (cell %s, seed %d) failed: %s", job.key, job.cell,
                              job.seed, exc)
                    summary.failed[job.key] = repr(exc)
                continue
            # One transaction per task: the seeds of a pack are stored together or not at
            # all, so a killed build never resumes half a pack (which, trained again as a
            # smaller pack, would come out in another floating-point order).
            stored = db.add_all(list(zip(task, results)))
            for job, result, new in zip(task, results, stored):
                if new:
                    summary.stored += 1
                    if on_result is not None:
                        on_result(job, result)
                else:
                    summary.duplicates += 1
        fill()
    summary.seconds = time.perf_counter() - t0
    return summary
