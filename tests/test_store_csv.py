"""CSV converter, recipes, merging, and the shared NB201 tables end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.errors import FormatError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.store import MEAN_SEED, UNKNOWN_SEED, Benchmark, load_benchmark
from nasbench_tools.store.converters import csv_tables, registry
from nasbench_tools.store.merge import merge_tables

NB201 = Path("nb201")
SHARED_CSVS = (
    "nb201_cifar10_200ep_naswot_scores.csv",
    "nb201_hp12_mean_accuracies.csv",
    "nb201_val_accuracy_zen_all.csv",
    "nb201_zc_proxies_v20220518_sample.csv",
)
A0 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
A1 = "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"
A2 = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def naswot_csv(tmp: Path, rows: list[tuple[int, str, float]]) -> Path:
    head = ("nb201_index,arch_str,cifar10_test_acc,cifar10_valid_xvalid_acc,"
            "cifar10_valid_oritest_acc,params_m,naswot_score\n")
    body = "".join(f"{i},{a},{v},{v - 3},{v - 4},0.5,\n" for i, a, v in rows)
    return write(tmp / "naswot.csv", head + body)


def test_builtin_layouts_detected_by_header(tmp_path: Path) -> None:
    p = naswot_csv(tmp_path, [(0, A0, 90.0)])
    assert csv_tables.detect(p)
    assert csv_tables.detect_recipe(p).name == "nb201_naswot_200ep"  # type: ignore[union-attr]
    other = write(tmp_path / "x.csv", "a,b\n1,2\n")
    assert not csv_tables.detect(other)
    assert registry.detect_format(p) == "csv"
    with pytest.raises(FormatError, match=r"no built-in recipe .* 'nb201_naswot_200ep'"):
        csv_tables.convert(other)


def test_means_go_to_mean_pseudo_seed(tmp_path: Path) -> None:
    t = csv_tables.convert(naswot_csv(tmp_path, [(5, A1, 91.0), (2, A0, 90.0)]))
    assert t.keys == [A0, A1] and t.indices.tolist() == [2, 5]  # sorted by index
    c10 = t.datasets["cifar10"]
    assert c10.seeds == (MEAN_SEED,) and c10.fidelities == ((200, 200),)
    assert c10.values[:, 0, 0, 0].tolist() == [90.0, 91.0]
    cv = t.datasets["cifar10-valid"]
    assert cv.metrics == ("val_accuracy", "test_accuracy")
    assert cv.values[1, 0, 0].tolist() == [88.0, 87.0]
    assert cv.costs["params"].tolist() == [0.5, 0.5]
    assert np.isnan(c10.features["naswot_score"]).all()  # empty cells -> NaN


def test_custom_recipe_from_json(tmp_path: Path) -> None:
    p = write(tmp_path / "mine.csv", "id,cell,acc,acc_s1,flops\n3,h3,0.9,0.8,12\n1,h1,0.7,0.6,10\n")
    recipe: dict[str, Any] = {
        "name": "mine", "space": "nb101", "index_column": "id", "key_column": "cell",
        "values": [
            {"column": "acc", "dataset": "cifar10", "metric": "val_accuracy",
             "fidelity": [108, 108], "seed": "mean", "scale": 100},
            {"column": "acc_s1", "dataset": "cifar10", "metric": "val_accuracy",
             "fidelity": [108, 108], "seed": 1, "scale": 100},
        ],
        "extras": [{"column": "flops", "kind": "cost", "name": "flops", "datasets": ["cifar10"]}],
    }
    t = csv_tables.convert(p, recipe=recipe)
    b = Benchmark.from_table(t)
    assert b.lookup("h3", "val_accuracy") == pytest.approx(90.0)
    assert b.lookup(1, "val_accuracy", seed=1) == pytest.approx(60.0)
    assert b.cost(3, "flops") == 12.0
    with pytest.raises(OutOfDomainError, match="unknown metric 'acc'"):
        csv_tables.CsvRecipe.from_dict({**recipe, "values": [{**recipe["values"][0], "metric": "acc"}]})
    with pytest.raises(OutOfDomainError, match="unknown recipe keys"):
        csv_tables.CsvRecipe.from_dict({**recipe, "colour": "red"})
    with pytest.raises(FormatError, match="needs columns"):
        csv_tables.convert(write(tmp_path / "bad.csv", "id,cell\n1,a\n"), recipe=recipe)
    with pytest.raises(FormatError, match="non-number"):
        csv_tables.convert(write(tmp_path / "nan.csv", "id,cell,acc,acc_s1,flops\n1,a,x,1,1\n"),
                           recipe=recipe)
    with pytest.raises(FormatError, match="duplicates"):
        csv_tables.convert(write(tmp_path / "dup.csv", "id,cell,acc,acc_s1,flops\n1,a,1,1,1\n1,b,1,1,1\n"),
                           recipe=recipe)


def test_merge_unites_cells_and_refuses_conflicts(tmp_path: Path) -> None:
    a = csv_tables.convert(naswot_csv(tmp_path, [(0, A0, 90.0), (1, A1, 91.0)]))
    hp12 = write(tmp_path / "hp12.csv",
                 "nb201_index,arch_str,cifar10_test_acc,cifar10_valid_xvalid_acc,cifar100_xtest_acc,"
                 "cifar100_xvalid_acc,imagenet16_120_xtest_acc,imagenet16_120_xvalid_acc\n"
                 f"1,{A1},80,79,50,49,20,19\n2,{A2},81,78,51,48,21,18\n")
    b = csv_tables.convert(hp12)
    m = merge_tables([a, b])
    assert m.indices.tolist() == [0, 1, 2]
    c10 = m.datasets["cifar10"]
    assert c10.fidelities == ((12, 12), (200, 200))
    assert c10.values[:, 0, :, 0].tolist() == [[pytest.approx(np.nan, nan_ok=True), 90.0],
                                                [80.0, 91.0], [81.0, pytest.approx(np.nan, nan_ok=True)]]
    bad_keys = csv_tables.convert(naswot_csv(tmp_path, [(2, A0, 90.0)]))
    with pytest.raises(FormatError, match="official index 2"):
        merge_tables([b, bad_keys])
    conflict = csv_tables.convert(naswot_csv(tmp_path, [(1, A1, 99.0)]))
    with pytest.raises(FormatError, match="disagree"):
        merge_tables([a, conflict])


def test_cli_registry_converts_and_merges(tmp_path: Path) -> None:
    p = naswot_csv(tmp_path, [(0, A0, 90.0), (1, A1, 91.0)])
    out = registry.convert_to_store([p], tmp_path / "s.h5", command="cmd")
    bench = load_benchmark(out)
    src = bench.info().provenance["sources"][0]
    assert src["format"] == "csv" and src["recipe"] == "nb201_naswot_200ep"
    assert len(src["sha256"]) == 64 and src["size"] == p.stat().st_size
    with pytest.raises(FormatError, match="no format nbt can convert"):
        registry.convert_to_store([write(tmp_path / "x.txt", "hello")], tmp_path / "t.h5")
    assert not (tmp_path / "t.h5").exists()


# ----------------------------------------------------------------------------- shared data
@pytest.fixture(scope="module")
def shared_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("store") / "nb201.h5"
    return registry.convert_to_store([shared_data / NB201 / f for f in SHARED_CSVS], out,
                                     command="test")


def test_shared_csvs_best_cifar10_test(shared_store: Path) -> None:
    bench = load_benchmark(shared_store)
    assert len(bench) == 15625 and bench.indices.tolist() == list(range(15625))
    key, value = bench.best("test_accuracy", dataset="cifar10", epoch=200, as_key=True)
    assert value == pytest.approx(94.37, abs=0.005)
    assert bench.row(key) == 6111  # the best CIFAR-10 cell of NAS-Bench-201
    _, v12 = bench.best("test_accuracy", dataset="cifar10", epoch=12)
    assert v12 == pytest.approx(89.16, abs=0.005)
    with pytest.raises(NotInBenchmarkError, match="published means only"):
        bench.lookup(0, "test_accuracy", "cifar10", seed="random", rng=np.random.default_rng(0))


def test_shared_csvs_match_official_api(shared_data: Path, shared_store: Path) -> None:
    """Means equal what nas_201_api answers on its fixture for the cells present there."""
    bench = load_benchmark(shared_store)
    answers = json.loads((shared_data / NB201 / "nb201_official_api_answers.json").read_text())
    checked = 0
    for call in answers["calls"]:
        a = call["args"]
        if (call["call"] != "get_more_info" or a.get("is_random") is not False
                or str(a.get("hp")) != "200" or a.get("dataset") != "cifar10-valid"
                or "result" not in call):
            continue
        res = call["result"]
        assert bench.lookup(a["index"], "val_accuracy", "cifar10-valid") == pytest.approx(
            res["valid-accuracy"], abs=1e-4)
        assert bench.lookup(a["index"], "test_accuracy", "cifar10-valid") == pytest.approx(
            res["test-accuracy"], abs=1e-4)
        checked += 1
    assert checked >= 20


def test_shared_csvs_single_trials_and_features(shared_store: Path) -> None:
    bench = load_benchmark(shared_store)
    assert bench.seeds("cifar100") == (MEAN_SEED, UNKNOWN_SEED)
    # cell 0: NASLib's single trial (= seed 888 in the official file) vs the 12-epoch mean
    assert bench.lookup(0, "test_accuracy", "cifar100", epoch=200) == pytest.approx(53.68, abs=1e-4)
    assert bench.lookup(0, "test_accuracy", "cifar100", epoch=12) == pytest.approx(31.26, abs=1e-4)
    assert bench.lookup(0, "test_accuracy", "cifar10-valid", seed=UNKNOWN_SEED) == 81.9
    naswot = bench.feature("naswot_score")
    assert naswot.shape == (15625,) and int(np.isnan(naswot).sum()) == 341
    zen = bench.feature("zen", dataset="cifar100")
    assert int(np.isnan(zen).sum()) == 341 and np.nanmin(zen) > -1e7  # failures -> NaN
    snip = bench.feature("snip", dataset="ImageNet16-120")
    assert int((~np.isnan(snip)).sum()) == 724
    assert bench.cost(0, "params", "cifar10") == pytest.approx(0.129306)
    with pytest.raises(OutOfDomainError, match="pass dataset="):
        bench.feature("zen")


def test_streaming_converter_is_used_for_one_source(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A module with ``convert_streaming`` is streamed into StoreWriter; a failure mid-stream
    leaves no store; options a converter does not take are dropped."""
    import sys
    import types

    from nasbench_tools.store import DatasetTable, TableData

    calls: list[dict[str, object]] = []

    def chunk(start: int, n: int) -> TableData:
        ds = DatasetTable("cifar10", (0,), ((108, 108),), ("val_accuracy",),
                          np.full((n, 1, 1, 1), 90.0 + start))
        return TableData("nb101", [f"{i:032x}" for i in range(start, start + n)],
                         np.arange(start, start + n), {"cifar10": ds},
                         provenance={"converter_version": 7})

    def convert_streaming(path: Path, writer: object, *, progress: bool = False,
                          fail: bool = False) -> int:
        calls.append({"progress": progress, "fail": fail})
        writer.append(chunk(0, 3))  # type: ignore[attr-defined]
        if fail:
            raise FormatError("truncated record 4")
        writer.append(chunk(3, 2))  # type: ignore[attr-defined]
        return 5

    fake = types.ModuleType("fake_stream_conv")
    fake.detect = lambda path: str(path).endswith(".fake")  # type: ignore[attr-defined]
    fake.convert = lambda path: chunk(0, 5)  # type: ignore[attr-defined]
    fake.convert_streaming = convert_streaming  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_stream_conv", fake)
    monkeypatch.setitem(registry.REGISTRY, "fake", registry.Converter("fake_stream_conv", "test"))
    src = write(tmp_path / "x.fake", "data")
    out = registry.convert_to_store([src], tmp_path / "s.h5", command="c",
                                    options={"curves": False})
    bench = load_benchmark(out)
    assert len(bench) == 5 and bench.lookup(4, "val_accuracy") == 93.0
    prov = bench.info().provenance
    assert prov["converter_version"] == 7 and prov["sources"][0]["format"] == "fake"
    assert calls == [{"progress": False, "fail": False}]  # 'curves' was dropped
    with pytest.raises(FormatError, match="truncated"):
        registry.convert_to_store([src], tmp_path / "t.h5", options={"fail": True})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5", "x.fake"]
