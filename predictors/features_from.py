"""Extra feature columns read from another store, joined to cells by cell key.

``nbt eval-predictor --features-from STORE[:FEATURE[,FEATURE...]]`` appends per-cell
columns of a second store (for example our own whole-space NASWOT scores,
``data/nb201_zc_naswot_digits.h5``, feature ``zc_naswot``) to the benchmark's cells. This
module does the reading and the join:

* the source is any store of :mod:`nasbench_tools.store` of the **same space** (e.g. one
  written by ``nbt zc-score``); its features are ``bench.feature(name, dataset)`` columns;
* rows are matched by **cell key** (NB201 / NATS-SSS official string, NB101 module hash),
  never by row position or official index, so row order and index convention of the two
  stores do not matter;
* every cell asked for must be a row of the source; a row whose value is NaN (not scored)
  or ``-inf`` (NASWOT of a cell without an input-output path) is kept as it is here and
  imputed later with the column's smallest finite value, exactly like the published
  ``naswot_score`` (``impute="min"`` of :class:`predictors.features.FeatureSet`; the
  ``column:<name>`` predictors of :mod:`predictors.evaluate` fill the same way);
* each column is named after its feature (``zc_naswot``), which is the name feature sets
  use (``onehot+graph+zc_naswot+params+flops``, see
  :func:`predictors.features.compose_feature_set`).

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from nasbench_tools.store import DatasetTable, TableData, write_store
>>> keys = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
...         "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"]
>>> ds = DatasetTable("cifar10", (), (), (), np.empty((2, 0, 0, 0), dtype=np.float32),
...                   features={"zc_naswot": np.array([-np.inf, 1500.0])})
>>> path = write_store(TableData("nb201", keys, np.array([0, 1]), {"cifar10": ds}),
...                    pathlib.Path(tempfile.mkdtemp()) / "zc.h5")
>>> cols = load_features_from([f"{path}:zc_naswot"], keys[::-1], space="nb201")
>>> cols["zc_naswot"].tolist()
[1500.0, -inf]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed

__all__ = [
    "FeatureSource",
    "load_features_from",
    "parse_features_from",
    "store_columns",
]

log = logging.getLogger(__name__)

#: Store dataset names mapped to the name a feature store is likely to use for them.
_DATASET_ALIASES = {"cifar10-valid": "cifar10"}


@dataclass(frozen=True)
class FeatureSource:
    """One ``--features-from`` argument: a store and the features to take from it.

    Parameters
    ----------
    path : Path
        The store file.
    names : tuple of str or None
        Feature names; ``None`` = every feature of the store.
    """

    path: Path
    names: tuple[str, ...] | None = None

    def __str__(self) -> str:
        return str(self.path) + ("" if self.names is None else ":" + ",".join(self.names))


def parse_features_from(text: str) -> FeatureSource:
    """Read ``STORE[:FEATURE[,FEATURE...]]``.

    The text after the last ``:`` names the features unless the whole text is an
    existing file or that part contains a ``/`` (then it is all a path).

    Raises
    ------
    OutOfDomainError
        Empty path or an empty feature list (``STORE:``).

    Examples
    --------
    >>> parse_features_from("data/zc.h5:zc_naswot,zc_synflow")
    FeatureSource(path=PosixPath('data/zc.h5'), names=('zc_naswot', 'zc_synflow'))
    >>> parse_features_from("data/zc.h5").names is None
    True
    """
    path, sep, tail = text.rpartition(":")
    if not sep or "/" in tail or Path(text).is_file():
        path, tail = text, ""
    elif not tail.strip():
        raise OutOfDomainError(
            f"--features-from {text!r}: no feature after ':'; give STORE or "
            "STORE:FEATURE[,FEATURE...]"
        )
    if not path:
        raise OutOfDomainError(f"--features-from {text!r}: no store path before ':'")
    names = tuple(n.strip() for n in tail.split(",") if n.strip()) if tail else None
    return FeatureSource(Path(path), names)


def _space_name(space: Any) -> str | None:
    if space is None or isinstance(space, str):
        return space
    return str(getattr(space, "name", space))


def _feature_dataset(source: Any, name: str, dataset: str | None, where: str) -> str:
    """The dataset of ``source`` whose feature ``name`` is read."""
    holders = [d for d in source.datasets if name in source.features(d)]
    if not holders:
        every = sorted({f for d in source.datasets for f in source.features(d)})
        raise NotInBenchmarkError(
            f"feature store {where} has no feature {name!r}; it has {allowed(every) or 'none'}"
        )
    if len(holders) == 1:
        return holders[0]
    for ds in (dataset, _DATASET_ALIASES.get(dataset or "")):
        if ds is not None and ds in holders:
            return ds
    raise OutOfDomainError(
        f"feature {name!r} of {where} is stored for datasets {allowed(holders)}; the target "
        f"dataset {dataset!r} is none of them, so the choice is ambiguous"
    )


def _rows_by_key(source: Any, cells: Sequence[Any], where: str) -> np.ndarray:
    """Row of each cell in ``source``, found by key; raises if any cell is absent."""
    key_rows = {k: i for i, k in enumerate(source.keys)}
    rows = np.empty(len(cells), dtype=np.int64)
    missing: list[str] = []
    for i, c in enumerate(cells):
        if isinstance(c, (bool, int, np.integer)):
            raise OutOfDomainError(
                f"cells are joined to {where} by key; give cell objects or key strings, not "
                f"integers ({c!r})"
            )
        r = key_rows.get(c) if isinstance(c, str) else None
        if r is None:
            try:
                r = int(source.row(c))  # other spellings of a key, cell objects
            except NotInBenchmarkError:
                missing.append(c if isinstance(c, str) else str(c.to_string()))
                continue
        rows[i] = r
    if missing:
        raise NotInBenchmarkError(
            f"feature store {where} lacks {len(missing)} of the {len(cells)} cells of the "
            f"benchmark (it has {len(source)} cells), e.g. {allowed(missing[:3])}"
        )
    return rows


def store_columns(
    source: Any,
    cells: Sequence[Any],
    *,
    names: Iterable[str] | None = None,
    space: Any = None,
    dataset: str | None = None,
) -> dict[str, np.ndarray]:
    """Feature columns of a store for ``cells``, joined by cell key.

    Parameters
    ----------
    source : path-like or Benchmark
        The feature store (opened with :func:`nasbench_tools.store.load_benchmark`).
    cells : sequence of cells or key strings
        The cells the columns are for (e.g. the target store's ``bench.keys``); integers
        are refused (the join is by key, never by row or index).
    names : iterable of str, optional
        Features to read (default: every feature of the store).
    space : str or SearchSpace, optional
        The space of ``cells``; the source must be a store of that space.
    dataset : str, optional
        Picks the source dataset when a feature is stored for several (also tried as
        ``cifar10`` for ``cifar10-valid``); a feature of one dataset is read from it.

    Returns
    -------
    dict of str to ndarray
        Feature name -> float64 array aligned with ``cells``; NaN and ``-inf`` kept
        (feature sets impute them with the column minimum).

    Raises
    ------
    FormatError
        The file does not exist or is not a store.
    OutOfDomainError
        The store is of another space, or a feature is stored for several datasets none
        of which is ``dataset``.
    NotInBenchmarkError
        A feature the store does not have (the message lists those it has), or cells of
        ``cells`` that the store lacks (how many, and examples).

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
    >>> ds = DatasetTable("cifar10", (), (), (), np.empty((2, 0, 0, 0), dtype=np.float32),
    ...                   features={"score": np.array([1.0, 2.0])})
    >>> keys = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ...         "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    >>> src = Benchmark.from_table(TableData("nb201", keys, np.array([5, 9]), {"cifar10": ds}))
    >>> store_columns(src, [keys[1], keys[0], keys[1]], space="nb201")["score"].tolist()
    [2.0, 1.0, 2.0]
    """
    if isinstance(source, (str, Path)):
        from nasbench_tools.store import load_benchmark

        where = repr(str(source))
        source = load_benchmark(source)  # FormatError: missing file, not a store
    else:
        where = repr(str(getattr(source, "path", None) or "(in memory)"))
    want = _space_name(space)
    if want is not None and source.space != want:
        raise OutOfDomainError(
            f"feature store {where} is a {source.space!r} store; the benchmark's space is "
            f"{want!r}, so allowed: a {want!r} store"
        )
    every = tuple(dict.fromkeys(f for d in source.datasets for f in source.features(d)))
    chosen = tuple(every if names is None else names)
    if not chosen:
        raise NotInBenchmarkError(f"feature store {where} has no features")
    plan = {n: _feature_dataset(source, n, dataset, where) for n in chosen}
    rows = _rows_by_key(source, cells, where)
    out: dict[str, np.ndarray] = {}
    for name, ds in plan.items():
        col = np.asarray(source.feature(name, ds), dtype=np.float64)[rows]
        out[name] = col
        nan, neg = int(np.isnan(col).sum()), int(np.isneginf(col).sum())
        log.info(
            "%s from %s (dataset %r): %d cells joined by key, %d NaN, %d -inf "
            "(imputed with the column minimum in feature sets)",
            name, where, ds, len(col), nan, neg,
        )
        if nan:
            log.warning(
                "%s from %s: %d of %d cells have no value (NaN); they get the column minimum",
                name, where, nan, len(col),
            )
    prov = getattr(source.info(), "provenance", {}) if hasattr(source, "info") else {}
    zc = prov.get("zero_cost") if isinstance(prov, Mapping) else None
    if isinstance(zc, Mapping) and zc.get("complete") is False:
        log.warning(
            "feature store %s is marked incomplete (%s of %s cells scored)",
            where, zc.get("cells_scored"), zc.get("cells_total"),
        )
    return out


def load_features_from(
    specs: Iterable[str | FeatureSource],
    cells: Sequence[Any],
    *,
    space: Any = None,
    dataset: str | None = None,
) -> dict[str, np.ndarray]:
    """Columns of several ``STORE[:FEATURE,...]`` sources for ``cells`` (one mapping).

    Each spec is read by :func:`parse_features_from` and joined by :func:`store_columns`.
    Two sources giving the same column name is an error (which one would win is not
    obvious). The result is what ``EvalData(extras=...)`` takes; a name given here wins
    over a feature of the same name in the target benchmark.

    Raises
    ------
    OutOfDomainError
        A column name given by two sources; see also :func:`store_columns`.

    Examples
    --------
    >>> load_features_from([], ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    {}
    """
    out: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for spec in specs:
        src = spec if isinstance(spec, FeatureSource) else parse_features_from(spec)
        cols = store_columns(src.path, cells, names=src.names, space=space, dataset=dataset)
        for name, col in cols.items():
            if name in out:
                raise OutOfDomainError(
                    f"column {name!r} comes from both {origin[name]} and {src.path}; give each "
                    "name once"
                )
            out[name] = col
            origin[name] = str(src.path)
    return out
