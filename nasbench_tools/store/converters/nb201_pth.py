"""Converter of the official NAS-Bench-201 benchmark files (``NAS-Bench-201-v1_*.pth``).

The file is a ``torch.save`` of one dict (read with the allow-list unpickler of
:mod:`~nasbench_tools.store.converters.safe_pickle`, torch is not needed):

* ``meta_archs``: the 15,625 cell strings in official index order;
* ``arch2infos``: ``{index: {"less": ArchResults, "full": ArchResults}}`` where ``less`` is
  the 12-epoch schedule (hp ``"12"``) and ``full`` the 200-epoch one (hp ``"200"``); each
  ``ArchResults`` is stored as its state dict: ``dataset_seed`` (dataset -> trial seeds) and
  ``all_results`` ((dataset, seed) -> ``ResultsCount`` state dict with ``train_acc1es``,
  ``train_losses``, ``train_times`` (epoch -> value), ``eval_acc1es``, ``eval_losses``,
  ``eval_times`` (``"<split>@<epoch>"`` -> value), ``params``, ``flop``, ``latency``, ...);
* ``evaluated_indexes``: the indices with records.

The same ``ArchResults`` records make up the NATS-Bench files, so the record-to-table logic
here (:class:`ArchResultsTable`) is shared with :mod:`.nats_pbz2`. The exact mapping onto
:data:`~nasbench_tools.store.table.METRICS` is in ``docs/converters.md``.

Examples
--------
>>> from nasbench_tools.store.converters import nb201_pth
>>> nb201_pth.FORMAT
'nb201_pth'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, allowed
from nasbench_tools.store.converters.hashing import source_sha256
from nasbench_tools.store.converters.safe_pickle import (
    is_torch_legacy,
    is_torch_zip,
    load_torch_file,
)
from nasbench_tools.store.table import METRICS, DatasetTable, TableData

__all__ = [
    "DATASETS",
    "FORMAT",
    "HP_BUDGETS",
    "SPLITS",
    "ArchResultsTable",
    "convert",
    "convert_streaming",
    "detect",
    "read_index_table",
    "read_meta_archs",
    "stream_records",
]

logger = logging.getLogger(__name__)

#: Name under which the converter registry lists this module.
FORMAT = "nb201_pth"

#: Converter version recorded in provenance.
CONVERTER_VERSION = 1

#: The four datasets, in the order of the official API.
DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")

#: Official hp keys -> length of the training schedule (our fidelity ``budget``).
HP_BUDGETS: Mapping[str, int] = {
    "less": 12,
    "full": 200,
    "01": 1,
    "1": 1,
    "12": 12,
    "90": 90,
    "200": 200,
}

#: Our metric prefix -> the official evaluation split, per dataset (the splits the official
#: ``get_more_info`` reports as ``valid-*``, ``test-*`` and ``valtest-*``).
SPLITS: Mapping[str, Mapping[str, str]] = {
    "cifar10-valid": {"val": "x-valid", "test": "ori-test"},
    "cifar10": {"test": "ori-test"},
    "cifar100": {"val": "x-valid", "test": "x-test", "ori_test": "ori-test"},
    "ImageNet16-120": {"val": "x-valid", "test": "x-test", "ori_test": "ori-test"},
}

#: Trial seeds of the NAS-Bench-201 / NATS topology records (hp 12 used 111, and some
#: cifar10-valid 12-epoch runs 777; hp 200 used 777, 888, 999).
TOPOLOGY_SEEDS: tuple[int, ...] = (111, 777, 888, 999)


def _metrics_for(dataset: str) -> tuple[str, ...]:
    """The metric columns a dataset gets (only those of the vocabulary it can fill)."""
    names = ["train_accuracy", "train_loss"]
    for prefix in SPLITS[dataset]:
        names += [f"{prefix}_accuracy", f"{prefix}_loss"]
    names.append("train_time")
    names += [f"{p}_time" for p in SPLITS[dataset] if f"{p}_time" in METRICS]
    return tuple(n for n in names if n in METRICS)


def _num(value: Any) -> float:
    """A record's number as float; NaN when the record has none."""
    return float("nan") if value is None else float(value)


def _costs_mean(values: Sequence[float], seeds: Sequence[int]) -> float:
    """NAS-Bench-201 v1 API rule: the mean over the trials."""
    return float(np.mean(values))


