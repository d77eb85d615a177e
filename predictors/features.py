"""Feature sets: how a predictor's input matrix ``X`` is built from cells.

A :class:`FeatureSet` is an array encoding of the search space (``SPACE.encode(cells,
kind)`` with kind ``adjacency_onehot``, ``path``, ``gbdt`` or ``renas``), or none, followed
by *extra* per-cell columns: published or cached training-free scores (``naswot_score``),
costs (``params`` in millions, ``flops`` in MFLOPs) or any column you pass. Predictors see
only the resulting arrays.

Where extra columns come from, first match wins (:func:`resolve_extra`):

1. the mapping ``extras`` you pass (name -> array aligned with ``cells``);
2. the benchmark, if one is given: ``bench.feature(name, dataset)`` (training-free scores
   stored per dataset), then ``bench.cost_column(name, dataset)`` (``params``, ``flops``,
   ...), read at ``bench.rows(cells)``;
3. ``"zc:<proxy>"``: a training-free scorer of :mod:`predictors.zerocost` run on the cells
   (:func:`zero_cost_column`, cached on disk when :data:`ZC_CACHE_DIR` is set);
4. analytic costs of the space: ``params`` = ``cell.num_params(dataset) / 1e6`` and
   ``flops`` = ``cell.flops(dataset)``.

Missing values (NaN, e.g. ``naswot_score`` of the 341 disconnected NB201 cells, and
non-finite ones such as our own NASWOT's ``-inf`` for the same cells) are replaced by the
column's smallest finite value (``impute="min"``): a missing score marks a cell that
computes nothing useful, so it ranks last. ``impute="none"`` keeps them (XGBoost handles
NaN).

Names: the sets of :data:`FEATURE_SETS` are registered; any other name made of
``+``-joined parts (an encoding, blocks, column groups, extra columns such as
``zc_naswot`` read from another store by :mod:`predictors.features_from`) is composed on
first use (:func:`compose_feature_set`), e.g. ``onehot+graph+zc_naswot+params+flops``.

Examples
--------
>>> import numpy as np
>>> fs = FeatureSet("demo", encoding=None, extras=("a", "b"))
>>> fs.build([object(), object()], extras={"a": np.array([1.0, np.nan]), "b": np.zeros(2)})
array([[1., 0.],
       [1., 0.]])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from predictors.entries import add_entry

__all__ = [
    "BLOCKS",
    "COLUMN_GROUPS",
    "ENCODINGS",
    "FEATURE_SETS",
    "GRAPH_FEATURES",
    "IMPUTE",
    "LOG_PREFIX",
    "FeatureSet",
    "compose_feature_set",
    "get_feature_set",
    "graph_features",
    "known_columns",
    "register_feature_set",
    "resolve_extra",
    "signed_log10",
    "zero_cost_column",
]

log = logging.getLogger(__name__)


def _impute_min(col: np.ndarray) -> np.ndarray:
    finite = np.isfinite(col)
    if finite.all():
        return col
    fill = float(col[finite].min()) if finite.any() else 0.0
    return np.where(finite, col, fill)


#: How missing extra values are filled.
IMPUTE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "min": _impute_min,
    "none": lambda col: col,
}


def _analytic_params(cells: Sequence[Any], space: Any, dataset: str) -> np.ndarray:
    vec = getattr(space, "num_params", None)
    if callable(vec):
        return np.asarray(vec(cells, dataset), dtype=np.float64) / 1e6
    return np.array([c.num_params(dataset) for c in cells], dtype=np.float64) / 1e6


def _analytic_flops(cells: Sequence[Any], space: Any, dataset: str) -> np.ndarray:
    vec = getattr(space, "flops", None)
    if callable(vec):
        return np.asarray(vec(cells, dataset), dtype=np.float64)
    return np.array([c.flops(dataset) for c in cells], dtype=np.float64)


#: Extra columns the space can compute itself: name -> fn(cells, space, dataset).
ANALYTIC: dict[str, Callable[[Sequence[Any], Any, str], np.ndarray]] = {
    "params": _analytic_params,
    "flops": _analytic_flops,
}

#: Store dataset names the spaces' cost models do not know, mapped to ones they do.
_COST_DATASET = {"cifar10-valid": "cifar10"}


#: Ops that cut a path (an edge that carries nothing).
BLOCKING_OPS: frozenset[str] = frozenset({"none", "zero", "zeroize"})

#: Op category -> test on the op label; the first matching category wins.
OP_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "conv3x3": lambda op: "conv" in op and "3x3" in op,
    "conv1x1": lambda op: "conv" in op and "1x1" in op,
    "pool": lambda op: "pool" in op,
    "skip": lambda op: "skip" in op or "identity" in op,
    "other": lambda op: True,
}

#: Column names of :func:`graph_features`, in order.
GRAPH_FEATURES: tuple[str, ...] = (
    "n_paths",
    "max_convs_on_path",
    "min_convs_on_path",
    "max_conv3x3_on_path",
    "min_conv3x3_on_path",
    "max_pool_on_path",
    "min_free_ops_on_path",
    "max_path_ops",
    "min_path_ops",
    *(f"live_{c}" for c in OP_CATEGORIES),
)


def _category(op: str) -> str:
    return next(name for name, test in OP_CATEGORIES.items() if test(op))


def _graph_row(graph: Any) -> list[float]:
    import networkx as nx

    ops = nx.get_node_attributes(graph, "op")
    src = [n for n, op in ops.items() if op == "input"]
    dst = [n for n, op in ops.items() if op == "output"]
    if len(src) != 1 or len(dst) != 1:
        raise OutOfDomainError("graph features need exactly one 'input' and one 'output' node")
    keep = [n for n, op in ops.items() if op not in BLOCKING_OPS]
    g = graph.subgraph(keep)
    paths = list(nx.all_simple_paths(g, src[0], dst[0])) if g.has_node(src[0]) else []
    if not paths:
        return [0.0] * len(GRAPH_FEATURES)
    cats = {n: _category(op) for n, op in ops.items()}
    per_path = []
    live: set[Any] = set()
    for p in paths:
        inner = p[1:-1]
        live.update(inner)
        c = [cats[n] for n in inner]
        conv3, conv1 = c.count("conv3x3"), c.count("conv1x1")
        per_path.append(
            (conv3 + conv1, conv3, c.count("pool"), c.count("skip") + c.count("pool"), len(inner))
        )
    arr = np.asarray(per_path, dtype=np.float64)
    live_counts = [float(sum(cats[n] == name for n in live)) for name in OP_CATEGORIES]
    return [
        float(len(paths)),
        arr[:, 0].max(),
        arr[:, 0].min(),
        arr[:, 1].max(),
        arr[:, 1].min(),
        arr[:, 2].max(),
        arr[:, 3].min(),
        arr[:, 4].max(),
        arr[:, 4].min(),
        *live_counts,
    ]


def graph_features(cells: Sequence[Any], space: Any = None) -> np.ndarray:
    """Hand-made structural features from ``cell.to_graph()`` (any space), shape (n, 14).

    Ops named ``none``/``zero`` cut their node; then, over the input-output paths of the
    op DAG: the number of paths, max/min number of convolutions on a path, max/min 3x3
    convolutions, max pooling ops, min parameter-free ops (skip + pool), max/min ops on a
    path; and the number of *live* ops (on some path) per category of
    :data:`OP_CATEGORIES`. A cell without a path (it outputs zeros) gets all zeros.
    Column names: :data:`GRAPH_FEATURES`.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> c = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|")
    >>> dict(zip(GRAPH_FEATURES, graph_features([c])[0].tolist()))["max_convs_on_path"]
    2.0
    """
    return np.asarray([_graph_row(c.to_graph()) for c in cells], dtype=np.float64).reshape(
        len(cells), len(GRAPH_FEATURES)
    )


#: Multi-column blocks computed from the cells: name -> fn(cells, space) -> (n, m).
BLOCKS: dict[str, Callable[[Sequence[Any], Any], np.ndarray]] = {
    "graph": graph_features,
}


#: Extra names ``"zc:<proxy>"`` are scored by ``predictors.zerocost`` (training-free scorers).
ZC_PREFIX = "zc:"

#: Prefix of a transformed column: ``"log_<column>"`` is ``sign(x) * log10(1 + |x|)`` of
#: ``<column>`` (monotone, 0 stays 0, finite for every finite value). For proxies whose
#: values exceed float32 (our synflow reaches 7.7e49 on NB201; XGBoost and scikit-learn's
#: trees read float32) and whose scale spans many decades.
LOG_PREFIX = "log_"


def signed_log10(col: np.ndarray) -> np.ndarray:
    """``sign(x) * log10(1 + |x|)``: monotone, odd, 0 -> 0; NaN and +-inf are kept.

    Examples
    --------
    >>> signed_log10(np.array([0.0, 9.0, -99.0, 7.7e49])).round(3).tolist()
    [0.0, 1.0, -2.0, 49.886]
    """
    col = np.asarray(col, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.sign(col) * np.log10(1.0 + np.abs(col))

#: Directory of HDF5 score caches for ``"zc:<proxy>"`` extras (one file per proxy), or None.
ZC_CACHE_DIR: Path | None = None


def zero_cost_column(proxy: str, cells: Sequence[Any]) -> np.ndarray:
    """Scores of a zero-cost proxy of :mod:`predictors.zerocost` as a feature column.

    Uses ``score_cells`` with the cache ``ZC_CACHE_DIR / f"{proxy}.h5"`` when
    :data:`ZC_CACHE_DIR` is set, so repeated feature builds do not re-run networks.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> zero_cost_column("params", [Cell(("none",) * 6)]).tolist()
    [73306.0]
    """
    from predictors.zerocost import get_proxy, score_cells

    cache = None if ZC_CACHE_DIR is None else Path(ZC_CACHE_DIR) / f"{proxy}.h5"
    return np.asarray(score_cells(get_proxy(proxy), list(cells), cache=cache), dtype=np.float64)


def resolve_extra(
    name: str,
    cells: Sequence[Any],
    *,
    extras: Mapping[str, np.ndarray] | None = None,
    bench: Any = None,
    dataset: str | None = None,
    space: Any = None,
) -> np.ndarray:
    """One extra column for ``cells`` (float64, shape ``(len(cells),)``, NaN kept).

    Parameters
    ----------
    name : str
        Column name, e.g. ``"naswot_score"``, ``"params"``, ``"flops"``.
    cells : sequence of cells
    extras : mapping, optional
        Columns you already have, aligned with ``cells``.
    bench : Benchmark, optional
        Read stored features and costs at ``bench.rows(cells)``.
    dataset : str, optional
        Dataset of stored features/costs and of analytic costs (default ``cifar10``).
    space : SearchSpace, optional
        For analytic costs (vectorised when the space offers ``num_params(cells, dataset)``).

    Raises
    ------
    NotInBenchmarkError
        When no source has the column; the message lists what was tried.

    Examples
    --------
    >>> resolve_extra("x", [1, 2], extras={"x": [3, 4]}).tolist()
    [3.0, 4.0]
    """
    n = len(cells)
    if name.startswith(LOG_PREFIX) and not (extras is not None and name in extras):
        base = name[len(LOG_PREFIX):]
        return signed_log10(
            resolve_extra(base, cells, extras=extras, bench=bench, dataset=dataset, space=space)
        )
    if extras is not None and name in extras:
        col = np.asarray(extras[name], dtype=np.float64).ravel()
        if col.shape != (n,):
            raise OutOfDomainError(f"extra column {name!r} has {col.size} values for {n} cells")
        return col
    if bench is not None:
        rows = None
        for getter in ("feature", "cost_column"):
            fn = getattr(bench, getter, None)
            if fn is None:
                continue
            for ds in (dataset, None) if dataset is not None else (None,):
                try:
                    full = np.asarray(fn(name, ds), dtype=np.float64)
                except (NotInBenchmarkError, OutOfDomainError):
                    continue
                if rows is None:
                    rows = np.asarray(bench.rows(cells), dtype=np.int64)
                return full[rows]
    if name.startswith(ZC_PREFIX):
        return zero_cost_column(name[len(ZC_PREFIX) :], cells)
    if name in ANALYTIC and n and hasattr(cells[0], "num_params"):
        ds = dataset or "cifar10"
        ds = _COST_DATASET.get(ds, ds)
        return ANALYTIC[name](cells, space, ds)
    have = sorted(extras) if extras else []
    raise NotInBenchmarkError(
        f"no source has the extra column {name!r}: passed columns {allowed(have) or 'none'}, "
        f"benchmark {'given' if bench is not None else 'not given'}; analytic columns: "
        f"{allowed(ANALYTIC)}"
    )


@dataclass(frozen=True)
class FeatureSet:
    """An encoding of the space plus extra per-cell columns.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"onehot+naswot+params"``.
    encoding : str or None
        Encoding kind passed to ``space.encode``; ``None`` for extras only.
    extras : tuple of str
        Extra columns appended after the blocks, in this order.
    blocks : tuple of str
        Multi-column blocks of :data:`BLOCKS` (e.g. ``"graph"``) appended after the
        encoding.
    impute : str
        A key of :data:`IMPUTE`, for the extra columns.
    description : str
        One line for the docs and ``--help``.
    """

    name: str
    encoding: str | None = None
    extras: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    impute: str = "min"
    description: str = ""

    def __post_init__(self) -> None:
        if self.encoding is None and not self.extras and not self.blocks:
            raise OutOfDomainError(f"feature set {self.name!r} needs an encoding, blocks or extras")
        for b in self.blocks:
            if b not in BLOCKS:
                raise OutOfDomainError(f"unknown feature block {b!r}; allowed: {allowed(BLOCKS)}")
        if self.impute not in IMPUTE:
            raise OutOfDomainError(
                f"unknown impute rule {self.impute!r}; allowed: {allowed(IMPUTE)}"
            )

    def encode(self, cells: Sequence[Any], space: Any) -> np.ndarray:
        """The encoding part, shape ``(len(cells), ...)`` (unflattened)."""
        if self.encoding is None:
            return np.zeros((len(cells), 0))
        if space is None:
            raise OutOfDomainError(
                f"feature set {self.name!r} needs a space for encoding {self.encoding!r}"
            )
        return np.asarray(space.encode(list(cells), self.encoding), dtype=np.float64)

    def input_shape(self, cells: Sequence[Any], space: Any) -> tuple[int, ...] | None:
        """Per-cell tensor shape when the set is an encoding of rank > 1 without extras.

        That is what :class:`~predictors.renas.ReNASPredictor` needs; ``None`` otherwise.
        """
        if self.encoding is None or self.extras or self.blocks:
            return None
        enc = self.encode(list(cells)[:1], space)
        return tuple(int(s) for s in enc.shape[1:]) if enc.ndim > 2 else None

    def build(
        self,
        cells: Sequence[Any],
        *,
        space: Any = None,
        extras: Mapping[str, np.ndarray] | None = None,
        bench: Any = None,
        dataset: str | None = None,
        encoded: np.ndarray | None = None,
        block_cache: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """``X`` for ``cells``: flattened encoding, then the extra columns (float64).

        Parameters
        ----------
        cells : sequence of cells
        space : SearchSpace, optional
            Required when the set has an encoding and ``encoded`` is not given.
        extras, bench, dataset
            Sources of the extra columns, see :func:`resolve_extra`.
        encoded : ndarray, optional
            The encoding of ``cells`` computed already (reused across feature sets).
        block_cache : dict, optional
            Blocks computed already for the same ``cells``; new ones are added to it.

        Returns
        -------
        ndarray, shape (len(cells), n_features)

        Examples
        --------
        >>> import numpy as np
        >>> fs = FeatureSet("x", encoding=None, extras=("a",))
        >>> fs.build([0, 1, 2], extras={"a": np.array([3.0, 1.0, 2.0])}).shape
        (3, 1)
        """
        n = len(cells)
        enc = encoded if encoded is not None else self.encode(cells, space)
        parts = [np.asarray(enc, dtype=np.float64).reshape(n, -1)]
        cache = block_cache if block_cache is not None else {}
        for b in self.blocks:
            if b not in cache:
                cache[b] = np.asarray(BLOCKS[b](cells, space), dtype=np.float64).reshape(n, -1)
            parts.append(cache[b])
        fill = IMPUTE[self.impute]
        for name in self.extras:
            col = resolve_extra(
                name, cells, extras=extras, bench=bench, dataset=dataset, space=space
            )
            parts.append(fill(col)[:, None])
        return np.concatenate(parts, axis=1)


#: Registry of named feature sets. ``register_feature_set`` adds more.
FEATURE_SETS: dict[str, FeatureSet] = {}


def register_feature_set(fs: FeatureSet, *, replace: bool = False) -> FeatureSet:
    """Add ``fs`` to :data:`FEATURE_SETS` under ``fs.name``.

    Examples
    --------
    >>> _ = register_feature_set(FeatureSet("doc-demo", extras=("params",)), replace=True)
    >>> "doc-demo" in FEATURE_SETS
    True
    """
    return add_entry(FEATURE_SETS, fs.name, fs, what="feature set", replace=replace)


def get_feature_set(name: str, *, columns: Iterable[str] | None = None) -> FeatureSet:
    """The registered feature set ``name``, or the one its ``+``-joined parts compose.

    A name that is not registered is read by :func:`compose_feature_set` (``columns``
    are extra column names it may use besides :func:`known_columns`; given, the parts are
    checked against them on every call). The result is kept, so a later look-up of the
    same name without ``columns`` finds it. Composed sets are not added to
    :data:`FEATURE_SETS` (``--features all`` stays the registered ones).

    Examples
    --------
    >>> get_feature_set("onehot").encoding
    'adjacency_onehot'
    >>> get_feature_set("onehot+graph+my_score+cost", columns=["my_score"]).extras
    ('my_score', 'params', 'flops')
    """
    if name in FEATURE_SETS:
        return FEATURE_SETS[name]
    if columns is not None or name not in _COMPOSED:
        _COMPOSED[name] = compose_feature_set(name, columns=columns or ())
    return _COMPOSED[name]


_ZC = ("naswot_score", "params", "flops")
for _fs in (
    FeatureSet("onehot", "adjacency_onehot", (), description="one-hot adjacency/op encoding"),
    FeatureSet("path", "path", (), description="path encoding (ops along input-output paths)"),
    FeatureSet("gbdt", "gbdt", (), description="GBDT-NAS binary encoding"),
    FeatureSet("renas", "renas", (), description="ReNAS feature tensor (flattened)"),
    FeatureSet("zc", None, _ZC, description="naswot_score, params, flops only"),
    FeatureSet("onehot+params", "adjacency_onehot", ("params",), description="one-hot + params"),
    FeatureSet(
        "onehot+naswot+params",
        "adjacency_onehot",
        ("naswot_score", "params"),
        description="one-hot + published NASWOT score + params (M)",
    ),
    FeatureSet(
        "onehot+zc", "adjacency_onehot", _ZC, description="one-hot + naswot_score, params, flops"
    ),
    FeatureSet("path+zc", "path", _ZC, description="path encoding + naswot_score, params, flops"),
    FeatureSet(
        "gbdt+zc", "gbdt", _ZC, description="GBDT-NAS encoding + naswot_score, params, flops"
    ),
    FeatureSet("graph", None, (), ("graph",), description="structural path statistics only"),
    FeatureSet(
        "onehot+graph",
        "adjacency_onehot",
        (),
        ("graph",),
        description="one-hot + structural path statistics",
    ),
    FeatureSet(
        "graph+zc",
        None,
        _ZC,
        ("graph",),
        description="structural statistics + naswot_score, params, flops",
    ),
    FeatureSet(
        "onehot+graph+cost",
        "adjacency_onehot",
        ("params", "flops"),
        ("graph",),
        description="one-hot + structural statistics + params, flops (no NASWOT score)",
    ),
    FeatureSet(
        "onehot+graph+zc",
        "adjacency_onehot",
        _ZC,
        ("graph",),
        description="one-hot + structural statistics + naswot_score, params, flops",
    ),
):
    register_feature_set(_fs)


#: Encoding parts of composed feature-set names: part -> ``space.encode`` kind.
ENCODINGS: dict[str, str] = {
    "onehot": "adjacency_onehot",
    "path": "path",
    "gbdt": "gbdt",
    "renas": "renas",
}

#: Named groups of extra columns usable as parts of composed names.
COLUMN_GROUPS: dict[str, tuple[str, ...]] = {
    "zc": _ZC,
    "cost": ("params", "flops"),
    "naswot": ("naswot_score",),
}

#: Feature sets composed from names that are not registered (see :func:`get_feature_set`).
_COMPOSED: dict[str, FeatureSet] = {}


def known_columns(columns: Iterable[str] = ()) -> tuple[str, ...]:
    """Extra column names a composed feature-set name may use.

    ``columns`` (e.g. the extras and stored features of the data at hand), then every
    column of a registered feature set or of :data:`COLUMN_GROUPS` and the analytic
    columns (:data:`ANALYTIC`). ``"zc:<proxy>"`` parts are accepted as well (not listed).

    Examples
    --------
    >>> known_columns(["zc_naswot"])[:4]
    ('zc_naswot', 'naswot_score', 'params', 'flops')
    """
    names = list(columns)
    for fs in FEATURE_SETS.values():
        names.extend(fs.extras)
    for group in COLUMN_GROUPS.values():
        names.extend(group)
    names.extend(ANALYTIC)
    return tuple(dict.fromkeys(names))


def compose_feature_set(name: str, *, columns: Iterable[str] = ()) -> FeatureSet:
    """Read a feature-set name made of ``+``-joined parts, e.g. ``onehot+graph+zc_naswot+cost``.

    Each part is, looked up in this order: an encoding of :data:`ENCODINGS` (at most one),
    a block of :data:`BLOCKS` (``graph``), a group of :data:`COLUMN_GROUPS` (``zc`` =
    ``naswot_score, params, flops``; ``cost`` = ``params, flops``; ``naswot`` =
    ``naswot_score``), or one extra column: a name of :func:`known_columns` (``columns``
    adds the caller's, e.g. the ``zc_naswot`` feature read with ``--features-from``) or
    ``"zc:<proxy>"``. The set has the encoding, then the blocks, then the extra columns in
    the order they are named (repeats dropped); missing values are imputed with the
    column minimum (``impute="min"``), as for the registered sets. Every registered name
    composes to the same columns (``onehot+naswot+params`` included).

    Raises
    ------
    OutOfDomainError
        An unknown part or two encodings; the message lists the allowed parts.

    Examples
    --------
    >>> fs = compose_feature_set("onehot+graph+zc_naswot+params+flops", columns=["zc_naswot"])
    >>> fs.encoding, fs.blocks, fs.extras
    ('adjacency_onehot', ('graph',), ('zc_naswot', 'params', 'flops'))
    >>> compose_feature_set("onehot+naswot+params").extras
    ('naswot_score', 'params')
    >>> compose_feature_set("onehot+zc_nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: unknown feature set 'onehot+zc_nope' (part 'zc_nope' is unknown); allowed: ...
    """
    cols = known_columns(columns)
    encoding: str | None = None
    blocks: list[str] = []
    extras: list[str] = []
    for part in (p.strip() for p in name.split("+")):
        if part in ENCODINGS:
            if encoding is not None:
                raise OutOfDomainError(
                    f"feature set {name!r} names two encodings; at most one of {allowed(ENCODINGS)}"
                )
            encoding = ENCODINGS[part]
        elif part in BLOCKS:
            blocks.append(part)
        elif part in COLUMN_GROUPS:
            extras.extend(COLUMN_GROUPS[part])
        elif (
            part in cols
            or (part.startswith(ZC_PREFIX) and len(part) > len(ZC_PREFIX))
            or (part.startswith(LOG_PREFIX) and part[len(LOG_PREFIX):] in cols)
        ):
            extras.append(part)
        else:
            raise OutOfDomainError(
                f"unknown feature set {name!r} (part {part!r} is unknown); allowed: a "
                f"registered set ({allowed(FEATURE_SETS, limit=40)}) or parts joined by '+': "
                f"encodings {allowed(ENCODINGS)}, blocks {allowed(BLOCKS)}, column groups "
                f"{allowed(COLUMN_GROUPS)}, columns {allowed(cols, limit=20)}, 'log_<column>' or "
                f"'zc:<proxy>'"
            )
    description = " + ".join(
        [*([f"{encoding} encoding"] if encoding else []), *blocks, *dict.fromkeys(extras)]
    )
    return FeatureSet(
        name,
        encoding,
        tuple(dict.fromkeys(extras)),
        tuple(dict.fromkeys(blocks)),
        description=f"composed: {description}",
    )
