"""Converter of the official NAS-Bench-101 TFRecord files, without TensorFlow.

``nasbench_only108.tfrecord`` (108-epoch budget) and ``nasbench_full.tfrecord`` (budgets 4,
12, 36 and 108) are TFRecord files: each record is framed as

``uint64 length | uint32 masked CRC32C(length) | data | uint32 masked CRC32C(data)``

(little endian; ``masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 mod 2**32``; CRC32C is
the Castagnoli CRC). ``data`` is a UTF-8 JSON list
``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``: the 32-hex module
hash, the epoch budget, the adjacency matrix as a flat string of ``'0'``/``'1'`` (n*n
characters), the comma-separated vertex labels and a base64 ``ModelMetrics`` protobuf
(decoded by :mod:`.nb101_proto`). Each (hash, budget) appears once per repeat (3 repeats).
Like the official API, ``evaluation_data[1]`` is the halfway evaluation (epoch ``b/2``) and
``evaluation_data[2]`` the final one (epoch ``b``).

CRC32C uses the ``crc32c`` or ``google_crc32c`` package when one is installed, otherwise a
numpy implementation that checks a whole batch of records column by column.

Examples
--------
>>> hex(crc32c(b"123456789"))
'0xe3069283'
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import logging
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasbench_tools.errors import ChecksumError, FormatError, allowed
from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
from nasbench_tools.spaces.nb101.ops import MAX_VERTICES, OP_CODE
from nasbench_tools.store.converters.hashing import sha256_path
from nasbench_tools.store.converters.nb101_proto import decode_model_metrics
from nasbench_tools.store.table import DatasetTable, TableData

__all__ = [
    "BUDGETS",
    "FORMAT",
    "KNOWN_RELEASES",
    "OP_KINDS",
    "convert",
    "convert_streaming",
    "crc32c",
    "detect",
    "iter_records",
    "masked_crc32c",
]

logger = logging.getLogger(__name__)

#: Name under which the converter registry lists this module.
FORMAT = "nb101_tfrecord"

CONVERTER_VERSION = 1

#: SHA-256 published in the README of google-research/nasbench for the two releases.
KNOWN_RELEASES: dict[str, str] = {
    "nasbench_full.tfrecord": "3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
    "nasbench_only108.tfrecord":
        "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
}

#: Epoch budgets of the releases (fidelities ``(b, b // 2)`` and ``(b, b)`` each).
BUDGETS: tuple[int, ...] = (4, 12, 36, 108)

#: Number of repeats (trials) per (cell, budget) in the releases: the seed axis 0, 1, 2.
NUM_REPEATS = 3

#: Vertex label -> code in ``extra["nb101_ops"]`` (the ``spaces.nb101.arrays`` kinds).
OP_KINDS: dict[str, int] = {**OP_CODE, "input": KIND_INPUT, "output": KIND_OUTPUT}

METRICS: tuple[str, ...] = ("train_accuracy", "val_accuracy", "test_accuracy", "train_time")

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")

# ----------------------------------------------------------------------------- CRC32C


def _make_table() -> np.ndarray:
    poly = 0x82F63B78  # reversed Castagnoli polynomial
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table[i] = c
    return table


_TABLE = _make_table()
_TABLE_LIST = [int(x) for x in _TABLE]


def _crc32c_python(data: bytes) -> int:
    crc = 0xFFFFFFFF
    t = _TABLE_LIST
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_batch_numpy(items: Sequence[bytes]) -> np.ndarray:
    """CRC32C of many byte strings at once: one numpy step per byte column.

    Strings are right-aligned in a zero-padded matrix; a register that has not started yet
    stays 0 through the padding (table[0] == 0), and receives the 0xFFFFFFFF initial value in
    the column where its string starts.
    """
    n = len(items)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    lengths = np.fromiter((len(x) for x in items), dtype=np.int64, count=n)
    width = int(lengths.max())
    mat = np.zeros((n, width), dtype=np.uint8)
    starts = width - lengths
    for i, x in enumerate(items):
        if x:
            mat[i, starts[i]:] = np.frombuffer(x, dtype=np.uint8)
    cols = np.ascontiguousarray(mat.T)
    state = np.zeros(n, dtype=np.uint32)
    order = np.argsort(starts, kind="stable")
    bounds = np.searchsorted(starts[order], np.arange(width + 1))
    table = _TABLE
    ff = np.uint32(0xFFFFFFFF)
    for j in range(width):
        lo, hi = bounds[j], bounds[j + 1]
        if hi > lo:
            state[order[lo:hi]] ^= ff
        state = table[(state ^ cols[j]) & 0xFF] ^ (state >> 8)
    # empty strings never started: their CRC is 0
    state ^= np.where(lengths > 0, ff, np.uint32(0))
    return state


def _backend() -> tuple[str, Callable[[bytes], int] | None]:
    """Pick a compiled CRC32C if one is installed (registry order), else numpy batches."""
    candidates: dict[str, Callable[[Any], Callable[[bytes], int]]] = {
        "crc32c": lambda m: m.crc32c,
        "google_crc32c": lambda m: m.value,
    }
    for name, pick in candidates.items():
        try:
            mod = importlib.import_module(name)
            fn = pick(mod)
            if fn(b"123456789") == 0xE3069283:
                return name, fn
        except (ImportError, AttributeError):  # pragma: no cover - optional packages
            continue
    return "numpy", None


_BACKEND_NAME, _BACKEND_FN = _backend()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) of ``data``.

    Examples
    --------
    >>> crc32c(b"")
    0
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    if _BACKEND_FN is not None:
        return int(_BACKEND_FN(bytes(data)))
    return _crc32c_python(data) if len(data) < 64 else int(_crc_batch_numpy([bytes(data)])[0])


def masked_crc32c(data: bytes) -> int:
    """The TFRecord masked CRC32C of ``data``.

    Examples
    --------
    >>> hex(masked_crc32c(b""))
    '0xa282ead8'
    """
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _mask_array(c: np.ndarray) -> np.ndarray:
    c = c.astype(np.uint64)
    return ((((c >> np.uint64(15)) | (c << np.uint64(17))) + np.uint64(_MASK_DELTA))
            & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _crc_many(items: Sequence[bytes]) -> np.ndarray:
    if _BACKEND_FN is not None:
        fn = _BACKEND_FN
        return np.fromiter((fn(x) for x in items), dtype=np.uint32, count=len(items))
    return _crc_batch_numpy(items)


# ----------------------------------------------------------------------------- framing


def _check_batch(batch: list[tuple[int, int, bytes, int, int, bytes]], path: str) -> None:
    """Verify the length and data CRCs of a batch of frames; raise on the first mismatch."""
    heads = [b[5] for b in batch]
    datas = [b[2] for b in batch]
    want_len = np.fromiter((b[3] for b in batch), dtype=np.uint32, count=len(batch))
    want_dat = np.fromiter((b[4] for b in batch), dtype=np.uint32, count=len(batch))
    got_len = _mask_array(_crc_many(heads))
    got_dat = _mask_array(_crc_many(datas))
    bad = np.flatnonzero((got_len != want_len) | (got_dat != want_dat))
    if bad.size:
        i = int(bad[0])
        rec, off = batch[i][0], batch[i][1]
        what = "length" if got_len[i] != want_len[i] else "data"
        raise ChecksumError(
            f"{path}: record {rec} at byte offset {off}: {what} CRC32C mismatch (stored "
            f"{int((want_len if what == 'length' else want_dat)[i]):#010x}, computed "
            f"{int((got_len if what == 'length' else got_dat)[i]):#010x})"
        )


def iter_records(path: str | os.PathLike[str], *, check_crc: bool = True,
                 batch: int = 4096, block: int = 1 << 24) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(record number, byte offset, data)`` of every record of a TFRecord file.

    Parameters
    ----------
    path : path-like
        The file.
    check_crc : bool, default True
        Verify both masked CRC32C of every record (in batches).
    batch : int, default 4096
        Records checked together.
    block : int, default 16 MiB
        Read size.

    Raises
    ------
    FormatError
        Truncated record (names the record number and byte offset).
    ChecksumError
        A CRC mismatch (names the record number and byte offset).

    Examples
    --------
    >>> import tempfile, pathlib, struct
    >>> data = b"hello"
    >>> head = struct.pack("<Q", len(data))
    >>> frame = (head + struct.pack("<I", masked_crc32c(head)) + data
    ...          + struct.pack("<I", masked_crc32c(data)))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.tfrecord"
    >>> _ = p.write_bytes(frame * 2)
    >>> [(n, off, d) for n, off, d in iter_records(p)]
    [(0, 0, b'hello'), (1, 21, b'hello')]
    """
    path = Path(path)
    src = str(path)
    pending: list[tuple[int, int, bytes, int, int, bytes]] = []
    with path.open("rb") as fh:
        for rec, off, head, len_crc, data, data_crc in _frames(fh, src, block):
            if not check_crc:
                yield rec, off, data
                continue
            pending.append((rec, off, data, len_crc, data_crc, head))
            if len(pending) >= batch:
                _check_batch(pending, src)
                for p in pending:
                    yield p[0], p[1], p[2]
                pending = []
        if pending:
            _check_batch(pending, src)
            for p in pending:
                yield p[0], p[1], p[2]