def _costs_nats_legacy(values: Sequence[float], seeds: Sequence[int]) -> float:
    """NATS-Bench API rule: if the trials disagree (at 5 decimals), trust seed 888's value."""
    if len(values) > 1 and len({f"{v:.5f}" for v in values}) > 1 and 888 in seeds:
        return float(values[list(seeds).index(888)])
    return float(np.mean(values))


#: How the per-trial params/flops of a cell are combined, per benchmark API.
COST_RULES = {"nb201": _costs_mean, "nats": _costs_nats_legacy}


class ArchResultsTable:
    """Accumulates official ``ArchResults`` state dicts into per-dataset value arrays.

    Parameters
    ----------
    n_cells : int
        Number of rows to allocate.
    seeds : sequence of int
        The expected trial seeds; a record with another seed grows the axis (kept sorted).
    budgets : sequence of int
        The training-schedule lengths (hp) to keep.
    curves : bool, default True
        Keep every epoch ``(b, 1) .. (b, b)``; if False only the final ``(b, b)``.
    cost_rule : {"nb201", "nats"}
        How the params/flops of the trials are combined (see :data:`COST_RULES`).
    datasets : sequence of str, optional
        Which datasets to keep (default :data:`DATASETS`).
    fixed_seeds : bool, default False
        Raise :class:`FormatError` for a seed outside ``seeds`` instead of growing the axis
        (streaming: every chunk must have the same seed axis).

    Examples
    --------
    >>> t = ArchResultsTable(1, seeds=(777,), budgets=(1,), curves=True)
    >>> rec = {"dataset_seed": {"cifar10": [777]}, "all_results": {("cifar10", 777): {
    ...     "epochs": 1, "train_acc1es": {0: 50.0}, "train_losses": {0: 1.0},
    ...     "train_times": {0: 3.0}, "eval_acc1es": {"ori-test@0": 40.0},
    ...     "eval_losses": {"ori-test@0": 1.5}, "eval_times": {"ori-test@0": 0.5},
    ...     "params": 0.1, "flop": 10.0, "latency": [0.01]}}}
    >>> t.add(0, {1: rec})
    >>> d = t.tables()["cifar10"]
    >>> float(d.values[0, 0, 0, d.metrics.index("test_accuracy")])
    40.0
    """

    def __init__(
        self,
        n_cells: int,
        *,
        seeds: Sequence[int],
        budgets: Sequence[int],
        curves: bool = True,
        cost_rule: str = "nb201",
        datasets: Sequence[str] = DATASETS,
        fixed_seeds: bool = False,
    ) -> None:
        if cost_rule not in COST_RULES:
            raise FormatError(f"unknown cost rule {cost_rule!r}; allowed: {allowed(COST_RULES)}")
        self.n_cells = n_cells
        self.seeds = tuple(int(s) for s in seeds)
        self.budgets = tuple(sorted(int(b) for b in budgets))
        self.curves = curves
        self._cost_rule = COST_RULES[cost_rule]
        self.datasets = tuple(datasets)
        self.fixed_seeds = fixed_seeds
        if curves:
            self.fidelities = tuple((b, e) for b in self.budgets for e in range(1, b + 1))
        else:
            self.fidelities = tuple((b, b) for b in self.budgets)
        self._fid_slices: dict[int, tuple[int, np.ndarray]] = {}
        for b in self.budgets:
            first = self.fidelities.index((b, 1) if curves else (b, b))
            # epoch positions 0..b-1 kept for this budget
            keep = np.arange(b) if curves else np.array([b - 1])
            self._fid_slices[b] = (first, keep)
        self._seed_pos = {s: i for i, s in enumerate(self.seeds)}
        self.metrics = {d: _metrics_for(d) for d in self.datasets}
        self.values = {
            d: np.full(
                (n_cells, len(self.seeds), len(self.fidelities), len(self.metrics[d])),
                np.nan,
                dtype=np.float32,
            )
            for d in self.datasets
        }
        self.costs = {
            d: {c: np.full(n_cells, np.nan) for c in ("params", "flops", "latency",
                                                      "train_time_per_epoch")}
            for d in self.datasets
        }
        self._cost_budget = {d: np.zeros(n_cells, dtype=np.int64) for d in self.datasets}
        self._eval_keys: dict[tuple[str, int], list[str]] = {}

    def _add_seed(self, seed: int) -> None:
        """Grow the seed axis for a trial seed outside the expected ones (kept sorted)."""
        logger.info("trial seed %d not among %s; adding it to the seed axis", seed, self.seeds)
        seeds = tuple(sorted((*self.seeds, seed)))
        pos = seeds.index(seed)
        for d, arr in self.values.items():
            self.values[d] = np.insert(arr, pos, np.nan, axis=1)
        self.seeds = seeds
        self._seed_pos = {s: i for i, s in enumerate(seeds)}

    def _keys(self, split: str, b: int) -> list[str]:
        key = (split, b)
        if key not in self._eval_keys:
            self._eval_keys[key] = [f"{split}@{e}" for e in range(b)]
        return self._eval_keys[key]

    @staticmethod
    def _series(d: Any, keys: Iterable[Any]) -> np.ndarray:
        if not isinstance(d, Mapping):
            return np.full(len(list(keys)), np.nan)
        return np.array([float(d.get(k, np.nan)) for k in keys], dtype=np.float64)

    def add(self, row: int, hp_records: Mapping[int, Mapping[str, Any]],
            *, where: str = "") -> None:
        """Store the records of one cell.

        Parameters
        ----------
        row : int
            Row of the cell.
        hp_records : mapping of int to dict
            Budget (schedule length) -> the ``ArchResults`` state dict trained with it.
        where : str, optional
            Location for error messages.

        Raises
        ------
        FormatError
            If a record is malformed (e.g. lists a seed without its result).
        """
        for b, rec in hp_records.items():
            if b not in self._fid_slices:
                continue
            try:
                dataset_seed = rec["dataset_seed"]
                all_results = rec["all_results"]
            except (KeyError, TypeError) as err:
                raise FormatError(f"{where}: ArchResults record for hp {b} lacks {err}") from err
            for dataset in self.datasets:
                seeds = list(dataset_seed.get(dataset, []))
                if not seeds:
                    continue
                results = []
                for seed in seeds:
                    if int(seed) not in self._seed_pos:
                        if self.fixed_seeds:
                            raise FormatError(
                                f"{where}: {dataset} hp {b} has trial seed {seed}; allowed "
                                f"when streaming: {allowed(self.seeds)} (convert without "
                                "streaming to add new seeds)"
                            )
                        self._add_seed(int(seed))
                    try:
                        results.append(all_results[(dataset, seed)])
                    except KeyError as err:
                        raise FormatError(
                            f"{where}: {dataset} hp {b} lists seed {seed} but holds no "
                            f"result for it"
                        ) from err
                for seed, res in zip(seeds, results):
                    self._fill(row, dataset, b, int(seed), res, where)
                self._fill_costs(row, dataset, b, seeds, results)

    def _fill(self, row: int, dataset: str, b: int, seed: int, res: Mapping[str, Any],
              where: str) -> None:
        epochs = int(res.get("epochs", b))
        if epochs != b:
            raise FormatError(f"{where}: {dataset} seed {seed} under hp {b} ran {epochs} epochs")
        first, keep = self._fid_slices[b]
        cols = self.metrics[dataset]
        out = self.values[dataset][row, self._seed_pos[seed], first:first + len(keep)]
        ep = range(b)
        series: dict[str, np.ndarray] = {
            "train_accuracy": self._series(res.get("train_acc1es"), ep),
            "train_loss": self._series(res.get("train_losses"), ep),
            "train_time": np.cumsum(self._series(res.get("train_times"), ep)),
        }
        evals = (res.get("eval_acc1es"), res.get("eval_losses"), res.get("eval_times"))
        counts = np.arange(1, b + 1, dtype=np.float64)
        for prefix, split in SPLITS[dataset].items():
            keys = self._keys(split, b)
            series[f"{prefix}_accuracy"] = self._series(evals[0], keys)
            series[f"{prefix}_loss"] = self._series(evals[1], keys)
            # official "<set>-per-time": evaluation seconds summed up to the epoch / epochs
            series[f"{prefix}_time"] = np.cumsum(self._series(evals[2], keys)) / counts
        for j, name in enumerate(cols):
            out[:, j] = series[name][keep]

    def _fill_costs(self, row: int, dataset: str, b: int, seeds: Sequence[int],
                    results: Sequence[Mapping[str, Any]]) -> None:
        # costs come from the longest schedule that the cell has for this dataset
        if self._cost_budget[dataset][row] > b:
            return
        self._cost_budget[dataset][row] = b
        c = self.costs[dataset]
        c["params"][row] = self._cost_rule([_num(r.get("params")) for r in results], seeds)
        c["flops"][row] = self._cost_rule([_num(r.get("flop")) for r in results], seeds)
        lats = []
        for r in results:
            lat = r.get("latency")
            if lat:
                val = float(np.mean([float(x) for x in lat]))
                if val > 0:
                    lats.append(val)
        c["latency"][row] = float(np.mean(lats)) if lats else np.nan
        per_epoch = []
        for r in results:
            tt = r.get("train_times")
            per_epoch.append(float(np.mean([float(x) for x in tt.values()]))
                             if isinstance(tt, Mapping) and tt else np.nan)
        c["train_time_per_epoch"][row] = float(np.mean(per_epoch))

    def tables(self, rows: np.ndarray | None = None) -> dict[str, DatasetTable]:
        """Return the per-dataset tables (optionally only ``rows``)."""
        sel = slice(None) if rows is None else rows
        return {
            d: DatasetTable(
                name=d,
                seeds=self.seeds,
                fidelities=self.fidelities,
                metrics=self.metrics[d],
                values=self.values[d][sel],
                costs={k: v[sel] for k, v in self.costs[d].items()},
            )
            for d in self.datasets
        }


