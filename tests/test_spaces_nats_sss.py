"""NATS-Bench size space: cells, official order, mutation, encodings, costs."""

from __future__ import annotations

import bz2
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nats_sss import (
    CHANNELS,
    GENOTYPE,
    SPACE,
    Cell,
    mutate_indices,
    neighbour_indices,
)
from nasbench_tools.spaces.nats_sss.encodings import ENCODING_SHAPES, ENCODINGS, encode_indices
from nasbench_tools.spaces.nb201 import Cell as TopologyCell

indices = st.integers(min_value=0, max_value=32767)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


class _NoGlobals(pickle.Unpickler):
    """The meta file holds only dicts, lists, strings, ints and an empty set: no globals."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"global {module}.{name} refused")


def _meta(shared_data: Path) -> dict:
    raw = (shared_data / "nats" / "fake_torch_dir" / "NATS-sss-v1_0-50262-simple" / "meta.pickle.pbz2").read_bytes()
    return _NoGlobals(io.BytesIO(bz2.decompress(raw))).load()


def _answers(shared_data: Path) -> dict:
    return json.loads((shared_data / "nats" / "nats_official_api_answers.json").read_text())["sss"]


def test_basic_cell() -> None:
    cell = Cell.from_string("8:16:24:32:64")
    assert cell.channels == (8, 16, 24, 32, 64)
    assert cell.to_string() == "8:16:24:32:64"
    assert Cell((8, 16, 24, 32, 64)) == cell
    assert Cell(np.array([8, 16, 24, 32, 64])) == cell  # type: ignore[arg-type]
    assert CHANNELS == (8, 16, 24, 32, 40, 48, 56, 64)
    with pytest.raises(AttributeError):
        cell.channels = (8,) * 5  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(cell)) == cell


def test_documented_indices() -> None:
    assert Cell.from_index(0).to_string() == "8:8:8:8:8"
    assert Cell.from_index(1).to_string() == "8:8:8:8:16"
    assert Cell.from_index(11).to_string() == "8:8:8:16:32"
    assert Cell.from_index(284).to_string() == "8:8:40:32:40"
    assert Cell.from_index(32767).to_string() == "64:64:64:64:64"


def test_official_order_from_meta_file(shared_data: Path) -> None:
    meta = _meta(shared_data)
    assert meta["total_archs"] == 32768
    official = meta["meta_archs"]
    assert len(official) == 32768
    assert [c.to_string() for c in SPACE.all_cells()] == official
    for i in range(0, 32768, 97):
        assert Cell.from_string(official[i]).index == i


def test_official_api_answers(shared_data: Path) -> None:
    answers = _answers(shared_data)
    assert answers["num_archs"] == 32768
    checked = 0
    for call in answers["calls"]:
        if call["call"] == "query_index_by_arch" and call["result"] != -1:
            assert Cell.from_string(call["args"]["arch"]).index == call["result"]
            checked += 1
        if call["call"] == "get_net_config":
            cell = Cell.from_index(call["args"]["index"])
            assert call["result"]["channels"] == cell.to_string()
            assert call["result"]["genotype"] == GENOTYPE
            checked += 1
    assert checked >= 4 + 12


def test_costs_match_official_answers(shared_data: Path) -> None:
    calls = [c for c in _answers(shared_data)["calls"] if c["call"] == "get_cost_info" and isinstance(c.get("result"), dict)]
    assert len(calls) == 36  # 3 cells x 4 datasets x 3 hps
    for call in calls:
        cell = Cell.from_index(call["args"]["index"])
        dataset = call["args"]["dataset"]
        assert cell.num_params(dataset) / 1e6 == pytest.approx(call["result"]["params"], abs=1e-9)
        assert cell.flops(dataset) == pytest.approx(call["result"]["flops"], abs=1e-6)


def test_hand_counted_smallest_network() -> None:
    # stem 216+16, three 8->8 cells of 5 conv3x3 (592 each), two 8->8 reductions, BN, fc
    assert Cell.from_index(0).num_params("cifar10") == 232 + 3 * 2960 + 2 * 1248 + 16 + 90
    assert TopologyCell.from_string(GENOTYPE).num_params() > Cell.from_index(32767).num_params() / 10


def test_costs_grow_with_width() -> None:
    small, big = Cell.from_string("8:8:8:8:8"), Cell.from_string("64:64:64:64:64")
    assert big.num_params() > small.num_params() and big.flops() > small.flops()
    # the widest size-space network is the NAS-Bench-201 skeleton at N=1, C=64
    vec = SPACE.num_params(SPACE.all_cells(), "cifar10")
    assert int(vec.argmax()) == 32767 and int(vec.argmin()) == 0


MALFORMED = ["", "8:16:24:32", "8:16:24:32:64:8", "8:16:24:32:65", "8:16:24:32:0", "8;16;24;32;64",
             "8:16:24:32:x", "8:16:24:32:-8", " 8:16:24:32:64", "8:16:24:32:64 ", "8:16:24:32:6.4",
             "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_strings(text: str) -> None:
    with pytest.raises(OutOfDomainError, match=r"allowed|each from"):
        Cell.from_string(text)


@pytest.mark.parametrize("bad", [(8, 16), (8, 16, 24, 32, 63), "8:8:8:8:8", (8.0,) * 5, (True,) * 5])
def test_bad_constructor(bad: object) -> None:
    with pytest.raises(OutOfDomainError):
        Cell(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 32768, 1.0, True])
def test_bad_index(bad: object) -> None:
    with pytest.raises(OutOfDomainError):
        Cell.from_index(bad)  # type: ignore[arg-type]


def test_space_contract() -> None:
    assert get_space("nats_sss") is SPACE and get_space("sss") is SPACE
    assert SPACE.size() == 32768 and len(set(SPACE.all_cells())) == 32768
    assert all(c.index == i for i, c in enumerate(SPACE.all_cells()[:500]))
    assert SPACE.parse("8:8:40:32:40").index == 284
    assert SPACE.parse(284) == Cell.from_index(284)
    assert SPACE.parse((8, 8, 40, 32, 40)).index == 284
    with pytest.raises(OutOfDomainError):
        SPACE.parse(3.5)
    a = SPACE.sample(np.random.default_rng(1), 10)
    assert a == SPACE.sample(np.random.default_rng(1), 10)
    assert isinstance(SPACE.sample(np.random.default_rng(1)), Cell)
    assert len({c.hash for c in SPACE.all_cells()[:1000]}) == 1000


@settings(max_examples=200, deadline=None)
@given(indices, seeds)
def test_mutation_changes_one_layer(index: int, seed: int) -> None:
    parent = Cell.from_index(index)
    child = SPACE.mutate(parent, np.random.default_rng(seed))
    assert sum(a != b for a, b in zip(parent.channels, child.channels)) == 1
    assert child in SPACE.neighbours(parent)
    assert int(mutate_indices(np.array([index]), np.random.default_rng(seed))[0]) == child.index


@settings(max_examples=100, deadline=None)
@given(indices)
def test_neighbours(index: int) -> None:
    cell = Cell.from_index(index)
    nbrs = SPACE.neighbours(cell)
    assert len(nbrs) == 35 and len(set(nbrs)) == 35 and cell not in nbrs
    assert all(sum(a != b for a, b in zip(cell.channels, n.channels)) == 1 for n in nbrs)
    assert neighbour_indices(index).tolist() == [n.index for n in nbrs]


def test_mutation_distribution() -> None:
    kids = mutate_indices(np.zeros(40000, dtype=np.int64), np.random.default_rng(0))
    layers = np.array([next(k for k, c in enumerate(Cell.from_index(int(i)).channels) if c != 8) for i in kids[:8000]])
    counts = np.bincount(layers, minlength=5) / 8000
    assert np.all(np.abs(counts - 0.2) < 0.02)
    assert len(np.unique(kids)) == 35


@pytest.mark.parametrize("kind", ENCODINGS)
def test_encodings(kind: str) -> None:
    cells = SPACE.sample(np.random.default_rng(2), 16)
    batch = SPACE.encode(cells, kind)
    assert batch.shape == (16, *ENCODING_SHAPES[kind]) and batch.dtype == np.float32
    assert np.array_equal(cells[3].encode(kind), batch[3])
    whole = encode_indices(np.arange(32768), kind).reshape(32768, -1)
    assert len(np.unique(whole, axis=0)) == 32768


def test_encoding_values() -> None:
    cell = Cell.from_string("8:16:24:32:64")
    onehot = cell.encode("adjacency_onehot").reshape(5, 8)
    assert onehot.argmax(1).tolist() == [0, 1, 2, 3, 7] and onehot.sum() == 5
    path = cell.encode("path")
    assert np.flatnonzero(path).tolist() == [0 * 64 + 0 * 8 + 1, 64 + 8 + 2, 128 + 16 + 3, 192 + 24 + 7]
    assert cell.encode("gbdt").tolist() == [0.125, 0.25, 0.375, 0.5, 1.0]
    renas = Cell.from_index(0).encode("renas")
    assert renas[0].tolist() == (np.eye(5) + np.eye(5, k=1)).tolist()
    # per-layer parameters (diagonal of channel 2) plus stem and head = whole network
    assert renas[2].diagonal().sum() * 1e6 + 232 + 16 + 90 == pytest.approx(11714, abs=0.01)
    with pytest.raises(OutOfDomainError, match="adjacency_onehot"):
        cell.encode("zero_cost")


def test_graph_view() -> None:
    g = Cell.from_string("8:16:24:32:64").to_graph()
    assert [g.nodes[n]["op"] for n in sorted(g.nodes)] == ["stem", "cell", "reduction", "cell", "reduction", "cell", "head"]
    assert [g.nodes[n]["channels"] for n in range(1, 6)] == [8, 16, 24, 32, 64]
