"""Build a tabular benchmark by training cells: resumable, idempotent, on any executor.

A build is a plan (cells x seeds, one recipe, one dataset) whose trainings are stored one by
one in a :class:`~nasbench_tools.trainer.results.ResultsDB`; :func:`table_from_db` turns the
finished cells into a :class:`~nasbench_tools.store.table.TableData` that ``write_store``
writes. Running the same build again trains nothing; asking for more cells trains only the
new ones, because the stratified cell order (:func:`stratified_cells`) is a fixed sequence
whose every prefix is spread over the strata.

Fidelities are ``(budget, epoch)`` pairs: the recipe's ``epochs`` is the budget and every
epoch of the schedule is recorded (``(B, 1) .. (B, B)``).

The cell order of a space comes from :data:`CELL_ORDERS`: NB201 the stratified order,
NB101 a uniform sample of its 423,624 unique cells (:func:`uniform_cells`). Cells given by
``BuildSpec.include`` (e.g. the cells of official NB101 records, :func:`read_include_csv`)
come first, before the ordered ones.

Examples
--------
>>> import tempfile, pathlib
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> spec = BuildSpec("nb201", "digits", get_recipe("quick-cpu", epochs=1), seeds=(0, 1), cells=2)
>>> out = build_benchmark(spec, tmp / "runs.sqlite")
>>> out.summary.stored, len(out.table.keys), out.table.datasets["digits"].values.shape
(4, 2, (2, 2, 1, 9))
>>> build_benchmark(spec, tmp / "runs.sqlite").summary.submitted
0
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from nasbench_tools.store.cells import CLASS_KEY, ROWS_CLASSES
from nasbench_tools.store.noise import split_half_tau
from nasbench_tools.store.table import METRICS, DatasetTable, TableData
from nasbench_tools.trainer.executors import RunSummary, make_executor, run_jobs
from nasbench_tools.trainer.recipes import Recipe
from nasbench_tools.trainer.results import KERNELS, Job, ResultsDB

__all__ = [
    "CELL_ORDERS",
    "INCLUDE_READERS",
    "BuildResult",
    "BuildSpec",
    "build_benchmark",
    "import_store",
    "official_tau",
    "other_build",
    "read_include_csv",
    "split_half_tau",
    "stratified_cells",
    "table_from_db",
    "uniform_cells",
]

log = logging.getLogger(__name__)

#: Metrics a training records, in the store's vocabulary order.
TRAINED_METRICS: tuple[str, ...] = tuple(
    m for m in METRICS
    if m in ("train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy",
             "test_loss", "train_time", "val_time", "test_time")
)

#: How many strata (parameter-count quantiles) the cell order interleaves.
NUM_STRATA = 10


def _unique_cells(space: Any) -> list[Any]:
    if hasattr(space, "unique_cells"):
        return list(space.unique_cells())
    seen: dict[str, Any] = {}
    for c in space.all_cells():
        seen.setdefault(c.hash, c)
    return list(seen.values())


def stratified_cells(space_name: str, n: int | None = None, *, seed: int = 0) -> list[Any]:
    """Unique cells of a space in a fixed order whose every prefix is stratified.

    The unique cells (one per isomorphism class) are split into :data:`NUM_STRATA` quantile
    bins of their parameter count; each bin is shuffled with ``seed`` and the bins are then
    interleaved round-robin. The first ``n`` cells of the order are returned, so a larger
    ``n`` extends a smaller one.

    Parameters
    ----------
    space_name : str
        Registered space (``"nb201"``).
    n : int, optional
        How many cells (all unique cells by default).
    seed : int, default 0
        Seed of the shuffles (a ``numpy.random.Generator``).

    Returns
    -------
    list of Cell

    Examples
    --------
    >>> a = stratified_cells("nb201", 20)
    >>> b = stratified_cells("nb201", 40)
    >>> a == b[:20], len({c.hash for c in b})
    (True, 40)
    """
    from nasbench_tools.spaces import get_space

    space = get_space(space_name)
    cells = _unique_cells(space)
    params = np.array([c.num_params("cifar10") for c in cells], dtype=np.float64)
    ranks = np.argsort(np.argsort(params, kind="stable"), kind="stable")
    strata = (ranks * NUM_STRATA) // len(cells)
    rng = np.random.default_rng(seed)
    bins = [list(rng.permutation(np.flatnonzero(strata == s))) for s in range(NUM_STRATA)]
    order: list[int] = []
    while any(bins):
        for b in bins:
            if b:
                order.append(int(b.pop(0)))
    if n is not None:
        if n < 1:
            raise OutOfDomainError(f"number of cells must be positive; got {n}")
        order = order[:n]
    return [cells[i] for i in order]


def uniform_cells(space_name: str, n: int | None = None, *, seed: int = 0) -> list[Any]:
    """Unique cells drawn uniformly without replacement, in a fixed order (NB101).

    The order is ``numpy.random.default_rng(seed).permutation`` of the rows of the space's
    enumerated table (one row per unique cell, sorted by official hash), so the first ``n``
    cells are a uniform sample and a larger ``n`` extends a smaller one.

    Parameters
    ----------
    space_name : str
        A space with an enumerated ``all_cells()`` (``"nb101"``).
    n : int, optional
        How many cells (all unique cells by default).
    seed : int, default 0
        Seed of the permutation.

    Returns
    -------
    list of Cell

    Examples
    --------
    >>> a = uniform_cells("nb101", 5)
    >>> a == uniform_cells("nb101", 8)[:5], len({c.hash for c in a})
    (True, 5)
    """
    from nasbench_tools.spaces import get_space

    cells = get_space(space_name).all_cells()
    if n is not None and n < 1:
        raise OutOfDomainError(f"number of cells must be positive; got {n}")
    order = np.random.default_rng(seed).permutation(len(cells))
    if n is not None:
        order = order[:n]
    return [cells[int(i)] for i in order]


#: Space -> its cell order ``(space, n, seed=...) -> cells`` (default: :func:`stratified_cells`).
CELL_ORDERS: dict[str, Any] = {"nb201": stratified_cells, "nb101": uniform_cells}


def _read_nb101_csv(path: Path) -> list[tuple[Any, float]]:
    """``nb101_hash, matrix, ops`` rows (+ an official 108-epoch accuracy) -> unique cells."""
    import csv

    from nasbench_tools.errors import FormatError
    from nasbench_tools.spaces.nb101 import Cell

    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or ())
        need = {"nb101_hash", "matrix", "ops"}
        acc_cols = [c for c in ("final_validation_accuracy", "val_accuracy") if c in cols]
        if not need <= cols or not acc_cols:
            raise FormatError(
                f"{path}: an NB101 cell CSV needs the columns {sorted(need)} and one of "
                f"['final_validation_accuracy' (fraction), 'val_accuracy' (%)]; it has "
                f"{sorted(cols)}"
            )
        scale = 100.0 if acc_cols[0] == "final_validation_accuracy" else 1.0
        accs: dict[str, list[float]] = {}
        cells: dict[str, Any] = {}
        for line, row in enumerate(reader, start=2):
            try:
                cell = Cell(json.loads(row["matrix"]), json.loads(row["ops"]))
                acc = float(row[acc_cols[0]]) * scale
            except (ValueError, TypeError) as exc:
                raise FormatError(f"{path}, line {line}: not an NB101 cell with an accuracy "
                                  f"({exc})") from exc
            if cell.hash != row["nb101_hash"].strip().lower():
                raise FormatError(
                    f"{path}, line {line}: nb101_hash {row['nb101_hash']!r} is not the official "
                    f"hash of its matrix and ops ({cell.hash})"
                )
            cells.setdefault(cell.hash, cell)
            accs.setdefault(cell.hash, []).append(acc)
    if not cells:
        raise FormatError(f"{path}: no NB101 cell rows")
    return [(cells[h], float(np.mean(accs[h]))) for h in cells]


#: Space -> reader of a CSV of cells to include, ``path -> [(cell, official accuracy)]``.
INCLUDE_READERS: dict[str, Any] = {"nb101": _read_nb101_csv}


def read_include_csv(space_name: str, path: str | Path) -> list[tuple[Any, float]]:
    """Cells (first occurrence order, duplicates merged) and official accuracies of a CSV.

    NB101: the shared files ``nb101_official_records_20arch.csv`` (``final_validation_accuracy``,
    fractions, the mean over the repeats is returned) and ``nb101_zc_proxies_sample500.csv``
    (``val_accuracy``, %); every row's ``nb101_hash`` must be the official hash of its
    ``matrix`` and ``ops``.

    Raises
    ------
    OutOfDomainError
        A space without such a reader.
    FormatError
        A missing file, missing columns, a row that is not a cell, a wrong hash.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> _ = p.write_text('nb101_hash,matrix,ops,val_accuracy\\n'
    ...     'b49ac8c578b4561d79ac7087988f1c61,"[[0,1,0],[0,0,1],[0,0,0]]",'
    ...     '"[""input"",""conv3x3-bn-relu"",""output""]",90.5\\n')
    >>> [(c.to_string(), a) for c, a in read_include_csv("nb101", p)]
    [('c3|010.001.000', 90.5)]
    """
    from nasbench_tools.errors import FormatError

    if space_name not in INCLUDE_READERS:
        raise OutOfDomainError(f"no cell CSV reader for space {space_name!r}; allowed: "
                               f"{allowed(INCLUDE_READERS)}")
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"cell CSV {p} does not exist")
    return list(INCLUDE_READERS[space_name](p))


@dataclass(frozen=True)
class BuildSpec:
    """What to build: space, dataset, recipe, seeds and how many (stratified) cells.

    Parameters
    ----------
    space : str
    dataset : str
        A dataset of ``trainer.datasets.DATASETS``.
    recipe : Recipe
    seeds : tuple of int
    cells : int, optional
        Number of cells from :func:`stratified_cells` (all unique cells when None).
    order_seed : int, default 0
        Seed of the stratified order.
    data_root : str, optional
        Directory of a disk dataset.
    kernel : str, default "single"
        ``"single"`` (one training per seed), ``"packed"`` (all seeds of a cell in one
        vectorised training, :mod:`nasbench_tools.trainer.packed`) or ``"multiarch"`` (packs
        of many cells x seeds, :mod:`nasbench_tools.trainer.multiarch`); part of every job key.
    include : tuple of str, default ()
        Cell strings trained first, before the ``cells`` ordered ones (which skip them).
    """

    space: str
    dataset: str
    recipe: Recipe
    seeds: tuple[int, ...] = (0, 1)
    cells: int | None = None
    order_seed: int = 0
    data_root: str | None = None
    kernel: str = "single"
    include: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise OutOfDomainError(f"unknown training kernel {self.kernel!r}; allowed: "
                                   f"{allowed(KERNELS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (recorded in the results DB and in the store's provenance)."""
        out: dict[str, Any] = {
            "space": self.space, "dataset": self.dataset, "recipe": self.recipe.to_dict(),
            "seeds": list(self.seeds), "cells": self.cells, "order_seed": self.order_seed,
            "kernel": self.kernel}
        if self.include:
            out["include"] = list(self.include)
        return out

    def cell_strings(self) -> list[str]:
        """The build's cells in order: ``include`` first, then the space's cell order."""
        from nasbench_tools.spaces import get_space

        space = get_space(self.space)
        order = CELL_ORDERS.get(self.space, stratified_cells)
        out: dict[str, str] = {}  # cell hash (isomorphism class) -> string, first one wins
        for c in [space.parse(t) for t in self.include]:
            out.setdefault(c.hash, c.to_string())
        for c in order(self.space, self.cells, seed=self.order_seed):
            out.setdefault(c.hash, c.to_string())
        return list(out.values())

    def jobs(self) -> list[Job]:
        """Cell-major job list: every seed of a cell before the next cell."""
        return [Job(self.space, c, self.dataset, self.recipe, s, self.data_root, self.kernel)
                for c in self.cell_strings() for s in self.seeds]