def stream_records(
    cells: Iterable[tuple[int, Mapping[int, Mapping[str, Any]]]],
    writer: Any,
    *,
    space: str,
    meta_archs: Sequence[str],
    seeds: Sequence[int],
    budgets: Sequence[int],
    curves: bool,
    cost_rule: str,
    provenance: dict[str, Any],
    chunk_rows: int,
    where: str,
) -> int:
    """Append ``(index, {budget: ArchResults})`` records to ``writer`` in chunks of rows.

    Memory holds one chunk of the table at a time; the seed axis is fixed (``seeds``).

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> class Collect:
    ...     def __init__(self):
    ...         self.rows = []
    ...     def append(self, chunk):
    ...         self.rows += chunk.keys
    >>> w = Collect()
    >>> stream_records([(0, {})], w, space="nb201", meta_archs=["a"], seeds=(777,),
    ...                budgets=(200,), curves=False, cost_rule="nb201", provenance={},
    ...                chunk_rows=10, where="doc")
    1
    >>> w.rows
    ['a']
    """
    if chunk_rows < 1:
        raise FormatError(f"chunk_rows must be >= 1; got {chunk_rows}")

    def fresh() -> ArchResultsTable:
        return ArchResultsTable(chunk_rows, seeds=seeds, budgets=budgets, curves=curves,
                                cost_rule=cost_rule, fixed_seeds=True)

    def flush(table: ArchResultsTable, idx: list[int]) -> None:
        rows = np.arange(len(idx))
        writer.append(TableData(space=space, keys=[meta_archs[i] for i in idx],
                                indices=np.asarray(idx, dtype=np.int64),
                                datasets=table.tables(rows), provenance=provenance))

    table, total = fresh(), 0
    idx: list[int] = []
    for index, hp_records in cells:
        if not 0 <= index < len(meta_archs):
            raise FormatError(f"{where}: cell index {index} outside 0..{len(meta_archs) - 1}")
        table.add(len(idx), hp_records, where=f"{where} index {index}")
        idx.append(index)
        if len(idx) == chunk_rows:
            flush(table, idx)
            total += len(idx)
            table = fresh()
            idx = []
    if idx:
        flush(table, idx)
        total += len(idx)
    return total


