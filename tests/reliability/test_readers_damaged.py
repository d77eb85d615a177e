"""Promise: every reader, fed a damaged file, raises the project's error naming the file.

Readers: NB101 tfrecord, NB201 ``.pth`` (zip and legacy torch formats), NATS ``.pbz2``
(single file and fast-mode directory), CSV tables, our HDF5 store, the search results
SQLite and the CIFAR python batches the trainer reads. Damage: truncation at many offsets,
flipped bytes, empty files, a directory where a file belongs (and the reverse), wrong
checksums (TFRecord CRC, zip CRC, bz2 CRC), wrong format versions. Every outcome is either
a :class:`~nasbench_tools.errors.NasBenchToolsError` whose message names the damaged file
(or its directory), or, for a flip inside values that no checksum covers, a successful
read; never another exception. A conversion that fails leaves no output file and no
temporary file behind.
"""

from __future__ import annotations

import sqlite3
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nasbench_tools.errors import NasBenchToolsError

from . import _inputs as inp


@dataclass
class Case:
    """A valid input (``root``), the file inside it to damage, and the reader to call."""

    root: Path
    target: Path
    read: Callable[[Path], Any]
    out: Path | None  # the output a converting reader writes (must not appear on failure)
    checked: bool  # every byte is covered by a checksum: a flip must be detected


def _build(fmt: str, tmp: Path, shared: Path) -> Case:
    src = tmp / "in"
    src.mkdir()
    out = tmp / "out" / "store.h5"
    conv = inp.convert_reader(out, **({"curves": False} if fmt.startswith(("nb201", "nats"))
                                      else {}))
    if fmt == "nb101-tfrecord":
        p = inp.nb101_tfrecord(src, shared)
        return Case(p, p, conv, out, checked=True)
    if fmt in ("nb201-pth-zip", "nb201-pth-legacy"):
        p = inp.nb201_pth(src, shared, legacy=fmt.endswith("legacy"))
        return Case(p, p, conv, out, checked=fmt.endswith("zip"))
    if fmt in ("nats-dir-meta", "nats-dir-cell"):
        d = inp.nats_fast_dir(src, shared)
        target = d / ("meta.pickle.pbz2" if fmt.endswith("meta") else "000011.pickle.pbz2")
        return Case(d, target, conv, out, checked=True)
    if fmt == "nats-pbz2-file":
        p = inp.nats_single_file(src, shared)
        return Case(p, p, conv, out, checked=True)
    if fmt == "csv":
        p = inp.csv_table(src, shared)
        return Case(p, p, conv, out, checked=False)
    if fmt == "hdf5-store":
        p = inp.hdf5_store(src)
        return Case(p, p, inp.read_store, None, checked=True)  # checksummed (v110 + fletcher32)
    if fmt == "search-sqlite":
        p = inp.search_sqlite(src)
        return Case(p, p, inp.read_search_sqlite, None, checked=False)
    if fmt == "train-sqlite":
        p = inp.train_sqlite(src)
        return Case(p, p, inp.read_train_sqlite, None, checked=False)
    if fmt == "cifar10-batch":
        d = inp.cifar10_dir(src)
        return Case(d, d / "data_batch_3", inp.read_cifar10, None, checked=False)
    raise AssertionError(fmt)


#: format -> how many truncation offsets / flipped bytes to try (more where reading is cheap).
FORMATS: dict[str, int] = {
    "nb101-tfrecord": 16, "nb201-pth-zip": 5, "nb201-pth-legacy": 5, "nats-dir-meta": 8,
    "nats-dir-cell": 8, "nats-pbz2-file": 8, "csv": 8, "hdf5-store": 10, "search-sqlite": 8,
    "train-sqlite": 4,
    "cifar10-batch": 8,
}
_NEEDS_SHARED = {"nb101-tfrecord", "nb201-pth-zip", "nb201-pth-legacy", "nats-dir-meta",
                 "nats-dir-cell", "nats-pbz2-file", "csv"}


def _shared_of(case: Case) -> Path:
    from conftest import SHARED_DATA

    return SHARED_DATA


