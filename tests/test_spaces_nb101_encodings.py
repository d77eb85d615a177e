"""NB101 array encodings: shapes, hand-checked values, batch == single."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces.nb101 import ENCODING_SHAPES, SPACE, Cell, encode_packed

SHAPES = {"adjacency_onehot": (36,), "path": (364,), "gbdt": (45,), "renas": (19, 7, 7)}
DIAMOND = Cell.from_string("c3,mp|0110.0001.0001.0000")  # in -> {c3, mp} -> out
TRIVIAL = Cell.from_string("|01.00")


def test_shapes_and_registry() -> None:
    assert ENCODING_SHAPES == SHAPES
    cells = SPACE.sample(np.random.default_rng(0), 5)
    for kind, shape in SHAPES.items():
        assert DIAMOND.encode(kind).shape == shape
        batch = SPACE.encode(cells, kind)
        assert batch.shape == (5, *shape) and batch.dtype == np.float32


def test_adjacency_onehot_values() -> None:
    x = DIAMOND.encode("adjacency_onehot")
    # edges (0,1), (0,2), (1,6), (2,6) in the output-last layout, row-major upper triangle
    # -> indices 0, 1, 10, 14; ops: vertex 1 conv3x3 (21 + 0), vertex 2 maxpool (24 + 2)
    assert np.flatnonzero(x).tolist() == [0, 1, 10, 14, 21, 26]
    y = TRIVIAL.encode("adjacency_onehot")
    assert np.flatnonzero(y).tolist() == [5]  # only input -> output; pads have no op


def test_path_values() -> None:
    assert np.flatnonzero(DIAMOND.encode("path")).tolist() == [1, 3]
    assert np.flatnonzero(TRIVIAL.encode("path")).tolist() == [0]
    chain = Cell.from_string(
        "c3,c1,mp,c3,c1|0100000.0010000.0001000.0000100.0000010.0000001.0000000"
    )
    # (c3, c1, mp, c3, c1) -> 1*1 + 3*2 + 9*3 + 27*1 + 81*2
    assert np.flatnonzero(chain.encode("path")).tolist() == [223]


def test_path_counts_distinct_sequences_once() -> None:
    # two parallel conv3x3 vertices: two paths with the same op sequence -> one feature
    c = Cell.from_string("c3,c3|0110.0001.0001.0000")
    assert c.encode("path").sum() == 1


def test_gbdt_values() -> None:
    x = DIAMOND.encode("gbdt")
    # col 1: (0,1)=1 | conv3x3 slot 1 ; col 2: (0,2)=1 | maxpool slot 2 ;
    # col 3: (1,3)=(2,3)=1 | output slot 3 ; cols 4..6 empty
    assert np.flatnonzero(x).tolist() == [0, 2, 5, 9, 12, 13, 17]
    assert np.flatnonzero(TRIVIAL.encode("gbdt")).tolist() == [0, 4]


def test_renas_values() -> None:
    x = TRIVIAL.encode("renas")
    assert np.flatnonzero(x[0]).tolist() == [6]
    assert x[0, 0, 6] == 5  # output type number on the input -> output edge
    # first cell: the output projection 128 -> 128 at 32x32, MACs / 1e7 and params / 1e5
    assert x[1, 0, 6] == pytest.approx(128 * 128 * 32 * 32 / 1e7)
    assert x[10, 0, 6] == pytest.approx((128 * 128 + 256) / 1e5)
    y = DIAMOND.encode("renas")
    assert y[0, 0, 1] == 3 and y[0, 0, 2] == 4 and y[0, 1, 6] == 5
    # conv3x3 vertex in cell 1: 64 channels (128 split over 2 output feeders) + projection
    assert y[1, 0, 1] == pytest.approx((9 * 64 * 64 + 128 * 64) * 1024 / 1e7)
    assert y[1, 0, 2] == pytest.approx(128 * 64 * 1024 / 1e7)  # maxpool: projection only


def test_batch_equals_single() -> None:
    cells = SPACE.sample(np.random.default_rng(4), 40)
    for kind in SHAPES:
        batch = SPACE.encode(cells, kind)
        single = np.stack([c.encode(kind) for c in cells])
        assert np.array_equal(batch, single)


def test_whole_table_fast_path_matches_cells() -> None:
    cells = SPACE.all_cells()
    idx = np.arange(0, len(cells), 4001)
    t = cells.table
    for kind in ("adjacency_onehot", "path", "gbdt"):
        fast = encode_packed(t.num_vertices[idx], t.edge_bits[idx], t.op_code[idx], kind)
        slow = SPACE.encode([cells[int(i)] for i in idx], kind)
        assert np.array_equal(fast, slow)


def test_path_is_isomorphism_invariant() -> None:
    a = Cell.from_string("c3,mp,c1|01100.00010.00001.00001.00000")
    b = Cell.from_string("mp,c3,c1|01100.00001.00010.00001.00000")
    assert a == b
    assert np.array_equal(a.encode("path"), b.encode("path"))
    assert not np.array_equal(a.encode("adjacency_onehot"), b.encode("adjacency_onehot"))


def test_unknown_encoding() -> None:
    with pytest.raises(OutOfDomainError, match="adjacency_onehot"):
        DIAMOND.encode("zcp")
