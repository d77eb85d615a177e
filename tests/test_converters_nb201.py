"""NAS-Bench-201 ``.pth`` converter against the official API's own answers."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures_official import official_find_best

from nasbench_tools.errors import FormatError
from nasbench_tools.store.converters import nb201_pth
from nasbench_tools.store.table import TableData

#: official get_more_info key prefix -> our metric prefix
PREFIX = {"train": "train", "valid": "val", "test": "test", "valtest": "ori_test"}


@pytest.fixture(scope="module")
def answers(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "nb201" / "nb201_official_api_answers.json").read_text())


@pytest.fixture(scope="module", params=["NAS-Bench-201-fixture.pth",
                                        "NAS-Bench-201-fixture-legacy.pth"])
def table(request: pytest.FixtureRequest, shared_data: Path) -> TableData:
    return nb201_pth.convert(shared_data / "nb201" / request.param)


def _value(t: TableData, dataset: str, index: int, metric: str, budget: int, epoch: int,
           seed: bool | int) -> float:
    d = t.datasets[dataset]
    row = int(np.flatnonzero(t.indices == index)[0])
    v = d.values[row, :, d.fidelities.index((budget, epoch)), d.metrics.index(metric)]
    v = v.astype(np.float64)
    if seed is False:
        return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    return float(v[d.seeds.index(int(seed))])


def test_detect(shared_data: Path, tmp_path: Path) -> None:
    assert nb201_pth.detect(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    assert nb201_pth.detect(shared_data / "nb201" / "NAS-Bench-201-fixture-legacy.pth")
    other = tmp_path / "x.pth"
    other.write_bytes(b"nope")
    assert not nb201_pth.detect(other)
    assert not nb201_pth.detect(shared_data / "nb201" / "nb201_official_api_answers.json")


def test_rows_keys_and_index_order(table: TableData, answers: dict[str, Any],
                                   shared_data: Path) -> None:
    assert table.space == "nb201"
    assert table.indices.tolist() == answers["evaluated_indexes"]
    meta = nb201_pth.read_meta_archs(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    assert len(meta) == answers["num_archs"]
    for call in answers["calls"]:
        if call["call"] == "query_index_by_arch" and "error" not in call:
            if call["result"] == -1:  # the official "not found" sentinel
                assert call["args"]["arch"] not in meta
            else:
                assert meta.index(call["args"]["arch"]) == call["result"]
    assert table.keys == [meta[i] for i in table.indices]
    cell_cls = pytest.importorskip("nasbench_tools.spaces.nb201").Cell
    index = nb201_pth.read_index_table(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    assert len(index) == len(meta)
    for call in answers["calls"]:
        if call["call"] == "query_index_by_arch" and call["result"] != -1:
            assert index.index_of(cell_cls.from_string(call["args"]["arch"])) == call["result"]
    assert table.provenance["source_sha256"]
    assert set(table.datasets) == set(nb201_pth.DATASETS)


def test_get_more_info_matches_official(table: TableData, answers: dict[str, Any]) -> None:
    checked = 0
    for call in answers["calls"]:
        if call["call"] != "get_more_info":
            continue
        a = call["args"]
        b = int(a["hp"])
        if "error" in call:
            if a["index"] in table.indices:  # official KeyError: no records -> all NaN
                d = table.datasets[a["dataset"]]
                row = int(np.flatnonzero(table.indices == a["index"])[0])
                assert np.isnan(d.values[row, :, d.fidelities.index((b, b))]).all()
            else:  # official "Did not find": not a row
                assert "Did not find" in call["error"]["message"]
            continue
        for key, want in call["result"].items():
            split, _, what = key.partition("-")
            p = PREFIX[split]
            if what in ("accuracy", "loss"):
                got = _value(table, a["dataset"], a["index"], f"{p}_{what}", b, b,
                             a["is_random"])
            elif p == "ori_test":
                continue  # valtest times are not kept (see docs/converters.md)
            else:
                t = _value(table, a["dataset"], a["index"], f"{p}_time", b, b, a["is_random"])
                # train_time is cumulative, val/test_time are official per-epoch times
                scale = {("train", "all-time"): 1, ("train", "per-time"): 1 / b}.get(
                    (p, what), b if what == "all-time" else 1)
                got = t * scale
            assert got == pytest.approx(want, rel=2e-6, abs=1e-5), (a, key)
            checked += 1
    assert checked > 2500


def test_get_cost_info_matches_official(table: TableData, answers: dict[str, Any]) -> None:
    checked = 0
    for call in answers["calls"]:
        if call["call"] != "get_cost_info":
            continue
        a, res = call["args"], call["result"]
        d = table.datasets[a["dataset"]]
        row = int(np.flatnonzero(table.indices == a["index"])[0])
        for key, col in (("flops", "flops"), ("params", "params"), ("latency", "latency"),
                         ("T-train@epoch", "train_time_per_epoch")):
            if res[key] is None:
                assert np.isnan(d.costs[col][row])
            else:
                assert d.costs[col][row] == pytest.approx(res[key], rel=1e-9)
            checked += 1
        b = int(a.get("hp", "12"))
        if res["T-train@total"] is not None:
            got = _value(table, a["dataset"], a["index"], "train_time", b, b, False)
            assert got == pytest.approx(res["T-train@total"], rel=2e-6)
    assert checked > 500


def test_find_best_matches_official(table: TableData, answers: dict[str, Any]) -> None:
    checked = 0
    for call in answers["calls"]:
        if call["call"] != "find_best" or "error" in call:
            continue
        a = call["args"]
        index, score = official_find_best(table, a, {"FLOP_max": "flops", "Param_max": "params"})
        assert index == call["result"][0], a
        assert score == pytest.approx(call["result"][1], rel=2e-6)
        checked += 1
    assert checked >= 20


def test_curves_and_final_only(shared_data: Path) -> None:
    full = nb201_pth.convert(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    small = nb201_pth.convert(shared_data / "nb201" / "NAS-Bench-201-fixture.pth", curves=False)
    d, s = full.datasets["cifar10-valid"], small.datasets["cifar10-valid"]
    assert len(d.fidelities) == 212 and s.fidelities == ((12, 12), (200, 200))
    np.testing.assert_array_equal(
        d.values[:, :, [d.fidelities.index((12, 12)), d.fidelities.index((200, 200))]],
        s.values)
    # cell 0 is a real record: its 200-epoch curve is complete and train_time increases
    j0, j1 = d.fidelities.index((200, 1)), d.fidelities.index((200, 200))
    curve = d.values[0, d.seeds.index(777), j0:j1 + 1, d.metrics.index("train_time")]
    assert np.isfinite(curve).all() and (np.diff(curve) > 0).all()
    assert "val_accuracy" not in full.datasets["cifar10"].metrics
    assert "ori_test_accuracy" in full.datasets["cifar100"].metrics


def _write_pth(path: Path, blob: object) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x/data.pkl", pickle.dumps(blob, protocol=2))
    return path


def test_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="meta_archs"):
        nb201_pth.convert(_write_pth(tmp_path / "a.pth", {"arch2infos": {}}))
    with pytest.raises(FormatError, match="hp key"):
        nb201_pth.convert(_write_pth(tmp_path / "b.pth", {
            "meta_archs": ["a"], "arch2infos": {0: {"weird": {}}}, "evaluated_indexes": {0}}))
    rec = {"dataset_seed": {"cifar10": [5]}, "all_results": {}}
    with pytest.raises(FormatError, match="seed 5 but holds no result"):
        nb201_pth.convert(_write_pth(tmp_path / "c.pth", {
            "meta_archs": ["a"], "arch2infos": {0: {"full": rec}}, "evaluated_indexes": {0}}))
    with pytest.raises(FormatError, match="outside"):
        nb201_pth.convert(_write_pth(tmp_path / "d.pth", {
            "meta_archs": ["a"], "arch2infos": {3: {}}, "evaluated_indexes": {3}}))


def test_store_roundtrip_through_load_benchmark(answers: dict[str, Any], shared_data: Path,
                                                tmp_path: Path) -> None:
    store = pytest.importorskip("nasbench_tools.store")
    if not hasattr(store, "StoreWriter") or not hasattr(store, "load_benchmark"):
        pytest.skip("nasbench_tools.store.StoreWriter/load_benchmark not available yet")
    from nasbench_tools.errors import NotInBenchmarkError

    out = tmp_path / "nb201.h5"
    with store.StoreWriter(out, command="test") as w:
        n = nb201_pth.convert_streaming(shared_data / "nb201" / "NAS-Bench-201-fixture.pth", w,
                                        chunk_rows=5)
    assert n == len(answers["evaluated_indexes"])
    bench = store.load_benchmark(out)
    meta = nb201_pth.read_meta_archs(shared_data / "nb201" / "NAS-Bench-201-fixture.pth")
    checked = 0
    for call in answers["calls"]:
        a = call["args"]
        if call["call"] != "get_more_info":
            continue
        if a["index"] not in answers["evaluated_indexes"]:  # official "Did not find ..."
            with pytest.raises(NotInBenchmarkError):
                bench.lookup(meta[a["index"]], "train_accuracy", dataset=a["dataset"])
            continue
        b = int(a["hp"])
        seed = "mean" if a["is_random"] is False else a["is_random"]
        kw = {"dataset": a["dataset"], "epoch": b, "budget": b, "seed": seed}
        if "error" in call:
            with pytest.raises(NotInBenchmarkError):
                bench.lookup(meta[a["index"]], "train_accuracy", **kw)
            continue
        for key, metric in (("train-accuracy", "train_accuracy"), ("test-loss", "test_loss"),
                            ("valid-accuracy", "val_accuracy"),
                            ("valtest-accuracy", "ori_test_accuracy")):
            if key in call["result"]:
                got = bench.lookup(meta[a["index"]], metric, **kw)
                assert float(got) == pytest.approx(call["result"][key], rel=2e-6), (a, key)
                checked += 1
    assert checked > 500
