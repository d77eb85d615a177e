"""Stores with one row per NB201 isomorphism class: every cell of a class finds its row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.errors import NotInBenchmarkError
from nasbench_tools.search import TabularEvaluator
from nasbench_tools.search.evaluators import Protocol_, Query
from nasbench_tools.spaces.nb201 import SPACE, Cell
from nasbench_tools.store import Benchmark, DatasetTable, TableData, load_benchmark
from nasbench_tools.store.cells import ROWS_CLASSES, rows_are_classes
from nasbench_tools.store.format import write_store
from nasbench_tools.trainer.build_bench import BuildSpec, build_benchmark
from nasbench_tools.trainer.recipes import get_recipe

#: Two members of one class: the conv on edge 1<-0 is dead (node 1 feeds only a none edge).
REP = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
MEMBER = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _table(cells: list[Cell], provenance: dict[str, object], seed: int = 0) -> TableData:
    rng = np.random.default_rng(seed)
    n = len(cells)
    acc = rng.uniform(10, 95, size=(n, 1)) + rng.normal(0, 1, size=(n, 2))
    vals = np.stack([acc, acc - 1.0, np.full_like(acc, 5.0)], axis=-1)[:, :, None, :]
    ds = DatasetTable("digits", (0, 1), ((2, 2),),
                      ("val_accuracy", "test_accuracy", "train_time"), vals.astype(np.float32))
    return TableData("nb201", [c.to_string() for c in cells],
                     np.array([c.code for c in cells], dtype=np.int64), {"digits": ds}, provenance)


def test_members_of_a_class_find_its_row_only_when_the_store_says_so() -> None:
    assert Cell.from_string(MEMBER).canonical().to_string() == REP
    cells = [Cell.from_string(REP), Cell.from_string(OTHER).canonical()]
    by_class = Benchmark.from_table(_table(cells, {"rows": ROWS_CLASSES}))
    assert by_class.by_class
    assert by_class.row(MEMBER) == by_class.row(Cell.from_string(MEMBER)) == by_class.row(REP) == 0
    assert by_class.rows([MEMBER, OTHER, Cell.from_string(MEMBER)]).tolist() == [0, 1, 0]
    assert by_class.query(MEMBER, "val_accuracy") == by_class.query(REP, "val_accuracy")
    # an official index names a row, not a class: the error says how to reach the class
    with pytest.raises(NotInBenchmarkError, match="give the cell or its string"):
        by_class.row(Cell.from_string(MEMBER).code)
    absent = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    assert Cell.from_string(absent).canonical().to_string() == REP  # same class: found
    lonely = "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|"
    with pytest.raises(NotInBenchmarkError, match=r"isomorphism class .* not in this store \(2 classes\)"):
        by_class.row(lonely)
    # without the declaration a member is a different cell, as in the official tables
    plain = Benchmark.from_table(_table(cells, {}))
    assert not plain.by_class
    with pytest.raises(NotInBenchmarkError, match="not in this store"):
        plain.row(MEMBER)


def test_a_row_stored_under_another_member_is_found_by_every_member() -> None:
    # a build's ``include`` cell may be any member of its class
    b = Benchmark.from_table(_table([Cell.from_string(MEMBER)], {"rows": ROWS_CLASSES}))
    assert b.row(REP) == b.row(MEMBER) == 0


def test_which_stores_are_by_class() -> None:
    legacy = {"built_by": "nasbench_tools.trainer.build_bench", "build": {"space": "nb201"}}
    assert rows_are_classes(legacy, "nb201")
    assert not rows_are_classes({**legacy, "build": {"space": "nb101"}}, "nb101")
    assert not rows_are_classes({"rows": ROWS_CLASSES}, "nb101")  # NB101 hashes are classes already
    assert not rows_are_classes({"sources": ["x.csv"]}, "nb201")


def test_flag_survives_the_file_and_a_whole_table_answers_all_15625_cells(tmp_path: Path) -> None:
    path = write_store(_table(SPACE.unique_cells(), {"rows": ROWS_CLASSES}), tmp_path / "w.h5")
    bench = load_benchmark(path)
    assert bench.by_class and len(bench) == 6466
    every = SPACE.all_cells()
    rows = bench.rows(every)
    assert len(set(rows.tolist())) == 6466
    canon = bench.rows([c.canonical() for c in every])
    assert np.array_equal(rows, canon)
    protocol = Protocol_(Query("val_accuracy", "digits", 2),
                         {"test_accuracy": Query("test_accuracy", "digits", 2)})
    ev = TabularEvaluator(bench, protocol=protocol)
    got = ev.evaluate(Cell.from_string(MEMBER))
    assert got.value == pytest.approx(bench.lookup(REP, "val_accuracy", epoch=2))
    assert got.metrics["test_accuracy"] == pytest.approx(bench.lookup(REP, "test_accuracy", epoch=2))


def test_build_bench_declares_nb201_rows_as_classes(tmp_path: Path) -> None:
    spec = BuildSpec("nb201", "digits", get_recipe("quick-cpu", epochs=1), seeds=(0,), cells=2)
    out = build_benchmark(spec, tmp_path / "runs.sqlite")
    assert out.table.provenance["rows"] == ROWS_CLASSES
    path = write_store(out.table, tmp_path / "b.h5")
    bench = load_benchmark(path)
    rep = bench.keys[0]
    members = [c for c in SPACE.all_cells() if c.canonical().to_string() == rep]
    assert bench.rows(members).tolist() == [0] * len(members)


def test_demo_searches_the_whole_space_when_the_table_covers_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = write_store(_table(SPACE.unique_cells(), {"rows": ROWS_CLASSES}), tmp_path / "f.h5")
    assert main(["demo", "--store", str(full), "--runs", "4", "--queries", "12",
                 "--no-predictors"]) == 0
    search = capsys.readouterr().out.split("== search")[1].split("== NB101")[0]
    assert "over the whole nb201 space (15,625 cells, all 6,466 classes in the table)" in search
    assert "random" in search and "evolution" in search
    part = write_store(_table(SPACE.unique_cells()[:50], {"rows": ROWS_CLASSES}), tmp_path / "p.h5")
    assert main(["demo", "--store", str(part), "--runs", "4", "--queries", "12",
                 "--no-predictors"]) == 0
    search = capsys.readouterr().out.split("== search")[1].split("== NB101")[0]
    assert "over the 50 cells of the table (a partial build" in search
    assert "evolution" not in search
