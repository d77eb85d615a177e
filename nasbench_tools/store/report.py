"""Summaries and exports of a store: :class:`StoreInfo` (``nbt info``) and pandas frames.

The reporting layer of :class:`~nasbench_tools.store.benchmark.Benchmark`: :meth:`info`
(typed summary, :meth:`StoreInfo.render` for text) and :meth:`to_pandas` (long or wide).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.store.cells import _Cells
from nasbench_tools.store.format import MEAN_SEED, float32_to_decimal

__all__ = ["DatasetInfo", "StoreInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    """Summary of one dataset of a store."""

    name: str
    seeds: tuple[int, ...]
    fidelities: tuple[tuple[int, int], ...]
    metrics: tuple[str, ...]
    costs: tuple[str, ...]
    features: tuple[str, ...]
    present: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreInfo:
    """Summary of a store, as printed by ``nbt info``."""

    path: str | None
    space: str
    n_cells: int
    format_version: int
    hash_version: int
    created: str
    command: str
    nasbench_tools_version: str
    provenance: dict[str, Any]
    datasets: tuple[DatasetInfo, ...]
    extra: tuple[str, ...] = ()

    def render(self) -> str:
        """Human-readable multi-line text.

        Examples
        --------
        >>> StoreInfo(None, "nb201", 0, 1, 1, "", "", "0.1.0", {}, ()).render().splitlines()[0]
        'store: (in memory)'
        """
        from nasbench_tools.store.format import is_pseudo_seed

        def seed_name(s: int) -> str:
            if s == MEAN_SEED:
                return "mean(published)"
            return f"unknown-seed trial {-s - 1}" if is_pseudo_seed(s) else str(s)

        lines = [
            f"store: {self.path or '(in memory)'}",
            f"space: {self.space}",
            f"cells: {self.n_cells}",
            f"format version: {self.format_version} (keys: hash version {self.hash_version})",
            f"created: {self.created or '-'} by nasbench-tools {self.nasbench_tools_version}",
            f"command: {self.command or '-'}",
        ]
        for src in self.provenance.get("sources", []):
            lines.append(
                f"source: {src.get('path', '?')} [{src.get('format', '?')}] "
                f"sha256={src.get('sha256', '?')}"
            )
        for d in self.datasets:
            lines.append(f"dataset {d.name}:")
            lines.append("  seeds: " + (", ".join(seed_name(s) for s in d.seeds) or "-"))
            budgets: dict[int, list[int]] = {}
            for b, e in d.fidelities:
                budgets.setdefault(b, []).append(e)
            for b, eps in sorted(budgets.items()):
                eps = sorted(eps)
                shown = (f"{eps[0]}..{eps[-1]} ({len(eps)} epochs)"
                         if len(eps) > 6 else ", ".join(map(str, eps)))
                lines.append(f"  budget {b}: epochs {shown}")
            for m in d.metrics:
                lines.append(f"  metric {m}: {d.present.get(m, 0)} values")
            if d.costs:
                lines.append("  costs: " + ", ".join(d.costs))
            if d.features:
                lines.append("  features: " + ", ".join(d.features))
        if self.extra:
            lines.append("extra: " + ", ".join(self.extra))
        return "\n".join(lines)


class _Reports(_Cells):
    """Summaries and exports (a layer of ``Benchmark``)."""

    def info(self) -> StoreInfo:
        """A typed summary of the store (used by ``nbt info``)."""
        m = self._meta
        return StoreInfo(
            path=str(m.path) if m.path else None, space=m.space, n_cells=m.n_cells,
            format_version=m.format_version, hash_version=m.hash_version, created=m.created,
            command=m.command, nasbench_tools_version=m.nasbench_tools_version,
            provenance=dict(m.provenance),
            datasets=tuple(
                DatasetInfo(d.name, d.seeds, d.fidelities, d.metrics, d.costs, d.features,
                            dict(zip(d.metrics, d.present)))
                for d in m.datasets.values()
            ),
            extra=m.extra,
        )

    def to_pandas(self, kind: str = "long", dataset: str | None = None) -> Any:
        """Export the values as a pandas DataFrame.

        Parameters
        ----------
        kind : {"long", "wide"}
            ``"long"``: one row per present value, columns ``row, index, key, dataset, seed,
            budget, epoch, metric, value`` (NaN values dropped). ``"wide"``: one row per
            cell (index ``(index, key)``), columns a MultiIndex ``(dataset, metric, budget,
            epoch, seed)``, NaN where absent.
        dataset : str, optional
            Only this dataset (default: all).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g"], np.arange(2), {"c": ds}))
        >>> b.to_pandas().shape, b.to_pandas("wide").shape
        ((2, 9), (2, 1))
        """
        import pandas as pd

        if kind not in ("long", "wide"):
            raise OutOfDomainError(f"kind must be 'long' or 'wide'; got {kind!r}")
        names = [self._dataset(dataset)] if dataset is not None else list(self.datasets)
        keys = np.asarray(self.keys, dtype=object)
        if kind == "wide":
            blocks = []
            for ds in names:
                dm = self._meta.datasets[ds]
                vals = self._backend.values(ds)
                n, s, f, m = vals.shape
                cols = pd.MultiIndex.from_tuples(
                    [(ds, mm, b, e, sd) for mm in dm.metrics for (b, e) in dm.fidelities
                     for sd in dm.seeds],
                    names=["dataset", "metric", "budget", "epoch", "seed"],
                )
                flat = vals.transpose(0, 3, 2, 1).reshape(n, m * f * s)
                blocks.append(pd.DataFrame(float32_to_decimal(flat), columns=cols))
            frame = pd.concat(blocks, axis=1) if blocks else pd.DataFrame(index=range(len(self)))
            frame.index = pd.MultiIndex.from_arrays([self.indices, keys], names=["index", "key"])
            return frame
        parts = []
        for ds in names:
            dm = self._meta.datasets[ds]
            vals = self._backend.values(ds)
            r, si, fi, mi = np.nonzero(~np.isnan(vals))
            fid = np.asarray(dm.fidelities, dtype=np.int64).reshape(-1, 2)
            parts.append(pd.DataFrame({
                "row": r.astype(np.int64),
                "index": self.indices[r],
                "key": pd.Categorical(keys[r]),
                "dataset": pd.Categorical([ds] * len(r)),
                "seed": np.asarray(dm.seeds, dtype=np.int64)[si],
                "budget": fid[fi, 0],
                "epoch": fid[fi, 1],
                "metric": pd.Categorical(np.asarray(dm.metrics, dtype=object)[mi]),
                "value": float32_to_decimal(vals[r, si, fi, mi]),
            }))
        if not parts:
            return pd.DataFrame(columns=["row", "index", "key", "dataset", "seed", "budget",
                                         "epoch", "metric", "value"])
        return pd.concat(parts, ignore_index=True)