def _frames(fh: IO[bytes], src: str, block: int,
            ) -> Iterator[tuple[int, int, bytes, int, bytes, int]]:
    size = os.fstat(fh.fileno()).st_size
    buf = b""
    base = 0  # file offset of buf[0]
    pos = 0
    rec = 0
    eof = False
    while True:
        if len(buf) - pos < 12 and not eof:
            more = fh.read(block)
            eof = not more
            buf = buf[pos:] + more
            base += pos
            pos = 0
            continue
        if len(buf) - pos == 0 and eof:
            return
        if len(buf) - pos < 12:
            raise FormatError(f"{src}: record {rec} at byte offset {base + pos}: truncated "
                              f"header ({len(buf) - pos} of 12 bytes)")
        length, len_crc = _HEADER.unpack_from(buf, pos)
        need = 12 + length + 4
        if base + pos + need > size and masked_crc32c(buf[pos:pos + 8]) != len_crc:
            raise ChecksumError(f"{src}: record {rec} at byte offset {base + pos}: truncated or "
                                f"damaged: its length field ({length}) fails its CRC32C")
        if base + pos + need > size:
            raise FormatError(
                f"{src}: record {rec} at byte offset {base + pos}: truncated (declares "
                f"{length} data bytes, {max(0, size - base - pos - 16)} present before the end)"
            )
        while len(buf) - pos < need and not eof:
            more = fh.read(max(block, need))
            eof = not more
            buf = buf[pos:] + more
            base += pos
            pos = 0
        if len(buf) - pos < need:
            raise FormatError(
                f"{src}: record {rec} at byte offset {base + pos}: truncated (declares "
                f"{length} data bytes, {max(0, len(buf) - pos - 12)} present before the end)"
            )
        head = buf[pos:pos + 8]
        data = buf[pos + 12:pos + 12 + length]
        (data_crc,) = _U32.unpack_from(buf, pos + 12 + length)
        yield rec, base + pos, head, len_crc, data, data_crc
        pos += need
        rec += 1


