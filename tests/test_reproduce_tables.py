"""``nbt reproduce``: every registered table end to end on small stores, --list, resume, errors."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from nasbench_tools.cli.main import main as nbt
from nasbench_tools.reproduce import TABLES
from nasbench_tools.reproduce import tables as repro_tables

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_reproduce as fx

#: The NB101 tables want the 423,624 cells of the official file; the test store has 40.
NB101_TABLES = ("naswot-nb101-search", "renas-nb101-search", "gbdtnas-nb101")
STORES = ("target", "whole", "zc", "embedded", "nb101", "zcnb101", "sss", "zcsss")


@pytest.fixture(scope="module", autouse=True)
def small_nb101() -> Iterator[None]:
    """Relax the NB101 tables' min-cells need to the test store, and the ReNAS search's
    training epochs (restored afterwards)."""
    with pytest.MonkeyPatch.context() as mp:
        for tid in NB101_TABLES:
            t = TABLES[tid]
            needs = tuple(dataclasses.replace(n, min_cells=0)
                          if isinstance(n, repro_tables.StoreNeed) and n.space == "nb101" else n
                          for n in t.needs)
            mp.setitem(TABLES, tid, dataclasses.replace(t, needs=needs))
        # and train the ReNAS predictor of the search for a few epochs only (CPU time)
        mp.setattr(repro_tables, "RENAS_SEARCH_PARAMS", {"epochs": 3, "batch_size": 1024})
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("reproduce")
    return {
        "nb101": fx.nb101_store(d / "nb101.h5"),
        "zcnb101": fx.nb101_zc_store(d / "zcnb101.h5"),
        "sss": fx.sss_store(d / "sss.h5"),
        "zcsss": fx.sss_zc_store(d / "zcsss.h5"),
        "target": fx.target_store(d / "target.h5"),
        "whole": fx.nb201_whole_store(d / "whole.h5"),
        "zc": fx.zc_store(d / "zc.h5"),
        "embedded": fx.embedded_store(d / "embedded.h5"),
        "shared": fx.shared_dir(d / "shared"),
        "published": fx.published_dir(d / "published"),
    }


def _args(data: dict[str, Path], out: Path, *tables: str) -> list[str]:
    args = ["reproduce", *tables]
    for key in STORES:
        args += ["--bench", str(data[key])]
    args += ["--shared", str(data["shared"]), "--published", str(data["published"]),
             "--runs", "2", "--output", str(out), "--no-progress"]
    return args


@pytest.fixture(scope="module")
def ran_all(data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert nbt(_args(data, out, "all")) == 0
    return out


def _finished(out: Path) -> dict[str, list[tuple[str, int, float]]]:
    found = {}
    for db in sorted(out.glob("*/runs.sqlite")):
        with sqlite3.connect(db) as con:
            found[db.parent.name] = sorted(con.execute("SELECT label, run, finished FROM runs"))
    return found


def test_every_runnable_table_writes_its_outputs(ran_all: Path) -> None:
    runnable = list(TABLES)
    assert len(runnable) >= 16
    for tid in runnable:
        d = ran_all / tid
        for name in ("table.md", "table.csv", "runs.csv", "command.txt"):
            assert (d / name).is_file(), f"{tid}: no {name}"
        table = pd.read_csv(d / "table.csv")
        assert len(table), tid
        assert set(table["verdict"]) <= {"reproduced", "differs", "not comparable"}
        # a number of ours in every row, except the searchers this build lacks
        lacking = table["reason"].astype(str).str.contains("not available|fewer than")
        assert table.loc[~lacking, "ours_mean"].notna().all(), tid
        # every verdict that is not "reproduced" has its sentence
        bad = table[table["verdict"] != "reproduced"]
        assert bad["explanation"].astype(str).str.len().gt(3).all(), tid
        cmd = (d / "command.txt").read_text()
        assert "numpy" in cmd and "sha256=" in cmd


def test_search_tables_have_ri_and_pictures(ran_all: Path) -> None:
    t = pd.read_csv(ran_all / "nb201-search" / "table.csv")
    rs = t[t.setting == "rs"]
    assert (rs["ri_percent"] == 0).all()  # random search against itself
    rea = t[(t.setting == "rea") & (t.metric == "test_accuracy")]
    assert rea["ri_percent"].notna().all()
    assert (ran_all / "nb201-search" / "trajectory_q100.png").stat().st_size > 0
    assert (ran_all / "nbsuitezero-predictors" / "scatter.png").is_file()
    # the published records were found and compared
    row = t[(t.setting == "rs") & (t.metric == "test_accuracy") & (t.group == "100 queries")]
    assert float(row["published_mean"].iloc[0]) == 93.70
    assert row["verdict"].iloc[0] in ("reproduced", "differs")
    bohb = t[t.setting == "bohb"]
    from nasbench_tools.search import REGISTRY

    if "bohb" not in REGISTRY:
        assert (bohb["verdict"] == "not comparable").all()
        assert bohb["reason"].str.contains("searcher bohb not available in this build").all()
    from nasbench_tools.search.bohb import bohb_available

    if bohb_available():  # the NB201 script's protocol, with the RS rows' evaluator
        from nasbench_tools.search import ResultsDB

        db = ResultsDB(ran_all / "nb201-search" / "runs.sqlite")
        for tag in ("q100", "s12000"):
            cfg = db.config(f"bohb@{tag}")
            assert cfg["searcher"]["budget_use"] == "schedule"
            assert cfg["searcher"]["num_samples"] == 4 and cfg["repeats"] == "charge"
            assert cfg["evaluator"] == db.config(f"rs@{tag}")["evaluator"]
        assert bohb["ours_mean"].notna().all()


def test_predictor_table_lists_every_table_predictor(ran_all: Path) -> None:
    from nasbench_tools.reproduce.tables import REPRO_PREDICTORS
    from predictors.registry import PREDICTORS

    t = pd.read_csv(ran_all / "nbsuitezero-predictors" / "table.csv")
    shown = {s.split(" [")[0] for s in t["setting"]}
    assert set(REPRO_PREDICTORS) <= set(PREDICTORS)
    assert shown == set(REPRO_PREDICTORS)


def test_second_invocation_recomputes_nothing(ran_all: Path, data: dict[str, Path]) -> None:
    before = _finished(ran_all)
    results = {p: p.stat().st_mtime_ns for p in ran_all.glob("*/results.csv")}
    assert before and results
    assert nbt(_args(data, ran_all, "all")) == 0
    assert _finished(ran_all) == before
    assert {p: p.stat().st_mtime_ns for p in ran_all.glob("*/results.csv")} == results


def test_list_works_without_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert nbt(["reproduce", "--list", "--shared", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for tid in TABLES:
        assert tid in out
    assert "nbt convert nasbench_only108.tfrecord" in out
    assert "nb201_zc_proxies_v20220518_sample.csv" in out


def test_missing_data_names_the_file_and_command(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = nbt(["reproduce", "nb201-search", "--shared", str(tmp_path), "--output",
                str(tmp_path / "o"), "--published", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "Not run" in out and "nbt convert" in out and "nb201_hp12_mean_accuracies.csv" in out


def test_unknown_table_lists_the_allowed_ones(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert nbt(["reproduce", "nb999", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown table 'nb999'" in err and "nb201-search" in err


def test_bad_runs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert nbt(["reproduce", "zc-proxies", "--runs", "0", "--output", str(tmp_path)]) == 2
    assert "--runs must be >= 1" in capsys.readouterr().err


def test_readme_section_is_generated(ran_all: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- reproduce:begin -->\nOLD-SECTION\n<!-- reproduce:end -->\ntail\n")
    assert nbt(["reproduce", "--readme", str(readme), "--output", str(ran_all)]) == 0
    text = readme.read_text()
    assert "OLD-SECTION" not in text and text.endswith("<!-- reproduce:end -->\ntail\n")
    assert "nb201-search" in text and "| rea |" in text


def _labels(out: Path, tid: str) -> dict[str, int]:
    with sqlite3.connect(out / tid / "runs.sqlite") as con:
        return dict(con.execute("SELECT label, COUNT(*) FROM runs GROUP BY label"))


def test_nb101_tables_search_the_store_and_compare(ran_all: Path, data: dict[str, Path]) -> None:
    from nasbench_tools.store import load_benchmark

    keys = set(load_benchmark(data["nb101"]).keys)
    scored = set(load_benchmark(data["zcnb101"]).keys) & keys
    runs = pd.read_csv(ran_all / "naswot-nb101-search" / "runs.csv")
    assert {"random@q1", "naswot-n100@q1", "rea@t12000", "area@t12000"} <= set(runs["algo"])
    space = __import__("nasbench_tools.spaces", fromlist=["get_space"]).get_space("nb101")
    picks = {space.parse(c).hash for c in runs.loc[runs["algo"] == "naswot-n100@q1",
                                                     "final_cell"]}
    assert picks <= scored  # NASWOT draws only from the scored cells
    assert {space.parse(c).hash for c in runs["final_cell"]} <= keys
    t = pd.read_csv(ran_all / "naswot-nb101-search" / "table.csv")
    rea = t[(t.setting == "rea") & (t.metric == "test_accuracy")]
    assert float(rea["published_mean"].iloc[0]) == 93.87

    t = pd.read_csv(ran_all / "renas-nb101-search" / "table.csv")
    renas = t[(t.setting == "renas") & (t.metric == "test_accuracy")]
    assert float(renas["published_mean"].iloc[0]) == 93.95  # compared with ReNAS-6
    rank = t[t.metric == "ranking_percent"]
    assert set(rank["setting"]) == {"rs", "renas"}
    assert rank["ours_mean"].between(0, 100).all()

    t = pd.read_csv(ran_all / "gbdtnas-nb101" / "table.csv")
    s2o = t[t.metric == "samples_to_optimum"]
    assert {"rs", "rea", "gbdt-nas"} <= set(s2o["setting"])
    assert (s2o["ours_mean"] >= 1).all() and (s2o["ours_mean"] <= len(keys)).all()
    assert (t["verdict"] == "not comparable").all()  # no published GBDT-NAS number
    assert set(_labels(ran_all, "gbdtnas-nb101")) == {"rs@q2000", "rea@q2000", "gbdt-nas@q2000"}


def test_sss_tables_search_each_dataset(ran_all: Path, data: dict[str, Path]) -> None:
    from nasbench_tools.search import REGISTRY, ResultsDB
    from nasbench_tools.search.bohb import bohb_available
    from nasbench_tools.store import load_benchmark

    algos = ["rs", "rea", "reinforce"] + (["bohb"] if "bohb" in REGISTRY and bohb_available()
                                          else [])
    labels = _labels(ran_all, "natsbench-sss-search")
    budgets = {"cifar10": 20000, "cifar100": 40000, "ImageNet16-120": 60000}
    for ds, secs in budgets.items():
        for algo in algos:
            assert labels.get(f"{ds}/{algo}@t{secs}") == 2, (ds, algo, labels)
    db = ResultsDB(ran_all / "natsbench-sss-search" / "runs.sqlite")
    cfg = db.config("cifar100/rea@t40000")
    assert cfg["searcher"]["sample_size"] == 3
    t = pd.read_csv(ran_all / "natsbench-sss-search" / "table.csv")
    assert set(t["dataset"]) == {"cifar10", "cifar100", "imagenet16-120"}
    rs = t[(t.setting == "rs") & (t.dataset == "cifar100") & (t.metric == "test_accuracy")]
    assert float(rs["published_mean"].iloc[0]) == 69.72
    assert (ran_all / "natsbench-sss-search" / "trajectory_cifar100_t40000.png").is_file()

    labels = _labels(ran_all, "naswot-nats-sss-search")
    for ds in budgets:
        for n in (10, 100, 1000):
            assert labels.get(f"{ds}/naswot-n{n}@q1") == 2
        assert labels.get(f"{ds}/rs@t12000") == 2
    runs = pd.read_csv(ran_all / "naswot-nats-sss-search" / "runs.csv")
    scored = set(load_benchmark(data["zcsss"]).keys)
    assert set(runs.loc[runs["algo"].str.contains("naswot"), "final_cell"]) <= scored
    t = pd.read_csv(ran_all / "naswot-nats-sss-search" / "table.csv")
    n100 = t[(t.setting == "naswot-n100") & (t.dataset == "imagenet16-120")
             & (t.metric == "val_accuracy")]
    assert float(n100["published_mean"].iloc[0]) == 42.68


def test_nb101_table_without_its_zc_store_names_the_command(
        data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = nbt(["reproduce", "naswot-nb101-search", "--bench", str(data["nb101"]),
                "--shared", str(tmp_path), "--output", str(tmp_path / "o"),
                "--published", str(data["published"])])
    out = capsys.readouterr().out
    assert code == 1
    assert "nbt zc-score nb101 --proxy naswot --cells" in out and "uniform" in out
