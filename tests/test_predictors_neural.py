"""BANANAS, GCN and the FBNetV3-style pretrained MLP: behaviour beyond the shared contract."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasbench_tools.errors import OutOfDomainError
from predictors.bananas import BANANASPredictor
from predictors.gcn import LAYOUTS, GCNPredictor, graph_tensors
from predictors.pretrained import PRETRAIN_CACHE, PretrainedMLPPredictor, clear_pretrain_cache


def _stats_task(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary encodings; two free statistics are functions of them; y follows the first."""
    rng = np.random.default_rng(seed)
    enc = rng.integers(0, 2, size=(n, 12)).astype(float)
    w = rng.normal(size=(12, 2))
    stats = np.tanh(enc @ w)
    y = stats[:, 0] + 0.05 * rng.normal(size=n)
    return np.hstack([enc, stats]), y


def test_pretraining_is_cached_by_pool_and_seed() -> None:
    clear_pretrain_cache()
    X, y = _stats_task()
    kw = dict(pretrain="columns", stat_columns=(-2, -1), pretrain_pool=X, pretrain_epochs=3,
              epochs=5, hidden=(16,))
    a = PretrainedMLPPredictor(random_state=1, **kw).fit(X[:30], y[:30])
    assert not a.pretrain_cached_ and len(PRETRAIN_CACHE) == 1
    b = PretrainedMLPPredictor(random_state=1, **kw).fit(X[:60], y[:60])  # other train size
    assert b.pretrain_cached_ and len(PRETRAIN_CACHE) == 1
    np.testing.assert_array_equal(
        a.fit(X[:60], y[:60]).predict(X[100:110]), b.predict(X[100:110])
    )
    c = PretrainedMLPPredictor(random_state=2, **kw).fit(X[:30], y[:30])
    assert not c.pretrain_cached_ and len(PRETRAIN_CACHE) == 2
    clear_pretrain_cache()


def test_statistics_are_targets_not_inputs_unless_asked() -> None:
    X, y = _stats_task(n=80)
    m = PretrainedMLPPredictor(pretrain="columns", stat_columns=(-2, -1), pretrain_epochs=1,
                               epochs=2, hidden=(8,)).fit(X, y)
    assert m.input_idx_.tolist() == list(range(12))
    m.set_params(stats_as_input=True).fit(X, y)
    assert m.input_idx_.tolist() == list(range(14))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pretrain": "columns"}, "needs stat_columns"),
        ({"pretrain": "bogus", "stat_columns": (0,)}, "allowed"),
        ({"pretrain": np.zeros((5, 1))}, "needs pretrain_pool"),
        ({"stat_columns": (40,)}, "out of range"),
    ],
)
def test_pretrain_errors_name_the_problem(kwargs: dict, match: str) -> None:
    X, y = _stats_task(n=40)
    with pytest.raises(OutOfDomainError, match=match):
        PretrainedMLPPredictor(epochs=1, **kwargs).fit(X, y)


def test_array_and_callable_sources_agree_with_columns() -> None:
    X, y = _stats_task(n=300)
    base = dict(pretrain_pool=X, pretrain_epochs=2, epochs=4, hidden=(16,), random_state=0,
                stat_columns=(-2, -1))
    by_cols = PretrainedMLPPredictor(pretrain="columns", **base).fit(X[:40], y[:40])
    by_array = PretrainedMLPPredictor(pretrain=X[:, -2:], **base).fit(X[:40], y[:40])
    np.testing.assert_allclose(by_cols.predict(X[50:60]), by_array.predict(X[50:60]))
    fn = PretrainedMLPPredictor(pretrain=lambda rows: rows[:, :2], **base).fit(X[:40], y[:40])
    assert fn.predict(X[:3]).shape == (3,)


def test_pretraining_on_free_statistics_helps_with_few_cells() -> None:
    X, y = _stats_task(n=1000, seed=3)
    train, test = np.arange(20), np.arange(20, 1000)
    kw = dict(stat_columns=(-2, -1), hidden=(64, 64), epochs=100, min_updates=400, random_state=0)
    pre = PretrainedMLPPredictor(pretrain="columns", pretrain_pool=X, pretrain_epochs=100, **kw)
    scratch = PretrainedMLPPredictor(**kw)
    tau_pre = kendalltau(pre.fit(X[train], y[train]).predict(X[test]), y[test])[0]
    tau_scratch = kendalltau(scratch.fit(X[train], y[train]).predict(X[test]), y[test])[0]
    assert tau_pre > tau_scratch + 0.1


def test_harness_hands_the_pool_rows_to_pretraining() -> None:
    from predictors.evaluate import EvalData, evaluate
    from predictors.registry import PredictorSpec, register_predictor

    X, y = _stats_task(n=200)
    seen: dict[str, int] = {}

    def factory(*, random_state: int | None = None, n_jobs: int = 1) -> PretrainedMLPPredictor:
        class Spy(PretrainedMLPPredictor):
            def _fit(self, X_: np.ndarray, y_: np.ndarray) -> None:
                seen["pool"] = len(self.pretrain_pool)
                super()._fit(X_, y_)

        return Spy(pretrain="columns", stat_columns=(-2, -1), pretrain_epochs=1, epochs=2,
                   hidden=(8,), random_state=random_state)

    register_predictor(PredictorSpec("t-fbnet", "trained", factory), replace=True)
    df = evaluate(EvalData(list(range(200)), y, features={"f": X}), predictors="t-fbnet",
                  feature_sets="f", train_sizes=[20], seeds=1, k=10, progress=False)
    assert seen["pool"] == 200 and len(df) == 1  # every pool row, no target involved


def test_gcn_reads_the_project_encodings() -> None:
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    cells = [space.sample(np.random.default_rng(i)) for i in range(30)]
    y = np.arange(30.0)
    m = GCNPredictor(epochs=2, random_state=0).fit(space.encode(cells, "gbdt"), y)
    assert m.layout_ == LAYOUTS["nb201"]
    m.fit(space.encode(cells, "adjacency_onehot"), y)
    assert m.layout_ == LAYOUTS["nb201-onehot"]
    h, a = graph_tensors(np.asarray(space.encode(cells[:1], "adjacency_onehot")), m.layout_)
    assert a[0].sum() == 10 and h[0, 1:7, 2:].sum() == 6  # the full DAG, one op per edge
    with pytest.raises(OutOfDomainError, match="allowed widths"):
        GCNPredictor(epochs=1).fit(np.zeros((5, 7)), np.arange(5.0))


def test_bananas_members_differ_and_average_to_the_prediction() -> None:
    X, y = _stats_task(n=100)
    m = BANANASPredictor(n_ensemble=3, n_layers=2, width=8, epochs=10, random_state=0).fit(X, y)
    ens = m.predict_ensemble(X[:5])
    assert ens.shape == (3, 5) and np.ptp(ens, axis=0).max() > 0
    np.testing.assert_allclose(ens.mean(axis=0), m.predict(X[:5]))
