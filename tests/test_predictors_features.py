"""Feature sets: encodings + extra columns, their sources, imputation, graph features."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces import get_space
from predictors.features import (
    FEATURE_SETS,
    GRAPH_FEATURES,
    FeatureSet,
    get_feature_set,
    graph_features,
    resolve_extra,
)

SPACE = get_space("nb201")


def _cells(n: int = 20) -> list:
    return SPACE.sample(np.random.default_rng(0), n)


def test_registered_sets_build_on_nb201() -> None:
    cells = _cells()
    extras = {"naswot_score": np.linspace(-700, -300, 20)}
    widths = {}
    for name, fs in FEATURE_SETS.items():
        if name.startswith("doc-"):
            continue
        X = fs.build(cells, space=SPACE, extras=extras)
        assert X.shape[0] == 20 and np.isfinite(X).all(), name
        widths[name] = X.shape[1]
    assert widths["onehot"] == 30
    assert widths["onehot+naswot+params"] == 32
    assert widths["onehot+graph+zc"] == 30 + len(GRAPH_FEATURES) + 3


def test_extra_columns_follow_the_encoding_in_order() -> None:
    cells = _cells(5)
    fs = FeatureSet("t", "adjacency_onehot", ("a", "b"))
    X = fs.build(cells, space=SPACE, extras={"a": np.arange(5.0), "b": -np.arange(5.0)})
    np.testing.assert_array_equal(X[:, :30], SPACE.encode(cells, "adjacency_onehot"))
    np.testing.assert_array_equal(X[:, 30], np.arange(5.0))
    np.testing.assert_array_equal(X[:, 31], -np.arange(5.0))


def test_missing_values_imputed_with_column_minimum() -> None:
    fs = FeatureSet("t", None, ("a",))
    X = fs.build([0, 1, 2], extras={"a": np.array([5.0, np.nan, 2.0])})
    assert X[:, 0].tolist() == [5.0, 2.0, 2.0]
    keep = FeatureSet("t2", None, ("a",), impute="none")
    assert np.isnan(keep.build([0, 1, 2], extras={"a": np.array([5.0, np.nan, 2.0])})[1, 0])


def test_analytic_params_and_flops_from_the_space() -> None:
    cells = _cells(4)
    params = resolve_extra("params", cells, space=SPACE)
    np.testing.assert_allclose(params, [c.num_params("cifar10") / 1e6 for c in cells])
    flops = resolve_extra("flops", cells, space=SPACE, dataset="cifar10-valid")
    np.testing.assert_allclose(flops, [c.flops("cifar10") for c in cells])


def test_extra_from_a_benchmark_store() -> None:
    from nasbench_tools.store import Benchmark, DatasetTable, TableData

    cells = _cells(3)
    ds = DatasetTable(
        "cifar10", (0,), ((200, 200),), ("val_accuracy",), np.ones((3, 1, 1, 1)),
        features={"naswot_score": np.array([-1.0, -2.0, -3.0])},
    )
    bench = Benchmark.from_table(TableData("nb201", [c.to_string() for c in cells], np.arange(3), {"cifar10": ds}))
    got = resolve_extra("naswot_score", cells[::-1], bench=bench, dataset="cifar10")
    assert got.tolist() == [-3.0, -2.0, -1.0]


def test_unknown_extra_and_set_name_errors_list_the_allowed() -> None:
    with pytest.raises(NotInBenchmarkError, match="params"):
        resolve_extra("nope", [object()])
    with pytest.raises(OutOfDomainError, match="onehot"):
        get_feature_set("nope")
    with pytest.raises(OutOfDomainError):
        FeatureSet("empty")
    with pytest.raises(OutOfDomainError, match="graph"):
        FeatureSet("x", blocks=("nope",))


def test_renas_set_reports_its_tensor_shape() -> None:
    cells = _cells(2)
    assert get_feature_set("renas").input_shape(cells, SPACE) == SPACE.encode(cells, "renas").shape[1:]
    assert get_feature_set("onehot").input_shape(cells, SPACE) is None


def test_graph_features_known_cells() -> None:
    names = list(GRAPH_FEATURES)
    dead = SPACE.parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert graph_features([dead]).tolist() == [[0.0] * len(names)]
    c = SPACE.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")
    row = dict(zip(names, graph_features([c])[0].tolist()))
    # paths: 0->3 via skip; 0->1->3 via conv3x3 then conv1x1
    assert row["n_paths"] == 2
    assert row["max_convs_on_path"] == 2 and row["min_convs_on_path"] == 0
    assert row["max_conv3x3_on_path"] == 1 and row["min_free_ops_on_path"] == 0
    assert row["live_conv3x3"] == 1 and row["live_conv1x1"] == 1 and row["live_skip"] == 1


def test_graph_features_work_on_nb101() -> None:
    nb101 = get_space("nb101")
    cells = nb101.sample(np.random.default_rng(1), 5)
    G = graph_features(cells)
    assert G.shape == (5, len(GRAPH_FEATURES))
    assert (G[:, 0] >= 1).all()  # every NB101 cell connects input to output


def test_zero_cost_scorer_as_a_feature_column() -> None:
    pytest.importorskip("predictors.zerocost")
    cells = _cells(3)
    fs = FeatureSet("t-zc", "adjacency_onehot", ("zc:params",))
    X = fs.build(cells, space=SPACE)
    np.testing.assert_allclose(X[:, -1], [c.num_params("cifar10") for c in cells])


def test_log_prefix_is_a_signed_log10_of_the_column() -> None:
    from predictors.features import compose_feature_set, resolve_extra, signed_log10

    big = np.array([0.0, 9.0, 7.7e49, -99.0, np.nan])
    col = resolve_extra("log_zc_synflow", [1, 2, 3, 4, 5], extras={"zc_synflow": big})
    np.testing.assert_allclose(col[:4], [0.0, 1.0, np.log10(1 + 7.7e49), -2.0])
    assert np.isnan(col[4]) and np.isfinite(col[:4]).all()
    assert np.all(np.diff(signed_log10(np.array([-1e60, -1.0, 0.0, 0.5, 1e300]))) > 0)
    fs = compose_feature_set("onehot+zc_naswot+log_zc_synflow", columns=["zc_naswot", "zc_synflow"])
    assert fs.extras == ("zc_naswot", "log_zc_synflow")
    with pytest.raises(OutOfDomainError, match="log_<column>"):
        compose_feature_set("onehot+log_nope", columns=["zc_synflow"])
