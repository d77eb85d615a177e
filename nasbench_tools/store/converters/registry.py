"""Converter registry: format name -> (detect, convert[, convert_streaming]).

Every converter module exposes ``detect(path) -> bool`` and
``convert(path, **kw) -> TableData``; a module may also expose
``convert_streaming(path, writer, **kw) -> int`` that appends chunks to an open
:class:`~nasbench_tools.store.format.StoreWriter` (used for NB101's 423,624 cells).
Modules are imported lazily, so a missing optional converter never breaks the others.

:func:`convert_to_store` is what ``nbt convert`` runs: detect each source, hash it
(SHA-256, recorded in the metadata and passed to the converter's ``sha256=`` keyword, so
the file is hashed once), convert, merge several tables by official index, and write the
store atomically.

Examples
--------
>>> list(REGISTRY)
['csv', 'nb101_tfrecord', 'nb201_pth', 'nats_pbz2']
>>> detect_format("no-such-file.bin") is None
True
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from nasbench_tools.errors import FormatError, OutOfDomainError, allowed
from nasbench_tools.store.converters.hashing import sha256_path
from nasbench_tools.store.format import StoreWriter, write_store
from nasbench_tools.store.merge import merge_tables
from nasbench_tools.store.table import TableData

__all__ = [
    "REGISTRY",
    "Converter",
    "convert_sources",
    "convert_to_store",
    "detect_format",
    "sha256_path",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Converter:
    """One registered converter, backed by a lazily imported module."""

    module: str
    description: str

    def _mod(self) -> ModuleType:
        return importlib.import_module(self.module)

    def available(self) -> bool:
        """True if the module imports."""
        try:
            self._mod()
        except ImportError as exc:
            log.debug("converter %s unavailable: %s", self.module, exc)
            return False
        return True

    def detect(self, path: str | os.PathLike[str]) -> bool:
        """The module's ``detect``; ``False`` if the module is unavailable."""
        if not self.available():
            return False
        return bool(self._mod().detect(path))

    def convert(self, path: str | os.PathLike[str], **kw: Any) -> TableData:
        """The module's ``convert``."""
        result: TableData = self._mod().convert(path, **kw)
        return result

    @property
    def streaming(self) -> Callable[..., int] | None:
        """The module's ``convert_streaming`` if it has one."""
        if not self.available():
            return None
        return getattr(self._mod(), "convert_streaming", None)


#: Format name -> converter. Detection tries them in this order (cheap, specific first).
REGISTRY: dict[str, Converter] = {
    "csv": Converter(
        "nasbench_tools.store.converters.csv_tables",
        "CSV tables (built-in NB201 layouts by header, others with a JSON recipe)",
    ),
    "nb101_tfrecord": Converter(
        "nasbench_tools.store.converters.nb101_tfrecord",
        "NAS-Bench-101 nasbench_only108.tfrecord / nasbench_full.tfrecord",
    ),
    "nb201_pth": Converter(
        "nasbench_tools.store.converters.nb201_pth",
        "NAS-Bench-201 NAS-Bench-201-v1_0-e61699.pth / NAS-Bench-201-v1_1-096897.pth",
    ),
    "nats_pbz2": Converter(
        "nasbench_tools.store.converters.nats_pbz2",
        "NATS-Bench NATS-{tss,sss}-v1_0-*.pickle.pbz2 and their fast-mode directories",
    ),
}


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """Name of the first registered format whose ``detect`` accepts ``path``, else None.

    Examples
    --------
    >>> detect_format("missing.csv") is None
    True
    """
    for name, conv in REGISTRY.items():
        try:
            if conv.detect(path):
                return name
        except Exception as exc:  # a detector must never break detection of the others
            log.debug("detect %s on %s failed: %r", name, path, exc)
    return None


def _accepted(fn: Callable[..., Any], options: dict[str, Any] | None) -> dict[str, Any]:
    """The options ``fn`` accepts; the others are dropped with a warning."""
    opts = dict(options or {})
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return opts
    dropped = sorted(k for k in opts if k not in params)
    for k in dropped:
        log.warning("option %r does not apply to %s; ignored", k, fn.__module__)
    return {k: v for k, v in opts.items() if k in params}


