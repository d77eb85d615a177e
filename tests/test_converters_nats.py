"""NATS-Bench ``.pickle.pbz2`` converter against the official API's own answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures_official import (
    arch_results,
    official_find_best,
    sss_strings,
    write_nats_fast_dir,
    write_pbz2,
)

from nasbench_tools.errors import FormatError, UnsafePickleError
from nasbench_tools.store.converters import nats_pbz2
from nasbench_tools.store.table import TableData

PREFIX = {"train": "train", "valid": "val", "test": "test", "valtest": "ori_test"}


@pytest.fixture(scope="module")
def answers(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "nats" / "nats_official_api_answers.json").read_text())


@pytest.fixture(scope="module", params=["tss", "sss"])
def space(request: pytest.FixtureRequest, shared_data: Path,
          answers: dict[str, Any]) -> tuple[str, TableData, dict[str, Any]]:
    sp = request.param
    path = shared_data / "nats" / "fake_torch_dir" / answers["fixture_dirs"][sp]
    assert nats_pbz2.detect(path)
    return sp, nats_pbz2.convert(path, progress=False), answers[sp]


def _seed_vals(t: TableData, dataset: str, index: int, metric: str, fid: tuple[int, int]
               ) -> np.ndarray:
    d = t.datasets[dataset]
    row = int(np.flatnonzero(t.indices == index)[0])
    return d.values[row, :, d.fidelities.index(fid), d.metrics.index(metric)].astype(float)


def _pick(vals: np.ndarray, t: TableData, dataset: str, seed: Any) -> float:
    if seed is False:
        return float(np.nanmean(vals))
    return float(vals[t.datasets[dataset].seeds.index(int(seed))])


def test_layout(space: tuple[str, TableData, dict[str, Any]]) -> None:
    sp, t, ans = space
    assert t.space == {"tss": "nb201", "sss": "nats_sss"}[sp]
    assert t.indices.tolist() == ans["evaluated_indexes"]
    budgets = sorted({b for b, _ in t.datasets["cifar10"].fidelities})
    assert budgets == sorted(int(h) for h in ans["available_hps"])
    assert max(budgets) == ans["full_train_epochs"]
    assert t.provenance["num_archs"] == ans["num_archs"]
    for call in ans["calls"]:
        if call["call"] == "query_index_by_arch" and call["result"] in t.indices:
            row = int(np.flatnonzero(t.indices == call["result"])[0])
            assert t.keys[row] == call["args"]["arch"]


def test_get_more_info(space: tuple[str, TableData, dict[str, Any]]) -> None:
    _, t, ans = space
    checked = 0
    for call in ans["calls"]:
        a = call["args"]
        if call["call"] != "get_more_info":
            continue
        if "error" in call:  # cells without a file are not rows
            assert a["index"] not in t.indices
            continue
        b = int(a["hp"])
        e = b if a.get("iepoch") is None else a["iepoch"] + 1
        for key, want in call["result"].items():
            if key == "comment":
                continue
            split, _, what = key.partition("-")
            p = PREFIX[split]
            if p == "ori_test" and "time" in what:
                continue
            metric = f"{p}_time" if "time" in what else f"{p}_{what}"
            got = _pick(_seed_vals(t, a["dataset"], a["index"], metric, (b, e)), t,
                        a["dataset"], a["is_random"])
            if what == "all-time" and p != "train":
                got *= e
            if what == "per-time" and p == "train":
                got /= e
            assert got == pytest.approx(want, rel=2e-6, abs=1e-5), (a, key)
            checked += 1
    assert checked > 1000


def test_costs_and_latency(space: tuple[str, TableData, dict[str, Any]]) -> None:
    _, t, ans = space
    checked = 0
    for call in ans["calls"]:
        a = call["args"]
        if call["call"] not in ("get_cost_info", "get_latency"):
            continue
        d = t.datasets[a["dataset"]]
        row = int(np.flatnonzero(t.indices == a["index"])[0])
        res = call["result"] if call["call"] == "get_cost_info" else {"latency": call["result"]}
        for key, col in (("flops", "flops"), ("params", "params"), ("latency", "latency"),
                         ("T-train@epoch", "train_time_per_epoch")):
            if key in res:
                assert d.costs[col][row] == pytest.approx(res[key], rel=1e-9), (a, key)
                checked += 1
        if "T-train@total" in res:
            b = int(a["hp"])
            tot = np.nanmean(_seed_vals(t, a["dataset"], a["index"], "train_time", (b, b)))
            assert tot == pytest.approx(res["T-train@total"], rel=2e-6)
    assert checked > 50


def test_simulate_train_eval_outcomes(space: tuple[str, TableData, dict[str, Any]]) -> None:
    _, t, ans = space
    checked = 0
    for call in ans["calls"]:
        if call["call"] != "simulate_train_eval":
            continue
        a = call["args"]
        b = int(a["hp"])
        ds = "cifar10-valid" if a["dataset"] == "cifar10" else a["dataset"]
        for seed, (acc, lat, cost, _) in call["outcomes_by_seed"].items():
            s = int(seed)
            got_acc = _pick(_seed_vals(t, ds, a["arch"], "val_accuracy", (b, b)), t, ds, s)
            train = _pick(_seed_vals(t, ds, a["arch"], "train_time", (b, b)), t, ds, s)
            per = _pick(_seed_vals(t, ds, a["arch"], "val_time", (b, b)), t, ds, s)
            assert got_acc == pytest.approx(acc, rel=2e-6)
            assert train + per == pytest.approx(cost, rel=2e-6)
            row = int(np.flatnonzero(t.indices == a["arch"])[0])
            assert t.datasets[a["dataset"]].costs["latency"][row] == pytest.approx(lat)
            checked += 1
    assert checked > 10


def test_find_best(space: tuple[str, TableData, dict[str, Any]]) -> None:
    _, t, ans = space
    checked = 0
    for call in ans["calls"]:
        if call["call"] != "find_best" or "error" in call:
            continue
        a = call["args"]
        index, score = official_find_best(t, a, {"flop_max": "flops", "param_max": "params"})
        assert [index, score] == [call["result"][0], pytest.approx(call["result"][1], rel=2e-6)], a
        checked += 1
    assert checked > 10


def test_written_fast_dir_and_single_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    archs = sss_strings()
    cells = {i: {"01": arch_results(i, archs[i], 1, [777], rng=rng),
                 "12": arch_results(i, archs[i], 12, [777, 888, 999], rng=rng),
                 "90": arch_results(i, archs[i], 90, [777], rng=rng)} for i in (3, 40)}
    fast = write_nats_fast_dir(tmp_path / "NATS-sss-v1_0-50262-simple", archs, cells)
    t = nats_pbz2.convert(fast, progress=False)
    assert t.indices.tolist() == [3, 40] and t.keys == [archs[3], archs[40]]
    d = t.datasets["cifar100"]
    rc = cells[40]["12"]["all_results"][("cifar100", 888)]
    got = d.values[1, d.seeds.index(888), d.fidelities.index((12, 5)),
                   d.metrics.index("test_accuracy")]
    assert got == pytest.approx(rc["eval_acc1es"]["x-test@4"], rel=1e-6)
    got = d.values[1, d.seeds.index(888), d.fidelities.index((12, 12)),
                   d.metrics.index("train_time")]
    assert got == pytest.approx(sum(rc["train_times"].values()), rel=1e-6)
    # the single-file layout holds the same records
    single = write_pbz2(tmp_path / "NATS-sss-v1_0-50262.pickle.pbz2",
                        {"meta_archs": archs, "arch2infos": cells,
                         "evaluated_indexes": set(cells)})
    assert nats_pbz2.detect(single)
    t2 = nats_pbz2.convert(single, curves=False)
    assert t2.datasets["cifar100"].fidelities == ((1, 1), (12, 12), (90, 90))
    np.testing.assert_array_equal(
        t2.datasets["cifar100"].values[:, :, 1],
        d.values[:, :, d.fidelities.index((12, 12))])
    assert [i for i, _ in nats_pbz2.iter_cells(single)] == [3, 40]


def test_broken_files(tmp_path: Path) -> None:
    archs = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    fast = write_nats_fast_dir(tmp_path / "d", archs, {0: {"12": {}}})
    good = (fast / "000000.pickle.pbz2").read_bytes()
    (fast / "000000.pickle.pbz2").write_bytes(good[: len(good) // 2])
    with pytest.raises(FormatError, match=r"000000\.pickle\.pbz2"):
        nats_pbz2.convert(fast, progress=False)
    (fast / "000000.pickle.pbz2").write_bytes(b"BZh91AY&SY" + b"\x00" * 40)
    with pytest.raises(FormatError):
        nats_pbz2.convert(fast, progress=False)
    write_pbz2(fast / "000000.pickle.pbz2", {"7": {}})
    with pytest.raises(FormatError, match="unknown hp key '7'"):
        nats_pbz2.convert(fast, progress=False)
    write_pbz2(fast / "000000.pickle.pbz2", {"12": {"dataset_seed": {}, "all_results": {}}})
    (fast / "5.pickle.pbz2").write_bytes((fast / "000000.pickle.pbz2").read_bytes())
    with pytest.raises(FormatError, match="index 5 outside"):
        nats_pbz2.convert(fast, progress=False)
    write_pbz2(tmp_path / "x.pickle.pbz2", {"meta_archs": ["weird"], "arch2infos": {}})
    with pytest.raises(FormatError, match="neither a topology"):
        nats_pbz2.convert(tmp_path / "x.pickle.pbz2")
    import os

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    write_pbz2(tmp_path / "e.pickle.pbz2", {"meta_archs": [Evil()]})
    with pytest.raises(UnsafePickleError):
        nats_pbz2.convert(tmp_path / "e.pickle.pbz2")
    assert not (tmp_path / "pwned").exists()


def test_streaming_into_store(shared_data: Path, answers: dict[str, Any],
                              tmp_path: Path) -> None:
    store = pytest.importorskip("nasbench_tools.store")
    if not hasattr(store, "StoreWriter") or not hasattr(store, "load_benchmark"):
        pytest.skip("nasbench_tools.store.StoreWriter/load_benchmark not available yet")
    for sp in ("tss", "sss"):
        src = shared_data / "nats" / "fake_torch_dir" / answers["fixture_dirs"][sp]
        out = tmp_path / f"{sp}.h5"
        with store.StoreWriter(out, command="test") as w:
            n = nats_pbz2.convert_streaming(src, w, chunk_rows=2, progress=False)
        assert n == 3
        bench = store.load_benchmark(out)
        checked = 0
        for call in answers[sp]["calls"]:
            a = call["args"]
            if call["call"] != "get_more_info" or "error" in call:
                continue
            b = int(a["hp"])
            e = b if a.get("iepoch") is None else a["iepoch"] + 1
            seed = "mean" if a["is_random"] is False else a["is_random"]
            got = bench.lookup(a["index"], "train_accuracy", dataset=a["dataset"], epoch=e,
                               budget=b, seed=seed)
            assert float(got) == pytest.approx(call["result"]["train-accuracy"], rel=2e-6)
            checked += 1
        assert checked > 30


def test_streaming_refuses_unknown_seed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    archs = sss_strings()
    fast = write_nats_fast_dir(tmp_path / "s", archs,
                               {0: {"90": arch_results(0, archs[0], 90, [5], rng=rng)}})

    class Sink:
        def append(self, chunk: Any) -> None:
            raise AssertionError("nothing should be written")

    with pytest.raises(FormatError, match="trial seed 5"):
        nats_pbz2.convert_streaming(fast, Sink(), progress=False)
    t = nats_pbz2.convert(fast, progress=False)  # the in-memory path grows the seed axis
    assert 5 in t.datasets["cifar10"].seeds


def test_registry_hashes_each_source_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nasbench_tools.store.converters import hashing, registry
    from nasbench_tools.store.format import read_metadata

    rng = np.random.default_rng(0)
    archs = sss_strings()
    cells = {i: {"12": arch_results(i, archs[i], 12, [777, 888, 999], rng=rng)} for i in (3, 40)}
    src = write_pbz2(tmp_path / "NATS-sss-v1_0-50262.pickle.pbz2",
                     {"meta_archs": archs, "arch2infos": cells, "evaluated_indexes": set(cells)})
    digest = hashing.sha256_path(src)
    calls: list[Path] = []

    def counting(path: Any, **kw: Any) -> str:
        calls.append(Path(path))
        return digest

    monkeypatch.setattr(hashing, "sha256_path", counting)
    monkeypatch.setattr(registry, "sha256_path", counting)
    table = registry.convert_sources([src], options={"progress": False})
    assert calls == [src]
    record = table.provenance["sources"][0]
    assert record["sha256"] == record["converter"]["source_sha256"] == digest
    calls.clear()
    out = registry.convert_to_store([src], tmp_path / "s.h5", options={"progress": False})
    assert calls == [src]  # the streaming path too
    assert read_metadata(out).provenance["sources"][0]["sha256"] == digest
    # called directly, a converter hashes the file itself
    calls.clear()
    assert nats_pbz2.convert(src, progress=False).provenance["source_sha256"] == digest
    assert calls == [src]
