"""Tests of the allow-list unpickler: official files load, anything else is refused."""

from __future__ import annotations

import bz2
import collections
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import FormatError, UnsafePickleError
from nasbench_tools.store.converters import safe_pickle as sp


class _Marker:
    """Pickles to a call that would create a marker file if it ever ran."""

    def __init__(self, path: Path, func: object = os.system) -> None:
        self.path = path
        self.func = func

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (self.func, (f"touch {self.path}",))


@pytest.mark.parametrize("protocol", [2, 4])
def test_os_system_is_refused_and_never_runs(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"x": [_Marker(marker)]}, protocol=protocol)
    with pytest.raises(UnsafePickleError) as err:
        sp.safe_loads(blob)
    assert "system" in str(err.value)  # names the global
    assert "collections.OrderedDict" in str(err.value)  # and the allow-list
    assert not marker.exists()


def test_builtins_eval_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned2"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (eval, (f"open({str(marker)!r}, 'w').close()",))

    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        sp.safe_loads(pickle.dumps(Evil(), protocol=4))
    assert not marker.exists()


def test_malicious_torch_zip_and_pbz2_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned3"
    blob = pickle.dumps(_Marker(marker), protocol=2)
    pth = tmp_path / "evil.pth"
    with zipfile.ZipFile(pth, "w") as zf:
        zf.writestr("evil/data.pkl", blob)
    with pytest.raises(UnsafePickleError):
        sp.load_torch_file(pth)
    pbz = tmp_path / "evil.pickle.pbz2"
    pbz.write_bytes(bz2.compress(blob))
    with pytest.raises(UnsafePickleError):
        sp.load_pbz2(pbz)
    assert not marker.exists()


def test_object_dtype_scalar_and_foreign_codec_refused() -> None:
    # a numpy scalar of object dtype can wrap anything: refused
    with pytest.raises(UnsafePickleError, match="object"):
        sp.ALLOWED_GLOBALS[("numpy.core.multiarray", "scalar")](np.dtype("O"), 1)
    with pytest.raises(UnsafePickleError, match="latin"):
        sp.ALLOWED_GLOBALS[("_codecs", "encode")]("x", "rot13")


def test_allowed_types_roundtrip() -> None:
    obj = {
        "od": collections.OrderedDict([(1, "a")]),
        "s": {1, 2},
        "f64": np.float64(0.25),
        "i64": np.int64(7),
        "b": b"\x00\xff",
        "t": (1, 2.5, None, True),
    }
    for proto in (2, 4, 5):
        back = sp.safe_loads(pickle.dumps(obj, protocol=proto))
        assert back == obj
        assert type(back["f64"]) is np.float64


def test_persistent_ids_refused() -> None:
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            return ("storage", "FloatStorage", "0", "cpu", 4) if obj == "tensor" else None

    P(buf, protocol=2).dump(["tensor"])
    with pytest.raises(FormatError, match="persistent"):
        sp.safe_loads(buf.getvalue())


def test_garbage_raises_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        sp.safe_loads(b"\x80\x04this is not a pickle")
    bad = tmp_path / "x.pickle.pbz2"
    good = bz2.compress(pickle.dumps(list(range(1000))))
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(FormatError):
        sp.load_pbz2(bad)
    bad.write_bytes(b"BZh9" + b"\x00" * 50)
    with pytest.raises(FormatError):
        sp.load_pbz2(bad)
    nopth = tmp_path / "x.pth"
    nopth.write_bytes(b"hello")
    with pytest.raises(FormatError, match=r"not a torch\.save file"):
        sp.load_torch_file(nopth)


def test_legacy_with_storages_refused(tmp_path: Path) -> None:
    p = tmp_path / "legacy.pth"
    with p.open("wb") as fh:
        for part in (sp.TORCH_LEGACY_MAGIC, sp.TORCH_LEGACY_PROTOCOL, {"little_endian": True},
                     {"a": 1}, ["0"]):
            pickle.dump(part, fh, protocol=2)
    with pytest.raises(FormatError, match="storages"):
        sp.load_torch_file(p)


