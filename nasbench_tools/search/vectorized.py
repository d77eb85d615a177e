"""Random search and regularized evolution for many runs at once, on integer cell codes.

All runs advance in lock step: at step ``s`` every active run asks one cell and tells one
value, so the population of every REA run has the same age structure and the uniform
draws each run consumes sit at the same positions of its stream. Each run ``r`` draws from
``numpy.random.default_rng(seed_r)`` exactly the numbers its ask/tell twin
(:class:`~nasbench_tools.search.random_search.RandomSearch`,
:class:`~nasbench_tools.search.evolution.RegularizedEvolution` with
:class:`~nasbench_tools.search.base.DigitProposals`) draws, in the same order, and the
budget rules are those of :func:`~nasbench_tools.search.runner.run_search` with
``repeats="cache"``; the results are identical bit for bit (tested).

Per step the work is a handful of numpy operations over the active runs; cells are looked
up in columns indexed by code (:meth:`TabularEvaluator.code_arrays`).

Examples
--------
>>> unsupported(SearcherSpec("ls", "nb201"), None, "cache")
"algo 'ls' is not vectorised (only 'rs' or 'rea')"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.budget import Budget
from nasbench_tools.search.evaluators import CodeArrays
from nasbench_tools.search.results import RunResult
from nasbench_tools.search.spec import SearcherSpec

__all__ = ["VECTORIZED", "run_vectorized", "unsupported", "vectorized_codes"]

#: Vectorised algorithms -> keyword arguments they accept.
VECTORIZED: dict[str, frozenset[str]] = {
    "rs": frozenset(),
    "rea": frozenset({"population_size", "sample_size"}),
}


def unsupported(spec: Any, evaluator: Any, repeats: str) -> str:
    """Why this search cannot be vectorised (empty string when it can).

    Examples
    --------
    >>> unsupported(SearcherSpec("rea", "nb201", {"proposals": None}), None, "cache")
    "algo 'rea' is vectorised without the argument(s) ['proposals']"
    """
    if not isinstance(spec, SearcherSpec):
        return "the searcher is given as a factory, not a SearcherSpec"
    if spec.algo not in VECTORIZED:
        return f"algo {spec.algo!r} is not vectorised (only {' or '.join(map(repr, VECTORIZED))})"
    extra = sorted(set(spec.kwargs) - VECTORIZED[spec.algo])
    if extra:
        return f"algo {spec.algo!r} is vectorised without the argument(s) {extra}"
    if repeats != "cache":
        return "only repeats='cache' is vectorised"
    if not hasattr(evaluator, "code_arrays"):
        return "the evaluator offers no code_arrays() (a TabularEvaluator does)"
    space = spec.space if isinstance(spec.space, str) else getattr(spec.space, "name", "")
    ev_space = getattr(evaluator.space, "name", "")
    if space != ev_space:
        return f"searcher space {space!r} differs from the evaluator's {ev_space!r}"
    try:
        evaluator.code_arrays()
    except OutOfDomainError as exc:
        return str(exc)
    return ""


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _streams(gens: list[np.random.Generator], n: int) -> np.ndarray:
    return np.stack([g.random(n) for g in gens]) if gens else np.empty((0, n))


def vectorized_codes(
    algo: str,
    arrays: CodeArrays,
    budget: Budget,
    seeds: Sequence[int],
    *,
    population_size: int = 10,
    sample_size: int = 3,
    max_repeats: int = 1000,
) -> dict[str, Any]:
    """Run ``len(seeds)`` searches in lock step; return per-run arrays and events.

    Returns
    -------
    dict
        ``best_code``, ``spent``, ``queries``, ``repeats`` (one entry per run) and
        ``events``: ``(run, queries, spent, code)`` arrays of every improvement, in step
        order.
    """
    if algo not in VECTORIZED:
        raise OutOfDomainError(f"algo {algo!r} is not vectorised; allowed: {sorted(VECTORIZED)}")
    lay = arrays.layout
    size, digits, base = lay.size, lay.digits, lay.base
    place = lay.place_values
    value, cost = arrays.value, arrays.cost
    n = len(seeds)
    P, S = int(population_size), int(sample_size)
    rea = algo == "rea"
    per_step = S + 2 if rea else 1
    gens = [np.random.default_rng(int(s)) for s in seeds]
    if budget.queries is not None:
        est = 2 * budget.queries + P
    else:
        assert budget.seconds is not None
        est = int(2 * budget.seconds / max(float(cost.mean()), 1e-9)) + P
    est = int(min(est, 100_000))
    stream = _streams(gens, P + est * per_step)

    active = np.ones(n, dtype=bool)
    spent = np.zeros(n)
    queries = np.zeros(n, dtype=np.int64)
    repeats = np.zeros(n, dtype=np.int64)
    consec = np.zeros(n, dtype=np.int64)
    best_val = np.full(n, -np.inf)
    best_code = np.zeros(n, dtype=np.int64)
    seen = np.zeros((n, size), dtype=bool)
    pop_codes = np.zeros((n, P), dtype=np.int64)
    pop_vals = np.zeros((n, P))
    ev_run: list[np.ndarray] = []
    ev_q: list[np.ndarray] = []
    ev_t: list[np.ndarray] = []
    ev_c: list[np.ndarray] = []
    pos = 0
    step = 0
    while active.any():
        if step > 10_000_000:  # pragma: no cover - defensive
            raise OutOfDomainError("vectorised search did not terminate")
        a = np.flatnonzero(active)
        evolving = rea and step >= P
        need = per_step if evolving else 1
        if pos + need > stream.shape[1]:
            more = _streams(gens, stream.shape[1])
            stream = np.concatenate([stream, more], axis=1)
        if not evolving:
            code = (stream[a, pos] * size).astype(np.int64)
            pos += 1
        else:
            u = stream[a, pos : pos + per_step]
            pos += per_step
            head = (step - P) % P
            ring = (head + (u[:, :S] * P).astype(np.int64)) % P
            vals = pop_vals[a[:, None], ring]
            parent = pop_codes[a, ring[np.arange(len(a)), np.argmax(vals, axis=1)]]
            d = (u[:, S] * digits).astype(np.int64)
            pv = place[d]
            old = (parent // pv) % base
            new = (old + 1 + (u[:, S + 1] * (base - 1)).astype(np.int64)) % base
            code = parent + (new - old) * pv
        rep = seen[a, code]
        told = np.ones(len(a), dtype=bool)
        # repeated cells: answered from the cache, not charged
        if rep.any():
            ra = a[rep]
            repeats[ra] += 1
            consec[ra] += 1
            stuck = ra[consec[ra] >= max_repeats]
            active[stuck] = False
        fresh = ~rep
        if fresh.any():
            fa = a[fresh]
            fc = code[fresh]
            c = cost[fc]
            if budget.seconds is not None:
                over = spent[fa] + c > budget.seconds
                if over.any():
                    active[fa[over]] = False
                    told[np.flatnonzero(fresh)[over]] = False
                    keep = ~over
                    fa, fc, c = fa[keep], fc[keep], c[keep]
            consec[fa] = 0
            spent[fa] += c
            queries[fa] += 1
            seen[fa, fc] = True
            v = value[fc]
            better = v > best_val[fa]
            if better.any():
                ba = fa[better]
                best_val[ba] = v[better]
                best_code[ba] = fc[better]
                ev_run.append(ba)
                ev_q.append(queries[ba].copy())
                ev_t.append(spent[ba].copy())
                ev_c.append(fc[better])
            if budget.queries is not None:
                active[fa[queries[fa] >= budget.queries]] = False
        if rea:
            ta = a[told]
            slot = step if step < P else (step - P) % P
            pop_codes[ta, slot] = code[told]
            pop_vals[ta, slot] = value[code[told]]
        step += 1
    return {
        "best_code": best_code,
        "spent": spent,
        "queries": queries,
        "repeats": repeats,
        "events": (
            _cat(ev_run, np.int64),
            _cat(ev_q, np.int64),
            _cat(ev_t, np.float64),
            _cat(ev_c, np.int64),
        ),
    }


def run_vectorized(
    spec: SearcherSpec,
    evaluator: Any,
    budget: Budget,
    *,
    seeds: Sequence[int],
    runs: Sequence[int],
    label: str,
    max_repeats: int = 1000,
) -> list[RunResult]:
    """The :class:`RunResult` of every run, as :func:`run_search` would give them.

    Raises
    ------
    OutOfDomainError
        When a run cannot afford its first query.
    """
    reason = unsupported(spec, evaluator, "cache")
    if reason:
        raise OutOfDomainError(f"cannot vectorise this search: {reason}")
    arrays: CodeArrays = evaluator.code_arrays()
    out = vectorized_codes(
        spec.algo, arrays, budget, seeds, max_repeats=max_repeats, **spec.kwargs
    )
    names = sorted(arrays.metrics)
    cols = [arrays.metrics[k] for k in names]
    ev_run, ev_q, ev_t, ev_c = out["events"]
    order = np.argsort(ev_run, kind="stable")
    ev_run, ev_q, ev_t, ev_c = ev_run[order], ev_q[order], ev_t[order], ev_c[order]
    bounds = np.searchsorted(ev_run, np.arange(len(seeds) + 1))
    results = []
    for i, (seed, run) in enumerate(zip(seeds, runs)):
        lo, hi = bounds[i], bounds[i + 1]
        if hi == lo:
            raise OutOfDomainError(
                f"run {run} evaluated no cell: the budget {budget.describe()} is below the "
                "cost of the first query"
            )
        traj = [
            [int(ev_q[j]), float(ev_t[j]), float(arrays.value[ev_c[j]]),
             *(float(col[ev_c[j]]) for col in cols)]
            for j in range(lo, hi)
        ]
        q, t = int(out["queries"][i]), float(out["spent"][i])
        b = int(out["best_code"][i])
        if traj[-1][0] != q or traj[-1][1] != t:
            traj.append([q, t, float(arrays.value[b]), *(float(col[b]) for col in cols)])
        cell = arrays.layout.from_code(b)
        results.append(
            RunResult(
                label=label,
                run=int(run),
                seed=int(seed),
                final_cell=cell.to_string() if hasattr(cell, "to_string") else str(cell),
                queries=q,
                simulated_seconds=t,
                final_value=float(arrays.value[b]),
                metrics={k: float(col[b]) for k, col in zip(names, cols)},
                trajectory=traj,
                metric_names=names,
                repeats=int(out["repeats"][i]),
                path="vectorized",
            )
        )
    return results
