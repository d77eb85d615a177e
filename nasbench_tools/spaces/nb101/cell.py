"""The NAS-Bench-101 cell: validation, official pruning, hash, text form, graph.

A cell is a DAG of at most 7 vertices: vertex 0 is ``input``, the last is ``output``, the
others carry one of :data:`~nasbench_tools.spaces.nb101.ops.OPS`. It is given as an upper
triangular 0/1 adjacency matrix plus one op label per vertex, exactly as the official
``ModelSpec(matrix, ops)``.

Construction follows the official rules (``nasbench/lib/model_spec.py`` and ``api.py``):

* the matrix must be square, 0/1, strictly upper triangular, with one op per vertex;
* vertices that are not on a path from input to output are deleted (rows, columns and
  ops), keeping the order of the others ("pruning");
* if input and output are not connected the official spec is marked invalid; here that
  raises :class:`~nasbench_tools.errors.OutOfDomainError`;
* the limits (7 vertices, 9 edges) and the op vocabulary are checked on the pruned cell,
  as the official ``_check_spec`` does. Stricter than the official code, the matrix given
  may not exceed 7 vertices and every op label must be valid, even on a pruned vertex.

Text form (``to_string``): the inner ops as short tokens (``c3`` conv3x3-bn-relu, ``c1``
conv1x1-bn-relu, ``mp`` maxpool3x3) joined by ``,``, then ``|``, then the rows of the
pruned matrix as 0/1 digits, joined by ``.``:
``"c3,mp|0110.0001.0001.0000"`` is input -> {conv3x3, maxpool} -> output.

Examples
--------
>>> c = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
...          ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
>>> c.to_string()
'c3,mp|0110.0001.0001.0000'
>>> Cell.from_string(c.to_string()) == c
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nb101.hashing import labels_of, module_hash
from nasbench_tools.spaces.nb101.ops import (
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    OP_CODE,
    OP_TOKEN,
    OPS,
    OUTPUT,
    TOKEN_OP,
)

__all__ = ["Cell", "prune"]


_ALL_LABELS = (INPUT, *OPS, OUTPUT)


def _as_matrix(matrix: Any) -> np.ndarray:
    """Validate the shape and values of an adjacency matrix; return it as uint8."""
    if isinstance(matrix, str | bytes):
        raise OutOfDomainError(
            "NB101 matrix must be a square 0/1 array or nested list, got a string; "
            "use Cell.from_string for the text form"
        )
    try:
        arr = np.asarray(matrix)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise OutOfDomainError(
            f"NB101 matrix is not a rectangular array ({exc}); allowed: a square 0/1 "
            f"array of 2 to {MAX_VERTICES} vertices"
        ) from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise OutOfDomainError(
            f"NB101 matrix must be square, got shape {arr.shape}; allowed: (n, n) with "
            f"2 <= n <= {MAX_VERTICES}"
        )
    n = arr.shape[0]
    if not 2 <= n <= MAX_VERTICES:
        raise OutOfDomainError(
            f"NB101 matrix has {n} vertices; allowed: 2 to {MAX_VERTICES} "
            "(input and output included)"
        )
    if arr.dtype.kind not in "biuf":
        raise OutOfDomainError(
            f"NB101 matrix entries must be numbers 0 or 1, got dtype {arr.dtype}"
        )
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise OutOfDomainError(
            f"NB101 matrix entry [{i}][{j}] is {arr[i, j]!r}; allowed: 0 or 1"
        )
    out = arr.astype(np.uint8)
    lower = np.tril(out)
    if lower.any():
        i, j = (int(x) for x in np.argwhere(lower)[0])
        raise OutOfDomainError(
            f"NB101 matrix must be strictly upper triangular (edges i -> j with i < j), "
            f"but entry [{i}][{j}] is 1"
        )
    return out


def _check_ops(ops: Any, n: int) -> tuple[str, ...]:
    if isinstance(ops, str) or not isinstance(ops, Sequence | np.ndarray):
        raise OutOfDomainError(
            f"NB101 ops must be a sequence of {n} labels, got {type(ops).__name__}"
        )
    labels = tuple(ops)
    if len(labels) != n:
        raise OutOfDomainError(
            f"NB101 ops has {len(labels)} labels but the matrix has {n} vertices; "
            "allowed: one label per vertex"
        )
    for k, op in enumerate(labels):
        if not isinstance(op, str) or op not in _ALL_LABELS:
            raise OutOfDomainError(
                f"NB101 op {k} is {op!r}; allowed: {allowed(_ALL_LABELS)}"
            )
    if labels[0] != INPUT:
        raise OutOfDomainError(f"NB101 first op must be {INPUT!r}, got {labels[0]!r}")
    if labels[-1] != OUTPUT:
        raise OutOfDomainError(f"NB101 last op must be {OUTPUT!r}, got {labels[-1]!r}")
    for k, op in enumerate(labels[1:-1], start=1):
        if op not in OP_CODE:
            raise OutOfDomainError(
                f"NB101 inner op {k} is {op!r}; allowed: {allowed(OPS)}"
            )
    return labels


def prune(matrix: Any, ops: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate a spec and delete the vertices that are not on an input-output path.

    Parameters
    ----------
    matrix : array-like of shape (n, n)
        Upper-triangular 0/1 adjacency matrix, ``2 <= n <= 7``.
    ops : sequence of str
        ``n`` labels, ``input`` first and ``output`` last.

    Returns
    -------
    matrix : numpy.ndarray
        The pruned matrix (uint8, writable copy).
    ops : tuple of str
        The ops of the remaining vertices.

    Raises
    ------
    OutOfDomainError
        For a malformed spec or when input and output are not connected.

    Examples
    --------
    >>> m, o = prune([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> m.tolist(), o
    ([[0, 1], [0, 0]], ('input', 'output'))
    """
    arr = _as_matrix(matrix)
    n = arr.shape[0]
    labels = _check_ops(ops, n)
    from_input = np.zeros(n, dtype=bool)
    from_input[0] = True
    for v in range(1, n):  # upper triangular: a single forward sweep suffices
        from_input[v] = bool((arr[:v, v].astype(bool) & from_input[:v]).any())
    to_output = np.zeros(n, dtype=bool)
    to_output[n - 1] = True
    for v in range(n - 2, -1, -1):
        to_output[v] = bool((arr[v, v + 1 :].astype(bool) & to_output[v + 1 :]).any())
    keep = from_input & to_output
    if not keep[0]:  # then nothing reaches the output from the input
        raise OutOfDomainError(
            "NB101 cell is invalid: no path from input to output (the official ModelSpec "
            "marks such specs invalid); allowed: cells where the output is reachable "
            "from the input"
        )
    idx = np.flatnonzero(keep)
    pruned = np.ascontiguousarray(arr[np.ix_(idx, idx)])
    kept_ops = tuple(labels[i] for i in idx)
    edges = int(pruned.sum())
    if edges > MAX_EDGES:
        raise OutOfDomainError(
            f"NB101 cell has {edges} edges after pruning; allowed: at most {MAX_EDGES}"
        )
    return pruned, kept_ops


