"""Vocabulary and edge layout of the NAS-Bench-201 (NATS-Bench topology) cell.

The cell is a DAG on four nodes ``0 -> 1 -> 2 -> 3``; node 0 is the cell input, node 3 the
output, and every pair ``j < i`` is joined by one edge carrying one of five operations.
Edges are listed in the order of the official string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: ``(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)``.

Everything here is plain data (tuples and read-only numpy arrays) so that the vectorised
helpers can work on integer arrays without building ``Cell`` objects.

Examples
--------
>>> OPS[3], EDGES[2], NUM_CELLS
('nor_conv_3x3', (1, 2), 15625)
>>> ALL_OP_INDICES.shape
(15625, 6)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ALL_OP_INDICES",
    "EDGES",
    "EDGE_OF",
    "NASLIB_CODE_OF_OP",
    "NASLIB_EDGE_ORDER",
    "NASLIB_OPS",
    "NUM_CELLS",
    "NUM_EDGES",
    "NUM_NODES",
    "NUM_OPS",
    "OPS",
    "OP_INDEX",
    "PLACE_VALUES",
    "codes_to_op_indices",
    "op_indices_to_codes",
]

#: The five operations, in the order used by ``Cell.code`` and every one-hot encoding.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Operation name -> position in :data:`OPS`.
OP_INDEX: dict[str, int] = {op: i for i, op in enumerate(OPS)}
NUM_OPS = len(OPS)
NUM_NODES = 4
#: ``(source, destination)`` of each edge, in official string order.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: ``(source, destination)`` -> position of the edge in :data:`EDGES`.
EDGE_OF: dict[tuple[int, int], int] = {e: k for k, e in enumerate(EDGES)}
NUM_EDGES = len(EDGES)
NUM_CELLS = NUM_OPS**NUM_EDGES

#: NASLib's op codes (``naslib/search_spaces/nasbench201/conversions.py`` convention).
NASLIB_OPS: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)
#: Operation name -> NASLib code.
NASLIB_CODE_OF_OP: dict[str, int] = {op: i for i, op in enumerate(NASLIB_OPS)}
#: NASLib lists edges as (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) in 1-based node numbers, i.e.
#: ``(0,1),(0,2),(0,3),(1,2),(1,3),(2,3)``; entry ``k`` is the official-string position of
#: NASLib's ``k``-th edge.
NASLIB_EDGE_ORDER: tuple[int, ...] = tuple(
    EDGE_OF[e] for e in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
)

#: Base-5 place values of the six edges; the first edge is the most significant digit.
PLACE_VALUES: np.ndarray = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1, dtype=np.int64)
PLACE_VALUES.setflags(write=False)


def codes_to_op_indices(codes: np.ndarray) -> np.ndarray:
    """Split integer codes into their six op indices (positions in :data:`OPS`).

    Parameters
    ----------
    codes : numpy.ndarray
        Integer codes in ``0 .. 15624`` (any shape); not range-checked here.

    Returns
    -------
    numpy.ndarray
        ``int8`` array of shape ``codes.shape + (6,)``.

    Examples
    --------
    >>> codes_to_op_indices(np.array([0, 1, 15624])).tolist()
    [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [4, 4, 4, 4, 4, 4]]
    """
    codes = np.asarray(codes, dtype=np.int64)
    return ((codes[..., None] // PLACE_VALUES) % NUM_OPS).astype(np.int8)


def op_indices_to_codes(op_indices: np.ndarray) -> np.ndarray:
    """Inverse of :func:`codes_to_op_indices`.

    Parameters
    ----------
    op_indices : numpy.ndarray
        Integer array of shape ``(..., 6)`` with values in ``0 .. 4``.

    Returns
    -------
    numpy.ndarray
        ``int64`` codes of shape ``op_indices.shape[:-1]``.

    Examples
    --------
    >>> op_indices_to_codes(np.array([[0, 0, 0, 0, 0, 1], [4, 4, 4, 4, 4, 4]])).tolist()
    [1, 15624]
    """
    return np.asarray(op_indices, dtype=np.int64) @ PLACE_VALUES


#: Op indices of every cell, row ``c`` = cell with code ``c``; read-only.
ALL_OP_INDICES: np.ndarray = codes_to_op_indices(np.arange(NUM_CELLS))
ALL_OP_INDICES.setflags(write=False)
