"""The relative improvement over random search in ``nbt search`` summaries."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from nasbench_tools.cli.main import main as nbt
from nasbench_tools.search.metrics import relative_improvement

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_reproduce as fx


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.nb201_whole_store(tmp_path_factory.mktemp("ri") / "whole.h5")


def _search(store: Path, out: Path, *extra: str) -> list[str]:
    return ["search", "--bench", str(store), "--runs", "6", "--budget-queries", "20",
            "--cost-model", "flops-120", "--output", str(out), "--no-plots", *extra]


def test_baseline_runs_rs_with_the_same_budget_and_adds_ri(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert nbt(_search(store, out, "--algo", "rea")) == 0
    printed = capsys.readouterr().out
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(set(runs.algo)) == ["rea", "rs-baseline"]
    assert (runs.groupby("algo").size() == 6).all()
    summary = pd.read_csv(out / "summary.csv").set_index("algo")
    expected = relative_improvement(
        runs[runs.algo == "rea"].test_accuracy.mean(),
        runs[runs.algo == "rs-baseline"].test_accuracy.mean(),
    )
    assert summary.loc["rea", "ri_test_accuracy"] == pytest.approx(expected, abs=1e-4)
    assert summary.loc["rs-baseline", "ri_test_accuracy"] == 0
    assert "RI(test_accuracy)" in printed


def test_requested_rs_is_the_baseline_and_none_turns_it_off(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert nbt(_search(store, out, "--algo", "rea", "--algo", "rs")) == 0
    assert sorted(set(pd.read_csv(out / "runs.csv").algo)) == ["rea", "rs"]
    assert "ri_val_accuracy" in pd.read_csv(out / "summary.csv").columns
    out2 = tmp_path / "o2"
    assert nbt(_search(store, out2, "--algo", "rea", "--baseline", "none")) == 0
    assert set(pd.read_csv(out2 / "runs.csv").algo) == {"rea"}
    assert not any(c.startswith("ri_") for c in pd.read_csv(out2 / "summary.csv").columns)
