"""Networks of the three spaces: parameter counts against official numbers, shapes, pruning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.networks import DATASETS, build_network, dataset_spec
from nasbench_tools.networks.nats_sss import nats_sss_network
from nasbench_tools.networks.nb101 import compute_vertex_channels, nb101_network
from nasbench_tools.networks.nb201 import EDGES, live_edges, nb201_network

torch.set_num_threads(1)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_params(build, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    """Parameter count of a network built on the meta device (no memory, no initialisation)."""
    with torch.device("meta"):
        return n_params(build(*args, **kwargs))


def ops_of(arch: str) -> tuple[str, ...]:
    return tuple(tok.split("~")[0] for tok in re.findall(r"([a-z_0-9]+~\d)", arch))


# ---------------------------------------------------------------- NAS-Bench-201
def test_nb201_params_match_official_table(shared_data: Path) -> None:
    df = pd.read_csv(shared_data / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv")
    # 199 rows hold a mean over trial records that disagree (not a whole number of
    # parameters): no single network has that count, so only whole counts are compared.
    whole = np.abs(df["params_m"] * 1e6 - np.round(df["params_m"] * 1e6)) < 1e-3
    assert whole.sum() == len(df) - 199
    df = df[whole]
    rng = np.random.default_rng(0)
    rows = df.iloc[rng.choice(len(df), size=300, replace=False)]
    for arch, params_m in zip(rows["arch_str"], rows["params_m"]):
        got = meta_params(nb201_network, ops_of(arch))
        assert got == round(params_m * 1e6), arch


def test_nb201_params_match_space_cost_model() -> None:
    nb201 = pytest.importorskip("nasbench_tools.spaces.nb201")
    try:
        nb201.Cell(("none",) * 6).num_params("cifar10")
    except NotImplementedError:
        pytest.skip("nb201 Cell.num_params is not implemented yet")
    rng = np.random.default_rng(1)
    for code in rng.choice(15625, size=12, replace=False):
        cell = nb201.Cell.from_code(int(code))
        for dataset in DATASETS:
            assert meta_params(build_network, cell, dataset) == cell.num_params(dataset)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_nb201_forward_shape(dataset: str) -> None:
    spec = dataset_spec(dataset)
    net = nb201_network(("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "none", "skip_connect"),
                        C=4, N=1, num_classes=spec.num_classes)
    out = net(torch.randn(3, 3, spec.resolution, spec.resolution))
    assert out.shape == (3, spec.num_classes)


def test_live_edges_rules() -> None:
    # node 1 receives a conv but feeds nothing: edge 1<-0 is dead
    assert live_edges(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none")) == (
        False, False, False, True, False, False)
    # node 1 unreachable (1<-0 none): edges leaving node 1 are dead
    assert live_edges(("none", "nor_conv_1x1", "nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3")) == (
        False, True, False, False, False, True)
    assert live_edges(("nor_conv_3x3",) * 6) == (True,) * 6


def _copy_live_weights(full: torch.nn.Module, pruned: torch.nn.Module) -> None:
    """Load the full network's weights into the pruned one (cells' layers re-indexed)."""
    state = full.state_dict()
    mapped = {}
    for name in pruned.state_dict():
        m = re.match(r"cells\.(\d+)\.layers\.(\d+)\.(.*)", name)
        if m is None:
            mapped[name] = state[name]
            continue
        cell = pruned.cells[int(m.group(1))]
        dst, src, _ = cell.edges[int(m.group(2))]
        k = EDGES.index((dst, src))
        mapped[name] = state[f"cells.{m.group(1)}.layers.{k}.{m.group(3)}"]
    pruned.load_state_dict(mapped)


@pytest.mark.parametrize("code", [0, 31, 777, 4321, 9999, 15624])
def test_pruned_network_computes_the_same_function(code: int) -> None:
    ops_vocab = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    digits = [(code // 5 ** (5 - i)) % 5 for i in range(6)]
    ops = tuple(ops_vocab[d] for d in digits)
    torch.manual_seed(0)
    full = nb201_network(ops, C=4, N=1)
    pruned = nb201_network(ops, C=4, N=1, prune=True)
    _copy_live_weights(full, pruned)
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), full(x), rtol=1e-5, atol=1e-6)


def test_pruning_a_cell_with_dead_edges_drops_parameters() -> None:
    ops = ("nor_conv_3x3", "none", "none", "skip_connect", "none", "none")
    assert n_params(nb201_network(ops, prune=True)) < n_params(nb201_network(ops))


# ---------------------------------------------------------------- NATS-Bench size space
def _sss_official(shared_data: Path) -> dict[tuple[int, str], tuple[str, float]]:
    answers = json.loads((shared_data / "nats" / "nats_official_api_answers.json").read_text())
    channels: dict[tuple[int, str], str] = {}
    params: dict[tuple[int, str], float] = {}
    for call in answers["sss"]["calls"]:
        args = call["args"]
        if call["call"] == "get_net_config":
            channels[(args["index"], args["dataset"])] = call["result"]["channels"]
        elif call["call"] == "get_cost_info" and "params" in call.get("result", {}):
            params[(args["index"], args["dataset"])] = call["result"]["params"]
    return {k: (channels[k], params[k]) for k in channels if k in params}


def test_sss_params_match_official_api(shared_data: Path) -> None:
    table = _sss_official(shared_data)
    assert {i for i, _ in table} == {0, 11, 284}
    assert len(table) == 12
    for (_, dataset), (channels, params_m) in table.items():
        chans = tuple(int(c) for c in channels.split(":"))
        net = nats_sss_network(chans, num_classes=dataset_spec(dataset).num_classes)
        assert n_params(net) == round(params_m * 1e6), (channels, dataset)


def test_sss_cells_dispatch(shared_data: Path) -> None:
    sss = pytest.importorskip("nasbench_tools.spaces.nats_sss")
    if not hasattr(sss, "Cell"):
        pytest.skip("nasbench_tools.spaces.nats_sss.Cell not available yet")
    for (_, dataset), (channels, params_m) in _sss_official(shared_data).items():
        cell = sss.Cell.from_string(channels)
        assert meta_params(build_network, cell, dataset) == round(params_m * 1e6)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_sss_forward_shape(dataset: str) -> None:
    spec = dataset_spec(dataset)
    net = nats_sss_network((8, 16, 24, 32, 64), num_classes=spec.num_classes)
    assert net(torch.randn(2, 3, spec.resolution, spec.resolution)).shape == (2, spec.num_classes)


# ---------------------------------------------------------------- NAS-Bench-101
def test_nb101_params_match_official_records(shared_data: Path) -> None:
    df = pd.read_csv(shared_data / "nb101" / "nb101_official_records_20arch.csv")
    df = df.drop_duplicates("nb101_hash")
    assert len(df) == 20
    for matrix, ops, expected in zip(df["matrix"], df["ops"], df["trainable_parameters"]):
        assert meta_params(nb101_network, np.array(json.loads(matrix)), json.loads(ops)) == expected


def test_nb101_cells_dispatch(shared_data: Path) -> None:
    nb101 = pytest.importorskip("nasbench_tools.spaces.nb101")
    if not hasattr(nb101, "Cell"):
        pytest.skip("nasbench_tools.spaces.nb101.Cell not available yet")
    df = pd.read_csv(shared_data / "nb101" / "nb101_official_records_20arch.csv").drop_duplicates("nb101_hash")
    for matrix, ops, expected in zip(df["matrix"], df["ops"], df["trainable_parameters"]):
        cell = nb101.Cell(np.array(json.loads(matrix)), json.loads(ops))
        assert meta_params(build_network, cell) == expected == cell.num_params()


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_nb101_forward_shape(dataset: str) -> None:
    spec = dataset_spec(dataset)
    m = np.array([[0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"]
    net = nb101_network(m, ops, C=8, N=1, num_classes=spec.num_classes)
    assert net(torch.randn(2, 3, spec.resolution, spec.resolution)).shape == (2, spec.num_classes)


def test_vertex_channels_official_rule() -> None:
    # three vertices feed the output: 128 = 43 + 43 + 42; vertex 1 feeds only vertex 2
    m = np.zeros((5, 5), dtype=int)
    m[0, 1] = m[1, 2] = m[0, 3] = m[0, 4] = m[2, 4] = m[3, 4] = 1
    assert compute_vertex_channels(64, 128, m) == [64, 64, 64, 64, 128]
    m2 = np.zeros((6, 6), dtype=int)
    m2[0, 1] = m2[0, 2] = m2[0, 3] = m2[1, 5] = m2[2, 5] = m2[3, 5] = m2[0, 4] = m2[4, 5] = 1
    assert compute_vertex_channels(128, 128, m2) == [128, 32, 32, 32, 32, 128]
    m3 = np.zeros((5, 5), dtype=int)
    m3[0, 1] = m3[0, 2] = m3[0, 3] = m3[1, 4] = m3[2, 4] = m3[3, 4] = 1
    assert compute_vertex_channels(128, 128, m3) == [128, 43, 43, 42, 128]


# ---------------------------------------------------------------- errors
def test_errors_name_the_allowed_values() -> None:
    with pytest.raises(OutOfDomainError, match="allowed"):
        dataset_spec("mnist")
    with pytest.raises(OutOfDomainError, match="allowed"):
        build_network(object())
    with pytest.raises(OutOfDomainError, match="nor_conv_3x3"):
        nb201_network(("conv",) * 6)
    with pytest.raises(OutOfDomainError, match="allowed"):
        nb201_network(("none",) * 6, width=3)
    with pytest.raises(OutOfDomainError, match="5 channel"):
        nats_sss_network((8, 8, 8))


class _Official(torch.nn.Module):
    """The official cell semantics: every edge runs, node = sum of all edge outputs."""

    def __init__(self, cell: torch.nn.Module) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for dst in (1, 2, 3):
            parts = [layer(nodes[src]) for (d, src, _), layer in zip(self.cell.edges, self.cell.layers) if d == dst]
            nodes.append(sum(parts[1:], parts[0]))
        return nodes[-1]


@pytest.mark.parametrize("train", [True, False])
def test_skipping_none_edges_keeps_the_official_function(train: bool) -> None:
    # node 1 receives only `none` but feeds a conv: in eval mode that conv is not zero
    ops = ("none", "skip_connect", "nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    torch.manual_seed(0)
    net = nb201_network(ops, C=4, N=1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.bias.data.uniform_(-1, 1)
    net.train(train)
    x = torch.randn(4, 4, 8, 8)
    cell = net.cells[0]
    with torch.no_grad():
        torch.testing.assert_close(cell(x), _Official(cell)(x))
