"""NAS-Bench-101 TFRecord converter: framing, CRC32C, protobuf, official values."""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import numpy as np
import pytest
from fixtures_official import (
    Evaluation,
    crc32c_bitwise,
    encode_model_metrics,
    nb101_record,
    official_rows_to_records,
    read_official_nb101_csv,
    tfrecord_frame,
    write_tfrecord,
)

from nasbench_tools.errors import ChecksumError, FormatError
from nasbench_tools.store.converters import nb101_proto, nb101_tfrecord
from nasbench_tools.store.converters.nb101_tfrecord import _crc_batch_numpy

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])


def _evals(b: int, base: float) -> list[Evaluation]:
    return [Evaluation(0, 0, 0.1, 0.1, 0.1),
            Evaluation(b / 2, 10.0 * b, base, base - 0.01, base - 0.02, "ckpt-half"),
            Evaluation(b, 20.0 * b, base + 0.1, base + 0.09, base + 0.08)]


def test_crc32c_known_values_and_batch() -> None:
    assert nb101_tfrecord.crc32c(b"123456789") == 0xE3069283
    assert nb101_tfrecord.crc32c(b"") == 0
    assert nb101_tfrecord.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 test vector
    rng = np.random.default_rng(0)
    items = [rng.bytes(int(n)) for n in rng.integers(0, 300, 50)] + [b""]
    got = _crc_batch_numpy(items)
    assert [int(x) for x in got] == [crc32c_bitwise(x) for x in items]


def test_protobuf_roundtrip_and_errors() -> None:
    evs = _evals(108, 0.9)
    msg = encode_model_metrics(evs, 1234567, 99.5)
    m = nb101_proto.decode_model_metrics(msg)
    assert m.trainable_parameters == 1234567 and m.total_time == 99.5
    assert [e.current_epoch for e in m.evaluation_data] == [0, 54, 108]
    assert m.evaluation_data[1].checkpoint_path == "ckpt-half"
    assert m.evaluation_data[2].test_accuracy == pytest.approx(0.98)
    # unknown fields (varint 7, fixed32 8) are skipped
    extra = bytes([7 << 3 | 0, 5, 8 << 3 | 5]) + struct.pack("<f", 1.0)
    assert nb101_proto.decode_model_metrics(msg + extra).trainable_parameters == 1234567
    with pytest.raises(FormatError, match=r"truncated|past the end"):
        nb101_proto.decode_model_metrics(msg[:-3])
    with pytest.raises(FormatError, match="wire type"):
        nb101_proto.decode_model_metrics(bytes([1 << 3 | 3]))