@pytest.fixture
def make_case(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Case]:
    def make(fmt: str) -> Case:
        shared = request.getfixturevalue("shared_data") if fmt in _NEEDS_SHARED else Path()
        return _build(fmt, tmp_path, shared)
    return make


def check(case: Case, tally: Any, area: str, fault: str, *, may_accept: bool,
          names: tuple[str, ...] = ()) -> str:
    """Read the damaged input; check and tally the outcome; return it."""
    wanted = names or (case.target.name, case.root.name)
    try:
        case.read(case.root)
    except NasBenchToolsError as exc:
        outcome = type(exc).__name__
        msg = str(exc)
        assert "\n" not in msg.strip() or len(msg) < 2000, msg
        assert any(n in msg for n in wanted), f"{fault}: message names no file: {msg}"
    except Exception as exc:  # pragma: no cover - the failure this suite looks for
        tally.add(area, fault, f"FOREIGN {type(exc).__name__}")
        raise AssertionError(f"{area} / {fault}: {type(exc).__name__}: {exc}") from exc
    else:
        outcome = "accepted"
        assert may_accept, f"{area} / {fault}: damaged input read without an error"
    if case.out is not None:
        if outcome != "accepted":
            assert not case.out.exists(), "a failed conversion left its output"
        assert not list(case.out.parent.glob(".*tmp")), "a temporary file was left behind"
    tally.add(area, fault, outcome)
    return outcome


def _params() -> list[Any]:
    return [pytest.param(fmt, i, id=f"{fmt}-{i}") for fmt, n in FORMATS.items() for i in range(n)]


@pytest.mark.parametrize(("fmt", "i"), _params())
def test_truncated(make_case: Callable[[str], Case], tally: Any, fmt: str, i: int) -> None:
    case = make_case(fmt)
    size = case.target.stat().st_size
    offsets = inp.truncation_offsets(size, FORMATS[fmt])
    offset = offsets[i % len(offsets)]
    kept = case.target.read_bytes()[:offset]
    inp.truncate(case.target, offset)
    # A CSV cut right after a line end is a valid shorter table; an empty SQLite file is
    # a new, empty database (what SQLite makes of it). Nothing else may be accepted.
    may_accept = ((fmt == "csv" and kept.endswith(b"\n") and kept.count(b"\n") > 1)
                  or (fmt.endswith("sqlite") and offset == 0))
    check(case, tally, fmt, "truncated", may_accept=may_accept)


def _store_arrays(path: Path) -> Any:
    keys, indices, values = inp.read_store(path)
    return keys, indices.tolist(), [v.tobytes() for v in values]


@pytest.mark.parametrize(("fmt", "i"), _params())
def test_flipped_byte(make_case: Callable[[str], Case], tally: Any, fmt: str, i: int,
                      tmp_path_factory: pytest.TempPathFactory) -> None:
    case = make_case(fmt)
    size = case.target.stat().st_size
    positions = inp.flip_positions(size, FORMATS[fmt], np.random.default_rng([13, i]))
    inp.flip(case.target, positions[i % len(positions)])
    outcome = check(case, tally, fmt, "flipped byte", may_accept=True)
    if outcome == "accepted" and case.checked:
        # A checksummed format may only accept a flip in bytes that carry no data (zip
        # timestamps, HDF5 free space, say): what is read must equal the intact file's.
        clean = _build(fmt, tmp_path_factory.mktemp("clean"), _shared_of(case))
        if case.out is None:  # a reader: compare what it read
            assert _store_arrays(case.root) == _store_arrays(clean.root), "a flip changed data"
            return
        clean.read(clean.root)
        assert clean.out is not None
        assert _store_arrays(case.out) == _store_arrays(clean.out), "a flip changed the data"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_empty_file(make_case: Callable[[str], Case], tally: Any, fmt: str) -> None:
    case = make_case(fmt)
    case.target.write_bytes(b"")
    # an empty SQLite file is a new database (SQLite's own reading): no run is in it
    check(case, tally, fmt, "empty file", may_accept=fmt.endswith("sqlite"))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_directory_instead_of_file(make_case: Callable[[str], Case], tally: Any,
                                   fmt: str) -> None:
    case = make_case(fmt)
    inp.replace_dir_by_file_or_file_by_dir(case.target)
    check(case, tally, fmt, "directory instead of file", may_accept=False)


