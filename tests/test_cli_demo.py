"""`nbt demo` (what `make demo` runs) on the shipped embedded benchmark."""

from __future__ import annotations

import pytest

from nasbench_tools.cli.cmd_demo import embedded_store
from nasbench_tools.cli.main import main


def test_demo_runs_a_search_and_a_predictor_evaluation(capsys: pytest.CaptureFixture[str]) -> None:
    if embedded_store() is None:
        pytest.fail("data/embedded_nb201_*.h5 is missing: make demo would have nothing to run on")
    assert main(["demo", "--runs", "10", "--queries", "10"]) == 0
    out = capsys.readouterr().out
    assert "space nb101: 423,624 cells" in out
    assert "unique cells (isomorphism classes): 6,466" in out
    assert "== search: 10 runs x 10 queries" in out
    search = out.split("== search")[1].split("== predictors")[0]
    assert "random" in search and "test_accuracy_mean" in search
    assert "gbdt" in out.split("== predictors")[1]
