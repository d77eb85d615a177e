"""Vectorised helpers on the packed cell form ``(num_vertices, edge_bits, op_code)``.

Packed form (one entry per cell; see ``Cell.packed``):

* ``num_vertices``: uint8, 2..7, vertices of the pruned cell;
* ``edge_bits``: uint32, bit ``i + j*(j-1)/2`` set for every edge ``i -> j`` of the pruned
  matrix (the official ``graph_util.gen_is_edge_fn`` order, which does not depend on the
  matrix size);
* ``op_code``: uint8, ``sum(code_k * 3**k)`` over the inner vertices ``k = 0..n-3``
  (codes are indices in ``OPS``).

Two 7-vertex layouts are derived from it:

* *end-padded* (:func:`end_padded`): the pruned matrix in the top-left corner, zeros after
  it (output at index ``n - 1``);
* *output-last* (:func:`output_last`): pad vertices inserted just before the output, so the
  output is always vertex 6 (the BANANAS/NASLib convention).

Examples
--------
>>> a, k = output_last(np.array([3]), np.array([0b101]), np.array([2]))
>>> a[0, 0].tolist(), k[0].tolist()
([0, 1, 0, 0, 0, 0, 0], [3, 2, 5, 5, 5, 5, 4])
"""

from __future__ import annotations

import numpy as np

from nasbench_tools.spaces.nb101.ops import MAX_VERTICES

__all__ = [
    "KIND_INPUT",
    "KIND_OUTPUT",
    "KIND_PAD",
    "end_padded",
    "inner_codes",
    "output_last",
]

#: Vertex kinds in the 7-vertex layouts beyond the op codes 0, 1, 2.
KIND_INPUT = 3
KIND_OUTPUT = 4
KIND_PAD = 5

_V = MAX_VERTICES
_NBITS = _V * (_V - 1) // 2
_I = np.array([i for j in range(_V) for i in range(j)], dtype=np.intp)
_J = np.array([j for j in range(_V) for i in range(j)], dtype=np.intp)


def end_padded(num_vertices: np.ndarray, edge_bits: np.ndarray) -> np.ndarray:
    """Unpack edge bits to ``(N, 7, 7)`` uint8 matrices with the pruned cell top-left.

    Parameters
    ----------
    num_vertices : numpy.ndarray of shape (N,)
        Unused except for its length; kept for a uniform signature.
    edge_bits : numpy.ndarray of shape (N,)
        Packed edges.

    Returns
    -------
    numpy.ndarray of shape (N, 7, 7)

    Examples
    --------
    >>> end_padded(np.array([2]), np.array([1]))[0, :2, :2].tolist()
    [[0, 1], [0, 0]]
    """
    bits = np.asarray(edge_bits, dtype=np.uint32)
    flat = ((bits[:, None] >> np.arange(_NBITS, dtype=np.uint32)) & 1).astype(np.uint8)
    out = np.zeros((len(bits), _V, _V), dtype=np.uint8)
    out[:, _I, _J] = flat
    return out


def inner_codes(num_vertices: np.ndarray, op_code: np.ndarray) -> np.ndarray:
    """Op code of every inner vertex, ``(N, 5)`` int8, -1 where the vertex does not exist.

    Examples
    --------
    >>> inner_codes(np.array([4]), np.array([7])).tolist()
    [[1, 2, -1, -1, -1]]
    """
    nv = np.asarray(num_vertices, dtype=np.int64)
    code = np.asarray(op_code, dtype=np.int64)
    digits = (code[:, None] // 3 ** np.arange(_V - 2)) % 3
    exists = np.arange(_V - 2)[None, :] < (nv[:, None] - 2)
    return np.where(exists, digits, -1).astype(np.int8)


def output_last(
    num_vertices: np.ndarray, edge_bits: np.ndarray, op_code: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """7-vertex matrices with pad vertices inserted before the output, and vertex kinds.

    Parameters
    ----------
    num_vertices, edge_bits, op_code : numpy.ndarray of shape (N,)
        Packed cells.

    Returns
    -------
    matrices : numpy.ndarray of shape (N, 7, 7), uint8
        Real vertex ``k < n - 1`` stays at ``k``, the output moves to 6.
    kinds : numpy.ndarray of shape (N, 7), int8
        0..2 op code, :data:`KIND_INPUT`, :data:`KIND_OUTPUT` or :data:`KIND_PAD`.

    Examples
    --------
    >>> a, k = output_last(np.array([2]), np.array([1]), np.array([0]))
    >>> int(a[0, 0, 6]), k[0].tolist()
    (1, [3, 5, 5, 5, 5, 5, 4])
    """
    nv = np.asarray(num_vertices, dtype=np.int64)
    top = end_padded(nv, edge_bits)
    out = np.zeros_like(top)
    kinds = np.full((len(nv), _V), KIND_PAD, dtype=np.int8)
    kinds[:, 0] = KIND_INPUT
    kinds[:, _V - 1] = KIND_OUTPUT
    codes = inner_codes(nv, op_code)
    for n in range(2, _V + 1):
        rows = np.flatnonzero(nv == n)
        if rows.size == 0:
            continue
        pos = np.array([*range(n - 1), _V - 1], dtype=np.intp)
        block = top[rows][:, :n, :n]
        out[rows[:, None, None], pos[None, :, None], pos[None, None, :]] = block
        if n > 2:
            kinds[rows, 1 : n - 1] = codes[rows, : n - 2]
    return out, kinds
