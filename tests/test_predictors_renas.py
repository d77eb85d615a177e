"""ReNAS predictor: ranking loss, determinism, shapes; NB101 feature tensor from real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_tools.errors import OutOfDomainError  # noqa: E402
from predictors.metrics import kendall_tau  # noqa: E402
from predictors.renas import ReNASPredictor, pairwise_ranking_loss  # noqa: E402

FAST: dict[str, Any] = {"channels": (8, 8), "hidden": 16, "epochs": 25, "batch_size": 32}


def _data(n: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2 * 3 * 3))
    y = X[:, 0] + 0.5 * X[:, 9] - 0.5 * X[:, 4]
    return X, y


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_loss_orders_pairs(loss: str) -> None:
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    good = pairwise_ranking_loss(y * 10, y, loss=loss, margin=0.1)
    bad = pairwise_ranking_loss(-y * 10, y, loss=loss, margin=0.1)
    assert float(bad) > float(good) >= 0.0
    assert float(pairwise_ranking_loss(y, torch.ones(4), loss=loss)) == 0.0


def test_learns_a_ranking_and_is_deterministic() -> None:
    X, y = _data()
    a = ReNASPredictor(input_shape=(2, 3, 3), random_state=3, **FAST).fit(X[:120], y[:120])
    b = ReNASPredictor(input_shape=(2, 3, 3), random_state=3, **FAST).fit(X[:120], y[:120])
    pa, pb = a.predict(X[120:]), b.predict(X[120:])
    np.testing.assert_array_equal(pa, pb)
    assert kendall_tau(y[120:], pa) > 0.4
    c = ReNASPredictor(input_shape=(2, 3, 3), random_state=4, **FAST).fit(X[:120], y[:120])
    assert not np.array_equal(c.predict(X[120:]), pa)


def test_fit_restores_torch_global_state() -> None:
    X, y = _data(60)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ReNASPredictor(random_state=0, n_threads=1, **FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_calibrated_predictions_are_on_the_target_scale() -> None:
    X, y = _data()
    m = ReNASPredictor(random_state=0, **FAST).fit(X, y + 90.0)
    assert abs(float(m.predict(X).mean()) - 90.0) < 1.0
    raw = ReNASPredictor(random_state=0, calibrate=False, **FAST).fit(X, y + 90.0).predict(X)
    assert abs(float(raw.mean()) - 90.0) > 10.0


def test_wrong_input_shape_names_what_is_allowed() -> None:
    X, y = _data(40)
    with pytest.raises(OutOfDomainError, match="input_shape"):
        ReNASPredictor(input_shape=(3, 3, 3), **FAST).fit(X, y)
    with pytest.raises(OutOfDomainError, match="hinge"):
        ReNASPredictor(loss="mse", **FAST).fit(X, y)


def test_nb201_renas_tensor_fits(shared_data: Path) -> None:
    import pandas as pd

    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    df = pd.read_csv(shared_data / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv").iloc[:300]
    cells = [space.parse(s) for s in df["arch_str"]]
    R = space.encode(cells, "renas")
    X = R.reshape(len(cells), -1)
    y = df["cifar10_valid_xvalid_acc"].to_numpy()
    m = ReNASPredictor(input_shape=R.shape[1:], random_state=0, **FAST).fit(X[:200], y[:200])
    assert m.predict(X[200:]).shape == (100,)
    assert kendall_tau(y[200:], m.predict(X[200:])) > 0.2


def test_nb101_renas_tensor_from_sample(shared_data: Path) -> None:
    import json

    import pandas as pd

    from nasbench_tools.spaces.nb101 import SPACE, Cell

    df = pd.read_csv(shared_data / "nb101" / "nb101_zc_proxies_sample500.csv").iloc[:120]
    cells = [Cell(np.array(json.loads(m)), tuple(json.loads(o))) for m, o in zip(df["matrix"], df["ops"])]
    assert [c.hash for c in cells] == df["nb101_hash"].tolist()
    R = SPACE.encode(cells, "renas")
    assert R.shape == (120, 19, 7, 7)
    m = ReNASPredictor(input_shape=(19, 7, 7), random_state=0, **FAST).fit(
        R.reshape(120, -1)[:80], df["val_accuracy"].to_numpy()[:80]
    )
    assert np.isfinite(m.predict(R.reshape(120, -1)[80:])).all()
