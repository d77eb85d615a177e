"""The on-disk store: one HDF5 file per benchmark (layout in ``docs/store-format.md``).

Layout (format version :data:`FORMAT_VERSION`)::

    /                       attrs: format, format_version, hash_version, space, n_cells,
                                   created, command, nasbench_tools_version, store_uuid,
                                   provenance (JSON), datasets (JSON list, in order)
    /cells/keys             (cells,) fixed-length UTF-8 bytes: NB101 module hash, NB201 / SSS
                            string (fixed length reads 2-3x faster than variable length)
    /cells/indices          (cells,) int64 official index
    /extra/<name>           (cells, ...) verbatim per-cell arrays (e.g. ``nb101_matrix``)
    /datasets/<name>/values (cells, seeds, fidelities, metrics) float32, NaN = missing,
                            chunked (rows, 1, 1, 1) so one (seed, fidelity, metric) column
                            is a few contiguous reads; no compression.
                            attrs: seeds (int64), fidelities (int64, (F, 2)), metrics,
                                   present (int64 per metric: non-NaN values)
    /datasets/<name>/costs/<cost>        (cells,) float64
    /datasets/<name>/features/<feature>  (cells,) float64

Writing is atomic: everything goes to a temporary file beside the target, renamed onto it
only when the writer closes without an error.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> from nasbench_tools.store.table import DatasetTable, TableData
>>> ds = DatasetTable("cifar10", (MEAN_SEED,), ((200, 200),), ("test_accuracy",),
...                   np.array([[[[91.5]]], [[[93.2]]]]))
>>> table = TableData("nb201", ["a", "b"], np.array([0, 1]), {"cifar10": ds})
>>> path = write_store(table, pathlib.Path(tempfile.mkdtemp()) / "t.h5", command="doctest")
>>> read_metadata(path).n_cells
2
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.io import fault_point, output_lock
from nasbench_tools.store.table import COSTS, TableData

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HASH_VERSION",
    "MEAN_SEED",
    "UNKNOWN_SEED",
    "DatasetMeta",
    "H5Backend",
    "StoreMeta",
    "StoreWriter",
    "float32_to_decimal",
    "hdf5_write_failed",
    "is_pseudo_seed",
    "read_metadata",
    "write_store",
]

log = logging.getLogger(__name__)

#: Value of the root attribute ``format``.
FORMAT_NAME = "nasbench-tools-store"
#: Bumped whenever the layout changes; readers refuse other versions.
FORMAT_VERSION = 1
#: Version of the cell keys: 1 = official NB101 md5 module hash, official NB201 / NATS
#: strings. Bumped if the key scheme ever changes.
HASH_VERSION = 1

#: Pseudo-seed id on the seed axis: a value *published as the mean over the benchmark's
#: trials* (the per-trial values are not in the source). ``seed="mean"`` returns it.
MEAN_SEED = -1
#: Pseudo-seed id on the seed axis: a single trial whose seed is not known (e.g. NASLib's
#: tables). Further unknown trials would take -3, -4, ... (see :func:`is_pseudo_seed`).
UNKNOWN_SEED = -2

_ROW_CHUNK = 16384  # rows per chunk of `values` (64 KiB of float32)
_META_KEYS = ("format", "format_version", "hash_version", "space", "n_cells")


def is_pseudo_seed(seed: int) -> bool:
    """True for the reserved seed ids (negative): published means and unknown trials.

    Examples
    --------
    >>> is_pseudo_seed(MEAN_SEED), is_pseudo_seed(UNKNOWN_SEED), is_pseudo_seed(777)
    (True, True, False)
    """
    return int(seed) < 0


def float32_to_decimal(values: np.ndarray) -> np.ndarray:
    """Widen float32 values to the float64 of their shortest decimal form.

    Values are stored as float32 (about 7 significant digits); a published ``94.37`` is
    read back as ``94.37`` rather than ``94.37000274658203``. Each value becomes the
    float64 nearest to the shortest decimal (6 to 9 significant digits) that rounds to the
    same float32, exactly what ``str(np.float32(x))`` prints. NaN, inf and 0 pass through.

    Examples
    --------
    >>> float32_to_decimal(np.array([94.37, 81.98266665690103, np.nan], dtype=np.float32)).tolist()
    [94.37, 81.982666, nan]
    """
    a32 = np.asarray(values, dtype=np.float32)
    flat32 = a32.ravel()
    x = flat32.astype(np.float64)
    out = x.copy()
    todo = np.flatnonzero(np.isfinite(x) & (x != 0))
    mag = np.floor(np.log10(np.abs(x[todo])))
    for digits in (6, 7, 8, 9):
        if not todo.size:
            break
        scale = 10.0 ** (digits - 1 - mag)
        r = np.round(x[todo] * scale) / scale
        ok = r.astype(np.float32) == flat32[todo]
        out[todo[ok]] = r[ok]
        todo, mag = todo[~ok], mag[~ok]
    return out.reshape(a32.shape)


# ----------------------------------------------------------------------------- metadata
@dataclass(frozen=True)
class DatasetMeta:
    """Axes and column names of one dataset group (read without touching bulk data)."""

    name: str
    seeds: tuple[int, ...]
    fidelities: tuple[tuple[int, int], ...]
    metrics: tuple[str, ...]
    costs: tuple[str, ...]
    features: tuple[str, ...]
    present: tuple[int, ...]  # non-NaN values per metric


@dataclass(frozen=True)
class StoreMeta:
    """Root metadata of a store."""

    path: Path | None
    space: str
    n_cells: int
    format_version: int
    hash_version: int
    created: str
    command: str
    nasbench_tools_version: str
    store_uuid: str
    provenance: dict[str, Any]
    datasets: dict[str, DatasetMeta]
    extra: tuple[str, ...] = field(default=())


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _tool_version() -> str:
    from nasbench_tools._version import __version__

    return str(__version__)


def _open_h5(path: Path) -> h5py.File:
    if not path.exists():
        raise FormatError(f"store {str(path)!r} does not exist")
    if path.is_dir():
        raise FormatError(f"store {str(path)!r} is a directory, not a store file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise FormatError(
            f"{str(path)!r} is not an HDF5 store written by nasbench-tools ({exc})"
        ) from exc


def _fixed(text: str) -> np.bytes_:
    """A string attribute as fixed-length UTF-8 bytes: stored in the (checksummed) object
    header, not in HDF5's global heap, which has no checksum and whose damaged size fields
    made HDF5 loop forever. :func:`_str_attr` reads both kinds."""
    raw = text.encode("utf-8")
    return np.bytes_(raw) if raw else np.bytes_(b"\x00")  # b"" as one null byte


def _str_attr(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_meta(f: h5py.File, path: Path) -> StoreMeta:
    attrs = f.attrs
    missing = [k for k in _META_KEYS if k not in attrs]
    if missing or _str_attr(attrs["format"]) != FORMAT_NAME:
        raise FormatError(
            f"{str(path)!r} is an HDF5 file but not a nasbench-tools store (root attributes "
            f"{missing or ['format']} missing or wrong); convert the benchmark with `nbt convert`"
        )
    version = int(attrs["format_version"])
    if version != FORMAT_VERSION:
        raise FormatError(
            f"{str(path)!r} has store format version {version}, this nasbench-tools "
            f"({_tool_version()}) reads format version {FORMAT_VERSION}; re-create it with "
            f"`nbt convert`"
        )
    datasets: dict[str, DatasetMeta] = {}
    for name in json.loads(_str_attr(attrs["datasets"])):
        g = f["datasets"][name]
        v = g["values"]
        datasets[name] = DatasetMeta(
            name=name,
            seeds=tuple(int(s) for s in v.attrs["seeds"]),
            fidelities=tuple(
                (int(b), int(e)) for b, e in np.asarray(v.attrs["fidelities"]).reshape(-1, 2)
            ),
            metrics=tuple(_str_attr(m) for m in json.loads(_str_attr(v.attrs["metrics"]))),
            costs=tuple(k for k in COSTS if k in g.get("costs", {})),
            features=tuple(sorted(g["features"].keys())) if "features" in g else (),
            present=tuple(int(c) for c in v.attrs["present"]),
        )
    return StoreMeta(
        path=path,
        space=_str_attr(attrs["space"]),
        n_cells=int(attrs["n_cells"]),
        format_version=version,
        hash_version=int(attrs["hash_version"]),
        created=_str_attr(attrs["created"]),
        command=_str_attr(attrs["command"]),
        nasbench_tools_version=_str_attr(attrs["nasbench_tools_version"]),
        store_uuid=_str_attr(attrs["store_uuid"]),
        provenance=json.loads(_str_attr(attrs["provenance"])),
        datasets=datasets,
        extra=tuple(sorted(f["extra"].keys())) if "extra" in f else (),
    )


#: What h5py raises on a damaged file (a bad heap, a missing group, an attribute out of
#: bounds); turned into a FormatError naming the file.
_H5_DAMAGE = (OSError, KeyError, ValueError, TypeError, RuntimeError)


def _damaged(path: Path, exc: BaseException) -> FormatError:
    return FormatError(f"store {str(path)!r} is damaged ({type(exc).__name__}: {exc}); "
                       "re-create it with `nbt convert`")


#: Stores whose HDF5 writes failed in this process (see :func:`hdf5_write_failed`).
_FAILED_WRITES: list[Path] = []


def hdf5_write_failed() -> bool:
    """Whether a store write failed in this process (disk full, file too large).

    HDF5 then cannot close that file: its library shutdown at interpreter exit crashes on
    it, so ``nbt`` exits at once after reporting such an error (``cli/main.py``).
    """
    return bool(_FAILED_WRITES)


def _write_failed(path: Path, exc: BaseException) -> OSError:
    """An HDF5 write error (disk full, file too large) as the OSError it is."""
    _FAILED_WRITES.append(path)
    err = next((e for e in (28, 27, 122) if f"errno = {e}," in str(exc)), None)
    return OSError(err or 5, f"cannot write store {str(path)!r} ({os.strerror(err or 5)}); "
                   "the previous file, if any, is unchanged")


def read_metadata(path: str | os.PathLike[str]) -> StoreMeta:
    """Read the metadata of a store (no bulk data).

    Parameters
    ----------
    path : path-like
        A store written by :func:`write_store` / :class:`StoreWriter`.

    Returns
    -------
    StoreMeta

    Raises
    ------
    FormatError
        Not an HDF5 file, not a store, or a store of another format version (the message
        names both versions).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.h5"
    >>> _ = p.write_bytes(b"not hdf5")
    >>> try:
    ...     read_metadata(p)
    ... except FormatError as e:
    ...     print("FormatError")
    FormatError
    """
    p = Path(path)
    with _open_h5(p) as f:
        try:
            return _read_meta(f, p)
        except FormatError:
            raise
        except _H5_DAMAGE as exc:
            raise _damaged(p, exc) from exc


# ----------------------------------------------------------------------------- reader
class H5Backend:
    """Lazy reader of a store file: metadata at open, bulk arrays on demand.

    The file is opened briefly for each bulk read (no handle is kept, so the object pickles
    and survives forks); each read checks the store's UUID, so a file replaced under a
    running reader is detected instead of mixing two stores.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nasbench_tools.store.table import DatasetTable, TableData
    >>> ds = DatasetTable("cifar10", (777,), ((12, 12),), ("val_accuracy",),
    ...                   np.array([[[[80.0]]]]))
    >>> p = write_store(TableData("nb201", ["k"], np.array([5]), {"cifar10": ds}),
    ...                 pathlib.Path(tempfile.mkdtemp()) / "s.h5")
    >>> b = H5Backend(p)
    >>> b.keys(), b.indices().tolist(), b.column("cifar10", 0, 0).tolist()
    (['k'], [5], [[80.0]])
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.meta = read_metadata(self.path)

    @contextlib.contextmanager
    def _file(self) -> Iterator[h5py.File]:
        with _open_h5(self.path) as f:
            if _str_attr(f.attrs.get("store_uuid", "")) != self.meta.store_uuid:
                raise FormatError(
                    f"store {str(self.path)!r} was replaced after it was opened; open it again"
                )
            try:
                yield f
            except FormatError:
                raise
            except _H5_DAMAGE as exc:
                raise _damaged(self.path, exc) from exc

    def keys(self) -> list[str]:
        """Key of every row."""
        with self._file() as f:
            raw = np.asarray(f["cells"]["keys"][()])
            return np.char.decode(raw, "utf-8").tolist() if raw.size else []

    def indices(self) -> np.ndarray:
        """Official index of every row (int64)."""
        with self._file() as f:
            return np.asarray(f["cells"]["indices"][()], dtype=np.int64)

    def column(self, dataset: str, fidelity: int, metric: int) -> np.ndarray:
        """``values[:, :, fidelity, metric]`` of one dataset: (cells, seeds) float32."""
        with self._file() as f:
            v = f["datasets"][dataset]["values"]
            if v.shape[0] == 0 or v.shape[1] == 0:
                return np.empty((v.shape[0], v.shape[1]), dtype=np.float32)
            return np.asarray(v[:, :, fidelity, metric], dtype=np.float32)

    def values(self, dataset: str) -> np.ndarray:
        """The whole ``values`` array of one dataset (for exports)."""
        with self._file() as f:
            return np.asarray(f["datasets"][dataset]["values"][()], dtype=np.float32)

    def cost(self, dataset: str, name: str) -> np.ndarray:
        """One cost column (float64 per row)."""
        with self._file() as f:
            return np.asarray(f["datasets"][dataset]["costs"][name][()], dtype=np.float64)

    def feature(self, dataset: str, name: str) -> np.ndarray:
        """One feature column (float64 per row)."""
        with self._file() as f:
            return np.asarray(f["datasets"][dataset]["features"][name][()], dtype=np.float64)

    def extra(self, name: str) -> np.ndarray:
        """One verbatim extra array."""
        with self._file() as f:
            return np.asarray(f["extra"][name][()])


