"""Zero-cost scores of a whole search space (or a seeded random part of it), as a library call.

:func:`score_space` is what ``nbt zc-score`` runs (the CLI only parses arguments and prints):
it chooses the cells, scores one network per isomorphism class in a uniform random order
(so a run stopped early is a uniform sample of classes), resumes from an HDF5 score cache,
maps the cells to their store indices (official NB201 indices with ``index_from``), measures
Kendall taus against a reference table, and returns a :class:`SpaceScores` that can be
written as a store (``docs/zero-cost.md``, "Whole-space scores as a store").

The building blocks are public too: :func:`select_cells`, :func:`scoring_order`,
:func:`official_indices` and :func:`reference_taus`.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "zc.h5"
>>> res = score_space("nb201", "params", cells=4, store=out)
>>> res.cells_scored, res.complete, res.feature, res.store == out
(4, True, 'zc_params', True)
>>> again = score_space("nb201", "params", cells=4, store=out)  # resumed: nothing computed
>>> again.computed, again.cached_before, bool((again.scores == res.scores).all())
(0, 4, True)
"""

from __future__ import annotations

import contextlib
import logging
import operator
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError
from predictors.zerocost.base import ZeroCostProxy

if TYPE_CHECKING:
    from nasbench_tools.spaces.base import SearchSpace
    from nasbench_tools.spaces.nb201 import IndexTable
    from nasbench_tools.store import TableData

__all__ = [
    "DEFAULT_REFERENCE_TARGETS",
    "ReferenceTaus",
    "SpaceScores",
    "TargetTau",
    "TauComparison",
    "official_indices",
    "read_cell_list",
    "reference_taus",
    "score_space",
    "scoring_order",
    "select_cells",
    "store_key",
]

log = logging.getLogger(__name__)

#: Columns of the published NB201 NASWOT table that ``reference`` is compared with by default.
DEFAULT_REFERENCE_TARGETS: tuple[str, ...] = ("cifar10_valid_xvalid_acc", "cifar10_test_acc")

#: Store key of a cell, per space (default ``cell.to_string()``: NB201 / NATS strings).
_KEY_OF: dict[str, Callable[[Any], str]] = {"nb101": lambda c: str(c.hash)}

_SELECTION = (
    "cells: uniform random order from numpy default_rng([seed, 2]), --cells N "
    "takes its first N; classes scored in a uniform random order (default_rng([seed, 3]) "
    "over the sorted class keys), so a partial run is a uniform sample of classes"
)


def store_key(space: str, cell: Any) -> str:
    """The key of ``cell`` in a store of ``space``: the NB101 module hash, else the cell string.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> store_key("nb201", Cell(("none",) * 6))
    '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'
    """
    return _KEY_OF.get(space, lambda c: str(c.to_string()))(cell)


def select_cells(space: SearchSpace[Any], n: int | None, seed: int) -> list[Any]:
    """All cells of ``space`` in a random order (seed ``[seed, 2]``), or the first ``n`` of it.

    The order is fixed by ``seed``, so ``n=3`` is a prefix of ``n=6``.

    Raises
    ------
    OutOfDomainError
        If ``n`` exceeds the size of the space.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> select_cells(sp, 6, 0)[:3] == select_cells(sp, 3, 0)
    True
    """
    total = int(space.size())
    if n is not None and n > total:
        raise OutOfDomainError(f"cells={n} exceeds the {total} cells of {space.name}")
    order = np.random.default_rng([seed, 2]).permutation(total)
    if n is not None:
        order = order[:n]
    cells = space.all_cells()
    return [cells[int(i)] for i in order]