def detect(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` looks like an official NAS-Bench-201 ``.pth`` file.

    Examples
    --------
    >>> detect("no-such-file.pth")
    False
    """
    path = Path(path)
    if not path.is_file() or path.suffix != ".pth":
        return False
    return is_torch_zip(path) or is_torch_legacy(path)


def _load(path: Path) -> dict[str, Any]:
    obj = load_torch_file(path)
    if not isinstance(obj, dict):
        raise FormatError(f"{path}: holds a {type(obj).__name__}, expected the NAS-Bench-201 "
                          "dict")
    missing = [k for k in ("meta_archs", "arch2infos", "evaluated_indexes") if k not in obj]
    if missing:
        raise FormatError(
            f"{path}: missing keys {missing}; a NAS-Bench-201 file holds 'meta_archs', "
            "'arch2infos' and 'evaluated_indexes'"
        )
    return obj


def read_meta_archs(path: str | os.PathLike[str]) -> list[str]:
    """The cell strings of a NAS-Bench-201 file in official index order.

    Feed them to ``nasbench_tools.spaces.nb201.IndexTable.from_strings``.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile, pickle
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.pth"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("b/data.pkl", pickle.dumps({"meta_archs": ["a"], "arch2infos": {},
    ...                                             "evaluated_indexes": set()}, protocol=2))
    >>> read_meta_archs(p)
    ['a']
    """
    return [str(s) for s in _load(Path(path))["meta_archs"]]


def read_index_table(path: str | os.PathLike[str]) -> Any:
    """The official index table of a NAS-Bench-201 file (``spaces.nb201.IndexTable``).

    Raises
    ------
    FormatError
        If the file is not in the NAS-Bench-201 layout.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import IndexTable
    >>> callable(read_index_table)
    True
    """
    from nasbench_tools.spaces.nb201 import IndexTable

    return IndexTable.from_strings(read_meta_archs(path))


def _hp_budget(key: Any, where: str) -> int:
    try:
        return HP_BUDGETS[str(key)]
    except KeyError:
        raise FormatError(f"{where}: unknown hp key {key!r}; allowed: {allowed(HP_BUDGETS)}") \
            from None


def convert(path: str | os.PathLike[str], *, curves: bool = True,
            sha256: str | None = None) -> TableData:
    """Convert an official NAS-Bench-201 ``.pth`` file into a :class:`TableData`.

    Parameters
    ----------
    path : path-like
        ``NAS-Bench-201-v1_0-e61699.pth``, ``NAS-Bench-201-v1_1-096897.pth`` or a file in the
        same layout (zip or legacy torch format).
    curves : bool, default True
        Keep the per-epoch curves; if False only the final epoch of each schedule (much
        smaller).
    sha256 : str, optional
        SHA-256 of ``path`` when the caller has computed it already (the registry does);
        otherwise computed here.

    Returns
    -------
    TableData
        Space ``"nb201"``, one row per evaluated cell in index order, ``keys`` the official
        strings, ``indices`` the official indices.

    Raises
    ------
    FormatError
        If the file is not in the NAS-Bench-201 layout.
    UnsafePickleError
        If the file names a global outside the allow-list.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile, pickle
    >>> rec = {"dataset_seed": {"cifar10": [777]}, "all_results": {("cifar10", 777): {
    ...     "epochs": 200, "train_acc1es": {199: 99.0}, "train_losses": {199: 0.1},
    ...     "train_times": None, "eval_acc1es": {"ori-test@199": 93.0},
    ...     "eval_losses": {"ori-test@199": 0.3}, "eval_times": {}, "params": 1.5,
    ...     "flop": 200.0, "latency": None}}}
    >>> blob = {"meta_archs": ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
    ...         "arch2infos": {0: {"full": rec}}, "evaluated_indexes": {0}}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "NAS-Bench-201-mini.pth"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("mini/data.pkl", pickle.dumps(blob, protocol=2))
    >>> t = convert(p)
    >>> t.keys, t.indices.tolist()
    (['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'], [0])
    >>> d = t.datasets["cifar10"]
    >>> float(d.values[0, d.seeds.index(777), d.fidelities.index((200, 200)),
    ...                d.metrics.index("test_accuracy")])
    93.0
    """
    path = Path(path)
    obj = _load(path)
    meta = [str(s) for s in obj["meta_archs"]]
    arch2infos = obj["arch2infos"]
    if not isinstance(arch2infos, Mapping):
        raise FormatError(f"{path}: 'arch2infos' is a {type(arch2infos).__name__}, expected a "
                          "dict")
    indices = sorted(int(i) for i in arch2infos)
    bad = [i for i in indices if not 0 <= i < len(meta)]
    if bad:
        raise FormatError(f"{path}: arch2infos indices {bad[:5]} outside 0..{len(meta) - 1}")
    budgets = sorted({_hp_budget(k, str(path)) for v in arch2infos.values() for k in v})
    _check_index_table(meta)
    table = ArchResultsTable(len(indices), seeds=TOPOLOGY_SEEDS, budgets=budgets,
                             curves=curves, cost_rule="nb201")
    for row, idx in enumerate(indices):
        infos = arch2infos[idx]
        table.add(row, {_hp_budget(k, str(path)): v for k, v in infos.items()},
                  where=f"{path} index {idx}")
    logger.info("converted %d NAS-Bench-201 cells from %s", len(indices), path)
    return TableData(
        space="nb201",
        keys=[meta[i] for i in indices],
        indices=np.asarray(indices, dtype=np.int64),
        datasets=table.tables(),
        provenance=_provenance(path, sha256, meta, budgets, curves,
                               evaluated_indexes=len(indices)),
    )


def convert_streaming(path: str | os.PathLike[str], writer: Any, *, curves: bool = True,
                      chunk_rows: int = 1024, progress: bool = False,
                      sha256: str | None = None) -> int:
    """Convert a NAS-Bench-201 ``.pth`` file into a ``StoreWriter`` chunk by chunk.

    The file itself is one pickle and is unpickled whole (as the official API does); the
    table is produced ``chunk_rows`` cells at a time, so it never exists in full.

    Parameters
    ----------
    path : path-like
        The ``.pth`` file.
    writer : nasbench_tools.store.StoreWriter
        An open writer.
    curves : bool, default True
        As in :func:`convert`.
    chunk_rows : int, default 1024
        Cells per appended chunk.
    progress : bool, default False
        Show a tqdm bar over the cells.

    Returns
    -------
    int
        Cells written.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile, pickle
    >>> class Collect:
    ...     def __init__(self):
    ...         self.keys = []
    ...     def append(self, chunk):
    ...         self.keys += chunk.keys
    >>> blob = {"meta_archs": ["x", "y"], "arch2infos": {1: {"full": {"dataset_seed": {},
    ...         "all_results": {}}}}, "evaluated_indexes": {1}}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mini.pth"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("mini/data.pkl", pickle.dumps(blob, protocol=2))
    >>> w = Collect()
    >>> convert_streaming(p, w), w.keys
    (1, ['y'])
    """
    path = Path(path)
    obj = _load(path)
    meta = [str(s) for s in obj["meta_archs"]]
    arch2infos = obj["arch2infos"]
    if not isinstance(arch2infos, Mapping):
        raise FormatError(f"{path}: 'arch2infos' is not a dict")
    budgets = sorted({_hp_budget(k, str(path)) for v in arch2infos.values() for k in v})
    _check_index_table(meta)
    order: Iterable[Any] = sorted(arch2infos)
    if progress:
        from tqdm import tqdm

        order = tqdm(list(order), desc=f"NB201 {path.name}", unit="cell")
    cells = ((int(i), {_hp_budget(k, str(path)): v for k, v in arch2infos[i].items()})
             for i in order)
    return stream_records(cells, writer, space="nb201", meta_archs=meta,
                          seeds=TOPOLOGY_SEEDS, budgets=budgets, curves=curves,
                          cost_rule="nb201",
                          provenance=_provenance(path, sha256, meta, budgets, curves),
                          chunk_rows=chunk_rows, where=str(path))


def _provenance(path: Path, sha256: str | None, meta: Sequence[str], budgets: list[int],
                curves: bool, **extra: Any) -> dict[str, Any]:
    """The converter's provenance (``extra`` goes in after ``num_archs``)."""
    return {"format": FORMAT, "converter_version": CONVERTER_VERSION, "source": path.name,
            "source_sha256": source_sha256(path, sha256), "num_archs": len(meta), **extra,
            "budgets": budgets, "curves": curves, "cost_rule": "mean over trials (nas_201_api)"}


def _check_index_table(meta: Sequence[str]) -> None:
    """Validate the strings through the space's ``IndexTable`` when that module exists."""
    try:
        from nasbench_tools.spaces.nb201 import IndexTable
    except ImportError:
        logger.debug("nasbench_tools.spaces.nb201.IndexTable not available; strings unchecked")
        return
    if len(meta) == 15625:
        IndexTable.from_strings(list(meta))
