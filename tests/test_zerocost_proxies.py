"""Gradient and cost proxies: defining properties, determinism, all three spaces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.networks import build_network
from nasbench_tools.spaces.nats_sss import Cell as SSSCell
from nasbench_tools.spaces.nb201 import Cell
from predictors.zerocost import PROXIES, get_proxy
from predictors.zerocost.data import DataSource
from predictors.zerocost.proxies import Snip, weight_layers

torch.set_num_threads(1)

SMALL = {"batch_size": 8, "network_overrides": {"C": 4, "N": 1}}
NB201 = [
    Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
    Cell.from_string("|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|"),
]
GRADIENT_PROXIES = ["synflow", "snip", "grad_norm", "jacob_cov", "fisher"]


class NoiseSource(DataSource):
    """Gaussian noise instead of images (to show synflow ignores the data)."""

    name = "noise"

    @property
    def description(self) -> str:
        return "noise"

    def minibatch(self, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(rng.standard_normal((batch_size, 3, 32, 32)).astype(np.float32) * 5)
        return x, torch.from_numpy(rng.integers(0, 10, batch_size))


@pytest.mark.parametrize("name", [*GRADIENT_PROXIES, "naswot"])
def test_deterministic_for_a_seed(name: str) -> None:
    a = get_proxy(name, random_state=3, **SMALL).score(NB201)
    b = get_proxy(name, random_state=3, **SMALL).score(NB201)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(a))


@pytest.mark.parametrize("name", ["snip", "grad_norm", "fisher", "jacob_cov"])
def test_data_dependent_proxies_see_the_data(name: str) -> None:
    digits = get_proxy(name, **SMALL).score(NB201[:1])
    noise = get_proxy(name, data=NoiseSource(), **SMALL).score(NB201[:1])
    assert digits[0] != noise[0]


def test_synflow_does_not_depend_on_the_data() -> None:
    digits = get_proxy("synflow", **SMALL).score(NB201)
    noise = get_proxy("synflow", data=NoiseSource(), **SMALL).score(NB201)
    np.testing.assert_array_equal(digits, noise)
    assert np.all(digits > 0)


def test_synflow_scales_with_depth_of_positive_paths() -> None:
    # more parallel conv paths -> more synaptic flow
    few = Cell(("none", "none", "none", "nor_conv_3x3", "none", "none"))
    many = Cell(("nor_conv_3x3",) * 6)
    s = get_proxy("synflow", **SMALL).score([few, many])
    assert s[1] > s[0] > 0


def test_params_equals_the_parameter_count() -> None:
    proxy = get_proxy("params")
    cells = [*NB201, SSSCell.from_string("8:16:24:32:64")]
    scores = proxy.score(cells)
    for cell, value in zip(cells, scores):
        assert value == sum(p.numel() for p in build_network(cell).parameters())
    small = get_proxy("params", network_overrides={"C": 4, "N": 1}).score(NB201[:1])
    assert small[0] == sum(p.numel() for p in build_network(NB201[0], C=4, N=1).parameters())


def test_params_of_cells_with_dead_edges_are_not_deduplicated() -> None:
    live = Cell(("none", "none", "none", "skip_connect", "none", "none"))
    dead_conv = Cell(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"))
    assert live.hash == dead_conv.hash
    scores = get_proxy("params").score([live, dead_conv])
    assert scores.tolist() == [live.num_params(), dead_conv.num_params()]
    assert scores[1] > scores[0]


def test_flops_come_from_the_space() -> None:
    assert get_proxy("flops").score(NB201[:1])[0] == pytest.approx(NB201[0].flops("cifar10"))
    with pytest.raises(OutOfDomainError, match="network_overrides"):
        get_proxy("flops", network_overrides={"C": 4})


def test_grad_norm_and_fisher_are_non_negative() -> None:
    for name in ("grad_norm", "fisher", "snip"):
        assert np.all(get_proxy(name, **SMALL).score(NB201) >= 0)


def test_snip_with_zero_gradients_is_zero() -> None:
    proxy = Snip(**SMALL)
    net = proxy.build(NB201[0])
    with torch.no_grad():
        net.classifier.weight.zero_()  # no gradient reaches any earlier layer, W*g = 0 here
    x, y = proxy.minibatch()
    assert proxy.score_network(net, x, y) == 0.0
    assert any(layer.weight.grad is not None for layer in weight_layers(net))


def test_jacob_cov_of_disconnected_cell_is_nan() -> None:
    s = get_proxy("jacob_cov", **SMALL).score([Cell(("none",) * 6)])
    assert np.isnan(s[0])


def test_all_three_spaces(shared_data: Path) -> None:
    import pandas as pd

    from nasbench_tools.spaces.nb101 import Cell as NB101Cell

    df = pd.read_csv(shared_data / "nb101" / "nb101_official_records_20arch.csv").drop_duplicates("nb101_hash")
    nb101 = [NB101Cell(np.array(json.loads(m)), json.loads(o)) for m, o in zip(df["matrix"][:2], df["ops"][:2])]
    sss = [SSSCell.from_string("8:8:8:8:8"), SSSCell.from_string("8:16:24:32:64")]
    for name in ["naswot", *GRADIENT_PROXIES]:
        for cells, overrides in ((NB201, {"C": 4, "N": 1}), (sss, {}), (nb101, {"C": 4, "N": 1})):
            scores = get_proxy(name, batch_size=8, network_overrides=overrides).score(cells)
            assert scores.shape == (2,)
            assert np.all(np.isfinite(scores)), (name, cells)
    assert get_proxy("params").score(nb101).tolist() == df["trainable_parameters"][:2].astype(float).tolist()


def test_registry_and_metadata() -> None:
    assert set(PROXIES) == {"naswot", "synflow", "snip", "grad_norm", "jacob_cov", "fisher", "params", "flops"}
    with pytest.raises(OutOfDomainError, match="naswot"):
        get_proxy("zen")
    meta = get_proxy("naswot").metadata
    assert meta["data"] == "digits" and meta["batch_size"] == 128
    assert "load_digits" in meta["data_description"]
    assert get_proxy("synflow").data_description.startswith("none")
    with pytest.raises(OutOfDomainError, match="dataset"):
        get_proxy("naswot", dataset="mnist")