def _bit_index(i: int, j: int) -> int:
    """Official edge bit index (``graph_util.gen_is_edge_fn``): column-major upper triangle."""
    return i + j * (j - 1) // 2


class Cell:
    """An immutable, pruned NAS-Bench-101 cell.

    Parameters
    ----------
    matrix : array-like of shape (n, n)
        Upper-triangular 0/1 adjacency matrix, ``2 <= n <= 7``.
    ops : sequence of str
        One label per vertex: ``input``, then inner ops from ``OPS``, then ``output``.

    Raises
    ------
    OutOfDomainError
        For anything outside the NAS-Bench-101 space; the message says what is allowed.

    Notes
    -----
    Two cells are equal (and have equal Python ``hash``) when their official module hashes
    are equal, i.e. when they are isomorphic.

    Examples
    --------
    >>> c = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> c.hash, c.num_vertices, c.num_edges
    ('b49ac8c578b4561d79ac7087988f1c61', 3, 2)
    """

    __slots__ = ("_hash", "_matrix", "_ops")

    _matrix: np.ndarray
    _ops: tuple[str, ...]
    _hash: str | None

    def __init__(self, matrix: Any, ops: Sequence[str]) -> None:
        pruned, kept = prune(matrix, ops)
        self._init(pruned, kept, None)

    def _init(self, matrix: np.ndarray, ops: tuple[str, ...], hash_: str | None) -> None:
        matrix.setflags(write=False)
        object.__setattr__(self, "_matrix", matrix)
        object.__setattr__(self, "_ops", ops)
        object.__setattr__(self, "_hash", hash_)

    @classmethod
    def _trusted(cls, matrix: np.ndarray, ops: tuple[str, ...], hash_: str | None = None) -> Cell:
        """Build from an already pruned, valid matrix (enumerated table); no checks."""
        cell = cls.__new__(cls)
        cell._init(np.ascontiguousarray(matrix, dtype=np.uint8), ops, hash_)
        return cell

    # ------------------------------------------------------------------ immutability
    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Cell is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Cell is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cell, (self._matrix.tolist(), list(self._ops)))

    def __copy__(self) -> Cell:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Cell:
        return self

    # ------------------------------------------------------------------ properties
    @property
    def matrix(self) -> np.ndarray:
        """Pruned adjacency matrix (read-only uint8 array)."""
        return self._matrix

    @property
    def ops(self) -> tuple[str, ...]:
        """Op label of every vertex of the pruned cell."""
        return self._ops

    @property
    def num_vertices(self) -> int:
        """Vertices of the pruned cell, input and output included."""
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        """Edges of the pruned cell."""
        return int(self._matrix.sum())

    @property
    def op_codes(self) -> tuple[int, ...]:
        """Index in ``OPS`` of every inner vertex."""
        return tuple(OP_CODE[op] for op in self._ops[1:-1])

    @property
    def hash(self) -> str:
        """Official NAS-Bench-101 module hash (32 hex digits); computed once."""
        h = self._hash
        if h is None:
            h = module_hash(self._matrix, labels_of(self.op_codes))
            object.__setattr__(self, "_hash", h)
        return h

    def packed(self) -> tuple[int, int, int]:
        """The compact form used by the enumerated table and the batch encoders.

        Returns
        -------
        num_vertices : int
        edge_bits : int
            Bit ``i + j*(j-1)/2`` set for every edge ``i -> j`` (the official
            ``gen_is_edge_fn`` order).
        op_code : int
            ``sum(code_k * 3**k)`` over the inner vertices ``k = 0, 1, ...``.

        Examples
        --------
        >>> Cell.from_string("c1,mp|0110.0001.0001.0000").packed()
        (4, 51, 7)
        """
        bits = 0
        ii, jj = np.nonzero(self._matrix)
        for i, j in zip(ii.tolist(), jj.tolist()):
            bits |= 1 << _bit_index(i, j)
        code = 0
        for k, c in enumerate(self.op_codes):
            code += c * 3**k
        return self.num_vertices, bits, code

    # ------------------------------------------------------------------ identity
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"Cell.from_string({self.to_string()!r})"

    # ------------------------------------------------------------------ text form
    def to_string(self) -> str:
        """Compact text form, read back exactly by :meth:`from_string`.

        Returns
        -------
        str
            ``"<inner op tokens joined by ,>|<matrix rows joined by .>"``.

        Examples
        --------
        >>> Cell([[0, 1], [0, 0]], ["input", "output"]).to_string()
        '|01.00'
        """
        ops = ",".join(OP_TOKEN[op] for op in self._ops[1:-1])
        rows = ".".join("".join(str(int(x)) for x in row) for row in self._matrix.tolist())
        return f"{ops}|{rows}"

    @classmethod
    def from_string(cls, text: str) -> Cell:
        """Parse the text form of :meth:`to_string` (full op labels are accepted too).

        Parameters
        ----------
        text : str
            For example ``"c3,c1|0110.0001.0001.0000"``.

        Returns
        -------
        Cell
            The (pruned) cell.

        Raises
        ------
        OutOfDomainError
            For malformed text, unknown tokens, or a spec outside the space.

        Examples
        --------
        >>> Cell.from_string("conv3x3-bn-relu|010.001.000").to_string()
        'c3|010.001.000'
        """
        if not isinstance(text, str):
            raise OutOfDomainError(
                f"NB101 cell text must be a str, got {type(text).__name__}"
            )
        s = text.strip()
        if s.count("|") != 1:
            raise OutOfDomainError(
                f"NB101 cell text {text!r} must have exactly one '|' between the op tokens "
                "and the matrix rows, e.g. 'c3,mp|0110.0001.0001.0000'"
            )
        ops_part, rows_part = s.split("|")
        tokens = [t.strip() for t in ops_part.split(",")] if ops_part.strip() else []
        inner: list[str] = []
        for t in tokens:
            if t not in TOKEN_OP:
                raise OutOfDomainError(
                    f"NB101 cell text {text!r}: unknown op token {t!r}; allowed: "
                    f"{allowed(TOKEN_OP)}"
                )
            inner.append(TOKEN_OP[t])
        rows = rows_part.split(".")
        if any(not r or any(ch not in "01" for ch in r) for r in rows):
            raise OutOfDomainError(
                f"NB101 cell text {text!r}: matrix rows must be non-empty strings of 0/1 "
                "digits separated by '.'"
            )
        if any(len(r) != len(rows) for r in rows):
            raise OutOfDomainError(
                f"NB101 cell text {text!r}: the matrix is not square ({len(rows)} rows of "
                f"lengths {sorted({len(r) for r in rows})}); allowed: n rows of n digits"
            )
        if len(rows) != len(inner) + 2:
            raise OutOfDomainError(
                f"NB101 cell text {text!r}: {len(inner)} op tokens for a {len(rows)}-vertex "
                f"matrix; allowed: exactly n - 2 = {len(rows) - 2} tokens (input and "
                "output are implicit)"
            )
        matrix = [[int(ch) for ch in r] for r in rows]
        return cls(matrix, [INPUT, *inner, OUTPUT])

    # ------------------------------------------------------------------ views
    def to_graph(self) -> nx.DiGraph:
        """The cell as a ``networkx.DiGraph`` with node attribute ``op``.

        Examples
        --------
        >>> g = Cell.from_string("c3|010.001.000").to_graph()
        >>> sorted(g.edges()), g.nodes[1]["op"]
        ([(0, 1), (1, 2)], 'conv3x3-bn-relu')
        """
        g = nx.DiGraph()
        for v, op in enumerate(self._ops):
            g.add_node(v, op=op)
        ii, jj = np.nonzero(self._matrix)
        g.add_edges_from(zip(ii.tolist(), jj.tolist()))
        return g

    def encode(self, kind: str) -> np.ndarray:
        """One array encoding of this cell (see ``SPACE.encodings``).

        Parameters
        ----------
        kind : str
            ``"adjacency_onehot"`` (36,), ``"path"`` (364,), ``"gbdt"`` (45,) or
            ``"renas"`` (19, 7, 7).

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> Cell.from_string("c3|010.001.000").encode("path").nonzero()[0].tolist()
        [1]
        """
        from nasbench_tools.spaces.nb101.encodings import encode_packed

        n, bits, code = self.packed()
        return encode_packed(
            np.array([n], dtype=np.uint8),
            np.array([bits], dtype=np.uint32),
            np.array([code], dtype=np.uint8),
            kind,
        )[0]

    def num_params(self, dataset: str = "cifar10") -> int:
        """Trainable parameters of the network NAS-Bench-101 trained with this cell.

        Parameters
        ----------
        dataset : str
            ``cifar10``, ``cifar10-valid``, ``cifar100`` or ``ImageNet16-120``.

        Returns
        -------
        int

        Examples
        --------
        >>> Cell.from_string("|01.00").num_params()
        882570
        """
        from nasbench_tools.spaces.nb101.costs import network_costs

        n, bits, code = self.packed()
        params, _ = network_costs(
            np.array([n], dtype=np.uint8),
            np.array([bits], dtype=np.uint32),
            np.array([code], dtype=np.uint8),
            dataset,
        )
        return int(params[0])

    def flops(self, dataset: str = "cifar10", convention: str = "macs") -> float:
        """FLOPs (in millions) of one forward pass of one image.

        Parameters
        ----------
        dataset : str
            ``cifar10``, ``cifar10-valid``, ``cifar100`` or ``ImageNet16-120``.
        convention : {"macs", "naslib"}
            ``"macs"``: multiply-accumulates of the convolutions and the dense layer.
            ``"naslib"``: the convention of NASLib's published NB101 ``flops``
            (see :func:`~nasbench_tools.spaces.nb101.costs.network_costs`).

        Returns
        -------
        float
            MFLOPs.

        Examples
        --------
        >>> round(Cell.from_string("|01.00").flops(), 3)
        137.762
        """
        from nasbench_tools.spaces.nb101.costs import network_costs

        n, bits, code = self.packed()
        _, flops = network_costs(
            np.array([n], dtype=np.uint8),
            np.array([bits], dtype=np.uint32),
            np.array([code], dtype=np.uint8),
            dataset,
            convention,
        )
        return float(flops[0])