# ----------------------------------------------------------------------------- writer
@dataclass(frozen=True)
class _Schema:
    space: str
    datasets: tuple[tuple[str, tuple[int, ...], tuple[tuple[int, int], ...], tuple[str, ...],
                          tuple[str, ...], tuple[str, ...]], ...]
    extra: tuple[tuple[str, tuple[int, ...], str], ...]

    @classmethod
    def of(cls, table: TableData) -> _Schema:
        return cls(
            space=table.space,
            datasets=tuple(
                (
                    name,
                    tuple(int(s) for s in d.seeds),
                    tuple((int(b), int(e)) for b, e in d.fidelities),
                    tuple(d.metrics),
                    tuple(sorted(d.costs)),
                    tuple(sorted(d.features)),
                )
                for name, d in table.datasets.items()
            ),
            extra=tuple(
                (k, tuple(np.asarray(v).shape[1:]), np.asarray(v).dtype.str)
                for k, v in sorted(table.extra.items())
            ),
        )


def _check_table(table: TableData) -> None:
    n = len(table.keys)
    for name, d in table.datasets.items():
        if name != d.name:
            raise OutOfDomainError(
                f"dataset stored under {name!r} is named {d.name!r}; the two must agree"
            )
        if not name or "/" in name:
            raise OutOfDomainError(f"dataset name {name!r} must be non-empty and without '/'")
        for kind, seq in (("seeds", d.seeds), ("fidelities", d.fidelities), ("metrics", d.metrics)):
            if len(set(seq)) != len(seq):
                raise OutOfDomainError(f"dataset {name!r}: duplicate {kind} in {list(seq)}")
        for b, e in d.fidelities:
            if not (1 <= int(e) <= int(b)):
                raise OutOfDomainError(
                    f"dataset {name!r}: fidelity ({b}, {e}) must satisfy 1 <= epoch <= budget"
                )
        for group, cols in (("cost", d.costs), ("feature", d.features)):
            for k, v in cols.items():
                if v.shape != (n,):
                    raise OutOfDomainError(
                        f"dataset {name!r}: {group} column {k!r} has shape {v.shape}; "
                        f"expected ({n},), one value per cell"
                    )
    for k, v in table.extra.items():
        if np.asarray(v).shape[:1] != (n,):
            raise OutOfDomainError(
                f"extra array {k!r} has shape {np.asarray(v).shape}; its first axis must have "
                f"{n} rows, one per cell"
            )
    bad = [k for k in table.keys if not isinstance(k, str) or not k]
    if bad:
        raise OutOfDomainError(f"cell keys must be non-empty strings; got {bad[:3]!r}")


