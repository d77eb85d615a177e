"""Feature columns from another store (``--features-from``): join by key, imputation, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures_predictors import distinct_cells, tiny_target_store

from nasbench_tools.errors import FormatError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.store import DatasetTable, TableData, load_benchmark, write_store
from predictors.evaluate import EvalData, evaluate, plan_runs
from predictors.features import FEATURE_SETS, compose_feature_set, get_feature_set
from predictors.features_from import (
    load_features_from,
    parse_features_from,
    store_columns,
)

SPACE = get_space("nb201")


def _cells(n: int = 80) -> list:
    return distinct_cells(n)


def _bench(path: Path, cells: list) -> tuple[Path, np.ndarray]:
    """A small target store (like ``nbt convert`` writes), rows in the given order."""
    store = tiny_target_store(path, cells)
    return store, load_benchmark(store).column("val_accuracy", "cifar10-valid", 200)


def _zc_store(
    path: Path,
    keys: list[str],
    values: dict[str, np.ndarray],
    *,
    space: str = "nb201",
    dataset: str = "cifar10",
    shuffle: int | None = 0,
) -> Path:
    """A feature store as ``nbt zc-score`` writes it (zero-length value axes), rows shuffled."""
    n = len(keys)
    order = np.arange(n) if shuffle is None else np.random.default_rng(shuffle).permutation(n)
    ds = DatasetTable(
        dataset, (), (), (), np.empty((n, 0, 0, 0), dtype=np.float32),
        features={name: np.asarray(v, dtype=np.float64)[order] for name, v in values.items()},
    )
    # official indices unrelated to the target's rows: only the keys may match them up
    indices = 10_000 + np.arange(n)[::-1]
    return write_store(TableData(space, [keys[i] for i in order], indices, {dataset: ds}), path)


# -- join by key -----------------------------------------------------------------------


def test_join_is_by_key_not_by_row(tmp_path: Path) -> None:
    cells = _cells()
    keys = [c.to_string() for c in cells]
    truth = np.arange(len(keys), dtype=float) * 1.5 + 100
    src = _zc_store(tmp_path / "zc.h5", keys, {"zc_naswot": truth}, shuffle=3)
    stored = load_benchmark(src)
    assert stored.keys != keys  # the feature store's rows are in another order
    by_row = np.asarray(stored.feature("zc_naswot"))
    assert not np.array_equal(by_row, truth)

    got = store_columns(src, keys, names=["zc_naswot"], space="nb201")["zc_naswot"]
    np.testing.assert_array_equal(got, truth)
    # cell objects and a reversed request order land on the same values
    rev = store_columns(stored, cells[::-1], space=SPACE)["zc_naswot"]
    np.testing.assert_array_equal(rev, truth[::-1])


def test_cli_spec_parsing() -> None:
    src = parse_features_from("some/dir/zc.h5:zc_naswot, zc_synflow")
    assert src.path == Path("some/dir/zc.h5") and src.names == ("zc_naswot", "zc_synflow")
    assert parse_features_from("zc.h5").names is None
    assert str(src) == "some/dir/zc.h5:zc_naswot,zc_synflow"
    with pytest.raises(OutOfDomainError, match="no feature after"):
        parse_features_from("zc.h5:")


def test_all_features_by_default_and_several_sources(tmp_path: Path) -> None:
    cells = _cells(30)
    keys = [c.to_string() for c in cells]
    a = _zc_store(tmp_path / "a.h5", keys, {"zc_naswot": np.arange(30.0), "zc_synflow": -np.arange(30.0)})
    b = _zc_store(tmp_path / "b.h5", keys, {"zc_snip": np.ones(30)}, shuffle=5)
    cols = load_features_from([str(a), f"{b}:zc_snip"], keys, space="nb201")
    assert list(cols) == ["zc_naswot", "zc_synflow", "zc_snip"]
    np.testing.assert_array_equal(cols["zc_synflow"], -np.arange(30.0))
    with pytest.raises(OutOfDomainError, match="comes from both"):
        load_features_from([f"{a}:zc_naswot", f"{a}:zc_naswot"], keys, space="nb201")


# -- missing values ---------------------------------------------------------------------


def test_nan_and_minus_inf_are_imputed_with_the_column_minimum(tmp_path: Path) -> None:
    cells = _cells(40)
    keys = [c.to_string() for c in cells]
    vals = np.linspace(1000.0, 1400.0, 40)
    vals[3], vals[7] = -np.inf, np.nan
    src = _zc_store(tmp_path / "zc.h5", keys, {"zc_naswot": vals})
    col = store_columns(src, keys, space="nb201")["zc_naswot"]
    assert np.isneginf(col[3]) and np.isnan(col[7])  # kept raw by the join

    data = EvalData(cells, np.arange(40.0), space=SPACE, extras={"zc_naswot": col})
    X, _ = data.matrix("onehot+zc_naswot")
    assert X.shape == (40, 31)
    finite_min = np.nanmin(vals[np.isfinite(vals)])
    assert X[3, -1] == finite_min and X[7, -1] == finite_min
    np.testing.assert_array_equal(np.delete(X[:, -1], [3, 7]), np.delete(vals, [3, 7]))
    # same rule as for the published naswot_score (registered set, NaN there)
    pub = EvalData(cells, np.arange(40.0), space=SPACE, extras={"naswot_score": col})
    np.testing.assert_array_equal(pub.matrix("onehot+naswot+params")[0][:, 30], X[:, -1])
    # the training-free column predictor fills the same way: both cells tie at the minimum
    df = evaluate(data, predictors="column:zc_naswot", seeds=1, k=5, progress=False)
    assert df.loc[0, "features"] == "zc_naswot" and df.loc[0, "n_test"] == 40


# -- errors -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        load_features_from([f"{tmp_path / 'nope.h5'}:zc_naswot"], ["x"], space="nb201")


def test_feature_not_in_store_names_the_available(tmp_path: Path) -> None:
    keys = [c.to_string() for c in _cells(10)]
    src = _zc_store(tmp_path / "zc.h5", keys, {"zc_naswot": np.ones(10), "zc_snip": np.ones(10)})
    with pytest.raises(NotInBenchmarkError, match=r"has no feature 'zc_synflow'.*'zc_naswot' or 'zc_snip'"):
        store_columns(src, keys, names=["zc_synflow"], space="nb201")


def test_store_of_another_space(tmp_path: Path) -> None:
    src = _zc_store(tmp_path / "sss.h5", ["8:16:24:32:64"], {"zc_naswot": np.ones(1)}, space="nats_sss")
    with pytest.raises(OutOfDomainError, match=r"'nats_sss' store.*allowed: a 'nb201' store"):
        store_columns(src, ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"], space="nb201")


def test_cells_the_store_lacks(tmp_path: Path) -> None:
    keys = [c.to_string() for c in _cells(30)]
    src = _zc_store(tmp_path / "zc.h5", keys[:25], {"zc_naswot": np.ones(25)})
    with pytest.raises(NotInBenchmarkError, match=r"lacks 5 of the 30 cells.*it has 25 cells"):
        store_columns(src, keys, space="nb201")
    with pytest.raises(OutOfDomainError, match="not integers"):
        store_columns(src, [0, 1], space="nb201")


def test_feature_in_several_datasets_needs_the_target_dataset(tmp_path: Path) -> None:
    keys = [c.to_string() for c in _cells(5)]
    tables = {
        ds: DatasetTable(ds, (), (), (), np.empty((5, 0, 0, 0), dtype=np.float32),
                         features={"zc_naswot": np.full(5, float(i))})
        for i, ds in enumerate(["cifar10", "cifar100"])
    }
    src = write_store(TableData("nb201", keys, np.arange(5), tables), tmp_path / "two.h5")
    assert store_columns(src, keys, dataset="cifar100")["zc_naswot"].tolist() == [1.0] * 5
    assert store_columns(src, keys, dataset="cifar10-valid")["zc_naswot"].tolist() == [0.0] * 5
    with pytest.raises(OutOfDomainError, match="'cifar10' or 'cifar100'"):
        store_columns(src, keys, dataset="ImageNet16-120")


# -- names of feature sets and column predictors -----------------------------------------


def test_registered_names_compose_to_the_same_columns() -> None:
    for name, fs in FEATURE_SETS.items():
        if name.startswith("doc-"):
            continue
        comp = compose_feature_set(name)
        assert (comp.encoding, comp.blocks, comp.extras) == (fs.encoding, fs.blocks, fs.extras), name


def test_composed_names_need_known_columns() -> None:
    fs = get_feature_set("onehot+graph+t_col+params+flops", columns=["t_col"])
    assert fs.encoding == "adjacency_onehot" and fs.blocks == ("graph",)
    assert fs.extras == ("t_col", "params", "flops")
    with pytest.raises(OutOfDomainError, match=r"part 't_other' is unknown.*columns"):
        get_feature_set("onehot+t_other")
    with pytest.raises(OutOfDomainError, match="two encodings"):
        get_feature_set("onehot+path+params")
    with pytest.raises(OutOfDomainError, match="no extra column 't_none'"):
        plan_runs("column:t_none")
    runs = plan_runs("gbdt,column:t_col2", "onehot+t_col2", columns=["t_col2"])
    assert [(r.spec.name, r.features) for r in runs] == [
        ("gbdt", "onehot+t_col2"), ("column:t_col2", "t_col2")]


# -- command line ----------------------------------------------------------------------


def test_cli_end_to_end_joins_by_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_tools.cli.main import main

    cells = _cells()
    store, acc = _bench(tmp_path / "tiny.h5", cells)
    keys = [c.to_string() for c in cells]
    # the feature is the target itself, rows shuffled: joined by key it ranks perfectly
    zc = _zc_store(tmp_path / "zc.h5", keys, {"zc_naswot": acc}, shuffle=11)
    out = tmp_path / "res"
    code = main([
        "eval-predictor", "--bench", str(store), "--dataset", "cifar10-valid",
        "--metric", "val_accuracy", "--epoch", "200",
        "--features-from", f"{zc}:zc_naswot",
        "--predictors", "gbdt,column:zc_naswot,naswot",
        "--features", "onehot+zc_naswot+params,onehot+graph+zc_naswot+params+flops",
        "--train-sizes", "20,40", "--seeds", "2", "--k", "5", "--output", str(out), "-q",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gbdt / onehot+graph+zc_naswot+params+flops" in printed
    df = pd.read_csv(out / "results.csv")
    assert set(df.features) == {
        "onehot+zc_naswot+params", "onehot+graph+zc_naswot+params+flops", "zc_naswot", "naswot_score"}
    assert len(df) == 2 * 2 * 2 + 2 + 2
    col = df[df.predictor == "column:zc_naswot"]
    assert (col.train_size == 0).all() and col.kendall_tau.tolist() == pytest.approx([1.0, 1.0])
    assert df[df.predictor == "naswot"].kendall_tau.max() < 0.99  # the bench's own noisy column
    assert df[df.features == "onehot+zc_naswot+params"].kendall_tau.min() > 0.8
    command = (out / "command.txt").read_text()
    assert f"--features-from {zc}:zc_naswot" in command


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_tools.cli.main import main

    cells = _cells(30)
    store, _ = _bench(tmp_path / "tiny.h5", cells)
    keys = [c.to_string() for c in cells]
    zc = _zc_store(tmp_path / "zc.h5", keys[:-1], {"zc_naswot": np.ones(29)})
    base = ["eval-predictor", "--bench", str(store), "--epoch", "200", "--train-sizes", "10",
            "--seeds", "1", "--predictors", "gbdt", "--features", "onehot+zc_naswot", "-q"]
    cases = {
        f"{tmp_path / 'nope.h5'}:zc_naswot": "does not exist",
        f"{zc}:zc_synflow": "has no feature 'zc_synflow'; it has 'zc_naswot'",
        f"{zc}:zc_naswot": "lacks 1 of the 30 cells",
    }
    for spec, message in cases.items():
        assert main([*base, "--features-from", spec]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    # without --features-from the composed name does not know the column
    assert main(base) == 2
    assert "part 'zc_naswot' is unknown" in capsys.readouterr().err