def test_missing_input(make_case: Callable[[str], Case], tally: Any) -> None:
    for fmt in ("hdf5-store", "cifar10-batch"):
        case = make_case(fmt) if fmt == "hdf5-store" else None
        if case is None:
            continue
        case.target.unlink()
        check(case, tally, fmt, "missing file", may_accept=False)


# ----------------------------------------------------------------------------- checksums
def _frame_offsets(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of every TFRecord frame."""
    raw, pos, out = path.read_bytes(), 0, []
    while pos < len(raw):
        (n,) = struct.unpack_from("<Q", raw, pos)
        out.append((pos, n))
        pos += 8 + 4 + n + 4
    return out


@pytest.mark.parametrize("where", ["length crc", "data crc", "data"])
@pytest.mark.parametrize("record", [0, 3, -1])
def test_tfrecord_wrong_crc(make_case: Callable[[str], Case], tally: Any, where: str,
                            record: int) -> None:
    case = make_case("nb101-tfrecord")
    off, n = _frame_offsets(case.target)[record]
    pos = {"length crc": off + 8, "data crc": off + 12 + n, "data": off + 12 + n // 2}[where]
    inp.flip(case.target, pos)
    outcome = check(case, tally, "nb101-tfrecord", f"wrong CRC ({where})", may_accept=False)
    assert outcome == "ChecksumError"


def test_tfrecord_length_too_large(make_case: Callable[[str], Case], tally: Any) -> None:
    """A length field that claims more than the file holds, with a matching length CRC."""
    from fixtures_official import crc32c_bitwise, masked

    case = make_case("nb101-tfrecord")
    raw = bytearray(case.target.read_bytes())
    head = struct.pack("<Q", 1 << 40)
    raw[0:12] = head + struct.pack("<I", masked(crc32c_bitwise(head)))
    case.target.write_bytes(bytes(raw))
    check(case, tally, "nb101-tfrecord", "length field too large", may_accept=False)


def _zip_member_data_offset(path: Path, member_suffix: str) -> tuple[int, int]:
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(member_suffix))
    raw = path.read_bytes()
    h = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", raw, h + 26)
    return h + 30 + name_len + extra_len, info.compress_size


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_zip_member_crc_mismatch(make_case: Callable[[str], Case], tally: Any,
                                 where: str) -> None:
    """A byte of data.pkl changed behind the zip's CRC-32: the reader must notice."""
    case = make_case("nb201-pth-zip")
    start, size = _zip_member_data_offset(case.target, "/data.pkl")
    # skip the pickle header/opcodes so the pickle itself may still parse
    pos = {"start": start + 64, "middle": start + size // 2, "end": start + size - 3}[where]
    raw = bytearray(case.target.read_bytes())
    # change a digit or letter into another one of the same kind: the pickle stays valid
    b = raw[pos]
    raw[pos] = (b + 1) if chr(b).isalnum() and chr(b + 1).isalnum() else b ^ 0x01
    case.target.write_bytes(bytes(raw))
    check(case, tally, "nb201-pth-zip", f"zip CRC mismatch ({where})", may_accept=False)


def test_zip_central_directory_damage(make_case: Callable[[str], Case], tally: Any) -> None:
    case = make_case("nb201-pth-zip")
    raw = bytearray(case.target.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")  # the last entry of the central directory
    raw[cd: cd + 4] = b"PK\x09\x09"
    case.target.write_bytes(bytes(raw))
    check(case, tally, "nb201-pth-zip", "zip directory damaged", may_accept=False)


@pytest.mark.parametrize("damage", ["block crc", "stream crc", "magic", "second stream"])
def test_bz2_damage(make_case: Callable[[str], Case], tally: Any, damage: str,
                    tmp_path_factory: pytest.TempPathFactory) -> None:
    case = make_case("nats-dir-cell")
    raw = bytearray(case.target.read_bytes())
    if damage == "block crc":
        raw[10] ^= 0x10  # the first block's CRC follows the 6-byte block magic at 4
    elif damage == "stream crc":
        raw[-2] ^= 0x10  # the combined stream CRC is in the last bytes
    elif damage == "magic":
        raw[0:3] = b"BZx"
    else:
        raw += b"BZh91AY&SY" + bytes(20)  # a second, broken stream after the first
    case.target.write_bytes(bytes(raw))
    # Trailing bytes after a complete stream are ignored (as bzip2 itself does); the data
    # of the complete stream, checked by its CRCs, must then come out unchanged.
    outcome = check(case, tally, "nats-dir-cell", f"bz2 {damage}",
                    may_accept=damage == "second stream")
    if outcome == "accepted":
        assert case.out is not None
        clean = _build("nats-dir-cell", tmp_path_factory.mktemp("clean"), _shared_of(case))
        clean.read(clean.root)
        assert clean.out is not None
        assert _store_arrays(case.out) == _store_arrays(clean.out)


# ----------------------------------------------------------------------------- versions
def test_store_wrong_format_version(make_case: Callable[[str], Case], tally: Any) -> None:
    case = make_case("hdf5-store")
    with h5py.File(case.target, "r+") as f:
        f.attrs["format_version"] = 99
    check(case, tally, "hdf5-store", "wrong format version", may_accept=False)
    with h5py.File(case.target, "r+") as f:
        f.attrs["format_version"] = 1
        f.attrs["format"] = "someone-elses-store"
    check(case, tally, "hdf5-store", "foreign HDF5 file", may_accept=False)
    with h5py.File(case.target, "r+") as f:
        f.attrs["format"] = "nasbench-tools-store"
        del f["datasets"]
    check(case, tally, "hdf5-store", "group missing", may_accept=False)


def test_legacy_torch_wrong_protocol_version(make_case: Callable[[str], Case],
                                             tally: Any) -> None:
    import pickle

    from nasbench_tools.store.converters.safe_pickle import TORCH_LEGACY_MAGIC

    case = make_case("nb201-pth-legacy")
    raw = case.target.read_bytes()
    import io

    fh = io.BytesIO(raw)
    pickle.load(fh)
    after_magic = fh.tell()
    pickle.load(fh)
    rest = raw[fh.tell():]
    case.target.write_bytes(pickle.dumps(TORCH_LEGACY_MAGIC, protocol=2)[:after_magic]
                            + pickle.dumps(1002, protocol=2) + rest)
    check(case, tally, "nb201-pth-legacy", "wrong format version", may_accept=False)


def test_nats_meta_of_another_layout(make_case: Callable[[str], Case], tally: Any) -> None:
    import bz2
    import pickle

    case = make_case("nats-dir-meta")
    case.target.write_bytes(bz2.compress(pickle.dumps({"version": "v9", "archs": []})))
    check(case, tally, "nats-dir-meta", "wrong format version", may_accept=False)


def test_train_sqlite_of_another_schema(make_case: Callable[[str], Case], tally: Any) -> None:
    case = make_case("train-sqlite")
    con = sqlite3.connect(case.target)
    con.execute("ALTER TABLE runs ADD COLUMN worker TEXT")
    con.commit()
    con.close()
    check(case, tally, "train-sqlite", "wrong format version", may_accept=False)


def test_search_sqlite_of_another_schema(make_case: Callable[[str], Case], tally: Any) -> None:
    case = make_case("search-sqlite")
    con = sqlite3.connect(case.target)
    con.execute("DROP TABLE runs")
    con.execute("CREATE TABLE runs (label TEXT, run INTEGER)")
    con.execute("INSERT INTO runs VALUES ('rs', 0)")
    con.commit()
    con.close()
    check(case, tally, "search-sqlite", "wrong format version", may_accept=False)


def test_cifar_batch_of_another_layout(make_case: Callable[[str], Case], tally: Any) -> None:
    import pickle

    case = make_case("cifar10-batch")
    case.target.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8),
                                          b"labels": [0, 1]}, protocol=2))
    check(case, tally, "cifar10-batch", "wrong format version", may_accept=False)