@dataclass
class BuildResult:
    """Outcome of :func:`build_benchmark`: the run summary and the table of finished cells."""

    summary: RunSummary
    table: TableData
    stats: dict[str, Any] = field(default_factory=dict)


def table_from_db(db: ResultsDB, spec: BuildSpec, *, index_csv: str | Path | None = None,
                  extra_provenance: dict[str, Any] | None = None) -> TableData:
    """Turn the finished cells of ``spec`` in ``db`` into a :class:`TableData`.

    Only cells with every seed finished are kept, in stratified order. ``indices`` are the
    official NB201 indices when ``index_csv`` (``nb201_index,arch_str``) is given, else
    ``Cell.code`` (recorded in the provenance).

    Raises
    ------
    NotInBenchmarkError
        No cell of the plan is finished yet.
    """
    from nasbench_tools.spaces import get_space

    space = get_space(spec.space)
    jobs = spec.jobs()
    by_cell: dict[str, dict[int, dict[str, Any]]] = {}
    for job in jobs:
        if job.key in db:
            by_cell.setdefault(job.cell, {})[job.seed] = db.get(job.key)
    complete = [c for c, runs in by_cell.items() if len(runs) == len(spec.seeds)]
    if not complete:
        raise NotInBenchmarkError(
            f"no cell of this build has all seeds {list(spec.seeds)} finished in {db.path}"
        )
    budget = spec.recipe.epochs
    fids = tuple((budget, e) for e in range(1, budget + 1))
    values = np.full((len(complete), len(spec.seeds), len(fids), len(TRAINED_METRICS)), np.nan,
                     dtype=np.float32)
    params = np.zeros(len(complete))
    per_epoch = np.zeros(len(complete))
    for i, c in enumerate(complete):
        for j, s in enumerate(spec.seeds):
            res = by_cell[c][s]
            for rec in res["records"]:
                values[i, j, rec["epoch"] - 1] = [rec[m] for m in TRAINED_METRICS]
            params[i] = res["params"] / 1e6
            per_epoch[i] += res["records"][-1]["train_time"] / budget / len(spec.seeds)
    cells = [space.parse(c) for c in complete]
    keys = list(complete)
    extra: dict[str, np.ndarray] = {}
    if spec.space in STORE_ROWS:
        keys, indices, extra, index_kind = STORE_ROWS[spec.space](cells)
        if index_csv is not None:
            raise OutOfDomainError(f"--index-csv holds NB201 indices; not for space {spec.space!r}")
    elif index_csv is not None:
        from nasbench_tools.spaces.nb201 import IndexTable

        table = IndexTable.from_csv(index_csv)
        indices = np.array([table.index_of(c) for c in cells], dtype=np.int64)
        index_kind = f"official NB201 index (from {Path(index_csv).name})"
    else:
        indices = np.array([getattr(c, "code", i) for i, c in enumerate(cells)], dtype=np.int64)
        index_kind = "Cell.code (no official index table given)"
    ds = DatasetTable(spec.dataset, tuple(spec.seeds), fids, TRAINED_METRICS, values,
                      {"params": params, "train_time_per_epoch": per_epoch})
    prov = {
        "built_by": "nasbench_tools.trainer.build_bench",
        "build": spec.to_dict(),
        "cells_complete": len(complete),
        "cells_partial": len(by_cell) - len(complete),
        "indices": index_kind,
        # the cells are class representatives (unique_cells): any cell of a class finds its row
        **({"rows": ROWS_CLASSES} if spec.space in CLASS_KEY else {}),
        "torch": torch.__version__,
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus",
        **(extra_provenance or {}),
    }
    return TableData(spec.space, keys, indices, {spec.dataset: ds}, prov, extra)


