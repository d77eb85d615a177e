"""Evaluation harness and ``nbt eval-predictor`` on tiny data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures_predictors import tiny_target_store

from nasbench_tools.errors import OutOfDomainError
from predictors.evaluate import RESULT_COLUMNS, EvalData, evaluate, plan_runs, run_evaluation
from predictors.registry import PredictorSpec, register_predictor


def _synthetic(n: int = 240) -> EvalData:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(n, 6)).astype(float)
    y = X @ np.array([3.0, 2.0, 1.0, 0.5, 0.0, -1.0]) + rng.normal(scale=0.1, size=n)
    y[:5] = np.nan  # cells without a target are never used
    return EvalData(list(range(n)), y, features={"bits": X}, extras={"signal": X @ [3, 2, 1, 0.5, 0, -1]})


def test_result_table_columns_and_rows() -> None:
    register_predictor(PredictorSpec("t-signal", "column", column="signal"), replace=True)
    df = evaluate(_synthetic(), predictors=["gbdt", "rf", "t-signal"], feature_sets=["bits"],
                  train_sizes=[20, 60], seeds=2, k=10, progress=False)
    assert tuple(df.columns) == RESULT_COLUMNS
    assert len(df) == 2 * 2 * 2 + 2
    gb = df[df.predictor == "gbdt"]
    assert sorted(set(gb.train_size)) == [20, 60] and sorted(set(gb.seed)) == [0, 1]
    # tau over all other cells with a target
    assert (gb.n_test == 235 - gb.train_size).all()
    free = df[df.predictor == "t-signal"]
    assert (free.train_size == 0).all() and (free.n_test == 235).all()
    assert free.kendall_tau.min() > 0.95
    assert gb[gb.train_size == 60].kendall_tau.mean() > 0.7
    assert (df.fit_seconds >= 0).all() and (df.predict_seconds >= 0).all()


def test_same_training_cells_for_every_predictor_and_reproducible() -> None:
    data = _synthetic()
    a = evaluate(data, predictors="gbdt", feature_sets="bits", train_sizes=[30], seeds=[7], progress=False, k=5)
    b = evaluate(data, predictors="gbdt", feature_sets="bits", train_sizes=[30], seeds=[7], progress=False, k=5)
    cols = ["kendall_tau", "spearman", "precision_at_k"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    c = evaluate(data, predictors="gbdt", feature_sets="bits", train_sizes=[30], seeds=[8], progress=False, k=5)
    assert c.kendall_tau.iloc[0] != a.kendall_tau.iloc[0]


def test_plan_pairs_predictors_with_accepted_feature_sets() -> None:
    runs = [(r.spec.name, r.features) for r in plan_runs("gbdt,renas,naswot", "onehot,path")]
    assert runs == [("gbdt", "onehot"), ("gbdt", "path"), ("renas", "renas"), ("naswot", "naswot_score")]
    everything = {r.spec.name for r in plan_runs("all", "onehot")}
    assert {"gbdt", "renas", "rf", "mlp", "naswot", "params"} <= everything
    assert not any(n.startswith("zc_") for n in everything)
    from predictors.features import FEATURE_SETS

    gbdt_sets = {r.features for r in plan_runs("all") if r.spec.name == "gbdt"}
    assert gbdt_sets == {n for n, fs in FEATURE_SETS.items() if fs.encoding != "renas"}
    with pytest.raises(OutOfDomainError, match="allowed"):
        plan_runs("nope")
    with pytest.raises(OutOfDomainError, match="allowed"):
        plan_runs("gbdt", "nope")


def test_impossible_train_size_is_refused() -> None:
    with pytest.raises(OutOfDomainError, match="train size"):
        evaluate(_synthetic(50), predictors="gbdt", feature_sets="bits", train_sizes=[49], seeds=1, progress=False)


class _Scorer:
    """A stand-in training-free scorer: ``score(cells)``."""

    def score(self, cells: list) -> np.ndarray:
        return np.asarray(cells, dtype=float)


def test_training_free_scorer_ranks_a_subset() -> None:
    register_predictor(PredictorSpec("t-scorer", "scorer", factory=_Scorer), replace=True)
    n = 100
    data = EvalData(list(range(n)), np.arange(n, dtype=float), features={"x": np.zeros((n, 1))})
    df = evaluate(data, predictors="t-scorer", seeds=2, max_scorer_cells=30, progress=False, k=5)
    assert (df.train_size == 0).all() and (df.n_test == 30).all()
    assert df.kendall_tau.tolist() == pytest.approx([1.0, 1.0])


def test_write_report_files(tmp_path: Path) -> None:
    from predictors.evaluate import write_report

    rep = run_evaluation(_synthetic(), predictors="gbdt", feature_sets="bits", train_sizes=[20, 40],
                         seeds=2, k=5, progress=False)
    paths = write_report(rep, tmp_path / "out", command="nbt eval-predictor --demo")
    names = sorted(p.name for p in paths)
    assert names == ["command.txt", "results.csv", "scatter.png", "summary.md", "tau_vs_train_size.png"]
    back = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(back) == 4 and {"predictor", "features", "train_size", "seed", "kendall_tau"} <= set(back)
    assert (tmp_path / "out" / "command.txt").read_text() == "nbt eval-predictor --demo\n"
    assert "kendall_tau" in (tmp_path / "out" / "summary.md").read_text()
    assert (tmp_path / "out" / "scatter.png").read_bytes()[:4] == b"\x89PNG"
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic writes left no temp file


def _tiny_store(path: Path) -> Path:
    return tiny_target_store(path)


def test_cli_smoke_on_tiny_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_tools.cli.main import main

    store = _tiny_store(tmp_path / "tiny.h5")
    out = tmp_path / "res"
    code = main([
        "eval-predictor", "--bench", str(store), "--dataset", "cifar10-valid",
        "--metric", "val_accuracy", "--epoch", "200", "--predictors", "gbdt,naswot,params",
        "--features", "onehot,onehot+naswot+params", "--train-sizes", "20,40", "--seeds", "2",
        "--k", "5", "--output", str(out), "-q",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gbdt / onehot+naswot+params" in printed
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 2 * 2 * 2 + 2 + 2
    assert set(df.features) == {"onehot", "onehot+naswot+params", "naswot_score", "params"}
    command = (out / "command.txt").read_text()
    assert command.startswith("nbt eval-predictor --bench ") and "--train-sizes 20,40" in command


def test_cli_user_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_tools.cli.main import main

    store = _tiny_store(tmp_path / "tiny.h5")
    code = main(["eval-predictor", "--bench", str(store), "--predictors", "nope", "-q"])
    assert code == 2
    assert "unknown predictor 'nope'" in capsys.readouterr().err