class StoreWriter:
    """Write a store chunk by chunk, with bounded memory, atomically.

    The first appended :class:`TableData` fixes the schema (space, datasets with their
    seeds / fidelities / metrics, cost and feature names, extra arrays); every later chunk
    must have the same schema and carries the next rows. Rows are buffered up to one
    HDF5 chunk (``16384`` rows) and written aligned, so memory stays at one chunk of rows
    whatever the size of the benchmark. Nothing appears under ``path`` unless the ``with``
    block ends without an exception.

    Parameters
    ----------
    path : path-like
        Target file.
    command : str, optional
        The command that made the store (recorded in the metadata).
    provenance : mapping, optional
        Merged over the provenance of the first chunk; :attr:`provenance` may also be
        updated until the writer closes (e.g. with SHA-256 sums computed while streaming).
    expected_rows : int, optional
        How many rows the store will hold, if known: HDF5 chunks are then no longer than
        that, so a small store stays small on disk. Without it chunks hold 16,384 rows.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nasbench_tools.store.table import DatasetTable, TableData
    >>> def chunk(keys, start):
    ...     n = len(keys)
    ...     ds = DatasetTable("cifar10", (0,), ((108, 108),), ("val_accuracy",),
    ...                       np.full((n, 1, 1, 1), 90.0))
    ...     return TableData("nb101", keys, np.arange(start, start + n), {"cifar10": ds})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.h5"
    >>> with StoreWriter(out, command="doctest") as w:
    ...     w.append(chunk(["a", "b"], 0))
    ...     w.append(chunk(["c"], 2))
    >>> read_metadata(out).n_cells
    3
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        command: str | None = None,
        provenance: Mapping[str, Any] | None = None,
        expected_rows: int | None = None,
    ) -> None:
        self.path = Path(path)
        # HDF5 allocates whole chunks: a store of a few hundred cells must not pay for
        # 16,384-row chunks per (seed, fidelity, metric) column, so the hint shrinks them.
        self._chunk = _ROW_CHUNK if not expected_rows else max(1, min(_ROW_CHUNK, expected_rows))
        self.command = command or ""
        self.provenance: dict[str, Any] = dict(provenance or {})
        self._schema: _Schema | None = None
        self._tmp: Path | None = None
        self._file: h5py.File | None = None
        self._n = 0
        self._buffer: list[TableData] = []
        self._buffered = 0
        self._keys: dict[str, None] = {}  # insertion-ordered, unique
        self._seen_indices: set[int] = set()
        self._present: dict[str, np.ndarray] = {}
        self._first_provenance: dict[str, Any] = {}

    # -- context manager
    def __enter__(self) -> StoreWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One writer per output at a time (a second process gets BusyError); holding the
        # lock, temporary files left by a killed writer are removed.
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(output_lock(self.path))
        try:
            self._tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:12]}.tmp")
            # HDF5 >= 1.10 structures carry checksums on all metadata, and every chunk has a
            # Fletcher-32 checksum: a damaged store fails to read instead of lying (or, as
            # some damaged older-format metadata did, making HDF5 loop forever).
            self._file = h5py.File(self._tmp, "w", rdcc_nbytes=64 * 2**20,
                                   libver=("v110", "latest"))
        except BaseException:
            self._lock.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ok = exc_type is None
        try:
            if ok:
                self._finish()
        except BaseException:
            ok = False
            raise
        finally:
            if self._file is not None:
                try:
                    self._file.close()
                except _H5_DAMAGE as exc:  # a write failed (disk full): nothing is renamed
                    if ok:
                        ok = False
                        raise _write_failed(self.path, exc) from exc
                finally:
                    self._file = None
            try:
                if self._tmp is not None:
                    if ok:
                        fault_point("store.replace")
                        os.replace(self._tmp, self.path)
                        log.info("wrote store %s (%d cells)", self.path, self._n)
                    else:
                        with contextlib.suppress(FileNotFoundError):
                            self._tmp.unlink()
            finally:
                self._lock.close()

    # -- appending
    @property
    def rows_written(self) -> int:
        """Rows appended so far (buffered rows included)."""
        return self._n + self._buffered

    def append(self, chunk: TableData) -> None:
        """Append the rows of ``chunk`` (same schema as the first chunk).

        Raises
        ------
        FormatError
            The chunk's schema differs from the first one, or a key / index repeats.
        """
        if self._file is None:
            raise FormatError("StoreWriter.append called outside its `with` block")
        _check_table(chunk)
        schema = _Schema.of(chunk)
        if self._schema is None:
            self._schema = schema
            self._first_provenance = dict(chunk.provenance)
            self._create(chunk)
        elif schema != self._schema:
            raise FormatError(
                f"chunk schema differs from the first chunk's: {schema} vs {self._schema}"
            )
        for k in chunk.keys:
            if k in self._keys:
                raise FormatError(f"cell key {k!r} appears twice; every row needs its own key")
            self._keys[k] = None
        for i in chunk.indices.tolist():
            if i in self._seen_indices:
                raise FormatError(f"official index {i} appears twice; indices must be unique")
            self._seen_indices.add(i)
        self._buffer.append(chunk)
        self._buffered += len(chunk.keys)
        if self._buffered >= _ROW_CHUNK:
            self._flush()
        fault_point("store.append")

    def _create(self, first: TableData) -> None:
        f = self._file
        assert f is not None
        cells = f.create_group("cells")  # keys are written at the end (fixed length)
        cells.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int64,
                             chunks=(self._chunk,), fletcher32=True)
        if first.extra:
            ex = f.create_group("extra")
            for k, v in first.extra.items():
                a = np.asarray(v)
                ex.create_dataset(k, shape=(0, *a.shape[1:]), maxshape=(None, *a.shape[1:]),
                                  dtype=a.dtype, chunks=(min(self._chunk, 1024), *a.shape[1:]),
                                  fletcher32=True)
        groups = f.create_group("datasets")
        for name, d in first.datasets.items():
            g = groups.create_group(name)
            s, fi, m = d.values.shape[1:]
            kw: dict[str, Any] = {}
            if s and fi and m:
                kw["chunks"] = (self._chunk, 1, 1, 1)
                kw["fletcher32"] = True
            v = g.create_dataset("values", shape=(0, s, fi, m), maxshape=(None, s, fi, m),
                                 dtype=np.float32, fillvalue=np.nan, **kw)
            v.attrs["seeds"] = np.asarray(d.seeds, dtype=np.int64)
            v.attrs["fidelities"] = np.asarray(d.fidelities, dtype=np.int64).reshape(-1, 2)
            v.attrs["metrics"] = _fixed(json.dumps(list(d.metrics)))
            self._present[name] = np.zeros(m, dtype=np.int64)
            for group, cols in (("costs", d.costs), ("features", d.features)):
                if cols:
                    cg = g.create_group(group)
                    for k in cols:
                        cg.create_dataset(k, shape=(0,), maxshape=(None,), dtype=np.float64,
                                          chunks=(self._chunk,), fillvalue=np.nan,
                                          fletcher32=True)

    def _flush(self) -> None:
        if not self._buffered:
            return
        f = self._file
        assert f is not None
        chunks, self._buffer = self._buffer, []
        n0, k = self._n, self._buffered
        self._n, self._buffered = n0 + k, 0
        sl = slice(n0, n0 + k)

        def grow(ds: h5py.Dataset, arr: np.ndarray) -> None:
            ds.resize(n0 + k, axis=0)
            ds[sl] = arr
            # HDF5 writes a chunk when it leaves the cache, where an I/O error (a full
            # disk) is only printed; flushing makes it an exception here.
            try:
                f.flush()
            except _H5_DAMAGE as exc:
                raise _write_failed(self.path, exc) from exc

        grow(f["cells"]["indices"], np.concatenate([c.indices for c in chunks]))
        for name in chunks[0].extra:
            grow(f["extra"][name], np.concatenate([np.asarray(c.extra[name]) for c in chunks]))
        for name, d0 in chunks[0].datasets.items():
            g = f["datasets"][name]
            vals = np.concatenate([c.datasets[name].values for c in chunks])
            grow(g["values"], vals)
            if vals.size:
                self._present[name] += (~np.isnan(vals)).sum(axis=(0, 1, 2))
            for group, attr in (("costs", "costs"), ("features", "features")):
                for col in getattr(d0, attr):
                    grow(g[group][col],
                         np.concatenate([getattr(c.datasets[name], attr)[col] for c in chunks]))

    def _finish(self) -> None:
        f = self._file
        assert f is not None
        if self._schema is None:
            raise FormatError("no rows were appended; an empty store is not written")
        self._flush()
        encoded = [k.encode("utf-8") for k in self._keys]
        width = max((len(k) for k in encoded), default=1)
        f["cells"].create_dataset("keys", data=np.asarray(encoded, dtype=f"S{width}"),
                                  chunks=True, fletcher32=True)
        for name, present in self._present.items():
            f["datasets"][name]["values"].attrs["present"] = present
        provenance = {**self._first_provenance, **self.provenance}
        try:
            prov_json = json.dumps(provenance, sort_keys=True, default=str)
        except (TypeError, ValueError) as exc:
            raise FormatError(f"provenance is not JSON-serialisable: {exc}") from exc
        a = f.attrs
        a["format"] = _fixed(FORMAT_NAME)
        a["format_version"] = FORMAT_VERSION
        a["hash_version"] = HASH_VERSION
        a["space"] = _fixed(self._schema.space)
        a["n_cells"] = self._n
        a["created"] = _fixed(_now())
        a["command"] = _fixed(self.command)
        a["nasbench_tools_version"] = _fixed(_tool_version())
        a["store_uuid"] = _fixed(uuid.uuid4().hex)
        a["provenance"] = _fixed(prov_json)
        a["datasets"] = _fixed(json.dumps([d[0] for d in self._schema.datasets]))


def write_store(
    table: TableData, path: str | os.PathLike[str], *, command: str | None = None
) -> Path:
    """Write ``table`` as a store at ``path``, atomically.

    Parameters
    ----------
    table : TableData
        What a converter produced.
    path : path-like
        Target file; written through a temporary file in the same directory and renamed,
        so an interrupted write leaves nothing under ``path``.
    command : str, optional
        The command that produced the table, recorded in the metadata.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nasbench_tools.store.table import DatasetTable, TableData
    >>> ds = DatasetTable("cifar10", (777, 888), ((200, 200),), ("test_accuracy",),
    ...                   np.array([[[[93.0]], [[94.0]]]]))
    >>> p = write_store(TableData("nb201", ["k"], np.array([0]), {"cifar10": ds}),
    ...                 pathlib.Path(tempfile.mkdtemp()) / "s.h5", command="nbt convert x")
    >>> read_metadata(p).command
    'nbt convert x'
    """
    if not table.datasets and not table.keys:
        raise OutOfDomainError("table is empty: it has no cells and no datasets")
    with StoreWriter(path, command=command, expected_rows=len(table.keys)) as w:
        w.append(table)
    return Path(path)
