"""NASWOT: the fast kernel against the definition (explicit Hamming distances)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench_tools.networks.nats_sss import nats_sss_network
from nasbench_tools.networks.nb101 import nb101_network
from nasbench_tools.networks.nb201 import nb201_network
from nasbench_tools.spaces.nb201 import Cell
from predictors.zerocost.naswot import (
    NASWOT,
    ReluKernel,
    logdet,
    naswot_definition,
    naswot_kernel,
    naswot_reference,
    naswot_score,
)

torch.set_num_threads(1)

CELLS = [
    ("nor_conv_3x3",) * 6,  # node 0 feeds three convs: one shared code, counted 3 times
    ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1"),
    ("avg_pool_3x3", "skip_connect", "none", "nor_conv_3x3", "none", "skip_connect"),
    ("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"),  # dead edge 1<-0
    ("none", "skip_connect", "nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1"),  # conv reads a zero node
]


def _x(batch: int = 12, res: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, res, res, generator=g, dtype=torch.float64)


def _net(builder, *args, seed: int = 0, **kw):  # type: ignore[no-untyped-def]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(*args, **kw).double().train()


@pytest.mark.parametrize("ops", CELLS)
@pytest.mark.parametrize("prune", [True, False])
def test_fast_equals_definition_nb201(ops: tuple[str, ...], prune: bool) -> None:
    net = _net(nb201_network, ops, C=4, N=1, prune=prune)
    x = _x()
    expected = naswot_definition(net, x)
    with torch.inference_mode():
        got = naswot_score(net, x)
        ref = naswot_reference(net, x)
    assert got == pytest.approx(expected, rel=1e-6)
    assert ref == pytest.approx(expected, rel=1e-6)


def test_fast_equals_definition_channels_last() -> None:
    net = _net(nb201_network, CELLS[1], C=4, N=1, prune=True)
    x = _x()
    expected = naswot_definition(net, x)
    proxy = NASWOT(batch_size=12)
    with torch.inference_mode():
        got = proxy.score_network(net, x, torch.zeros(12, dtype=torch.long))
    assert got == pytest.approx(expected, rel=1e-6)


def test_fast_equals_definition_sss_and_nb101() -> None:
    x = _x(batch=10)
    sss = _net(nats_sss_network, (8, 16, 8, 24, 16))
    m = np.array([[0, 1, 1, 0, 1], [0, 0, 1, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    nb101 = _net(nb101_network, m, ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"], C=4, N=1)
    for net in (sss, nb101):
        expected = naswot_definition(net, x)
        with torch.inference_mode():
            assert naswot_score(net, x) == pytest.approx(expected, rel=1e-6)


def test_shared_relu_inputs_use_one_product() -> None:
    net = _net(nb201_network, ("nor_conv_3x3",) * 6, C=4, N=1, prune=True)
    n_relus = sum(isinstance(m, torch.nn.ReLU) for m in net.modules())
    acc = ReluKernel(4)
    import predictors.zerocost.naswot as nw

    with torch.inference_mode(), nw._relu_hooks(net, acc):
        h = net.stem(_x(batch=4))
        for cell in net.cells:
            h = nw._topology_cell(cell, h, acc) if isinstance(cell, nw.TopologyCell) else cell(h)
        net.lastact(h)
    # 3 cells x 3 distinct conv inputs + 2 blocks x 2 + lastact, against 3 x 6 + 4 + 1 modules
    assert n_relus == 23
    assert acc.products == 3 * 3 + 4 + 1


def test_relu_kernel_is_units_minus_hamming() -> None:
    rng = np.random.default_rng(0)
    t = torch.from_numpy(rng.standard_normal((7, 5, 3)))
    acc = ReluKernel(7)
    acc.add(t, multiplicity=3)
    codes = (t.reshape(7, -1) > 0).numpy()
    hamming = (codes[:, None, :] != codes[None, :, :]).sum(-1)
    np.testing.assert_array_equal(acc.kernel().numpy(), 3 * (15 - hamming))


def test_logdet_of_singular_kernel_is_minus_inf() -> None:
    assert logdet(np.ones((3, 3))) == float("-inf")
    assert logdet(np.diag([1.0, 2.0])) == pytest.approx(np.log(2.0))


def test_kernel_is_symmetric_with_units_on_diagonal() -> None:
    net = _net(nb201_network, CELLS[1], C=4, N=1, prune=True)
    with torch.inference_mode():
        k = naswot_kernel(net, _x(batch=6))
    assert torch.equal(k, k.T)
    assert torch.all(k.diagonal() == k.diagonal()[0])  # every image agrees with itself on all units
    assert torch.all(k <= k.diagonal()[0])


def test_proxy_is_deterministic_and_seed_dependent() -> None:
    cells = [Cell(ops) for ops in CELLS[:2]]
    kw = {"batch_size": 16, "network_overrides": {"C": 4, "N": 1}}
    a = NASWOT(random_state=0, **kw).score(cells)
    b = NASWOT(random_state=0, **kw).score(list(reversed(cells)))[::-1]
    c = NASWOT(random_state=1, **kw).score(cells)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_isomorphic_cells_share_a_score_and_disconnected_is_minus_inf() -> None:
    live = Cell(("none", "none", "none", "skip_connect", "none", "none"))
    dead_edge = Cell(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"))
    empty = Cell(("none",) * 6)
    scores = NASWOT(batch_size=16, network_overrides={"C": 4, "N": 1}).score([live, dead_edge, empty])
    assert scores[0] == scores[1]
    assert np.isfinite(scores[0])
    assert scores[2] == float("-inf")
