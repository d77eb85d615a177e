"""The run protocol: one budgeted search (:func:`run_search`) and many (:func:`run_many`).

Rules of a run (the same in the ask/tell loop and in the vectorised one):

* The searcher asks; a cell already evaluated in this run is answered from the run's cache
  and told again, without charging the budget (``repeats="cache"``), or charged again as
  the NAS-Bench-201 scripts do (``repeats="charge"``). Either way no cell is evaluated
  twice. The default is the searcher's ``repeats`` attribute: ``"cache"`` for all but
  REINFORCE, whose converged policy would otherwise re-propose its cell for ever, and BOHB
  with ``budget_use="schedule"``, whose promotions the NAS-Bench-201 script pays again.
* A multi-fidelity searcher (``multi_fidelity``, e.g. BOHB with ``budget_use="epochs"``)
  also names the training epochs of each ask (``searcher.fidelity``): the evaluator answers
  with ``evaluate_at(cell, fidelity)`` and charges that fidelity's time, and the repeat cache
  is keyed by ``(cell, fidelity)``, so a cell promoted from 12 to 200 epochs is evaluated (and charged)
  again at 200, never twice at the same fidelity.
* A query budget stops the run after that many charged queries. A time budget stops it at
  the first query whose cost would exceed the budget; that query is discarded, so the
  charged total never exceeds the budget.
* ``max_repeats`` consecutive cached answers end a run (a searcher stuck on known cells).
* The final pick is the cell with the best search value seen (the first on ties); the run
  reports that cell's metrics (for NB201: 200-epoch test and validation accuracy). A
  searcher with a rule of its own (:meth:`~nasbench_tools.search.base.Searcher.incumbent`
  returns a cell: BOHB with ``budget_use="schedule"`` names hpbandster's incumbent) is
  reported with that cell instead, and the trajectory records that pick whenever it changes.

:func:`run_many` gives run ``r`` the seed ``seed + r``. It computes the runs not yet in the
results database: vectorised across runs for RS and REA on spaces with a code layout (bit
for bit the ask/tell result), otherwise one by one or on a ``concurrent.futures.Executor``
(threads, processes, or ``distributed.Client(...).get_executor()`` for a Dask cluster). Each
run is written to the database as soon as it finishes, in its own transaction (vectorised
runs finish together, in batches of :data:`VECTOR_BATCH`).

Examples
--------
>>> from nasbench_tools.search.evaluators import TrainerEvaluator
>>> from nasbench_tools.search.random_search import RandomSearch
>>> from nasbench_tools.spaces import get_space
>>> ev = TrainerEvaluator(lambda c, s: {"val_accuracy": float(c.code % 97),
...                                     "train_seconds": 10.0})
>>> res = run_search(RandomSearch(get_space("nb201")), ev, budget=Budget(seconds=35), seed=1)
>>> res.queries, res.simulated_seconds
(3, 30.0)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from pathlib import Path
from typing import Any

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.search.base import Searcher
from nasbench_tools.search.budget import Budget
from nasbench_tools.search.evaluators import Evaluation, Evaluator
from nasbench_tools.search.results import ResultsDB, RunResult
from nasbench_tools.search.spec import SearcherSpec

__all__ = ["REPEAT_POLICIES", "Budget", "SearcherSpec", "run_many", "run_search"]

log = logging.getLogger(__name__)

#: Runs computed together by the vectorised path before they are written.
VECTOR_BATCH = 500

#: What a repeated ask costs: ``cache`` = nothing, ``charge`` = its cost again.
REPEAT_POLICIES: tuple[str, ...] = ("cache", "charge")


def _check_budget(evaluator: Any, budget: Budget) -> None:
    if budget.seconds is not None and not getattr(evaluator, "has_costs", True):
        raise OutOfDomainError(
            "a time budget needs an evaluator that charges time; give the TabularEvaluator a "
            "cost_model (e.g. get_cost_model('flops-120')) or use a query budget"
        )


def _check_repeats(repeats: str) -> None:
    if repeats not in REPEAT_POLICIES:
        raise OutOfDomainError(
            f"unknown repeats policy {repeats!r}; allowed: {allowed(REPEAT_POLICIES)}"
        )


def _pick(
    searcher: Searcher, cache: Mapping[Any, Evaluation], multi: bool,
    best: tuple[Any, Evaluation],
) -> tuple[Any, Evaluation]:
    """The run's pick now: the searcher's incumbent when it names one, else ``best``."""
    cell = searcher.incumbent()
    if cell is None:
        return best
    if multi:  # the incumbent's evaluation at the highest fidelity it was evaluated at
        seen = [(k[1], ev) for k, ev in cache.items() if k[0] == cell]
        ev = max(seen, key=lambda t: t[0])[1] if seen else None
    else:
        ev = cache.get(cell)
    if ev is None:
        raise OutOfDomainError(
            f"searcher {searcher.algo!r} names as incumbent a cell this run never evaluated: "
            f"{cell!r}"
        )
    return cell, ev


def _metrics_row(ev: Evaluation, names: Sequence[str]) -> list[float]:
    return [float(ev.metrics.get(n, float("nan"))) for n in names]


def run_search(
    searcher: Searcher,
    evaluator: Evaluator,
    budget: Budget,
    seed: int | None = None,
    *,
    label: str | None = None,
    run: int = 0,
    repeats: str | None = None,
    max_repeats: int = 1000,
) -> RunResult:
    """Run one search until the budget (or the searcher) is exhausted.

    Parameters
    ----------
    searcher : Searcher
        Asked for cells, told their values.
    evaluator : Evaluator
        Answers queries (value, cost, reported metrics).
    budget : Budget
        Query and/or time budget.
    seed : int, optional
        Restart the searcher from this seed first (``searcher.reset(seed)``). Without it
        the searcher continues from its current state and ``run`` is recorded as the seed.
    label : str, optional
        Experiment label; default ``searcher.algo``.
    run : int, default 0
        Run number recorded with the result.
    repeats : {"cache", "charge"}, optional
        Cost of a repeated ask (see the module notes); default the searcher's
        ``repeats`` (``"cache"``, but ``"charge"`` for REINFORCE).
    max_repeats : int, default 1000
        Consecutive cached answers that end the run.

    Returns
    -------
    RunResult

    Raises
    ------
    OutOfDomainError
        For an unknown ``repeats`` policy, or a time budget with an evaluator that charges
        nothing.
    """
    repeats = repeats or searcher.repeats
    _check_repeats(repeats)
    _check_budget(evaluator, budget)
    multi = searcher.multi_fidelity
    if multi and not hasattr(evaluator, "evaluate_at"):
        raise OutOfDomainError(
            f"searcher {searcher.algo!r} asks for fidelities; the evaluator "
            f"{type(evaluator).__name__} has no evaluate_at(cell, fidelity) (a TabularEvaluator does)"
        )
    if seed is not None:
        searcher.reset(seed)
    cache: dict[Any, Evaluation] = {}
    names: list[str] | None = None
    spent = 0.0
    queries = 0
    n_repeats = 0
    consecutive = 0
    best: tuple[Any, Evaluation] | None = None
    picked: tuple[Any, Evaluation] | None = None  # the pick so far (best, or incumbent)
    trajectory: list[list[float]] = []
    while not searcher.done:
        if budget.queries is not None and queries >= budget.queries:
            break
        cell = searcher.ask()
        key = (cell, int(searcher.fidelity)) if multi else cell  # type: ignore[attr-defined]
        ev = cache.get(key)
        if ev is not None and repeats == "cache":
            n_repeats += 1
            consecutive += 1
            searcher.tell(cell, ev.value)
            if consecutive >= max_repeats:
                log.warning("run %d: %d consecutive repeated cells; stopping", run, consecutive)
                break
            continue
        if ev is None:
            ev = (
                evaluator.evaluate_at(cell, key[1])  # type: ignore[attr-defined]
                if multi
                else evaluator.evaluate(cell)
            )
        else:
            n_repeats += 1
        if budget.seconds is not None and spent + ev.cost > budget.seconds:
            break
        consecutive = 0
        spent += ev.cost
        queries += 1
        cache[key] = ev
        if names is None:
            names = sorted(ev.metrics)
        if best is None or ev.value > best[1].value:
            best = (cell, ev)
        searcher.tell(cell, ev.value)
        now = _pick(searcher, cache, multi, best)
        if picked is None or now[0] != picked[0] or now[1] != picked[1]:
            picked = now
            trajectory.append([queries, spent, now[1].value, *_metrics_row(now[1], names)])
    names = names or []
    if picked is None:
        raise OutOfDomainError(
            f"run {run} evaluated no cell: the budget {budget.describe()} is below the cost "
            "of the first query"
        )
    last = trajectory[-1]
    if last[0] != queries or last[1] != spent:
        trajectory.append([queries, spent, picked[1].value, *_metrics_row(picked[1], names)])
    cell, ev = picked
    text = cell.to_string() if hasattr(cell, "to_string") else str(cell)
    return RunResult(
        label=label or searcher.algo,
        run=run,
        seed=seed if seed is not None else run,
        final_cell=text,
        queries=queries,
        simulated_seconds=spent,
        final_value=ev.value,
        metrics={k: float(v) for k, v in ev.metrics.items()},
        trajectory=trajectory,
        metric_names=names,
        repeats=n_repeats,
    )


def _one(
    spec: SearcherSpec | Callable[[int], Searcher],
    evaluator: Evaluator,
    budget: Budget,
    seed: int,
    run: int,
    label: str,
    repeats: str | None,
) -> RunResult:
    searcher = spec.build(seed) if isinstance(spec, SearcherSpec) else spec(seed)
    return run_search(searcher, evaluator, budget, seed, label=label, run=run, repeats=repeats)


def _config(
    spec: Any, evaluator: Evaluator, budget: Budget, repeats: str | None, seed: int
) -> dict[str, Any]:
    searcher = spec.build(seed) if isinstance(spec, SearcherSpec) else spec(seed)
    repeats = repeats or searcher.repeats
    _check_repeats(repeats)
    return {
        "searcher": searcher.describe(),
        "evaluator": evaluator.describe(),
        "budget": budget.describe(),
        "repeats": repeats,
        "base_seed": seed,
    }


def run_many(
    spec: SearcherSpec | Callable[[int], Searcher],
    evaluator: Evaluator,
    budget: Budget,
    *,
    runs: int,
    seed: int = 0,
    label: str | None = None,
    db: ResultsDB | str | Path | None = None,
    executor: Executor | None = None,
    vectorize: bool | str = "auto",
    repeats: str | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run ``runs`` independent searches; run ``r`` uses seed ``seed + r``.

    Parameters
    ----------
    spec : SearcherSpec or callable
        How to build a searcher for a seed. Executors that pickle (processes, Dask) need a
        :class:`SearcherSpec` (a module-level factory also works).
    evaluator : Evaluator
        Shared by all runs (each run keeps its own repeat cache).
    budget : Budget
        Per-run budget.
    runs : int
        Number of runs.
    seed : int, default 0
        Base seed.
    label : str, optional
        Experiment label in the database; default the searcher's ``algo``.
    db : ResultsDB or path, optional
        Results database. Runs already stored under ``label`` are loaded, not redone.
    executor : concurrent.futures.Executor, optional
        Where to run ask/tell runs in parallel.
    vectorize : {"auto", True, False}
        Use :mod:`nasbench_tools.search.vectorized` for RS/REA when possible (``True``:
        insist, raising when impossible).
    repeats : {"cache", "charge"}, optional
        See :func:`run_search` (default: the searcher's own policy).
    on_result : callable, optional
        Called with every newly finished run (after it is stored).

    Returns
    -------
    list of RunResult
        All ``runs`` results (stored and new), ordered by run.
    """
    if runs < 1:
        raise OutOfDomainError(f"runs must be >= 1, got {runs}")
    if vectorize not in ("auto", True, False):
        raise OutOfDomainError(f"vectorize must be 'auto', True or False, got {vectorize!r}")
    _check_budget(evaluator, budget)
    config = _config(spec, evaluator, budget, repeats, seed)
    repeats = str(config["repeats"])
    label = label or str(config["searcher"]["algo"])
    store = ResultsDB(db) if isinstance(db, (str, Path)) else db
    done: dict[int, RunResult] = {}
    if store is not None:
        store.begin(label, config)
        done = {r.run: r for r in store.load(label) if r.run < runs}
    todo = [r for r in range(runs) if r not in done]
    if done:
        log.info("%s: %d of %d runs already stored; doing %d", label, len(done), runs, len(todo))

    def finish(res: RunResult) -> None:
        done[res.run] = res
        if store is not None:
            store.write(res)
        if on_result is not None:
            on_result(res)

    if todo:
        from nasbench_tools.search import vectorized

        reason = vectorized.unsupported(spec, evaluator, repeats)
        if vectorize is True and reason:
            raise OutOfDomainError(f"cannot vectorise this search: {reason}")
        if vectorize and not reason:
            assert isinstance(spec, SearcherSpec)
            # lock-step batches: a crash loses at most one batch of unwritten runs
            for lo in range(0, len(todo), VECTOR_BATCH):
                chunk = todo[lo : lo + VECTOR_BATCH]
                for res in vectorized.run_vectorized(
                    spec, evaluator, budget, seeds=[seed + r for r in chunk], runs=chunk,
                    label=label,
                ):
                    finish(res)
        elif executor is not None:
            futures = [
                executor.submit(_one, spec, evaluator, budget, seed + r, r, label, repeats)
                for r in todo
            ]
            for fut in as_completed(futures):
                finish(fut.result())
        else:
            searcher = spec.build(seed) if isinstance(spec, SearcherSpec) else spec(seed)
            for r in todo:
                finish(
                    run_search(searcher, evaluator, budget, seed + r, label=label, run=r,
                               repeats=repeats)
                )
    return [done[r] for r in range(runs)]


def describe_config(config: Mapping[str, Any]) -> str:
    """One line describing a stored experiment configuration."""
    s = config.get("searcher", {})
    return ", ".join(f"{k}={v}" for k, v in s.items())