# ----------------------------------------------------------------------------- records


_SQUARES = {n * n: n for n in range(2, MAX_VERTICES + 1)}


class _Builder:
    """Per-cell table of NAS-Bench-101 records, filled record by record.

    Values are scattered into a growing float32 array in batches (flat indices collected
    in lists); matrices and op codes are parsed once per cell, vectorised, at the end.
    """

    def __init__(self, capacity: int = 1 << 14) -> None:
        self.fidelities = tuple((b, e) for b in BUDGETS for e in (b // 2, b))
        # per budget: flat offsets of the halfway and final fidelity
        nf, nm = len(self.fidelities), len(METRICS)
        self._stride = (NUM_REPEATS * nf * nm, nf * nm, nm)
        self._fid = {b: (self.fidelities.index((b, b // 2)) * nm,
                         self.fidelities.index((b, b)) * nm) for b in BUDGETS}
        self.n = 0
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self.counts: dict[tuple[int, int], int] = {}
        self.raw_adj: list[str] = []
        self.raw_ops: list[str] = []
        self.params_list: list[int] = []
        self.values = np.full((capacity, NUM_REPEATS, nf, nm), np.nan, dtype=np.float32)
        self._idx: list[int] = []
        self._val: list[float] = []
        self.budgets_seen: set[int] = set()
        self.matrix = np.zeros((0, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        self.ops = np.zeros((0, MAX_VERTICES), dtype=np.uint8)
        self.params = np.zeros(0)

    def _flush(self) -> None:
        if self._idx:
            flat = self.values.reshape(-1)
            flat[np.asarray(self._idx, dtype=np.int64)] = np.asarray(self._val)
            self._idx, self._val = [], []

    def _grow(self) -> None:
        self._flush()
        old = self.values
        self.values = np.full((2 * len(old), *old.shape[1:]), np.nan, dtype=np.float32)
        self.values[: len(old)] = old

    def add(self, rec_no: int, offset: int, data: bytes, src: str) -> None:
        try:
            module_hash, epochs, raw_adj, raw_ops, raw_metrics = json.loads(data.decode())
            metrics = decode_model_metrics(base64.b64decode(raw_metrics, validate=True))
            epochs = int(epochs)
        except FormatError as err:
            raise FormatError(f"{src}: record {rec_no} at byte offset {offset}: {err}") from err
        except (ValueError, TypeError, binascii.Error, AttributeError) as err:
            raise FormatError(
                f"{src}: record {rec_no} at byte offset {offset}: not a NAS-Bench-101 record "
                f"[module_hash, epochs, adjacency, operations, metrics] "
                f"({type(err).__name__}: {err})"
            ) from err
        fid = self._fid.get(epochs)
        if fid is None:
            raise FormatError(f"{src}: record {rec_no} at byte offset {offset}: epoch budget "
                              f"{epochs}; allowed: {allowed(BUDGETS)}")
        row = self.rows.get(module_hash)
        if row is None:
            row = self._new_cell(module_hash, raw_adj, raw_ops, metrics.trainable_parameters,
                                 f"{src}: record {rec_no} at byte offset {offset}")
        key = (row, epochs)
        rep = self.counts.get(key, 0)
        if rep >= NUM_REPEATS:
            raise FormatError(f"{src}: record {rec_no} at byte offset {offset}: more than "
                              f"{NUM_REPEATS} repeats of {module_hash} at {epochs} epochs")
        self.counts[key] = rep + 1
        evs = metrics.evaluation_data
        if len(evs) < 3:
            raise FormatError(f"{src}: record {rec_no} at byte offset {offset}: {len(evs)} "
                              "evaluations; expected 3 (initial, halfway, final)")
        self.budgets_seen.add(epochs)
        base = row * self._stride[0] + rep * self._stride[1]
        h, f = evs[1], evs[2]
        a, b = base + fid[0], base + fid[1]
        self._idx.extend((a, a + 1, a + 2, a + 3, b, b + 1, b + 2, b + 3))
        self._val.extend((100.0 * h.train_accuracy, 100.0 * h.validation_accuracy,
                          100.0 * h.test_accuracy, h.training_time,
                          100.0 * f.train_accuracy, 100.0 * f.validation_accuracy,
                          100.0 * f.test_accuracy, f.training_time))
        if len(self._idx) > 1 << 20:
            self._flush()

    def _new_cell(self, module_hash: Any, raw_adj: Any, raw_ops: Any, params: int,
                  where: str) -> int:
        if not (isinstance(module_hash, str) and len(module_hash) == 32):
            raise FormatError(f"{where}: module hash {module_hash!r} is not 32 hex digits")
        if not (isinstance(raw_adj, str) and isinstance(raw_ops, str)):
            raise FormatError(f"{where}: adjacency and operations must be strings")
        n = _SQUARES.get(len(raw_adj))
        if n is None or raw_ops.count(",") + 1 != n:
            raise FormatError(f"{where}: adjacency of {len(raw_adj)} characters and "
                              f"{raw_ops.count(',') + 1} operations do not form a cell of "
                              "2..7 vertices")
        if self.n == len(self.values):
            self._grow()
        row = self.n
        self.n += 1
        self.rows[module_hash] = row
        self.keys.append(module_hash)
        self.raw_adj.append(raw_adj)
        self.raw_ops.append(raw_ops)
        self.params_list.append(params)
        return row

    def finish(self, src: str) -> None:
        """Scatter pending values; parse matrices and ops of all cells (vectorised)."""
        self._flush()
        self.values = self.values[: self.n]
        n = self.n
        self.matrix = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        self.ops = np.full((n, MAX_VERTICES), KIND_PAD, dtype=np.uint8)
        sizes = np.fromiter((len(a) for a in self.raw_adj), dtype=np.int64, count=n)
        for sq, v in _SQUARES.items():
            rows = np.flatnonzero(sizes == sq)
            if rows.size == 0:
                continue
            joined = "".join(self.raw_adj[i] for i in rows).encode("ascii", "replace")
            bits = (np.frombuffer(joined, dtype=np.uint8) - ord("0")).reshape(-1, v, v)
            bad = np.flatnonzero(bits.reshape(len(rows), -1).max(axis=1) > 1)
            if bad.size:
                key = self.keys[int(rows[bad[0]])]
                raise FormatError(f"{src}: cell {key}: adjacency string holds characters "
                                  "other than 0/1")
            self.matrix[rows, :v, :v] = bits
        cache: dict[str, list[int]] = {}
        for i, s in enumerate(self.raw_ops):
            codes = cache.get(s)
            if codes is None:
                try:
                    codes = cache[s] = [OP_KINDS[lab] for lab in s.split(",")]
                except KeyError as err:
                    raise FormatError(f"{src}: cell {self.keys[i]}: unknown operation "
                                      f"{err.args[0]!r}; allowed: {allowed(OP_KINDS)}") from None
            self.ops[i, : len(codes)] = codes
        self.params = np.asarray(self.params_list, dtype=np.float64) / 1e6
        self.raw_adj, self.raw_ops = [], []

    def table(self, provenance: dict[str, Any], rows: slice | None = None) -> TableData:
        sel = rows if rows is not None else slice(0, self.n)
        keep = [j for j, (b, _) in enumerate(self.fidelities) if b in self.budgets_seen]
        vals = self.values[sel][:, :, keep] if len(keep) != len(self.fidelities) \
            else self.values[sel]
        ds = DatasetTable(
            name="cifar10",
            seeds=tuple(range(NUM_REPEATS)),
            fidelities=tuple(self.fidelities[j] for j in keep),
            metrics=METRICS,
            values=vals,
            costs={"params": self.params[sel]},
        )
        start = sel.start or 0
        return TableData(
            space="nb101",
            keys=self.keys[sel],
            indices=np.arange(start, start + len(self.keys[sel]), dtype=np.int64),
            datasets={"cifar10": ds},
            provenance=provenance,
            extra={"nb101_matrix": self.matrix[sel], "nb101_ops": self.ops[sel]},
        )


def detect(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a TFRecord file whose first record is a NAS-Bench-101 record.

    Examples
    --------
    >>> detect("no-such-file.tfrecord")
    False
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) == 12 and path.suffix == ".tfrecord" and (
                    _U32.unpack_from(head, 8)[0] == masked_crc32c(head[:8])):
                return True  # TFRecord framing: damage further on is reported by convert
            fh.seek(0)
            _, _, _, _, data, _ = next(_frames(fh, str(path), 1 << 16))
        row = json.loads(data)
        return isinstance(row, list) and len(row) == 5 and isinstance(row[0], str)
    except (FormatError, StopIteration, ValueError, UnicodeDecodeError, OSError):
        return False


def _sha256_check(path: Path, sha256: str | None) -> dict[str, Any]:
    digest = sha256 if sha256 is not None else sha256_path(path)
    known = KNOWN_RELEASES.get(path.name)
    info: dict[str, Any] = {"source_sha256": digest}
    if known is not None:
        info["release_sha256"] = known
        info["release_sha256_ok"] = digest == known
        if digest != known:
            logger.warning("%s: SHA-256 %s differs from the published %s of this release",
                           path, digest, known)
    return info


def _build(path: Path, check_crc: bool, progress: bool) -> _Builder:
    src = str(path)
    b = _Builder()
    records = iter_records(path, check_crc=check_crc)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                   desc=f"NB101 {path.name}")
    last = 0
    for rec_no, off, data in records:
        b.add(rec_no, off, data, src)
        if bar is not None and rec_no % 4096 == 0:
            bar.update(off - last)
            last = off
    if bar is not None:
        bar.update(path.stat().st_size - last)
        bar.close()
    b.finish(src)
    missing = [(b.keys[r], e, c) for (r, e), c in b.counts.items() if c != NUM_REPEATS]
    if missing:
        logger.warning("%s: %d (cell, budget) pairs have fewer than %d repeats, e.g. %s",
                       path, len(missing), NUM_REPEATS, missing[0])
    return b


def convert(path: str | os.PathLike[str], *, check_crc: bool = True, check_sha256: bool = True,
            progress: bool = True, sha256: str | None = None) -> TableData:
    """Convert a NAS-Bench-101 TFRecord file into a :class:`TableData`.

    Parameters
    ----------
    path : path-like
        ``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or a file in their layout.
    check_crc : bool, default True
        Verify the CRC32C of every record.
    check_sha256 : bool, default True
        Record the file's SHA-256 in the provenance; for a file named like a release, warn
        if it differs from the published digest.
    progress : bool, default True
        Show a tqdm progress bar.
    sha256 : str, optional
        SHA-256 of ``path`` when the caller has computed it already (the registry does);
        otherwise computed here (if ``check_sha256``).

    Returns
    -------
    TableData
        Space ``"nb101"``, one row per module hash (file order), dataset ``"cifar10"``,
        seeds 0, 1, 2 (the repeats in file order), fidelities ``(b, b // 2)`` and ``(b, b)``
        for every budget present, metrics ``train_accuracy``, ``val_accuracy``,
        ``test_accuracy`` (percent) and ``train_time`` (seconds), cost ``params``
        (millions), extra ``nb101_matrix`` (cells, 7, 7) and ``nb101_ops`` (cells, 7).

    Raises
    ------
    FormatError
        Truncated or malformed record (naming the record number and byte offset).
    ChecksumError
        CRC mismatch (naming the record number and byte offset).

    Examples
    --------
    >>> import tempfile, pathlib, struct, json, base64
    >>> def dbl(num, v):
    ...     return bytes([num << 3 | 1]) + struct.pack("<d", v)
    >>> ev = [dbl(1, e) + dbl(3, 0.5) + dbl(4, 0.4) + dbl(5, 0.3) + dbl(2, e) for e in (0, 54, 108)]
    >>> msg = b"".join(b"\\x0a" + bytes([len(x)]) + x for x in ev) + b"\\x10\\x90\\x4e"
    >>> row = json.dumps(["0" * 32, 108, "0100", "input,output",
    ...                   base64.b64encode(msg).decode()]).encode()
    >>> head = struct.pack("<Q", len(row))
    >>> frame = (head + struct.pack("<I", masked_crc32c(head)) + row
    ...          + struct.pack("<I", masked_crc32c(row)))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mini.tfrecord"
    >>> _ = p.write_bytes(frame)
    >>> t = convert(p, progress=False)
    >>> d = t.datasets["cifar10"]
    >>> d.fidelities, float(d.values[0, 0, 1, 0]), float(d.costs["params"][0])
    (((108, 54), (108, 108)), 50.0, 0.01)
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    b = _build(path, check_crc, progress)
    if b.n == 0:
        raise FormatError(f"{path}: holds no records")
    return b.table(_provenance(path, b, check_crc, check_sha256, sha256))


def _provenance(path: Path, b: _Builder, check_crc: bool, check_sha256: bool,
                sha256: str | None) -> dict[str, Any]:
    prov: dict[str, Any] = {
        "format": FORMAT,
        "converter_version": CONVERTER_VERSION,
        "source": path.name,
        "records": sum(b.counts.values()),
        "cells": b.n,
        "budgets": sorted(b.budgets_seen),
        "crc_checked": check_crc,
        "crc_backend": _BACKEND_NAME,
        "nb101_ops_codes": {**{k: int(v) for k, v in OP_KINDS.items()}, "pad": KIND_PAD},
    }
    if check_sha256:
        prov.update(_sha256_check(path, sha256))
    return prov


def convert_streaming(path: str | os.PathLike[str], writer: Any, *, chunk_rows: int = 16384,
                      check_crc: bool = True, check_sha256: bool = True,
                      progress: bool = True, sha256: str | None = None) -> int:
    """Convert a NAS-Bench-101 TFRecord file straight into a ``StoreWriter``.

    The per-cell arrays are filled in memory (about 170 MB for the full 423,624-cell
    release: the repeats of a cell may be anywhere in the file) and handed to
    ``writer.append`` in chunks of ``chunk_rows`` rows, so the store writer never holds
    more than one chunk.

    Parameters
    ----------
    path : path-like
        The TFRecord file.
    writer : nasbench_tools.store.StoreWriter
        An open writer (inside its ``with`` block).
    chunk_rows : int, default 16384
        Rows per appended chunk.
    check_crc, check_sha256, progress : bool
        As in :func:`convert`.
    sha256 : str, optional
        As in :func:`convert`.

    Returns
    -------
    int
        The number of cells written.

    Examples
    --------
    >>> class Collect:
    ...     def __init__(self):
    ...         self.rows = 0
    ...     def append(self, chunk):
    ...         self.rows += len(chunk.keys)
    >>> import tempfile, pathlib, struct, json, base64
    >>> ev = b"".join(b"\\x0a\\x09\\x19" + struct.pack("<d", 0.5) for _ in range(3))
    >>> row = json.dumps(["1" * 32, 108, "0100", "input,output",
    ...                   base64.b64encode(ev).decode()]).encode()
    >>> head = struct.pack("<Q", len(row))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "one.tfrecord"
    >>> _ = p.write_bytes(head + struct.pack("<I", masked_crc32c(head)) + row
    ...                   + struct.pack("<I", masked_crc32c(row)))
    >>> w = Collect()
    >>> convert_streaming(p, w, progress=False), w.rows
    (1, 1)
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if chunk_rows < 1:
        raise FormatError(f"chunk_rows must be >= 1; got {chunk_rows}")
    b = _build(path, check_crc, progress)
    if b.n == 0:
        raise FormatError(f"{path}: holds no records")
    prov = _provenance(path, b, check_crc, check_sha256, sha256)
    for start in range(0, b.n, chunk_rows):
        writer.append(b.table(prov, slice(start, min(b.n, start + chunk_rows))))
    return b.n
