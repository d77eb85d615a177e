"""The official NAS-Bench-101 module hash, reimplemented without TensorFlow.

Algorithm (facts from the official ``nasbench/lib/graph_util.py``, ``hash_module``, and
``model_spec.py``, ``hash_spec``):

1. Every vertex gets a label: ``input`` -1, ``output`` -2, an inner op its index in
   :data:`~nasbench_tools.spaces.nb101.ops.OPS`.
2. Its first hash is the md5 hex digest of the text of the Python tuple
   ``(out_degree, in_degree, label)``, e.g. ``"(2, 0, -1)"``.
3. Then, as many rounds as there are vertices, every vertex's hash becomes the md5 of
   ``"".join(sorted(in-neighbour hashes)) + "|" + "".join(sorted(out-neighbour hashes))
   + "|" + own hash``.
4. The fingerprint is the md5 of the text of the sorted list of final hashes
   (``str(sorted(hashes))``, i.e. ``"['…', '…']"``).

The hash is computed on the pruned matrix and is invariant under vertex relabelling.

Examples
--------
>>> module_hash([[0, 1], [0, 0]], [-1, -2])
'043721b9c7fe8c5fad811d47d83132ec'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["labels_of", "module_hash", "module_hashes"]

_md5 = hashlib.md5


@lru_cache(maxsize=4096)
def _first_hash(out_degree: int, in_degree: int, label: int) -> bytes:
    return _md5(str((out_degree, in_degree, label)).encode("utf-8")).hexdigest().encode("ascii")


def labels_of(op_codes: Sequence[int]) -> list[int]:
    """Hash labels of a cell from the codes of its inner vertices.

    Parameters
    ----------
    op_codes : sequence of int
        Index in ``OPS`` of every inner vertex, in vertex order.

    Returns
    -------
    list of int
        ``[-1, *op_codes, -2]``.

    Examples
    --------
    >>> labels_of([0, 2])
    [-1, 0, 2, -2]
    """
    return [-1, *(int(c) for c in op_codes), -2]


def module_hash(matrix: Sequence[Sequence[int]] | np.ndarray, labels: Sequence[int]) -> str:
    """Official md5 module hash of a (pruned) cell.

    Parameters
    ----------
    matrix : array-like of shape (n, n)
        0/1 upper-triangular adjacency matrix (``matrix[i][j] = 1``: edge ``i -> j``).
    labels : sequence of int
        One label per vertex: -1 input, -2 output, else the op index in ``OPS``.

    Returns
    -------
    str
        32 lowercase hex digits.

    Examples
    --------
    >>> module_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [-1, 0, -2])
    'b49ac8c578b4561d79ac7087988f1c61'
    """
    rows = np.asarray(matrix).tolist()
    n = len(labels)
    ins = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    hashes = [_first_hash(len(outs[v]), len(ins[v]), int(labels[v])) for v in range(n)]
    order = range(n)
    join = b"".join
    for _ in order:
        hashes = [
            _md5(
                join(sorted([hashes[w] for w in ins[v]]))
                + b"|"
                + join(sorted([hashes[w] for w in outs[v]]))
                + b"|"
                + hashes[v]
            )
            .hexdigest()
            .encode("ascii")
            for v in order
        ]
    return _md5(str(sorted(h.decode("ascii") for h in hashes)).encode("utf-8")).hexdigest()


def module_hashes(
    matrix: Sequence[Sequence[int]] | np.ndarray, labellings: Sequence[Sequence[int]]
) -> list[str]:
    """Official hashes of one matrix under many labellings (shares the graph set-up).

    Parameters
    ----------
    matrix : array-like of shape (n, n)
        0/1 upper-triangular adjacency matrix of a pruned cell.
    labellings : sequence of sequences of int
        Each a full label list (-1 input, -2 output, op indices), as in :func:`module_hash`.

    Returns
    -------
    list of str
        ``[module_hash(matrix, labels) for labels in labellings]``.

    Examples
    --------
    >>> module_hashes([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [[-1, 0, -2], [-1, 1, -2]])[0]
    'b49ac8c578b4561d79ac7087988f1c61'
    """
    rows = np.asarray(matrix).tolist()
    n = len(rows)
    ins = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    degrees = [(len(outs[v]), len(ins[v])) for v in range(n)]
    pairs = list(zip(range(n), ins, outs))
    join = b"".join
    out: list[str] = []
    for labels in labellings:
        hashes = [_first_hash(o, i, int(lab)) for (o, i), lab in zip(degrees, labels)]
        for _ in range(n):
            hashes = [
                _md5(
                    join(sorted([hashes[w] for w in iv]))
                    + b"|"
                    + join(sorted([hashes[w] for w in ov]))
                    + b"|"
                    + hashes[v]
                )
                .hexdigest()
                .encode("ascii")
                for v, iv, ov in pairs
            ]
        out.append(_md5(str(sorted(h.decode("ascii") for h in hashes)).encode("utf-8")).hexdigest())
    return out