def _nb101_rows(cells: Sequence[Any]) -> tuple[list[str], np.ndarray, dict[str, np.ndarray], str]:
    """NB101 store rows: official module hashes as keys, enumerated-table rows as indices,
    and the ``nb101_matrix`` / ``nb101_ops`` columns of the tfrecord converter's stores."""
    from nasbench_tools.spaces.nb101 import SPACE as NB101
    from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
    from nasbench_tools.spaces.nb101.ops import MAX_VERTICES, OP_CODE

    kinds = {**OP_CODE, "input": KIND_INPUT, "output": KIND_OUTPUT}
    matrix = np.zeros((len(cells), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    ops = np.full((len(cells), MAX_VERTICES), KIND_PAD, dtype=np.uint8)
    for i, c in enumerate(cells):
        n = c.num_vertices
        matrix[i, :n, :n] = c.matrix
        ops[i, :n] = [kinds[o] for o in c.ops]
    indices = np.array([NB101.index_of(c) for c in cells], dtype=np.int64)
    return ([c.hash for c in cells], indices, {"nb101_matrix": matrix, "nb101_ops": ops},
            "row of the enumerated NB101 table (data/nb101_cells.npz, sorted by module hash)")


#: Space -> ``cells -> (keys, indices, extra columns, index description)`` for its store
#: rows (default: the cell strings as keys, NB201 indices or ``Cell.code``).
STORE_ROWS: dict[str, Any] = {"nb101": _nb101_rows}


def official_tau(table: TableData, official: dict[str, float], metric: str = "val_accuracy",
                 ) -> dict[str, Any]:
    """Kendall tau of the seed-mean of ``metric`` at each epoch against official accuracies.

    Parameters
    ----------
    table : TableData
        A built table (one dataset).
    official : dict of str to float
        Store key (NB101 module hash) -> the official accuracy (e.g. 108-epoch validation).

    Returns
    -------
    dict
        ``cells`` (how many keys of ``official`` the table holds) and ``tau`` per
        ``"epoch/budget"`` (None with fewer than 3 such cells).

    Examples
    --------
    >>> ds = DatasetTable("d", (0,), ((1, 1),), ("val_accuracy",), np.array([[[[1.0]]], [[[2.0]]], [[[3.0]]]]))
    >>> official_tau(TableData("nb101", ["a", "b", "c"], np.arange(3), {"d": ds}), {"a": 5, "b": 7, "c": 6})
    {'cells': 3, 'tau': {'1/1': 0.3333}}
    """
    from scipy.stats import kendalltau

    ds = next(iter(table.datasets.values()))
    m = ds.metrics.index(metric)
    rows = [i for i, k in enumerate(table.keys) if k in official]
    truth = np.array([official[table.keys[i]] for i in rows])
    taus: dict[str, float | None] = {}
    for f, (b, e) in enumerate(ds.fidelities):
        mean = np.nanmean(ds.values[rows, :, f, m].astype(np.float64), axis=1) if rows else []
        taus[f"{e}/{b}"] = (round(float(kendalltau(mean, truth)[0]), 4) if len(rows) >= 3
                            else None)
    return {"cells": len(rows), "tau": taus}


def benchmark_stats(table: TableData, metric: str = "val_accuracy", seed: int = 0) -> dict[str, Any]:
    """Noise and spread of a built table: split-half tau per fidelity, accuracy range.

    Examples
    --------
    >>> ds = DatasetTable("d", (0, 1), ((1, 1),), ("val_accuracy",),
    ...                   np.array([[[[50.0]], [[52.0]]], [[[70.0]], [[69.0]]], [[[90.0]], [[91.0]]]]))
    >>> benchmark_stats(TableData("nb201", ["a", "b", "c"], np.arange(3), {"d": ds}))["d"]["1/1"]["split_half_tau"]
    1.0
    """
    out: dict[str, Any] = {}
    for name, ds in table.datasets.items():
        if metric not in ds.metrics:
            raise OutOfDomainError(f"metric {metric!r} not in {allowed(ds.metrics)}")
        m = ds.metrics.index(metric)
        per: dict[str, Any] = {}
        for f, (b, e) in enumerate(ds.fidelities):
            v = ds.values[:, :, f, m].astype(np.float64)
            mean = np.nanmean(v, axis=1)
            per[f"{e}/{b}"] = {
                "split_half_tau": round(split_half_tau(v, np.random.default_rng(seed)), 4)
                if v.shape[1] >= 2 and v.shape[0] >= 3 else None,
                "min": round(float(np.nanmin(mean)), 2),
                "median": round(float(np.nanmedian(mean)), 2),
                "max": round(float(np.nanmax(mean)), 2),
                "seed_std_mean": round(float(np.nanmean(np.nanstd(v, axis=1))), 3),
            }
        out[name] = per
    return out


def other_build(meta: Any, spec: BuildSpec) -> str:
    """Why the store of ``meta`` is not one of this build ('' if it is).

    A build resumes from its own store; a store of another build (space, dataset, kernel,
    recipe), or one not made by ``build-bench`` at all, is neither imported nor overwritten.
    """
    build = meta.provenance.get("build") or {}
    if not build:
        return (f"it holds a {meta.space!r} store not made by build-bench "
                f"(made by {meta.command or 'an unknown command'!r})")
    theirs = (meta.space, build.get("dataset"), build.get("kernel", "single"))
    ours = (spec.space, spec.dataset, spec.kernel)
    same_recipe = ("recipe" in build
                   and Recipe.from_dict(build["recipe"]).fingerprint() == spec.recipe.fingerprint())
    if theirs != ours or not same_recipe or spec.dataset not in meta.datasets:
        return (f"it was built with (space, dataset, kernel) = {theirs} and recipe "
                f"{build.get('recipe', {}).get('name')!r}; this build is {ours} with recipe "
                f"{spec.recipe.name!r}")
    return ""


def import_store(db: ResultsDB, spec: BuildSpec, store: str | Path) -> int:
    """Put the trainings of a store written by this build back into ``db``.

    A store written by :func:`build_benchmark` holds every recorded metric of every seed and
    epoch, so it is enough to resume or grow the build even without its results database
    (which is a local journal, too large to ship). Nothing is imported from a store of
    another build (other space, dataset, recipe or kernel): the reason is logged.

    Parameters
    ----------
    db : ResultsDB
    spec : BuildSpec
        The build being run; only its seeds are imported.
    store : path
        A store file (from ``nbt build-bench``).

    Returns
    -------
    int
        Trainings added to ``db`` (those already there are skipped).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nasbench_tools.store import write_store
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> spec = BuildSpec("nb201", "digits", get_recipe("quick-cpu", epochs=1), seeds=(0, 1), cells=1)
    >>> out = build_benchmark(spec, tmp / "a.sqlite")
    >>> store = write_store(out.table, tmp / "b.h5")
    >>> import_store(ResultsDB(tmp / "fresh.sqlite"), spec, store)
    2
    """
    from nasbench_tools.store.format import H5Backend

    backend = H5Backend(store)
    meta = backend.meta
    reason = other_build(meta, spec)
    if reason:
        log.warning("%s: not imported, %s", store, reason)
        return 0
    info = meta.datasets[spec.dataset]
    missing = [m for m in TRAINED_METRICS if m not in info.metrics]
    if missing:
        raise OutOfDomainError(f"{store}: metrics {missing} missing; it holds {list(info.metrics)}")
    values = backend.values(spec.dataset)
    params = backend.cost(spec.dataset, "params")
    cols = [info.metrics.index(m) for m in TRAINED_METRICS]
    from nasbench_tools.spaces import get_space

    wanted = set(spec.seeds)
    items = []
    space = get_space(spec.space)
    # NB101 stores are keyed by module hash; jobs by the cell's string
    for i, key in enumerate(backend.keys()):
        cell = space.parse(key).to_string() if spec.space in STORE_ROWS else key
        for j, seed in enumerate(info.seeds):
            if seed not in wanted:
                continue
            job = Job(spec.space, cell, spec.dataset, spec.recipe, seed, spec.data_root,
                      spec.kernel)
            records = [{"epoch": e, **{m: float(values[i, j, f, c])
                                       for m, c in zip(TRAINED_METRICS, cols)}}
                       for f, (_, e) in enumerate(info.fidelities)]
            items.append((job, {"records": records, "params": int(np.rint(params[i] * 1e6)),
                                "info": {"imported_from": str(store),
                                         "store_uuid": meta.store_uuid}}))
    added = db.add_many(items)
    log.info("%s: %d trainings imported (%d already in %s)", store, added, len(items) - added,
             db.path)
    return added


def build_benchmark(
    spec: BuildSpec,
    db_path: str | Path,
    *,
    executor: str = "serial",
    workers: int = 1,
    scheduler: str | None = None,
    index_csv: str | Path | None = None,
    time_limit: float | None = None,
    resume_from: str | Path | None = None,
    max_pack: int | None = None,
    official: dict[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BuildResult:
    """Train every missing job of ``spec`` and return the table of finished cells.

    Parameters
    ----------
    spec : BuildSpec
    db_path : path
        Results database; reused across runs (resume, growth).
    executor, workers, scheduler
        See :func:`~nasbench_tools.trainer.executors.make_executor`.
    index_csv : path, optional
        ``nb201_index,arch_str`` CSV for official indices.
    time_limit : float, optional
        Seconds after which no new training is started (those running finish and are
        stored); the table then holds the cells completed so far and a later call continues.
    resume_from : path, optional
        A store of this build whose trainings are imported first (:func:`import_store`).
    max_pack : int, optional
        Most trainings per pack (``packed``, ``multiarch``; see
        :func:`~nasbench_tools.trainer.executors.pack_tasks`).
    official : dict of str to float, optional
        Store key -> official accuracy of some cells (e.g. from :func:`read_include_csv`);
        :func:`official_tau` is then recorded in ``stats`` and the provenance.
    progress : callable, optional
        Called as ``progress(done, total)`` once before the first training (``done`` 0) and
        after each stored one; ``total`` counts the trainings missing at the start.
    should_stop : callable, optional
        Checked like ``time_limit`` (a signal handler sets it): once it returns True no new
        training starts, those running finish and are stored, and the table is returned.

    Returns
    -------
    BuildResult
    """
    db = ResultsDB(db_path)
    try:
        db.set_meta("last_build", spec.to_dict())
        if resume_from is not None and Path(resume_from).is_file():
            import_store(db, spec, resume_from)
        jobs = spec.jobs()
        t0 = time.perf_counter()
        done, total = [0], [0]

        def started(n: int) -> None:
            total[0] = n
            if progress is not None:
                progress(0, n)

        def stored(job: Job, result: dict[str, Any]) -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0], total[0])
            if done[0] % 20 == 0:
                log.info("%d trainings stored (%.0f s)", done[0], time.perf_counter() - t0)

        deadline = None if time_limit is None else time.monotonic() + time_limit

        def out_of_time() -> bool:
            return deadline is not None and time.monotonic() > deadline

        def stop() -> bool:
            return out_of_time() or (should_stop is not None and should_stop())

        # the bar starts inside the executor's block: a bad executor name shows no bar
        with make_executor(executor, workers, scheduler) as ex:
            summary = run_jobs(jobs, db, ex, on_result=stored, stop=stop, max_pack=max_pack,
                               on_start=started)
        if out_of_time():
            log.warning("time limit reached: %d trainings stored this run", summary.stored)
        elif should_stop is not None and should_stop():
            log.warning("stopped: %d trainings stored this run", summary.stored)
        table = table_from_db(db, spec, index_csv=index_csv)
        stats = benchmark_stats(table)
        table.provenance["stats_val_accuracy"] = json.loads(json.dumps(stats))
        table.provenance["stats_val_loss"] = benchmark_stats(table, "val_loss")
        if official:
            stats["official_tau"] = official_tau(table, official)
            table.provenance["official_tau_val_accuracy"] = stats["official_tau"]
        return BuildResult(summary, table, stats)
    finally:
        db.close()


def seeds_arg(values: Sequence[int]) -> tuple[int, ...]:
    """Validate a seed list (distinct non-negative integers)."""
    seeds = tuple(int(s) for s in values)
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise OutOfDomainError(f"seeds must be distinct non-negative integers; got {list(values)}")
    return seeds
