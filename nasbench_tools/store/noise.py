"""Seed noise of a benchmark table: split-half Kendall tau, its curve over seeds, projections.

A tabular benchmark is useful for ranking only if its mean over seeds ranks cells the same
way a second, independent set of seeds would. The *split-half tau* measures that directly:
the Kendall tau between the mean of ``k`` seeds and the mean of ``k`` other seeds, averaged
over random splits. :func:`split_half_curve` measures it for every ``k`` up to half the
seeds, which shows how much more seeds buy; :func:`project_split_half` extrapolates it to
more seeds than were trained, and :func:`seeds_needed` turns a goal into a seed count.

The projection converts tau to a correlation with Greiner's relation ``r = sin(pi tau / 2)``
(exact for bivariate normal data) and applies the Spearman-Brown formula for the mean of
``m`` seeds, ``r_m = m r_1 / (1 + (m - 1) r_1)``. Benchmark accuracies are not normal (a
ceiling of near-equal good cells, a tail of failed ones), and measured here the projection
is optimistic: on the 666-cell embedded NB201 store, 6 vs 6 seeds projected 0.761 for 12 vs
12, which measured 0.747 (``docs/trainer.md``). Use it to plan a build, then measure.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> truth = rng.normal(size=(200, 1))
>>> values = truth + rng.normal(scale=1.0, size=(200, 8))    # 200 cells x 8 seeds
>>> curve = split_half_curve(values, np.random.default_rng(1), repeats=10)
>>> sorted(curve) == [1, 2, 3, 4] and curve[1] < curve[4]
True
>>> round(project_split_half(0.6, 4, 8), 3)
0.705
>>> seeds_needed(0.6, 4, 0.75)
24
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = [
    "NoiseCurve",
    "joined_seed_columns",
    "noise_curves",
    "project_split_half",
    "seeds_needed",
    "split_half_curve",
    "split_half_tau",
]

#: Largest total seed count :func:`seeds_needed` searches (a goal beyond it is unreachable).
MAX_SEEDS = 10_000


def _complete(values: np.ndarray, need_seeds: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise OutOfDomainError(f"values must be a (cells, seeds) array; got shape {v.shape}")
    v = v[~np.isnan(v).any(axis=1)]
    if v.shape[1] < need_seeds or v.shape[0] < 3:
        raise OutOfDomainError(f"split-half tau needs >= 3 complete cells x >= {need_seeds} "
                               f"seeds; got {v.shape}")
    return v


def split_half_tau(values: np.ndarray, rng: np.random.Generator, repeats: int = 100,
                   k: int | None = None) -> float:
    """Mean Kendall tau between the seed-means of two disjoint random sets of ``k`` seeds.

    Parameters
    ----------
    values : ndarray, shape (cells, seeds)
        One metric per cell and seed (rows with NaN are dropped).
    rng : numpy.random.Generator
        Draws the random splits.
    repeats : int, default 100
        Random splits averaged (all distinct splits are few for 4 seeds; repeats are fine).
    k : int, optional
        Seeds per half; default half the seeds (``seeds // 2``).

    Returns
    -------
    float

    Raises
    ------
    OutOfDomainError
        Fewer than ``2 k`` seeds or 3 complete cells, or ``k < 1``.

    Examples
    --------
    >>> v = np.array([[1, 1.1], [2, 2.2], [3, 2.9], [4, 4.1]])
    >>> split_half_tau(v, np.random.default_rng(0))
    1.0
    """
    from scipy.stats import kendalltau

    if k is not None and k < 1:
        raise OutOfDomainError(f"k (seeds per half) must be >= 1; got {k}")
    v = _complete(values, 2 if k is None else 2 * k)
    half = v.shape[1] // 2 if k is None else k
    taus = []
    for _ in range(repeats):
        p = rng.permutation(v.shape[1])
        a, b = v[:, p[:half]].mean(1), v[:, p[half : 2 * half]].mean(1)
        taus.append(float(kendalltau(a, b)[0]))
    return float(np.mean(taus))


def split_half_curve(values: np.ndarray, rng: np.random.Generator,
                     repeats: int = 30) -> dict[int, float]:
    """Split-half tau for ``k`` vs ``k`` seeds, every ``k`` from 1 to half the seeds.

    Parameters
    ----------
    values : ndarray, shape (cells, seeds)
    rng : numpy.random.Generator
    repeats : int, default 30
        Random splits per ``k``.

    Returns
    -------
    dict of int to float
        ``{k: tau}``, ascending ``k``.

    Examples
    --------
    >>> v = np.array([[1, 1.1, 0.9, 1.0], [2, 2.2, 2.1, 1.8], [3, 2.9, 3.2, 3.0]])
    >>> split_half_curve(v, np.random.default_rng(0), repeats=5)
    {1: 1.0, 2: 1.0}
    """
    v = _complete(values, 2)
    return {k: split_half_tau(v, rng, repeats, k=k) for k in range(1, v.shape[1] // 2 + 1)}


def _one_seed_r(tau: float, k: int) -> float:
    if not 0.0 < tau < 1.0:
        raise OutOfDomainError(f"a split-half tau must lie in (0, 1) to be projected; got {tau}")
    if k < 1:
        raise OutOfDomainError(f"k (seeds per half) must be >= 1; got {k}")
    r = math.sin(math.pi * tau / 2.0)
    return r / (k - (k - 1) * r)


def project_split_half(tau: float, k: int, k_target: int) -> float:
    """Projected split-half tau of ``k_target`` vs ``k_target`` seeds from one of ``k`` vs ``k``.

    Greiner's ``r = sin(pi tau / 2)``, then Spearman-Brown (see the module text; optimistic
    on benchmark accuracies).

    Examples
    --------
    >>> round(project_split_half(0.641, 6, 12), 3)
    0.737
    >>> project_split_half(0.5, 3, 3)
    0.5
    """
    if k_target < 1:
        raise OutOfDomainError(f"k_target (seeds per half) must be >= 1; got {k_target}")
    r1 = _one_seed_r(tau, k)
    r = k_target * r1 / (1.0 + (k_target - 1) * r1)
    return round(2.0 / math.pi * math.asin(min(r, 1.0)), 12)


def seeds_needed(tau: float, k: int, target: float) -> int:
    """Smallest total number of seeds ``2 m`` whose projected ``m`` vs ``m`` tau reaches ``target``.

    Raises
    ------
    OutOfDomainError
        ``target`` outside ``(0, 1)``, or not reached within :data:`MAX_SEEDS` seeds.

    Examples
    --------
    >>> seeds_needed(0.641, 6, 0.75)
    28
    """
    if not 0.0 < target < 1.0:
        raise OutOfDomainError(f"target tau must lie in (0, 1); got {target}")
    for m in range(1, MAX_SEEDS // 2 + 1):
        if project_split_half(tau, k, m) >= target:
            return 2 * m
    raise OutOfDomainError(f"a split-half tau of {target} is not reached within {MAX_SEEDS} "
                           f"seeds from tau {tau} at {k} vs {k}")


@dataclass(frozen=True)
class NoiseCurve:
    """Seed noise of one ``(dataset, fidelity, metric)`` column of a store.

    Attributes
    ----------
    dataset : str
    budget, epoch : int
    metric : str
    cells : int
        Cells with every seed present (the ones measured).
    seeds : int
    curve : dict of int to float
        Measured split-half tau, ``k`` vs ``k`` seeds.
    target : float
    seeds_needed : int or None
        Projected total seeds for ``target`` (from the largest ``k``); None when the
        measured tau cannot be projected (not in ``(0, 1)``) or is already 1.
    """

    dataset: str
    budget: int
    epoch: int
    metric: str
    cells: int
    seeds: int
    curve: dict[int, float]
    target: float
    seeds_needed: int | None

    def render(self) -> str:
        """Text block, as ``nbt info --noise`` prints it.

        Examples
        --------
        >>> print(NoiseCurve("d", 2, 2, "val_accuracy", 10, 4, {1: 0.4, 2: 0.5}, 0.75, 24).render())
        d, epoch 2 of 2, val_accuracy: 10 cells x 4 seeds
          split-half tau, mean of k seeds vs k others:
            k=1 0.400  k=2 0.500
          projected seeds for tau >= 0.75: 24 (Spearman-Brown from k=2; optimistic, measure)
        """
        k = max(self.curve)
        items = [f"k={i} {t:.3f}" for i, t in self.curve.items()]
        # six per line: a 24-seed store stays readable in an 80-column terminal
        taus = "\n    ".join("  ".join(items[i : i + 6]) for i in range(0, len(items), 6))
        need = ("not projectable" if self.seeds_needed is None else
                f"{self.seeds_needed} (Spearman-Brown from k={k}; optimistic, measure)")
        return (f"{self.dataset}, epoch {self.epoch} of {self.budget}, {self.metric}: "
                f"{self.cells} cells x {self.seeds} seeds\n"
                f"  split-half tau, mean of k seeds vs k others:\n    {taus}\n"
                f"  projected seeds for tau >= {self.target}: {need}")


def _seed_columns(bench: Any, metric: str, dataset: str, budget: int,
                  epoch: int) -> tuple[list[int], np.ndarray]:
    """The real seeds of one column of ``bench`` and its ``(cells, seeds)`` values."""
    from nasbench_tools.store.format import is_pseudo_seed

    seeds = [s for s in bench.seeds(dataset) if not is_pseudo_seed(s)]
    if not seeds:
        return seeds, np.empty((len(bench), 0))
    return seeds, np.stack([bench.column(metric, dataset, epoch, seed=s, budget=budget)
                            for s in seeds], axis=1)


def joined_seed_columns(bench: Any, others: Sequence[Any], metric: str, dataset: str,
                        budget: int, epoch: int) -> tuple[list[int], np.ndarray]:
    """Seeds and values of ``bench`` with those of ``others`` beside them, row by row.

    Rows are the cells of ``bench`` in its order; the other stores' rows are matched by cell
    key, so they may hold fewer cells or another order. A cell that another store lacks gets
    NaN in its columns (so it is not complete). Pseudo-seeds (stored means) are left out.

    Parameters
    ----------
    bench : Benchmark
    others : sequence of Benchmark
        Stores of the same space holding *other* seeds of (some of) the same cells.
    metric, dataset : str
    budget, epoch : int

    Returns
    -------
    seeds : list of int
        The seeds of ``bench``, then those of each other store.
    values : ndarray, shape (len(bench), len(seeds))

    Raises
    ------
    OutOfDomainError
        If a seed is in two stores, or a store is of another space or lacks the column.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
    >>> def store(keys, seeds, acc):
    ...     v = np.asarray(acc, dtype=np.float32)[:, :, None, None]
    ...     ds = DatasetTable("digits", seeds, ((1, 1),), ("val_accuracy",), v)
    ...     return Benchmark.from_table(TableData("nb201", keys, np.arange(len(keys)),
    ...                                           {"digits": ds}))
    >>> a = store(["x", "y", "z"], (0, 1), [[1, 2], [3, 4], [5, 6]])
    >>> b = store(["z", "x"], (2,), [[60], [10]])       # another order, one cell missing
    >>> seeds, v = joined_seed_columns(a, [b], "val_accuracy", "digits", 1, 1)
    >>> seeds, v[:, 2].tolist()
    ([0, 1, 2], [10.0, nan, 60.0])
    """
    seeds, v = _seed_columns(bench, metric, dataset, budget, epoch)
    parts = [v]
    for i, other in enumerate(others, 1):
        where = f"store #{i + 1} of the join"
        if other.space != bench.space:
            raise OutOfDomainError(f"{where} is a {other.space!r} store; the first is "
                                   f"{bench.space!r}: join stores of one space")
        if dataset not in other.datasets or (budget, epoch) not in other.fidelities(dataset):
            raise OutOfDomainError(f"{where} has no dataset {dataset!r} at epoch {epoch} of "
                                   f"{budget}; its datasets: {allowed(other.datasets)}")
        if metric not in other.metrics(dataset):
            raise OutOfDomainError(f"{where} has no metric {metric!r} in {dataset!r}; "
                                   f"allowed: {allowed(other.metrics(dataset))}")
        theirs, w = _seed_columns(other, metric, dataset, budget, epoch)
        twice = sorted(set(seeds) & set(theirs))
        if twice:
            raise OutOfDomainError(f"seeds {twice} of {dataset!r} are in {where} and in a store "
                                   "before it; join stores that hold other seeds of the cells")
        rows = {k: r for r, k in enumerate(other.keys)}
        aligned = np.full((len(bench), len(theirs)), np.nan)
        mine = [(r, rows[k]) for r, k in enumerate(bench.keys) if k in rows]
        if mine:
            a, b = map(list, zip(*mine))
            aligned[a] = w[b]
        seeds += theirs
        parts.append(aligned)
    return seeds, np.concatenate(parts, axis=1)


def noise_curves(bench: Any, metric: str = "val_accuracy", *, target: float = 0.75,
                 repeats: int = 30, seed: int = 0,
                 others: Sequence[Any] = ()) -> list[NoiseCurve]:
    """:class:`NoiseCurve` of every dataset and fidelity of a store with >= 2 real seeds.

    Parameters
    ----------
    bench : Benchmark
    metric : str, default "val_accuracy"
    target : float, default 0.75
        Goal tau for :func:`seeds_needed`.
    repeats : int, default 30
    seed : int, default 0
        Seeds the random splits (the report is reproducible).
    others : sequence of Benchmark, optional
        Stores of the same space that hold *other* seeds of ``bench``'s cells (matched by
        key), e.g. a build grown by seeds into a second file: their seeds join ``bench``'s,
        and the report covers the cells that have every seed of every store.

    Raises
    ------
    OutOfDomainError
        ``metric`` not in a dataset, or no dataset has two real seeds and three cells;
        another store of another space, without the dataset, fidelity or metric, or with a
        seed that ``bench`` (or a store before it) already has.

    Examples
    --------
    >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
    >>> vals = np.array([[[[50.0]], [[52.0]]], [[[70.0]], [[69.0]]], [[[90.0]], [[91.0]]]])
    >>> ds = DatasetTable("d", (0, 1), ((1, 1),), ("val_accuracy",), vals)
    >>> b = Benchmark.from_table(TableData("nb201", ["a", "b", "c"], np.arange(3), {"d": ds}))
    >>> [(c.cells, c.curve) for c in noise_curves(b)]
    [(3, {1: 1.0})]
    >>> more = DatasetTable("d", (2, 3), ((1, 1),), ("val_accuracy",), vals[::-1] + 0.5)
    >>> b2 = Benchmark.from_table(TableData("nb201", ["c", "b", "a"], np.arange(3), {"d": more}))
    >>> [(c.cells, c.seeds, c.curve) for c in noise_curves(b, others=[b2])]
    [(3, 4, {1: 1.0, 2: 1.0})]
    """
    out = []
    for ds in bench.datasets:
        if metric not in bench.metrics(ds):
            raise OutOfDomainError(f"metric {metric!r} not in dataset {ds!r}; allowed: "
                                   f"{allowed(bench.metrics(ds))}")
        for budget, epoch in bench.fidelities(ds):
            seeds, v = joined_seed_columns(bench, others, metric, ds, budget, epoch)
            complete = v[~np.isnan(v).any(axis=1)] if v.size else v
            if len(seeds) < 2 or complete.shape[0] < 3:
                continue
            curve = split_half_curve(complete, np.random.default_rng(seed), repeats)
            k = max(curve)
            try:
                need: int | None = seeds_needed(curve[k], k, target)
            except OutOfDomainError:
                need = None
            out.append(NoiseCurve(ds, budget, epoch, metric, complete.shape[0], len(seeds),
                                  {i: round(t, 4) for i, t in curve.items()}, target, need))
    if not out:
        raise OutOfDomainError("no dataset of this store has >= 2 real seeds and >= 3 cells "
                               "with all of them; seed noise needs repeated trainings")
    return out