def _call_options(fn: Callable[..., Any], options: dict[str, Any] | None,
                  record: dict[str, Any]) -> dict[str, Any]:
    """The options ``fn`` accepts, plus the source's SHA-256 if ``fn`` takes ``sha256=``
    (so the file is hashed once, here, not again by the converter)."""
    opts = _accepted(fn, options)
    if "sha256" in inspect.signature(fn).parameters:
        opts["sha256"] = record["sha256"]
    return opts


def _pick(path: Path, fmt: str | None) -> tuple[str, Converter]:
    if not path.exists():
        raise FormatError(f"source {str(path)!r} does not exist")
    if fmt is not None:
        if fmt not in REGISTRY:
            raise OutOfDomainError(f"unknown format {fmt!r}; allowed: {allowed(REGISTRY)}")
        return fmt, REGISTRY[fmt]
    name = detect_format(path)
    if name is None:
        raise FormatError(
            f"{str(path)!r} is in no format nbt can convert; formats: "
            + "; ".join(f"{k} ({c.description})" for k, c in REGISTRY.items())
        )
    return name, REGISTRY[name]


def _source_record(path: Path, fmt: str, progress: bool) -> dict[str, Any]:
    size = (sum(q.stat().st_size for q in path.rglob("*") if q.is_file())
            if path.is_dir() else path.stat().st_size)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"sha256 {path.name}",
                   leave=False)
    try:
        digest = sha256_path(path, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    return {"path": str(path), "name": path.name, "format": fmt, "size": size,
            "sha256": digest}


def convert_sources(
    sources: Sequence[str | os.PathLike[str]],
    *,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> TableData:
    """Convert and merge several sources into one table (in memory).

    Parameters
    ----------
    sources : sequence of path-like
        Files or directories, one format each (detected unless ``fmt`` is given).
    fmt : str, optional
        Force one format for every source.
    options : dict, optional
        Keyword arguments passed to every ``convert`` (e.g. ``recipe=`` for CSVs).
    progress : bool
        Show tqdm bars.

    Returns
    -------
    TableData
        Provenance ``sources``: path, format, size and SHA-256 of each source plus the
        converter's own provenance.
    """
    if not sources:
        raise OutOfDomainError("no sources given; pass at least one file or directory")
    tables = []
    for src in sources:
        path = Path(src)
        name, conv = _pick(path, fmt)
        record = _source_record(path, name, progress)
        log.info("converting %s as %s", path, name)
        fn = conv._mod().convert
        table = fn(path, **_call_options(fn, options, record))
        inner = {k: v for k, v in table.provenance.items() if k != "sources"}
        record.update({k: v for k, v in (table.provenance.get("sources") or [{}])[0].items()
                       if k not in record})
        if inner:
            record["converter"] = inner
        table.provenance = {"sources": [record]}
        tables.append(table)
    return merge_tables(tables)


def convert_to_store(
    sources: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    command: str | None = None,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Path:
    """Convert ``sources`` and write one store at ``output`` (atomically).

    A single source whose converter can stream (``convert_streaming``) is written chunk by
    chunk through :class:`~nasbench_tools.store.format.StoreWriter`; otherwise the
    sources are converted, merged by official index and written at once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("nb201_index,arch_str,cifar10_test_acc,"
    ...     "cifar10_valid_xvalid_acc,cifar10_valid_oritest_acc,params_m,naswot_score\\n"
    ...     "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10.0,10.0,10.0,0.1,\\n")
    >>> from nasbench_tools.store.format import read_metadata
    >>> read_metadata(convert_to_store([d / "t.csv"], d / "s.h5", command="doc")).n_cells
    1
    """
    out = Path(output)
    if len(sources) == 1:
        path = Path(sources[0])
        name, conv = _pick(path, fmt)
        stream = conv.streaming
        if stream is not None:
            record = _source_record(path, name, progress)
            opts = _call_options(stream, {"progress": progress, **(options or {})}, record)
            with StoreWriter(out, command=command) as writer:
                stream(path, writer, **opts)
                writer.provenance["sources"] = [record]
            return out
    table = convert_sources(sources, fmt=fmt, options=options, progress=progress)
    return write_store(table, out, command=command)
