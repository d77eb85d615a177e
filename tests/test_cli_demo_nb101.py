"""The NB101 step of ``nbt demo`` (skipped cleanly without the store, shown with one) and
``nbt search --protocol store`` on an NB101 store of build-bench's layout."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.cli.cmd_demo import _demo_nb101, embedded_nb101_store
from nasbench_tools.cli.main import main
from nasbench_tools.store import DatasetTable, TableData, load_benchmark, write_store
from nasbench_tools.trainer.build_bench import TRAINED_METRICS, uniform_cells


def test_nb101_step_is_skipped_without_the_store(tmp_path: Path) -> None:
    assert embedded_nb101_store(tmp_path) is None
    buf = io.StringIO()
    _demo_nb101(buf, None)
    assert "no embedded NB101 benchmark" in buf.getvalue()


def _fixture_store(tmp_path: Path) -> Path:
    """30 NB101 cells in the build-bench layout; the values are a test fixture (a smooth
    function of the parameter count plus noise), not benchmark numbers."""
    cells = uniform_cells("nb101", 30, seed=3)
    rng = np.random.default_rng(0)
    params = np.array([c.num_params() for c in cells], dtype=np.float64)
    base = 50 + 40 * (params - params.min()) / np.ptp(params)
    values = np.zeros((30, 2, 2, len(TRAINED_METRICS)), dtype=np.float32)
    values[...] = (base[:, None, None, None] + rng.normal(0, 1, values.shape)).astype(np.float32)
    ds = DatasetTable("digits", (0, 1), ((2, 1), (2, 2)), TRAINED_METRICS, values,
                      {"params": params / 1e6})
    prov = {"stats_val_accuracy": {"digits": {"2/2": {"split_half_tau": 0.9}}},
            "official_tau_val_accuracy": {"cells": 12, "tau": {"1/2": 0.3, "2/2": 0.4}}}
    table = TableData("nb101", [c.hash for c in cells], np.arange(30), {"digits": ds}, prov)
    return write_store(table, tmp_path / "embedded_nb101_digits.h5", command="test")


def test_nb101_step_shows_noise_official_tau_and_a_gbdt_fit(tmp_path: Path) -> None:
    path = _fixture_store(tmp_path)
    assert embedded_nb101_store(tmp_path) == path
    buf = io.StringIO()
    _demo_nb101(buf, path)
    text = buf.getvalue()
    assert "30 cells x 2 seeds (digits, epoch 2)" in text
    assert "split-half Kendall tau of the mean val_accuracy: 0.9" in text
    assert "its 12 shared cells: 0.4" in text
    assert "GBDT-NAS predictor" in text and "trained on 15 cells" in text
    no_fit = io.StringIO()
    _demo_nb101(no_fit, path, predictors=False)
    assert "GBDT-NAS" not in no_fit.getvalue()


def test_search_protocol_store_proposes_only_the_stores_cells(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _fixture_store(tmp_path)
    out = tmp_path / "search"
    argv = ["search", "--bench", str(path), "--protocol", "store", "--algo", "predictor",
            "--predictor", "gbdt", "--encoding", "gbdt", "--runs", "2", "--budget-queries", "6",
            "--n-init", "3", "--top-k", "2", "--output", str(out), "--no-plots"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "predictor (2 runs)" in text and "rs-baseline (2 runs)" in text
    import pandas as pd

    runs = pd.read_csv(out / "runs.csv")
    bench = load_benchmark(path)
    vals = set(np.round(bench.column("val_accuracy", dataset="digits", epoch=2), 3))
    assert set(np.round(runs["final_value"], 3)) <= vals  # every pick is a cell of the store
    # an official protocol on this store is refused, naming the store protocol
    assert main([*argv[:4], "nb101", *argv[5:]]) == 2
    assert "--protocol store" in capsys.readouterr().err


@pytest.mark.parametrize("algo", ["gbdt-nas", "renas"])
def test_the_papers_searches_run_by_name_on_the_store(
        algo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _fixture_store(tmp_path)
    out = tmp_path / algo
    argv = ["search", "--bench", str(path), "--protocol", "store", "--algo", algo,
            "--runs", "2", "--budget-queries", "6", "--n-init", "3", "--top-k", "2",
            "--output", str(out), "--no-plots"]
    assert main(argv) == 0
    assert f"{algo} (2 runs)" in capsys.readouterr().out
    import pandas as pd

    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["algo"]) >= {algo} and (runs["queries"] <= 6).all()
    bench = load_benchmark(path)
    vals = set(np.round(bench.column("val_accuracy", dataset="digits", epoch=2), 3))
    assert set(np.round(runs["final_value"], 3)) <= vals