def test_official_files_load(shared_data: Path) -> None:
    zip_obj = sp.load_torch_file(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    legacy = sp.load_torch_file(shared_data / "nb201" / "NAS-Bench-201-fixture-legacy.pth")
    assert sp.is_torch_zip(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    assert sp.is_torch_legacy(shared_data / "nb201" / "NAS-Bench-201-fixture-legacy.pth")
    assert zip_obj == legacy
    assert len(zip_obj["meta_archs"]) == 15625
    for d in sorted((shared_data / "nats" / "fake_torch_dir").iterdir()):
        meta = sp.load_pbz2(d / "meta.pickle.pbz2")
        assert len(meta["meta_archs"]) in (15625, 32768)
        cell = sp.load_pbz2(d / "000011.pickle.pbz2")
        assert isinstance(cell, collections.OrderedDict)


def _short_binstring(text: bytes) -> bytes:
    return b"U" + bytes([len(text)]) + text  # a Python 2 ``str`` in a protocol-2 pickle


def _py2_cifar_batch() -> bytes:
    """What Python 2 ``cPickle.dump(batch, fh, 2)`` writes for a (tiny) CIFAR batch."""
    s = _short_binstring
    arr = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R"
           + b"(K\x01K\x02K\x03\x86cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R"
           + b"(K\x03" + s(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
           + b"\x89" + s(bytes([0, 1, 2, 253, 254, 255])) + b"tb")
    return (b"\x80\x02}(" + s(b"batch_label") + s(b"training batch 1 of 5") + s(b"data") + arr
            + s(b"labels") + b"](K\x06K\x09eu.")


@pytest.mark.parametrize("protocol", [2, 4])
def test_load_data_batch_roundtrips_numpy_batches(tmp_path: Path, protocol: int) -> None:
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (5, 3072), dtype=np.uint8)
    floats = np.arange(4, dtype=np.float64).reshape(2, 2)
    batch: dict[str | bytes, object] = {
        b"data": data,
        "labels": [int(x) for x in rng.integers(0, 10, 5)],
        "mean": np.float32(0.5),
        "od": collections.OrderedDict([("f", floats)]),
    }
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps(batch, protocol=protocol))
    back = sp.load_data_batch(p)
    assert set(back) == set(batch)
    assert back[b"data"].dtype == np.uint8 and np.array_equal(back[b"data"], data)
    assert back["labels"] == batch["labels"]
    assert type(back["mean"]) is np.float32 and back["mean"] == np.float32(0.5)
    assert type(back["od"]) is collections.OrderedDict
    assert np.array_equal(back["od"]["f"], floats)
    # Python 2 pickles (the official CIFAR batches): strings decoded from latin-1
    p.write_bytes(_py2_cifar_batch())
    old = sp.load_data_batch(p)
    assert old["batch_label"] == "training batch 1 of 5" and old["labels"] == [6, 9]
    assert old["data"].tolist() == [[0, 1, 2], [253, 254, 255]]


@pytest.mark.parametrize("protocol", [2, 4])
def test_load_data_batch_refuses_os_system_and_never_runs(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({"data": np.zeros(3, np.uint8), "labels": [_Marker(marker)]},
                               protocol=protocol))
    with pytest.raises(UnsafePickleError) as err:
        sp.load_data_batch(p)
    msg = str(err.value)
    assert "system" in msg and str(p) in msg  # names the global and the file
    assert "numpy.ndarray" in msg and "collections.OrderedDict" in msg  # and the allow-list
    assert "builtins.set" not in msg  # the batch list, not the benchmark list
    assert not marker.exists()
    # what the benchmark allow-list holds but a batch never does is refused too
    p.write_bytes(pickle.dumps({1, 2}, protocol=2, fix_imports=False))
    with pytest.raises(UnsafePickleError, match=r"builtins\.set"):
        sp.load_data_batch(p)


def test_load_data_batch_garbage_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "test_batch"
    p.write_bytes(b"not a pickle")
    with pytest.raises(FormatError, match=r"test_batch.*not a readable"):
        sp.load_data_batch(p)
    good = pickle.dumps({"data": np.zeros((2, 3072), np.uint8)}, protocol=2)
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(FormatError, match="test_batch"):
        sp.load_data_batch(p)
    # _reconstruct may only build plain arrays (the stand-in checks its class argument)
    with pytest.raises(UnsafePickleError, match="ndarray"):
        sp.DATA_BATCH_GLOBALS[("numpy.core.multiarray", "_reconstruct")](np.dtype, (0,), b"b")
