"""One contract suite over every registered predictor and every zero-cost scorer.

Trained predictors (scikit-learn regressors): keyword-only ``__init__`` that only stores its
arguments, ``get_params``/``set_params`` round trip, ``clone``, ``fit`` returns ``self``,
``predict`` shape, determinism for a ``random_state``, different seeds may differ, a clear
error before ``fit``. Scorers: ``score(cells)`` shape, dtype, determinism, no ``fit``.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from predictors.base import is_scorer
from predictors.registry import PREDICTORS, zerocost_scorers

#: Settings that keep each class fast in tests (merged into the registry's defaults).
FAST: dict[str, dict[str, Any]] = {
    "GBDTPredictor": {"n_estimators": 30},
    "ReNASPredictor": {"channels": (8,), "hidden": 16, "epochs": 5},
    "RandomForestPredictor": {"n_estimators": 20},
    "MLPPredictor": {"hidden_layer_sizes": (16,), "max_iter": 60},
    "BANANASPredictor": {"n_ensemble": 2, "n_layers": 2, "width": 8, "epochs": 5},
    "GCNPredictor": {"layout": None, "hidden": 8, "linear_hidden": 8, "epochs": 3},
    "PretrainedMLPPredictor": {"hidden": (16,), "pretrain_epochs": 2, "epochs": 4, "min_updates": 8},
}

def _fast_members(est: Any) -> Any:
    """Members of an ensemble get the fast settings of their own class."""
    members = tuple(
        m.set_params(**{k: v for k, v in FAST.get(type(m).__name__, {}).items()
                        if k in m.get_params()})
        for m in est.get_params()["estimators"]
    )
    return est.set_params(estimators=members)


zerocost_scorers()  # registers zc_* entries when predictors.zerocost exists
TRAINED = sorted(n for n, s in PREDICTORS.items() if s.kind == "trained" and not n.startswith(("t-", "doc-", "x_")))
SCORERS = sorted(n for n, s in PREDICTORS.items() if s.kind == "scorer" and n.startswith("zc_"))


def _fast(name: str, random_state: int = 0) -> Any:
    est = PREDICTORS[name].build(random_state=random_state, n_jobs=1)
    params = {k: v for k, v in FAST.get(type(est).__name__, {}).items() if k in est.get_params()}
    est = est.set_params(**params)
    return _fast_members(est) if "estimators" in est.get_params() else est


def _comparable(value: Any) -> Any:
    """Params with nested estimators (ensembles; clone copies them) read by their params."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_comparable(v) for v in value)
    if hasattr(value, "get_params") and not isinstance(value, type):
        return (type(value).__name__, _comparable(value.get_params()))
    return value


def _data(n: int = 80, d: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, d)).astype(float)
    return X, X @ rng.normal(size=d) + 90.0


def test_registry_has_the_promised_predictors() -> None:
    assert {"gbdt", "renas", "rf", "mlp", "gbdt_tuned", "gbdt_rank"} <= set(TRAINED)
    assert {"bananas", "gcn", "fbnet", "fbnet_nopre"} <= set(TRAINED)
    assert {"naswot", "params", "flops"} <= {n for n, s in PREDICTORS.items() if s.kind == "column"}


@pytest.mark.parametrize("name", TRAINED)
def test_init_is_keyword_only_and_stores_arguments(name: str) -> None:
    est = _fast(name)
    sig = inspect.signature(type(est).__init__)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    assert "random_state" in est.get_params()
    for key, value in est.get_params().items():
        assert getattr(est, key) is value  # stored unchanged
    assert not [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]  # no fitted state


@pytest.mark.parametrize("name", TRAINED)
def test_get_set_params_round_trip_and_clone(name: str) -> None:
    est = _fast(name)
    params = est.get_params()
    copy = type(est)(**params)
    assert copy.get_params() == params
    est.set_params(random_state=17)
    assert est.get_params()["random_state"] == 17
    c = clone(est)
    assert c is not est and _comparable(c.get_params()) == _comparable(est.get_params())


@pytest.mark.parametrize("name", TRAINED)
def test_fit_returns_self_and_predict_shape(name: str) -> None:
    X, y = _data()
    est = _fast(name)
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert est.fit(X, y) is est
    pred = est.predict(X[:7])
    assert pred.shape == (7,) and pred.dtype == np.float64 and np.isfinite(pred).all()


@pytest.mark.parametrize("name", TRAINED)
def test_deterministic_for_a_random_state(name: str) -> None:
    X, y = _data()
    a = _fast(name, random_state=5).fit(X, y).predict(X)
    b = _fast(name, random_state=5).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ scorers
@pytest.fixture(scope="module")
def two_cells() -> list[Any]:
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    return [
        space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
        space.parse("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"),
    ]


def _scorer(name: str) -> Any:
    if not SCORERS:
        pytest.skip("predictors.zerocost has no scorer registry yet")
    factory = PREDICTORS[name].factory
    assert factory is not None
    try:
        return factory(batch_size=8)
    except Exception:  # the scorer may not take these arguments
        return PREDICTORS[name].build()


def test_zero_cost_registry_is_visible() -> None:
    if not SCORERS:
        pytest.skip("predictors.zerocost has no scorer registry yet")
    assert "zc_naswot" in SCORERS


@pytest.mark.parametrize("name", SCORERS or ["(none)"])
def test_scorer_contract(name: str, two_cells: list[Any]) -> None:
    if name == "(none)":
        pytest.skip("predictors.zerocost has no scorer registry yet")
    import torch

    torch.set_num_threads(1)
    scorer = _scorer(name)
    assert is_scorer(scorer)
    assert not hasattr(scorer, "fit")
    a = np.asarray(scorer.score(two_cells))
    assert a.shape == (2,) and a.dtype == np.float64
    b = np.asarray(_scorer(name).score(two_cells))
    np.testing.assert_array_equal(a, b)
