"""A small HDF5 cache of zero-cost scores, so a whole-space table is computed once.

Layout (one file, any number of score tables)::

    /<proxy>/<dataset>/<data>/b<batch_size>/seed<random_state>[/o<overrides-md5>]/<space>/
        keys    (n,) variable-length UTF-8 strings, "<space>:<cell hash>" (isomorphism class)
        values  (n,) float64 scores
        attrs:  metadata JSON (proxy, dataset, data, data_description, batch_size, ...);
                timing JSON (cumulative ``cells_computed``, ``cpu_seconds``, ``wall_seconds``
                of the runs that filled the table, when the writer reported them)

Every write replaces the whole file atomically (temporary file + ``os.replace``), so a
crash never leaves a half-written cache; :func:`predictors.zerocost.scorer.score_cells` reads
what is there and computes only the missing cells (resumable).

Examples
--------
>>> import tempfile, pathlib
>>> cache = ScoreCache(pathlib.Path(tempfile.mkdtemp()) / "zc.h5")
>>> meta = {"proxy": "naswot", "dataset": "cifar10", "data": "digits", "batch_size": 128,
...         "random_state": 0, "network_overrides": {}}
>>> cache.update(meta, {"nb201:abc": 1.5})
>>> cache.read(meta)
{'nb201:abc': 1.5}
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError, allowed
from nasbench_tools.io import atomic_path

__all__ = ["TIMING_KEYS", "ScoreCache", "group_path"]

#: Cumulative compute counters kept per table (``ScoreCache.update(..., timing=...)``).
TIMING_KEYS: tuple[str, ...] = ("cells_computed", "cpu_seconds", "wall_seconds")

_Table = tuple[dict[str, Any], dict[str, float], dict[str, float]]

logger = logging.getLogger(__name__)


def group_path(metadata: dict[str, Any]) -> str:
    """HDF5 group (without the space level) of the scores identified by ``metadata``.

    Examples
    --------
    >>> group_path({"proxy": "snip", "dataset": "cifar100", "data": "digits", "batch_size": 64,
    ...             "random_state": 3, "network_overrides": {}})
    'snip/cifar100/digits/b64/seed3'
    """
    parts = [
        str(metadata["proxy"]),
        str(metadata["dataset"]),
        str(metadata["data"]).replace("/", "_"),
        f"b{int(metadata['batch_size'])}",
        f"seed{int(metadata['random_state'])}",
    ]
    overrides = metadata.get("network_overrides") or {}
    if overrides:
        text = json.dumps(overrides, sort_keys=True)
        parts.append("o" + hashlib.md5(text.encode()).hexdigest()[:12])
    return "/".join(parts)


class ScoreCache:
    """Read and extend score tables in one HDF5 file.

    Parameters
    ----------
    path : path-like
        The HDF5 file (created on first write).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _load_all(self) -> dict[str, _Table]:
        tables: dict[str, _Table] = {}
        if not self.path.exists():
            return tables
        try:
            with h5py.File(self.path, "r") as f:

                def visit(name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Group) and "keys" in obj and "values" in obj:
                        keys = [k.decode() if isinstance(k, bytes) else str(k) for k in obj["keys"][()]]
                        values = np.asarray(obj["values"][()], dtype=np.float64)
                        meta = json.loads(obj.attrs.get("metadata", "{}"))
                        timing = json.loads(obj.attrs.get("timing", "{}"))
                        tables[name] = (meta, dict(zip(keys, values.tolist())), timing)

                f.visititems(visit)
        except OSError as exc:
            raise FormatError(f"{self.path}: not a readable HDF5 score cache ({exc})") from None
        return tables

    def read(self, metadata: dict[str, Any]) -> dict[str, float]:
        """All cached ``{key: score}`` for ``metadata`` (every space)."""
        base = group_path(metadata)
        out: dict[str, float] = {}
        for name, (_, values, _) in self._load_all().items():
            if name.rsplit("/", 1)[0] == base:
                out.update(values)
        return out

    def timing(self, metadata: dict[str, Any], space: str) -> dict[str, float]:
        """Cumulative compute counters (:data:`TIMING_KEYS`) of one table; zeros if unknown.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> cache = ScoreCache(pathlib.Path(tempfile.mkdtemp()) / "zc.h5")
        >>> meta = {"proxy": "p", "dataset": "cifar10", "data": "digits", "batch_size": 8,
        ...         "random_state": 0}
        >>> cache.update(meta, {"nb201:a": 1.0}, timing={"cells_computed": 1, "cpu_seconds": 0.5})
        >>> cache.update(meta, {"nb201:b": 2.0}, timing={"cells_computed": 1, "cpu_seconds": 0.25})
        >>> cache.timing(meta, "nb201")
        {'cells_computed': 2.0, 'cpu_seconds': 0.75, 'wall_seconds': 0.0}
        """
        table = self._load_all().get(f"{group_path(metadata)}/{space}")
        stored = table[2] if table else {}
        return {k: float(stored.get(k, 0.0)) for k in TIMING_KEYS}

    def update(
        self,
        metadata: dict[str, Any],
        scores: dict[str, float],
        *,
        timing: dict[str, float] | None = None,
    ) -> None:
        """Merge ``scores`` into the table of ``metadata`` and rewrite the file atomically.

        ``timing`` (keys from :data:`TIMING_KEYS`) is added to the cumulative counters of
        every space table that ``scores`` touches (in practice one).
        """
        tables = self._load_all()
        base = group_path(metadata)
        touched: set[str] = set()
        for key, value in scores.items():
            space = key.split(":", 1)[0]
            name = f"{base}/{space}"
            _, values, _ = tables.setdefault(name, (dict(metadata), {}, {}))
            values[key] = float(value)
            touched.add(name)
        bad = sorted(set(timing or {}) - set(TIMING_KEYS))
        if bad:
            raise OutOfDomainError(f"unknown timing keys {bad}; allowed: {allowed(TIMING_KEYS)}")
        for name in touched:
            counters = tables[name][2]
            for k, v in (timing or {}).items():
                counters[k] = float(counters.get(k, 0.0)) + float(v)
        with atomic_path(self.path) as tmp:
            with h5py.File(tmp, "w") as f:
                for name, (meta, values, counters) in sorted(tables.items()):
                    g = f.require_group(name)
                    keys = sorted(values)
                    g.create_dataset("keys", data=np.array(keys, dtype=object), dtype=h5py.string_dtype())
                    g.create_dataset("values", data=np.array([values[k] for k in keys], dtype=np.float64))
                    g.attrs["metadata"] = json.dumps(meta, sort_keys=True, default=str)
                    if counters:
                        g.attrs["timing"] = json.dumps(counters, sort_keys=True)
        logger.debug("cache %s: %s now holds %d scores", self.path, base, sum(len(t[1]) for t in tables.values()))
