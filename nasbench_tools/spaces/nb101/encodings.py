"""Array encodings of NAS-Bench-101 cells, vectorised over the packed form.

Layouts (``N`` cells):

``adjacency_onehot`` (N, 36) float32
    The cell in the output-last 7-vertex layout (pad vertices inserted before the output,
    as BANANAS/NASLib pad): its 21 upper-triangle entries in row-major order
    ``(0,1), (0,2), ..., (0,6), (1,2), ..., (5,6)``, then for the inner vertices 1..5 a
    one-hot of the op in ``OPS`` order (conv3x3, conv1x1, maxpool3x3); pad vertices are
    all zero.
``path`` (N, 364) float32
    BANANAS path encoding: one feature per sequence of inner ops along an input -> output
    path, of length 0..5; a sequence ``(c_0, ..., c_{L-1})`` (codes with conv3x3 0,
    conv1x1 1, maxpool3x3 2) has index ``sum(3**i * (c_i + 1))``; the feature is 1 when
    at least one path has that sequence.
``gbdt`` (N, 45) float32
    GBDT-NAS sequence (renqianluo/GBDT-NAS, ``convert_arch_to_seq``): for every column
    ``j = 1..6`` of the end-padded matrix, the entries ``(0,j) .. (j-1,j)`` then a one-hot
    of vertex ``j`` over (conv1x1, conv3x3, maxpool3x3, output); columns past the pruned
    cell are zero.
``renas`` (N, 19, 7, 7) float32
    ReNAS feature tensor in the output-last layout: channel 0 is the type matrix
    ``A[i, j] * t[j]`` (t: input 1, conv1x1 2, conv3x3 3, maxpool3x3 4, output 5, pad 0);
    channels 1..9 are ``A[i, j] * flops[j]`` for the 9 cells of the network in order,
    channels 10..18 ``A[i, j] * params[j]``; vertex costs come from
    :func:`~nasbench_tools.spaces.nb101.costs.vertex_costs` (CIFAR-10), FLOPs (MACs)
    divided by 1e7 and parameters by 1e5.

Examples
--------
>>> x = encode_packed(np.array([2]), np.array([1]), np.array([0]), "adjacency_onehot")
>>> x.shape, int(x[0, 5])
((1, 36), 1)
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations, pairwise

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nb101.arrays import (
    KIND_INPUT,
    KIND_OUTPUT,
    end_padded,
    inner_codes,
    output_last,
)
from nasbench_tools.spaces.nb101.costs import vertex_costs

__all__ = ["ENCODERS", "ENCODING_SHAPES", "encode_packed"]

_V = 7
_ROW_I, _ROW_J = np.triu_indices(_V, k=1)

#: GBDT-NAS one-hot slot of each vertex kind (conv3x3=0 -> slot 1, conv1x1=1 -> slot 0).
_GBDT_SLOT = np.array([1, 0, 2, -1, 3, -1], dtype=np.int64)
#: ReNAS type number of each vertex kind (ops 0..2, input, output, pad).
_RENAS_TYPE = np.array([3, 2, 4, 1, 5, 0], dtype=np.float32)

Packed = tuple[np.ndarray, np.ndarray, np.ndarray]


def _adjacency_onehot(nv: np.ndarray, bits: np.ndarray, code: np.ndarray) -> np.ndarray:
    a, kinds = output_last(nv, bits, code)
    out = np.zeros((len(nv), 36), dtype=np.float32)
    out[:, :21] = a[:, _ROW_I, _ROW_J]
    inner = kinds[:, 1 : _V - 1].astype(np.int64)  # (N, 5)
    rows, cols = np.nonzero(inner < 3)
    out[rows, 21 + 3 * cols + inner[rows, cols]] = 1.0
    return out


def _path(nv: np.ndarray, bits: np.ndarray, code: np.ndarray) -> np.ndarray:
    a, kinds = output_last(nv, bits, code)
    n = len(nv)
    out = np.zeros((n, 364), dtype=np.float32)
    codes = kinds.astype(np.int64)
    for length in range(_V - 1):
        for inner in combinations(range(1, _V - 1), length):
            seq = (0, *inner, _V - 1)
            exists = np.ones(n, dtype=bool)
            for u, v in pairwise(seq):
                exists &= a[:, u, v] == 1
            index = np.zeros(n, dtype=np.int64)
            for i, v in enumerate(inner):
                index += 3**i * (codes[:, v] + 1)
            rows = np.flatnonzero(exists)
            out[rows, index[rows]] = 1.0
    return out


def _gbdt(nv: np.ndarray, bits: np.ndarray, code: np.ndarray) -> np.ndarray:
    top = end_padded(nv, bits)
    nvi = np.asarray(nv, dtype=np.int64)
    kinds = np.full((len(nvi), _V), -1, dtype=np.int64)
    kinds[:, 1 : _V - 1] = inner_codes(nvi, code)
    kinds[np.arange(len(nvi)), nvi - 1] = KIND_OUTPUT
    parts = []
    for j in range(1, _V):
        parts.append(top[:, :j, j].astype(np.float32))
        onehot = np.zeros((len(nvi), 4), dtype=np.float32)
        slot = np.where(kinds[:, j] >= 0, _GBDT_SLOT[np.clip(kinds[:, j], 0, 5)], -1)
        rows = np.flatnonzero(slot >= 0)
        onehot[rows, slot[rows]] = 1.0
        parts.append(onehot)
    return np.concatenate(parts, axis=1)


def _renas(nv: np.ndarray, bits: np.ndarray, code: np.ndarray) -> np.ndarray:
    a, kinds = output_last(nv, bits, code)
    af = a.astype(np.float32)
    params, macs = vertex_costs(nv, bits, code, "cifar10")
    out = np.empty((len(nv), 19, _V, _V), dtype=np.float32)
    out[:, 0] = af * _RENAS_TYPE[kinds.astype(np.int64)][:, None, :]
    out[:, 1:10] = af[:, None] * (macs.astype(np.float32) / 1e7)[:, :, None, :]
    out[:, 10:19] = af[:, None] * (params.astype(np.float32) / 1e5)[:, :, None, :]
    return out


assert KIND_INPUT == 3 and KIND_OUTPUT == 4  # layout of _GBDT_SLOT / _RENAS_TYPE

#: Encoding kind -> vectorised encoder on packed arrays.
ENCODERS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "adjacency_onehot": _adjacency_onehot,
    "path": _path,
    "gbdt": _gbdt,
    "renas": _renas,
}

#: Encoding kind -> shape of one encoded cell.
ENCODING_SHAPES: dict[str, tuple[int, ...]] = {
    "adjacency_onehot": (36,),
    "path": (364,),
    "gbdt": (45,),
    "renas": (19, 7, 7),
}


def encode_packed(
    num_vertices: np.ndarray, edge_bits: np.ndarray, op_code: np.ndarray, kind: str
) -> np.ndarray:
    """Encode packed cells; see the module docstring for the layouts.

    Parameters
    ----------
    num_vertices, edge_bits, op_code : numpy.ndarray of shape (N,)
        Packed cells (``Cell.packed``).
    kind : str
        ``"adjacency_onehot"``, ``"path"``, ``"gbdt"`` or ``"renas"``.

    Returns
    -------
    numpy.ndarray of shape (N, ...) and dtype float32

    Raises
    ------
    OutOfDomainError
        For an unknown ``kind``.

    Examples
    --------
    >>> encode_packed(np.array([3]), np.array([0b101]), np.array([2]), "gbdt").shape
    (1, 45)
    """
    if kind not in ENCODERS:
        raise OutOfDomainError(
            f"unknown NB101 encoding {kind!r}; allowed: {allowed(ENCODERS)}"
        )
    return ENCODERS[kind](
        np.asarray(num_vertices), np.asarray(edge_bits), np.asarray(op_code)
    )
