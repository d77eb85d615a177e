"""HDF5 store format: round trip, streaming writer, atomicity, versions, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import nasbench_tools.store.format as fmt
from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.store import (
    FORMAT_VERSION,
    MEAN_SEED,
    DatasetTable,
    StoreWriter,
    TableData,
    load_benchmark,
    read_metadata,
    write_store,
)
from nasbench_tools.store.format import H5Backend, float32_to_decimal


def make_table(n: int = 5, start: int = 0, seed: int = 0) -> TableData:
    rng = np.random.default_rng(seed)
    vals = rng.uniform(0, 100, size=(n, 3, 2, 2)).astype(np.float32)
    vals[0, 1, 0, 0] = np.nan
    d1 = DatasetTable(
        "cifar10", (0, 1, 2), ((108, 54), (108, 108)),
        ("val_accuracy", "train_time"), vals,
        costs={"params": rng.uniform(size=n), "flops": rng.uniform(size=n)},
        features={"snip": rng.normal(size=n)},
    )
    d2 = DatasetTable("cifar100", (MEAN_SEED,), ((12, 12),), ("test_accuracy",),
                      rng.uniform(size=(n, 1, 1, 1)))
    keys = [f"{i:032x}" for i in range(start, start + n)]
    return TableData(
        "nb101", keys, np.arange(start, start + n), {"cifar10": d1, "cifar100": d2},
        provenance={"converter": "synthetic", "n": n},
        extra={"nb101_matrix": rng.integers(0, 2, size=(n, 7, 7)).astype(np.uint8)},
    )


def assert_same(table: TableData, path: Path) -> None:
    b = H5Backend(path)
    assert b.meta.space == table.space
    assert b.keys() == table.keys
    assert b.indices().tolist() == table.indices.tolist()
    assert list(b.meta.datasets) == list(table.datasets)
    for name, d in table.datasets.items():
        m = b.meta.datasets[name]
        assert (m.seeds, m.fidelities, m.metrics) == (d.seeds, d.fidelities, d.metrics)
        np.testing.assert_array_equal(b.values(name), d.values)
        assert m.present == tuple(int(c) for c in (~np.isnan(d.values)).sum(axis=(0, 1, 2)))
        for k, v in d.costs.items():
            np.testing.assert_array_equal(b.cost(name, k), v)
        for k, v in d.features.items():
            np.testing.assert_array_equal(b.feature(name, k), v)
        for fi in range(len(d.fidelities)):
            for mi in range(len(d.metrics)):
                np.testing.assert_array_equal(b.column(name, fi, mi), d.values[:, :, fi, mi])
    for k, v in table.extra.items():
        got = b.extra(k)
        assert got.dtype == v.dtype
        np.testing.assert_array_equal(got, v)


def test_round_trip_every_field(tmp_path: Path) -> None:
    table = make_table()
    path = write_store(table, tmp_path / "s.h5", command="nbt convert x -o s.h5")
    assert_same(table, path)
    meta = read_metadata(path)
    assert meta.command == "nbt convert x -o s.h5"
    assert meta.provenance == {"converter": "synthetic", "n": 5}
    assert meta.format_version == FORMAT_VERSION and meta.hash_version == fmt.HASH_VERSION
    assert meta.created.endswith("+00:00") and meta.nasbench_tools_version
    assert meta.extra == ("nb101_matrix",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5"]  # no temp file left


def test_streaming_writer_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "_ROW_CHUNK", 4)  # force flushes inside and across chunks
    parts = [make_table(3, 0, 1), make_table(5, 3, 2), make_table(1, 8, 3), make_table(6, 9, 4)]
    with StoreWriter(tmp_path / "s.h5", command="stream", provenance={"k": 1}) as w:
        for p in parts:
            w.append(p)
        w.provenance["sha256"] = "abc"
        assert w.rows_written == 15
    whole = TableData(
        "nb101", [k for p in parts for k in p.keys], np.concatenate([p.indices for p in parts]),
        {name: DatasetTable(
            name, parts[0].datasets[name].seeds, parts[0].datasets[name].fidelities,
            parts[0].datasets[name].metrics,
            np.concatenate([p.datasets[name].values for p in parts]),
            costs={k: np.concatenate([p.datasets[name].costs[k] for p in parts])
                   for k in parts[0].datasets[name].costs},
            features={k: np.concatenate([p.datasets[name].features[k] for p in parts])
                      for k in parts[0].datasets[name].features})
         for name in parts[0].datasets},
        extra={"nb101_matrix": np.concatenate([p.extra["nb101_matrix"] for p in parts])},
    )
    assert_same(whole, tmp_path / "s.h5")
    meta = read_metadata(tmp_path / "s.h5")
    assert meta.provenance == {"converter": "synthetic", "n": 3, "k": 1, "sha256": "abc"}


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "s.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with StoreWriter(target) as w:
            w.append(make_table(3))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_previous_store(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_store(make_table(2), tmp_path / "s.h5")
    before = target.read_bytes()

    def broken(self: StoreWriter) -> None:
        raise KeyboardInterrupt  # e.g. Ctrl-C while the data are being written

    monkeypatch.setattr(StoreWriter, "_flush", broken)
    with pytest.raises(KeyboardInterrupt):
        write_store(make_table(7), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5"]
    assert len(load_benchmark(target)) == 2


def test_writer_refuses_bad_chunks(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="schema differs"):
        with StoreWriter(tmp_path / "a.h5") as w:
            w.append(make_table(2))
            other = make_table(2, 2)
            del other.datasets["cifar100"]
            w.append(other)
    with pytest.raises(FormatError, match="appears twice"):
        with StoreWriter(tmp_path / "b.h5") as w:
            w.append(make_table(2))
            w.append(make_table(2))
    with pytest.raises(FormatError, match="no rows"):
        with StoreWriter(tmp_path / "c.h5"):
            pass
    with pytest.raises(OutOfDomainError, match="one value per cell"):
        t = make_table(2)
        t.datasets["cifar10"].costs["params"] = np.ones(3)
        write_store(t, tmp_path / "d.h5")
    assert list(tmp_path.iterdir()) == []


def test_other_format_version_names_both(tmp_path: Path) -> None:
    path = write_store(make_table(2), tmp_path / "s.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(FormatError, match=rf"version {FORMAT_VERSION + 1}.*version {FORMAT_VERSION}"):
        load_benchmark(path)


def test_not_a_store(tmp_path: Path) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(FormatError, match="not an HDF5 store"):
        load_benchmark(junk)
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(FormatError, match="not a nasbench-tools store"):
        load_benchmark(plain)
    with pytest.raises(FormatError, match="does not exist"):
        load_benchmark(tmp_path / "missing.h5")


def test_replaced_file_is_detected(tmp_path: Path) -> None:
    path = write_store(make_table(2), tmp_path / "s.h5")
    bench = load_benchmark(path)
    write_store(make_table(3), path)
    with pytest.raises(FormatError, match="replaced"):
        bench.lookup(0, "val_accuracy", dataset="cifar10")


def test_layout_is_chunked_by_rows_and_uncompressed(tmp_path: Path) -> None:
    path = write_store(make_table(4), tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        v = f["datasets/cifar10/values"]
        assert v.dtype == np.float32 and v.compression is None
        # A 4-row table gets 4-row chunks (whole chunks are allocated on disk).
        assert v.chunks == (4, 1, 1, 1)
        assert json.loads(f.attrs["datasets"]) == ["cifar10", "cifar100"]


def test_streamed_store_without_a_size_hint_uses_full_row_chunks(tmp_path: Path) -> None:
    with fmt.StoreWriter(tmp_path / "s.h5") as w:
        w.append(make_table(4))
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert f["datasets/cifar10/values"].chunks == (fmt._ROW_CHUNK, 1, 1, 1)


def test_small_store_is_small_on_disk(tmp_path: Path) -> None:
    path = write_store(make_table(4), tmp_path / "s.h5")
    assert path.stat().st_size < 200_000


def test_float32_to_decimal_matches_shortest_repr() -> None:
    x = np.random.default_rng(0).uniform(-1e4, 1e4, 5000).astype(np.float32)
    x[:3] = [94.37, 0.0, np.nan]
    got = float32_to_decimal(x)
    want = np.array([float(str(v)) for v in x])
    np.testing.assert_array_equal(got, want)
    assert got[0] == 94.37
