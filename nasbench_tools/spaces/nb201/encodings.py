"""Array encodings of NAS-Bench-201 cells, vectorised over ``Cell.code`` arrays.

``adjacency_onehot`` (30,)
    The op of each of the 6 edges (string order) one-hot over ``OPS`` (6 x 5, flattened).
``path`` (155,)
    BANANAS path encoding. The cell has four input-output paths, written as edge
    positions: ``0->3`` (edge 3), ``0->1->3`` (edges 0, 4), ``0->2->3`` (edges 1, 5) and
    ``0->1->2->3`` (edges 0, 2, 5). A path is named by its op sequence; feature
    ``a`` for a length-1 path, ``5 + 5a + b`` for length 2, ``30 + 25a + 5b + c`` for length
    3 (``a`` = op index of the first edge, ``OPS`` order), so 5 + 25 + 125 = 155 binary
    features with at most 4 ones. Paths through ``none`` are kept, as in NASLib's variant
    (which uses NASLib's op numbering and the reversed digit order; same information).
``gbdt`` (58,)
    The NAS-Bench-201 analogue of the GBDT-NAS sequence (NB101: flattened upper-triangular
    adjacency + op one-hot). Here: the upper triangle (28 values) of the 8 x 8 adjacency of
    the *pruned* op-labelled DAG (node slots: input, the 6 edges in string order, output;
    ``none`` and dead op nodes lose all their links), followed by ``adjacency_onehot``
    (30 values).
``renas`` (35, 4, 4)
    The ReNAS feature tensor on the 4-node cell DAG: matrices indexed ``[source, dest]``.
    Channels 0-4: one per op in ``OPS`` order, 1 where the edge carries that op. Then for
    each of the 15 cells of the CIFAR-10 network (stages of 5 cells at 16, 32, 64
    channels): the MFLOPs of each edge's module (channels 5-19) and its parameters in
    millions (channels 20-34).

Examples
--------
>>> encode_codes(np.array([0, 15624]), "path").sum(axis=1).tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from nasbench_tools.spaces._common import encode_numbers
from nasbench_tools.spaces.nb201.constants import (
    ALL_OP_INDICES,
    EDGES,
    NUM_CELLS,
    NUM_EDGES,
    NUM_NODES,
    NUM_OPS,
    OP_INDEX,
)
from nasbench_tools.spaces.nb201.costs import NB201_CHANNELS, NB201_N, edge_costs

__all__ = ["ENCODINGS", "ENCODING_SHAPES", "PATHS", "encode_codes", "live_edges"]

#: The four input-output paths as tuples of edge positions (string order).
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_PATH_OFFSET = {1: 0, 2: NUM_OPS, 3: NUM_OPS + NUM_OPS**2}
_NUM_PATH_FEATURES = NUM_OPS + NUM_OPS**2 + NUM_OPS**3


def live_edges(op_indices: np.ndarray) -> np.ndarray:
    """Mask of edges that are not ``none`` and lie on an input-output path.

    Parameters
    ----------
    op_indices : numpy.ndarray
        Shape ``(n, 6)``.

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(n, 6)``.

    Examples
    --------
    >>> live_edges(np.array([[3, 0, 0, 1, 0, 3]])).astype(int).tolist()
    [[0, 0, 0, 1, 0, 0]]
    """
    ops = np.asarray(op_indices)
    nonzero = ops != OP_INDEX["none"]
    n = ops.shape[0]
    forward = [np.ones(n, dtype=bool)] + [np.zeros(n, dtype=bool)] * (NUM_NODES - 1)
    for i in range(1, NUM_NODES):
        for k, (s, d) in enumerate(EDGES):
            if d == i:
                forward[i] = forward[i] | (nonzero[:, k] & forward[s])
    backward = [np.zeros(n, dtype=bool)] * (NUM_NODES - 1) + [np.ones(n, dtype=bool)]
    for i in range(NUM_NODES - 2, -1, -1):
        for k, (s, d) in enumerate(EDGES):
            if s == i:
                backward[i] = backward[i] | (nonzero[:, k] & backward[d])
    return np.stack(
        [nonzero[:, k] & forward[s] & backward[d] for k, (s, d) in enumerate(EDGES)], axis=1
    )


def _onehot(ops: np.ndarray) -> np.ndarray:
    return (ops[:, :, None] == np.arange(NUM_OPS)).reshape(len(ops), -1).astype(np.float32)


def _path(ops: np.ndarray) -> np.ndarray:
    out = np.zeros((len(ops), _NUM_PATH_FEATURES), dtype=np.float32)
    rows = np.arange(len(ops))
    for path in PATHS:
        feature = np.full(len(ops), _PATH_OFFSET[len(path)], dtype=np.int64)
        for k, edge in enumerate(path):
            feature += ops[:, edge].astype(np.int64) * NUM_OPS ** (len(path) - 1 - k)
        out[rows, feature] = 1.0
    return out


#: Op-DAG links as (from slot, to slot, edge positions that must be live).
_SLOTS = 2 + NUM_EDGES  # input, e0..e5, output
_LINKS: list[tuple[int, int, tuple[int, ...]]] = []
for _k, (_s, _d) in enumerate(EDGES):
    if _s == 0:
        _LINKS.append((0, 1 + _k, (_k,)))
    if _d == NUM_NODES - 1:
        _LINKS.append((1 + _k, _SLOTS - 1, (_k,)))
    for _k2, (_s2, _d2) in enumerate(EDGES):
        if _s2 == _d:
            _LINKS.append((1 + _k, 1 + _k2, (_k, _k2)))
_TRIU = np.triu_indices(_SLOTS, k=1)


def _gbdt(ops: np.ndarray) -> np.ndarray:
    live = live_edges(ops)
    adj = np.zeros((len(ops), _SLOTS, _SLOTS), dtype=np.float32)
    for a, b, need in _LINKS:
        adj[:, a, b] = np.logical_and.reduce([live[:, k] for k in need])
    return np.concatenate([adj[:, _TRIU[0], _TRIU[1]], _onehot(ops)], axis=1)


@functools.cache
def _edge_cost_tables() -> tuple[np.ndarray, np.ndarray]:
    """(15 cells, 5 ops) tables of MFLOPs and parameters (millions), CIFAR-10 network."""
    flops = np.zeros((3 * NB201_N, NUM_OPS))
    params = np.zeros((3 * NB201_N, NUM_OPS))
    side = 32
    for stage, c in enumerate(NB201_CHANNELS):
        for op in range(NUM_OPS):
            p, f = edge_costs(op, c, c, side * side)
            rows = slice(stage * NB201_N, (stage + 1) * NB201_N)
            params[rows, op] = p / 1e6
            flops[rows, op] = f / 1e6
        side //= 2
    return flops, params


_SRC = np.array([s for s, _ in EDGES])
_DST = np.array([d for _, d in EDGES])


def _renas(ops: np.ndarray) -> np.ndarray:
    n = len(ops)
    flops, params = _edge_cost_tables()
    out = np.zeros((n, NUM_OPS + 2 * len(flops), NUM_NODES, NUM_NODES), dtype=np.float32)
    rows = np.arange(n)[:, None]
    out[rows, ops, _SRC, _DST] = 1.0
    cells = len(flops)
    # per-edge costs in every cell: shape (n, 15, 6)
    f_edges = flops[:, ops].transpose(1, 0, 2)
    p_edges = params[:, ops].transpose(1, 0, 2)
    out[:, NUM_OPS : NUM_OPS + cells][:, :, _SRC, _DST] = f_edges
    out[:, NUM_OPS + cells :][:, :, _SRC, _DST] = p_edges
    return out


_ENCODERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "adjacency_onehot": _onehot,
    "path": _path,
    "gbdt": _gbdt,
    "renas": _renas,
}
#: Encoding kinds, in registry order.
ENCODINGS: tuple[str, ...] = tuple(_ENCODERS)
#: Shape of one encoded cell, per kind.
ENCODING_SHAPES: dict[str, tuple[int, ...]] = {
    "adjacency_onehot": (NUM_EDGES * NUM_OPS,),
    "path": (_NUM_PATH_FEATURES,),
    "gbdt": (len(_TRIU[0]) + NUM_EDGES * NUM_OPS,),
    "renas": (NUM_OPS + 2 * 3 * NB201_N, NUM_NODES, NUM_NODES),
}


def encode_codes(codes: np.ndarray, kind: str) -> np.ndarray:
    """Encode cells given by ``Cell.code``.

    Parameters
    ----------
    codes : array-like of int
        1-d array of codes in ``0..15624``.
    kind : str
        One of :data:`ENCODINGS`.

    Returns
    -------
    numpy.ndarray
        ``float32``, shape ``(len(codes),) + ENCODING_SHAPES[kind]``.

    Raises
    ------
    OutOfDomainError
        Unknown kind or bad codes.

    Examples
    --------
    >>> encode_codes(np.array([1]), "adjacency_onehot").reshape(6, 5)[-1].tolist()
    [0.0, 1.0, 0.0, 0.0, 0.0]
    """
    encoder, arr = encode_numbers(codes, kind, _ENCODERS, "nb201", NUM_CELLS, "codes", "cell codes")
    return encoder(ALL_OP_INDICES[arr])
