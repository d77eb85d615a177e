"""``nbt build-bench nb101``: uniform unique cells after the shared official cells, hash keys,
resume through the runs database and the store, clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.spaces.nb101 import SPACE
from nasbench_tools.store import load_benchmark
from nasbench_tools.store.format import read_metadata
from nasbench_tools.trainer.build_bench import (
    BuildSpec,
    build_benchmark,
    read_include_csv,
    uniform_cells,
)
from nasbench_tools.trainer.recipes import PRESETS, get_recipe
from nasbench_tools.trainer.results import ResultsDB

#: A tiny NB101 network (one stack of one module, C=4) with the embedded-nb101 optimiser.
TINY = get_recipe("embedded-nb101", epochs=1, network={"C": 4, "N": 1, "num_stacks": 1})
OFFICIAL = "nb101/nb101_official_records_20arch.csv"
SAMPLE = "nb101/nb101_zc_proxies_sample500.csv"


def _head_csv(src: Path, dst: Path, rows: int) -> Path:
    """The header and the first ``rows`` data lines of a shared CSV (tiny builds)."""
    lines = src.read_text().splitlines(keepends=True)
    dst.write_text("".join(lines[: rows + 1]))
    return dst


def test_uniform_order_is_a_seeded_growing_sample_of_unique_cells() -> None:
    big = uniform_cells("nb101", 50, seed=0)
    assert uniform_cells("nb101", 20, seed=0) == big[:20]
    assert len({c.hash for c in big}) == 50
    assert uniform_cells("nb101", 20, seed=1) != big[:20]
    # rows of the enumerated table (unique cells), spread over it
    rows = np.array([SPACE.index_of(c) for c in big])
    assert rows.min() < SPACE.size() // 4 and rows.max() > 3 * SPACE.size() // 4
    with pytest.raises(OutOfDomainError, match="positive"):
        uniform_cells("nb101", 0)


def test_shared_csvs_are_read_with_official_hashes_and_accuracies(shared_data: Path) -> None:
    official = read_include_csv("nb101", shared_data / OFFICIAL)
    sample = read_include_csv("nb101", shared_data / SAMPLE)
    assert (len(official), len(sample)) == (20, 292)  # 60 and 500 rows, duplicates merged
    assert not {c.hash for c, _ in official} & {c.hash for c, _ in sample}
    accs = np.array([a for _, a in official + sample])
    assert 0 < accs.min() and accs.max() < 100  # percent, from fractions or percent columns


def test_nb101_build_includes_shared_cells_resumes_and_writes_store(
        tmp_path: Path, shared_data: Path) -> None:
    inc = (read_include_csv("nb101", _head_csv(shared_data / OFFICIAL, tmp_path / "o.csv", 3))
           + read_include_csv("nb101", _head_csv(shared_data / SAMPLE, tmp_path / "s.csv", 1)))
    assert len(inc) == 2  # the 3 official rows are 3 repeats of one cell
    official = {c.hash: a for c, a in inc}
    include = tuple(c.to_string() for c, _ in inc)
    small = BuildSpec("nb101", "digits", TINY, seeds=(0, 1), cells=1, kernel="multiarch",
                      include=include)
    db = tmp_path / "runs.sqlite"
    first = build_benchmark(small, db, official=official)
    assert (first.summary.submitted, first.summary.stored) == (6, 6)
    keys = first.table.keys
    assert keys[:2] == [c.hash for c, _ in inc]  # shared cells first, official hashes as keys
    assert keys[2] == uniform_cells("nb101", 1)[0].hash
    assert first.stats["official_tau"] == {"cells": 2, "tau": {"1/1": None}}
    # resume: the same build trains nothing, a larger one only the new cell
    assert build_benchmark(small, db).summary.submitted == 0
    grown_spec = BuildSpec("nb101", "digits", TINY, seeds=(0, 1), cells=2, kernel="multiarch",
                           include=include)
    grown = build_benchmark(grown_spec, db)
    assert grown.summary.submitted == 2 and grown.table.keys[:3] == keys
    # the store alone resumes the build (NB101 keys are hashes, jobs use cell strings)
    from nasbench_tools.store import write_store

    store = write_store(grown.table, tmp_path / "nb101.h5", command="test")
    fresh = build_benchmark(grown_spec, tmp_path / "fresh.sqlite", resume_from=store)
    assert fresh.summary.submitted == 0
    np.testing.assert_array_equal(fresh.table.datasets["digits"].values,
                                  grown.table.datasets["digits"].values)
    bench = load_benchmark(store)
    assert bench.space == "nb101" and len(bench) == 4
    assert bench.cell_at(0).hash == keys[0] and bench.row(inc[1][0]) == 1
    assert bench.indices[0] == SPACE.index_of(keys[0])


def test_cli_nb101_build_with_shared_csvs(tmp_path: Path, shared_data: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(PRESETS, "tiny-nb101", TINY)
    o = _head_csv(shared_data / OFFICIAL, tmp_path / "o.csv", 3)
    s = _head_csv(shared_data / SAMPLE, tmp_path / "s.csv", 1)
    out = tmp_path / "b.h5"
    argv = ["build-bench", "nb101", "--preset", "tiny-nb101", "--cells", "1", "--seeds", "0",
            "1", "--kernel", "multiarch", "--include-csv", str(o), str(s), "-o", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "3 complete cell(s) x 2 seed(s)" in text
    stats = json.loads(text[text.index("{"):])
    assert stats["official_tau"] == {"cells": 2, "tau": {"1/1": None}}  # tau needs >= 3 cells
    meta = read_metadata(out)
    assert "--include-csv" in meta.command and meta.provenance["official_tau_val_accuracy"]
    assert {"nb101_matrix", "nb101_ops"} <= set(meta.extra)
    assert main(argv) == 0  # resumed: nothing trained
    assert "trained 0 new run(s)" in capsys.readouterr().out
    assert len(ResultsDB(tmp_path / "b.h5.runs.sqlite")) == 6
    assert main(["info", str(out)]) == 0
    assert "nb101" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_clear_error(tmp_path: Path, shared_data: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        read_include_csv("nb101", tmp_path / "missing.csv")
    bad_cols = tmp_path / "cols.csv"
    bad_cols.write_text("arch,acc\nx,1\n")
    with pytest.raises(FormatError, match="nb101_hash"):
        read_include_csv("nb101", bad_cols)
    lines = (shared_data / SAMPLE).read_text().splitlines()
    wrong = tmp_path / "hash.csv"
    wrong.write_text(lines[0] + "\n" + lines[1].replace(lines[1].split(",")[1], "0" * 32) + "\n")
    with pytest.raises(FormatError, match="not the official hash"):
        read_include_csv("nb101", wrong)
    with pytest.raises(OutOfDomainError, match="nb101"):
        read_include_csv("nb201", shared_data / SAMPLE)
    out = str(tmp_path / "x.h5")
    assert main(["build-bench", "nb101", "--include-csv", str(bad_cols), "-o", out]) == 2
    assert main(["build-bench", "nb101", "--index-csv", "i.csv", "-o", out]) == 2
    assert main(["build-bench", "nats_sss", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "nb101_hash" in err and "--index-csv" in err and "allowed: 'nb201' or 'nb101'" in err