def read_cell_list(space: SearchSpace[Any], path: str | os.PathLike[str]) -> list[Any]:
    """The distinct cells listed in ``path``, in first-seen order.

    ``path`` is a CSV with an ``arch_str`` column (as NASLib's zero-cost tables) or a text
    file with one cell string per line (``#`` starts a comment line).

    Examples
    --------
    >>> import os, tempfile
    >>> from nasbench_tools.spaces import get_space
    >>> arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "c.csv")
    ...     _ = open(f, "w").write(f"x,arch_str\\n1,{arch}\\n2,{arch}\\n")
    ...     [c.to_string() for c in read_cell_list(get_space("nb201"), f)] == [arch]
    True
    """
    import csv

    file = Path(path)
    if not file.is_file():
        raise OutOfDomainError(f"{file}: no such file (a CSV with an arch_str column, or one cell per line)")
    lines = [ln.strip() for ln in file.read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if lines and "arch_str" in lines[0].split(","):
        with file.open(newline="") as fh:
            values = [row["arch_str"] for row in csv.DictReader(fh)]
    else:
        values = lines
    if not values:
        raise OutOfDomainError(f"{file}: no cells found (a CSV with an arch_str column, or one cell per line)")
    return list(dict.fromkeys(space.parse(v) for v in values))


def scoring_order(proxy: ZeroCostProxy, cells: Sequence[Any], seed: int) -> list[Any]:
    """One representative per isomorphism class of ``cells``, classes in a uniform random order.

    The order (sorted class keys permuted with seed ``[seed, 3]``) makes a run stopped
    early a uniform random sample of classes, hence every cell has the same chance to be
    scored (classes of many cells are not favoured).

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> from predictors.zerocost import get_proxy
    >>> cells = [Cell(("none",) * 6), Cell(("nor_conv_3x3",) + ("none",) * 5)]
    >>> len(scoring_order(get_proxy("naswot"), cells, 0))  # isomorphic: one class
    1
    """
    unique = proxy.unique_cells(list(cells))
    keys = sorted(unique)
    return [unique[keys[i]] for i in np.random.default_rng([seed, 3]).permutation(len(keys))]


def _index_table(source: str | os.PathLike[str]) -> IndexTable:
    """NB201 official index order from a CSV (``nb201_index,arch_str``) or a store."""
    from nasbench_tools.spaces.nb201 import Cell, IndexTable

    path = Path(source)
    if path.suffix.lower() == ".csv":
        return IndexTable.from_csv(path)
    from nasbench_tools.store import load_benchmark

    bench = load_benchmark(path)
    if bench.space != "nb201":
        raise FormatError(f"{path}: --index-from needs an nb201 store, this one is {bench.space!r}")
    indices = np.asarray(bench.indices, dtype=np.int64)
    if sorted(indices.tolist()) != list(range(len(indices))):
        raise FormatError(f"{path}: its official indices do not cover 0..{len(indices) - 1}")
    codes = np.empty(len(indices), dtype=np.int64)
    codes[indices] = [Cell.from_string(k).code for k in bench.keys]
    return IndexTable(codes)


def official_indices(
    space: SearchSpace[Any], cells: Sequence[Any], index_from: str | os.PathLike[str] | None
) -> tuple[np.ndarray, str]:
    """Store indices of ``cells`` and a sentence saying what they are.

    NB201: official indices read from ``index_from`` (a CSV ``nb201_index,arch_str`` or an
    nb201 store), else ``Cell.code`` (said so in the sentence); NATS-SSS: its official
    index; NB101: the position in ``space.all_cells()``.

    Raises
    ------
    OutOfDomainError
        ``index_from`` for nb101 (for nats_sss it is ignored: the cells carry their
        official index).
    FormatError
        ``index_from`` is not an index CSV or a complete nb201 store.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> idx, what = official_indices(sp, sp.all_cells()[:2], None)
    >>> idx.tolist(), what.split(":")[0]
    ([0, 1], 'Cell.code')
    """
    if space.name == "nb201":
        if index_from is None:
            return (
                np.array([c.code for c in cells], dtype=np.int64),
                "Cell.code: indices are the base-5 op code, NOT the official NB201 index "
                "(pass --index-from for official indices)",
            )
        table = _index_table(index_from)
        return (
            np.array([table.index_of(c) for c in cells], dtype=np.int64),
            f"official NB201 index (order read from {index_from})",
        )
    if space.name == "nats_sss":
        return np.array([c.index for c in cells], dtype=np.int64), "official NATS-SSS index"
    if index_from is not None:
        raise OutOfDomainError(f"index_from (--index-from) is for nb201 only, not {space.name!r}")
    position = {c: i for i, c in enumerate(space.all_cells())}
    return (
        np.array([position[c] for c in cells], dtype=np.int64),
        f"position in {space.name} SPACE.all_cells()",
    )


@dataclass(frozen=True)
class TauComparison:
    """Both Kendall taus on the cells where our score and a published score are finite.

    Attributes
    ----------
    column : str
        The published score column (e.g. ``naswot_score``).
    n_cells : int
    tau : float
        Our score against the target.
    tau_compare : float
        The published score against the target.
    """

    column: str
    n_cells: int
    tau: float
    tau_compare: float


@dataclass(frozen=True)
class TargetTau:
    """Kendall tau of the scores against one target column of a reference table.

    Attributes
    ----------
    target : str
    n_cells : int
        Cells with a score (not NaN) and a finite target.
    tau : float
        Rounded to 6 decimals.
    compare : TauComparison or None
        Present when a compare column was asked for.
    """

    target: str
    n_cells: int
    tau: float
    compare: TauComparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """As recorded in a store's provenance."""
        out: dict[str, Any] = {"n_cells": self.n_cells, "tau": self.tau}
        if self.compare is not None:
            c = self.compare
            out["compare"] = {
                "column": c.column, "n_cells": c.n_cells, "tau": c.tau, "tau_compare": c.tau_compare,
            }
        return out


@dataclass(frozen=True)
class ReferenceTaus:
    """Kendall taus against the columns of one reference CSV (:func:`reference_taus`).

    ``taus[target]`` is the :class:`TargetTau` of ``target``.
    """

    file: str
    targets: tuple[TargetTau, ...]

    def __getitem__(self, target: str) -> TargetTau:
        for entry in self.targets:
            if entry.target == target:
                return entry
        raise OutOfDomainError(
            f"no tau for target {target!r}; targets are {[t.target for t in self.targets]}"
        )

    def to_dict(self) -> dict[str, Any]:
        """As recorded in a store's provenance: ``{"file": ..., target: {...}, ...}``."""
        out: dict[str, Any] = {"file": self.file}
        for entry in self.targets:
            out[entry.target] = entry.to_dict()
        return out


def reference_taus(
    keys: Sequence[str],
    scores: np.ndarray,
    reference: str | os.PathLike[str],
    targets: Sequence[str] = DEFAULT_REFERENCE_TARGETS,
    compare: str | None = None,
) -> ReferenceTaus:
    """Kendall tau of ``scores`` against columns of a reference CSV keyed by ``arch_str``.

    Per target: tau over the cells with a score (NaN excluded, ``-inf`` kept: it ranks
    last) and a finite target; with ``compare`` (e.g. ``naswot_score``) also both taus on
    the cells where our score and that column are finite.

    Raises
    ------
    FormatError
        The CSV has no ``arch_str`` column, or lacks a target or the compare column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("arch_str,acc,theirs\\na,1,1\\nb,2,3\\nc,3,2\\n")
    >>> r = reference_taus(["a", "b", "c"], np.array([0.0, 1.0, 2.0]), str(p), ["acc"], "theirs")
    >>> r["acc"].tau, r["acc"].compare.tau_compare
    (1.0, 0.333333)
    """
    import pandas as pd
    from scipy.stats import kendalltau

    table = pd.read_csv(reference)
    if "arch_str" not in table.columns:
        raise FormatError(f"{reference}: no column 'arch_str'; columns are {list(table.columns)}")
    table = table.set_index("arch_str")
    wanted = [*targets, *([compare] if compare else [])]
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise FormatError(f"{reference}: no columns {missing}; columns are {list(table.columns)}")
    ref = table.reindex(list(keys))
    have = ~np.isnan(scores)
    entries = []
    for target in targets:
        y = ref[target].to_numpy(dtype=np.float64)
        ok = have & np.isfinite(y)
        comparison = None
        if compare:
            theirs = ref[compare].to_numpy(dtype=np.float64)
            both = ok & np.isfinite(scores) & np.isfinite(theirs)
            comparison = TauComparison(
                column=compare,
                n_cells=int(both.sum()),
                tau=round(float(kendalltau(scores[both], y[both]).statistic), 6),
                tau_compare=round(float(kendalltau(theirs[both], y[both]).statistic), 6),
            )
        entries.append(TargetTau(
            target=target,
            n_cells=int(ok.sum()),
            tau=round(float(kendalltau(scores[ok], y[ok]).statistic), 6),
            compare=comparison,
        ))
    return ReferenceTaus(file=str(reference), targets=tuple(entries))


@dataclass(frozen=True, eq=False)
class SpaceScores:
    """What :func:`score_space` scored: one row per chosen cell, in store-index order.

    Attributes
    ----------
    space : str
        Registry name of the space.
    feature : str
        ``"zc_<proxy>"``, the store feature holding the scores.
    dataset : str
        The proxy's dataset (network head), the store's dataset.
    keys : tuple of str
        Store key per row (:func:`store_key`).
    indices : numpy.ndarray
        int64 store index per row, ascending (see ``index_note``).
    scores : numpy.ndarray
        float64 score per row; NaN for cells whose class is not scored (yet).
    index_note : str
        What ``indices`` are (official index, ``Cell.code``, position).
    cells : int or "all"
        How many cells were asked for.
    classes_total, classes_scored : int
        Isomorphism classes among the cells, and those with a score.
    complete : bool
        Every class has a score (False after a time limit or a stop).
    computed, cached_before : int
        Classes computed in this call, and found in the cache before it.
    wall_seconds, cpu_seconds : float
        Time of the computing part of this call (CPU includes worker processes).
    workers : int
    compute_total : dict of str to float
        Cumulative ``cells_computed``, ``cpu_seconds``, ``wall_seconds`` of every run that
        filled the cache (this call's alone without a cache).
    proxy_metadata : dict
        ``proxy.metadata`` (proxy, dataset, data, batch size, seed, overrides).
    cache : pathlib.Path or None
        The score cache, if one was used.
    reference : ReferenceTaus or None
        Taus against ``reference``, if one was given.
    store : pathlib.Path or None
        The store written, if ``store`` was given.
    """

    space: str
    feature: str
    dataset: str
    keys: tuple[str, ...]
    indices: np.ndarray
    scores: np.ndarray
    index_note: str
    cells: int | str
    classes_total: int
    classes_scored: int
    complete: bool
    computed: int
    cached_before: int
    wall_seconds: float
    cpu_seconds: float
    workers: int
    compute_total: dict[str, float]
    proxy_metadata: dict[str, Any]
    cache: Path | None = None
    reference: ReferenceTaus | None = None
    store: Path | None = None

    @property
    def cells_total(self) -> int:
        """Rows (chosen cells)."""
        return len(self.keys)

    @property
    def cells_scored(self) -> int:
        """Rows with a score (not NaN)."""
        return int((~np.isnan(self.scores)).sum())

    def provenance(self) -> dict[str, Any]:
        """The JSON record a store keeps under ``provenance["zero_cost"]``."""
        info: dict[str, Any] = {
            **self.proxy_metadata,
            "feature": self.feature,
            "space": self.space,
            "cells": self.cells,
            "selection": _SELECTION,
            "index": self.index_note,
            "classes_total": self.classes_total,
            "classes_scored": self.classes_scored,
            "cells_total": self.cells_total,
            "cells_scored": self.cells_scored,
            "complete": self.complete,
        }
        if self.cache is not None:
            info["cache"] = str(self.cache)
        info["compute_total"] = dict(self.compute_total)
        info["this_run"] = {
            "computed": self.computed, "cached_before": self.cached_before,
            "wall_seconds": round(self.wall_seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
            "workers": self.workers,
        }
        if self.reference is not None:
            info["reference"] = self.reference.to_dict()
        return info

    def table_data(self) -> TableData:
        """The scores as a store table: one dataset, no metrics, the feature ``zc_<proxy>``."""
        from nasbench_tools.store import DatasetTable, TableData

        table = DatasetTable(
            self.dataset, (), (), (), np.empty((len(self.keys), 0, 0, 0), dtype=np.float32),
            features={self.feature: self.scores},
        )
        return TableData(
            self.space, list(self.keys), self.indices, {self.dataset: table},
            provenance={"zero_cost": self.provenance()},
        )

    def write(self, path: str | os.PathLike[str], *, command: str | None = None) -> Path:
        """Write the scores as a store at ``path`` (atomically); ``command`` is recorded."""
        from nasbench_tools.store import write_store

        return write_store(self.table_data(), path, command=command)


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise OutOfDomainError(f"{name} must be a positive integer, got {value!r}")


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore (nothing for None)."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _count(cells: int | str) -> int | None:
    """``"all"`` -> None, else ``cells`` as a positive integer."""
    if cells == "all":
        return None
    try:
        n = operator.index(cells)  # type: ignore[arg-type]
    except TypeError:
        n = 0
    if isinstance(cells, bool) or n < 1:
        raise OutOfDomainError(f"cells must be 'all' or a positive integer, got {cells!r}")
    return n


def score_space(
    space: str | SearchSpace[Any],
    proxy: str | ZeroCostProxy,
    *,
    cells: int | Literal["all"] | Sequence[Any] = "all",
    seed: int = 0,
    store: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    resume: bool = True,
    index_from: str | os.PathLike[str] | None = None,
    reference: str | os.PathLike[str] | None = None,
    reference_targets: Sequence[str] = DEFAULT_REFERENCE_TARGETS,
    reference_compare: str | None = "naswot_score",
    workers: int = 1,
    threads: int | None = None,
    flush_every: int = 50,
    time_limit: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: str | None = None,
) -> SpaceScores:
    """Score every cell of ``space`` (or ``cells`` random ones) with a zero-cost proxy.

    One network per isomorphism class, classes in a uniform random order; resumable from a
    score cache; stoppable (``time_limit``, ``should_stop``, ``Ctrl-C``), after which the
    result is partial (``complete`` False, NaN for the cells not scored).

    Parameters
    ----------
    space : str or SearchSpace
        ``"nb101"``, ``"nb201"``, ``"nats_sss"`` or a space object.
    proxy : str or ZeroCostProxy
        A proxy object, or a name of :data:`~predictors.zerocost.PROXIES` built with its
        defaults and ``random_state=seed`` (build it with
        :func:`~predictors.zerocost.get_proxy` for another dataset, data or batch size).
    cells : int, "all" or sequence of cells, default "all"
        ``"all"``, the first ``N`` cells of a uniform random order of the space fixed by
        ``seed`` (``cells=3`` is a prefix of ``cells=6``), or the cells themselves (e.g.
        a pool read by :func:`read_cell_list`; duplicates are scored once).
    seed : int, default 0
        Seed of the cell order and of the class order.
    store : path, optional
        Write the result as a store there (atomically); see :meth:`SpaceScores.write`.
    cache : path, optional
        HDF5 score cache (:mod:`predictors.zerocost.cache`); default ``<store>.cache.h5``
        when ``store`` is given, else no cache (nothing kept between calls).
    resume : bool, default True
        Continue from the scores the cache holds. With False the call refuses to start if
        the cache already holds scores of this proxy (same settings) on this space, rather
        than mix them in (use another cache, or ``resume=True``).
    index_from : path, optional
        nb201: official index order from a CSV (``nb201_index,arch_str``) or an nb201
        store; without it the indices are ``Cell.code``. NATS-SSS cells carry their
        official index (``index_from`` is ignored); refused for nb101.
    reference : path, optional
        CSV keyed by ``arch_str``: record Kendall taus against ``reference_targets``.
    reference_targets : sequence of str, default ``DEFAULT_REFERENCE_TARGETS``
    reference_compare : str or None, default "naswot_score"
        A score column of ``reference`` to compare with (None: none).
    workers : int, default 1
        Scoring processes (one torch thread each); the values do not depend on it.
    threads : int, optional
        torch threads of this process while scoring (``workers=1`` only); restored after.
        Default: leave torch's setting alone.
    flush_every : int, default 50
        Save the cache every that many new scores (a killed run loses at most that many).
    time_limit : float, optional
        Seconds after which scoring stops (``0`` or less: compute nothing, use the cache).
    should_stop : callable, optional
        Polled between scores; True stops scoring (e.g. a signal handler's flag).
    progress : callable, optional
        ``progress(done, total)`` over the classes computed in this call.
    command : str, optional
        Recorded in the store (default: this call, as a Python expression).

    Returns
    -------
    SpaceScores

    Raises
    ------
    OutOfDomainError
        Unknown space or proxy, ``cells`` not "all" nor a positive integer or larger than
        the space, non-positive ``workers``/``threads``/``flush_every``, ``threads > 1``
        with ``workers > 1``, ``index_from`` for nb101, or ``resume=False`` with a
        cache that already holds these scores.
    FormatError
        Unreadable cache, ``index_from`` or ``reference``.

    Examples
    --------
    Six random NB201 cells, their parameter counts (a proxy that builds the networks but
    runs no data); rows come in index order, here ``Cell.code`` (no ``index_from`` given):

    >>> res = score_space("nb201", "params", cells=6, seed=1)
    >>> res.cells_total, res.classes_total == res.classes_scored, res.complete
    (6, True, True)
    >>> bool((np.diff(res.indices) > 0).all()), res.index_note.split(":")[0]
    (True, 'Cell.code')
    >>> res.provenance()["this_run"]["computed"] == res.classes_total
    True

    A time limit of 0 computes nothing: without a cache, every score is missing.

    >>> part = score_space("nb201", "params", cells=6, seed=1, time_limit=0)
    >>> part.complete, part.cells_scored, int(np.isnan(part.scores).sum())
    (False, 0, 6)
    """
    from nasbench_tools.spaces import get_space
    from predictors.zerocost.cache import ScoreCache
    from predictors.zerocost.scorer import get_proxy, score_classes

    if threads is not None:
        _positive("threads", threads)
        if threads > 1 and workers > 1:
            raise OutOfDomainError(
                "threads > 1 is for workers=1 (each worker process uses one thread); choose "
                "one way of using the cores"
            )
    _positive("workers", workers)
    _positive("flush_every", flush_every)
    listed = not isinstance(cells, (int, str))
    n = None if listed else _count(cells)  # type: ignore[arg-type]

    sp = get_space(space) if isinstance(space, str) else space
    zc = get_proxy(proxy, random_state=seed) if isinstance(proxy, str) else proxy
    out = None if store is None else Path(store)
    cache_path = Path(cache) if cache is not None else (
        None if out is None else out.with_name(out.name + ".cache.h5")
    )
    if not resume and cache_path is not None:
        held = [k for k in ScoreCache(cache_path).read(zc.metadata) if k.startswith(f"{sp.name}:")]
        if held:
            raise OutOfDomainError(
                f"{cache_path} already holds {len(held)} {zc.name} scores on {sp.name} with "
                "these settings; pass resume=True to continue from them, or another cache"
            )
    if listed:
        chosen = list(dict.fromkeys(cells))  # type: ignore[arg-type]
        if not chosen:
            raise OutOfDomainError("cells: the list of cells is empty")
        label: int | str = f"{len(chosen)} listed cells"
    else:
        chosen = select_cells(sp, n, seed)
        label = "all" if n is None else n
    indices, index_note = official_indices(sp, chosen, index_from)

    deadline = None if time_limit is None else time.monotonic() + time_limit

    def stop() -> bool:
        return (should_stop is not None and should_stop()) or (
            deadline is not None and time.monotonic() > deadline
        )

    with _torch_threads(threads):
        res = score_classes(
            zc, scoring_order(zc, chosen, seed), cache_path, flush_every=flush_every,
            workers=workers, progress=progress, should_stop=stop,
        )

    # Rows in index order; NaN for cells whose class is not scored (yet).
    order = np.argsort(indices, kind="stable")
    chosen = [chosen[i] for i in order]
    values = np.array([res.scores.get(zc.key(c), np.nan) for c in chosen], dtype=np.float64)
    keys = tuple(store_key(sp.name, c) for c in chosen)
    if cache_path is not None:
        totals = ScoreCache(cache_path).timing(zc.metadata, sp.name)
    else:
        totals = {"cells_computed": float(res.computed), "cpu_seconds": res.cpu_seconds,
                  "wall_seconds": res.wall_seconds}
    taus = None
    if reference:
        taus = reference_taus(keys, values, reference, list(reference_targets),
                              reference_compare or None)
    result = SpaceScores(
        space=sp.name, feature=f"zc_{zc.name}", dataset=zc.dataset, keys=keys,
        indices=indices[order], scores=values, index_note=index_note, cells=label,
        classes_total=res.n_classes, classes_scored=len(res.scores), complete=res.complete,
        computed=res.computed, cached_before=res.cached, wall_seconds=res.wall_seconds,
        cpu_seconds=res.cpu_seconds, workers=workers, compute_total=totals,
        proxy_metadata=dict(zc.metadata), cache=cache_path, reference=taus,
    )
    if out is None:
        return result
    if command is None:
        command = f"predictors.zerocost.score_space({sp.name!r}, {zc.name!r}, cells={result.cells!r}, seed={seed})"
    written = result.write(out, command=command)
    log.info("%s: %d/%d cells scored", written, result.cells_scored, result.cells_total)
    return replace(result, store=written)