@pytest.fixture(scope="module")
def official(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    rows = read_official_nb101_csv(shared_data / "nb101" / "nb101_official_records_20arch.csv")
    path = tmp_path_factory.mktemp("nb101") / "official20.tfrecord"
    write_tfrecord(path, official_rows_to_records(rows))
    return path, rows


def test_official_records_roundtrip(official: tuple[Path, list]) -> None:
    path, rows = official
    assert nb101_tfrecord.detect(path)
    t = nb101_tfrecord.convert(path, progress=False)
    assert t.space == "nb101" and len(t.keys) == 20
    d = t.datasets["cifar10"]
    assert d.seeds == (0, 1, 2) and d.fidelities == ((108, 54), (108, 108))
    mi = {m: d.metrics.index(m) for m in d.metrics}
    for r in rows:
        row = t.keys.index(r.module_hash)
        for ev, fid in ((r.halfway, 0), (r.final, 1)):
            v = d.values[row, r.repeat, fid]
            assert v[mi["train_accuracy"]] == pytest.approx(100 * ev.train_accuracy, rel=1e-6)
            assert v[mi["val_accuracy"]] == pytest.approx(100 * ev.validation_accuracy, rel=1e-6)
            assert v[mi["test_accuracy"]] == pytest.approx(100 * ev.test_accuracy, rel=1e-6)
            assert v[mi["train_time"]] == pytest.approx(ev.training_time, rel=1e-6)
        assert d.costs["params"][row] == r.params / 1e6
        n = len(r.ops)
        m = t.extra["nb101_matrix"][row]
        np.testing.assert_array_equal(m[:n, :n], r.matrix)
        assert m[n:].sum() == 0 and m[:, n:].sum() == 0
        ops = t.extra["nb101_ops"][row]
        assert [int(x) for x in ops[:n]] == [nb101_tfrecord.OP_KINDS[o] for o in r.ops]
        assert (ops[n:] == nb101_tfrecord.KIND_PAD).all()
    assert np.isfinite(d.values).all()
    assert t.provenance["records"] == 60
    assert len(t.provenance["source_sha256"]) == 64


def test_full_release_budgets_and_repeat_order(tmp_path: Path) -> None:
    recs = []
    for b in nb101_tfrecord.BUDGETS:
        for rep in range(3):
            recs.append(nb101_record("a" * 32, b, CHAIN, ["input", "maxpool3x3", "output"],
                                     _evals(b, 0.5 + rep / 10), 1000))
    recs.insert(2, nb101_record("b" * 32, 4, np.array([[0, 1], [0, 0]]), ["input", "output"],
                                _evals(4, 0.3), 10))
    t = nb101_tfrecord.convert(write_tfrecord(tmp_path / "full.tfrecord", recs),
                               progress=False)
    d = t.datasets["cifar10"]
    assert t.keys == ["a" * 32, "b" * 32]
    assert d.fidelities == ((4, 2), (4, 4), (12, 6), (12, 12), (36, 18), (36, 36), (108, 54),
                            (108, 108))
    tr = d.metrics.index("train_accuracy")
    # repeats keep file order: repeat k has base 0.5 + k/10, final = base + 0.1
    for rep in range(3):
        assert d.values[0, rep, d.fidelities.index((36, 36)), tr] == pytest.approx(
            100 * (0.6 + rep / 10))
        assert d.values[0, rep, d.fidelities.index((12, 6)), d.metrics.index("train_time")] \
            == pytest.approx(120.0)
    # cell b has only budget 4 and one repeat
    assert np.isnan(d.values[1, 1:]).all() and np.isnan(d.values[1, 0, 2:]).all()
    assert t.extra["nb101_ops"][1].tolist()[:3] == [3, 4, 5]


def test_crc_mismatch_names_record_and_offset(official: tuple[Path, list],
                                              tmp_path: Path) -> None:
    path, _ = official
    data = bytearray(path.read_bytes())
    frames = []
    off = 0
    while off < len(data):
        (n,) = struct.unpack_from("<Q", data, off)
        frames.append(off)
        off += 16 + n
    bad = bytearray(data)
    bad[frames[5] + 40] ^= 0x01  # flip a bit inside record 5's data
    p = tmp_path / "bad.tfrecord"
    p.write_bytes(bytes(bad))
    with pytest.raises(ChecksumError, match=rf"record 5 at byte offset {frames[5]}: data CRC"):
        nb101_tfrecord.convert(p, progress=False)
    bad = bytearray(data)
    bad[frames[3] + 9] ^= 0xFF  # length CRC of record 3
    p.write_bytes(bytes(bad))
    with pytest.raises(ChecksumError, match=rf"record 3 at byte offset {frames[3]}: length"):
        nb101_tfrecord.convert(p, progress=False)
    # the same file converts when CRCs are not checked (the data itself is intact)
    assert len(nb101_tfrecord.convert(p, check_crc=False, progress=False).keys) == 20


def test_truncated_and_malformed(official: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = official
    data = path.read_bytes()
    p = tmp_path / "trunc.tfrecord"
    p.write_bytes(data[:-100])
    with pytest.raises(FormatError, match=r"record 59 at byte offset \d+: truncated"):
        nb101_tfrecord.convert(p, progress=False)
    p.write_bytes(data + b"\x01\x02\x03")
    with pytest.raises(FormatError, match=r"record 60 .* truncated header"):
        nb101_tfrecord.convert(p, progress=False)
    p.write_bytes(tfrecord_frame(json.dumps(["x" * 32, 108]).encode()))
    with pytest.raises(FormatError, match="record 0 at byte offset 0: not a NAS-Bench-101"):
        nb101_tfrecord.convert(p, progress=False)
    p.write_bytes(tfrecord_frame(nb101_record("c" * 32, 50, CHAIN, ["input", "maxpool3x3",
                                                                     "output"], _evals(50, .5), 1)))
    with pytest.raises(FormatError, match="epoch budget 50"):
        nb101_tfrecord.convert(p, progress=False)
    p.write_bytes(tfrecord_frame(nb101_record("c" * 32, 108, CHAIN, ["input", "conv5x5",
                                                                      "output"], _evals(108, .5), 1)))
    with pytest.raises(FormatError, match="unknown operation 'conv5x5'"):
        nb101_tfrecord.convert(p, progress=False)
    p.write_bytes(b"")
    with pytest.raises(FormatError, match="no records"):
        nb101_tfrecord.convert(p, progress=False)
    assert not nb101_tfrecord.detect(p)


def test_release_name_sha256_warning(official: tuple[Path, list], tmp_path: Path,
                                     caplog: pytest.LogCaptureFixture) -> None:
    path, _ = official
    fake = tmp_path / "nasbench_only108.tfrecord"
    fake.write_bytes(path.read_bytes())
    with caplog.at_level(logging.WARNING):
        t = nb101_tfrecord.convert(fake, progress=False)
    assert t.provenance["release_sha256_ok"] is False
    assert "differs from the published" in caplog.text


def test_streaming_into_store(official: tuple[Path, list], tmp_path: Path) -> None:
    store = pytest.importorskip("nasbench_tools.store")
    if not hasattr(store, "StoreWriter") or not hasattr(store, "load_benchmark"):
        pytest.skip("nasbench_tools.store.StoreWriter/load_benchmark not available yet")
    path, rows = official
    out = tmp_path / "nb101.h5"
    with store.StoreWriter(out, command="test") as w:
        n = nb101_tfrecord.convert_streaming(path, w, chunk_rows=7, progress=False)
    assert n == 20
    bench = store.load_benchmark(out)
    assert len(bench) == 20
    r = rows[0]
    got = bench.lookup(r.module_hash, "val_accuracy", dataset="cifar10", epoch=108,
                       seed=r.repeat)
    assert float(got) == pytest.approx(100 * r.final.validation_accuracy, rel=1e-6)


def test_detect_rejects_other_official_files(shared_data: Path, tmp_path: Path) -> None:
    # a zip / bz2 header read as a TFRecord length must not allocate or crash
    assert not nb101_tfrecord.detect(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    nats = shared_data / "nats" / "fake_torch_dir" / "NATS-sss-v1_0-50262-simple"
    assert not nb101_tfrecord.detect(nats / "meta.pickle.pbz2")
    huge = tmp_path / "huge.tfrecord"
    huge.write_bytes(struct.pack("<QI", 2**62, 0) + b"x" * 10)
    with pytest.raises(FormatError, match="record 0 at byte offset 0: truncated"):
        nb101_tfrecord.convert(huge, progress=False)
