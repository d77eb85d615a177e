"""NAS-Bench-201 array encodings."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces.nb201 import SPACE, Cell
from nasbench_tools.spaces.nb201.encodings import (
    ENCODING_SHAPES,
    ENCODINGS,
    encode_codes,
    live_edges,
)

BEST = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def test_contract_kinds() -> None:
    assert set(SPACE.encodings) == {"adjacency_onehot", "path", "gbdt", "renas"}
    assert SPACE.encodings == ENCODINGS


@pytest.mark.parametrize("kind", ENCODINGS)
def test_shapes_dtype_and_cell_agreement(kind: str) -> None:
    cells = SPACE.sample(np.random.default_rng(0), 20)
    batch = SPACE.encode(cells, kind)
    assert batch.shape == (20, *ENCODING_SHAPES[kind])
    assert batch.dtype == np.float32
    for i in (0, 7, 19):
        assert np.array_equal(cells[i].encode(kind), batch[i])


@pytest.mark.parametrize("kind", ENCODINGS)
def test_every_encoding_tells_all_15625_cells_apart(kind: str) -> None:
    # path: the length-3 path fixes edges 0, 2, 5, then the others follow
    enc = encode_codes(np.arange(15625), kind).reshape(15625, -1)
    assert len(np.unique(enc, axis=0)) == 15625


def test_adjacency_onehot_values() -> None:
    enc = BEST.encode("adjacency_onehot").reshape(6, 5)
    assert enc.sum() == 6
    assert enc.argmax(1).tolist() == list(BEST.op_indices())


def test_path_values() -> None:
    enc = BEST.encode("path")
    a, b, c = 3, 1, 4  # nor_conv_3x3, skip_connect, avg_pool_3x3
    expected = {
        1,  # 0->3: skip
        5 + 5 * a + a,  # 0->1->3: conv, conv
        5 + 5 * a + b,  # 0->2->3: conv, skip
        30 + 25 * a + 5 * c + b,  # 0->1->2->3: conv, pool, skip
    }
    assert set(np.flatnonzero(enc).tolist()) == expected


def test_gbdt_pruned_adjacency() -> None:
    cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    enc = cell.encode("gbdt")
    assert enc.shape == (58,)
    adj = np.zeros((8, 8))
    adj[np.triu_indices(8, 1)] = enc[:28]
    # only input -> e3 (skip 3<-0) -> output survives; e0 is dead (node 1 feeds nothing live)
    assert set(zip(*np.nonzero(adj))) == {(0, 4), (4, 7)}
    assert np.array_equal(enc[28:], cell.encode("adjacency_onehot"))
    assert live_edges(np.array([cell.op_indices()])).tolist() == [[False, False, False, True, False, False]]


def test_renas_values() -> None:
    enc = BEST.encode("renas")
    assert enc.shape == (35, 4, 4)
    assert enc[:5].sum() == 6
    assert enc[3, 0, 1] == 1  # nor_conv_3x3 on 1<-0
    assert enc[5, 0, 1] == pytest.approx(9 * 16 * 16 * 1024 / 1e6)  # first cell, 32x32
    assert enc[5 + 14, 0, 1] == pytest.approx(9 * 64 * 64 * 64 / 1e6)  # last cell, 8x8
    assert enc[20, 0, 1] == pytest.approx((9 * 16 * 16 + 32) / 1e6)
    assert enc[20, 1, 2] == 0.0  # avg pool has no params
    # sum of per-cell parameters = cell part of the network
    cell_params = enc[20:].sum() * 1e6
    assert cell_params == pytest.approx(BEST.num_params() - Cell.from_code(0).num_params(), rel=1e-5)


def test_errors() -> None:
    with pytest.raises(OutOfDomainError, match="adjacency_onehot"):
        SPACE.encode([BEST], "onehot")
    with pytest.raises(OutOfDomainError, match="path"):
        BEST.encode("bananas")
    with pytest.raises(OutOfDomainError):
        encode_codes(np.array([[0]]), "path")
    with pytest.raises(OutOfDomainError):
        encode_codes(np.array([-1]), "path")
