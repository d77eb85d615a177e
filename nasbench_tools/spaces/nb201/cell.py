"""The NAS-Bench-201 cell value type.

A :class:`Cell` is six operation names, one per edge, in the order of the official string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. It is immutable and hashable, validated on
construction, and converts exactly to and from every common identifier: the official string,
NASLib's op-index tuple, the integer ``code`` (a base-5 formula) and, through
:class:`~nasbench_tools.spaces.nb201.index.IndexTable`, the official benchmark index.

Examples
--------
>>> cell = Cell.from_string(
...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
>>> cell.ops[:2]
('nor_conv_3x3', 'nor_conv_3x3')
>>> Cell.from_code(cell.code) == cell
True
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nb201 import costs, encodings, isomorphism
from nasbench_tools.spaces.nb201.constants import (
    EDGES,
    NASLIB_CODE_OF_OP,
    NASLIB_EDGE_ORDER,
    NASLIB_OPS,
    NUM_CELLS,
    NUM_EDGES,
    NUM_NODES,
    NUM_OPS,
    OP_INDEX,
    OPS,
)

__all__ = ["Cell"]

#: Number of edges entering node 1, 2, 3 (the string has one ``+``-separated group per node).
_GROUP_SIZES: tuple[int, ...] = tuple(range(1, NUM_NODES))
_EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def _parse_group(group: str, node: int, text: str) -> list[str]:
    """Parse the ``|op~0|op~1|`` group of edges entering ``node``; return the op names."""
    if len(group) < 2 or not group.startswith("|") or not group.endswith("|"):
        raise OutOfDomainError(
            f"NAS-Bench-201 string {text!r}: the group of node {node} is {group!r}; each group "
            f"must start and end with '|', as in {_EXAMPLE!r}"
        )
    edges = group[1:-1].split("|")
    expected = _GROUP_SIZES[node - 1]
    if len(edges) != expected:
        raise OutOfDomainError(
            f"NAS-Bench-201 string {text!r}: node {node} has {len(edges)} incoming edge(s) "
            f"{group!r}; node {node} must have exactly {expected} (inputs ~0..~{node - 1})"
        )
    ops: list[str] = []
    for j, edge in enumerate(edges):
        op, sep, source = edge.partition("~")
        if not sep or "~" in source:
            raise OutOfDomainError(
                f"NAS-Bench-201 string {text!r}: edge {edge!r} of node {node} must have the "
                f"form 'op~{j}' with exactly one '~'"
            )
        if source != str(j):
            raise OutOfDomainError(
                f"NAS-Bench-201 string {text!r}: edge {edge!r} is edge number {j} of node "
                f"{node}, so its input must be written '~{j}'; allowed inputs of node {node}: "
                f"{allowed([f'~{i}' for i in range(node)])}, in this order"
            )
        if op not in OP_INDEX:
            raise OutOfDomainError(
                f"NAS-Bench-201 string {text!r}: unknown operation {op!r} on edge {edge!r}; "
                f"allowed: {allowed(OPS)}"
            )
        ops.append(op)
    return ops


@dataclass(frozen=True, slots=True)
class Cell:
    """One NAS-Bench-201 (NATS-Bench topology space) cell.

    Parameters
    ----------
    ops : sequence of str
        Six operation names from :data:`~nasbench_tools.spaces.nb201.constants.OPS`, on the
        edges ``(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)`` (official string order).

    Raises
    ------
    OutOfDomainError
        If ``ops`` is not a sequence of exactly six known operation names.

    Notes
    -----
    ``==`` and ``hash()`` are exact: the 15,625 cells are all distinct. Isomorphic cells
    (cells that compute the same function) share :attr:`hash` and :meth:`canonical`.

    Examples
    --------
    >>> c = Cell(("nor_conv_3x3",) * 6)
    >>> c.to_string()
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
    >>> c.code
    11718
    """

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        ops = self.ops
        if isinstance(ops, str) or not isinstance(ops, Iterable):
            raise OutOfDomainError(
                f"Cell(ops) needs a sequence of {NUM_EDGES} operation names, got {ops!r}; "
                f"use Cell.from_string for the text form"
            )
        ops = tuple(ops)
        if len(ops) != NUM_EDGES:
            raise OutOfDomainError(
                f"Cell(ops) needs exactly {NUM_EDGES} operations (edges 1<-0, 2<-0, 2<-1, "
                f"3<-0, 3<-1, 3<-2), got {len(ops)}: {ops!r}"
            )
        for k, op in enumerate(ops):
            if not isinstance(op, str) or op not in OP_INDEX:
                raise OutOfDomainError(
                    f"Cell(ops): unknown operation {op!r} on edge {EDGES[k][1]}<-{EDGES[k][0]}; "
                    f"allowed: {allowed(OPS)}"
                )
        object.__setattr__(self, "ops", ops)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_string(cls, text: str) -> Cell:
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

        Parameters
        ----------
        text : str
            The exact official form: no spaces, three ``+``-separated groups with 1, 2 and 3
            edges, inputs ``~0 .. ~i-1`` in order.

        Returns
        -------
        Cell

        Raises
        ------
        OutOfDomainError
            Naming the first thing that is malformed and what is allowed there.

        Examples
        --------
        >>> Cell.from_string("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|").ops[1]
        'skip_connect'
        """
        if not isinstance(text, str):
            raise OutOfDomainError(
                f"a NAS-Bench-201 string must be a str, got {type(text).__name__} {text!r}; "
                f"for example {_EXAMPLE!r}"
            )
        if text != text.strip() or " " in text:
            raise OutOfDomainError(
                f"NAS-Bench-201 string {text!r} contains whitespace; the official form has "
                f"none, for example {_EXAMPLE!r}"
            )
        groups = text.split("+")
        if len(groups) != NUM_NODES - 1:
            raise OutOfDomainError(
                f"NAS-Bench-201 string {text!r} has {len(groups)} '+'-separated group(s); "
                f"exactly {NUM_NODES - 1} are allowed (nodes 1, 2, 3), for example {_EXAMPLE!r}"
            )
        ops: list[str] = []
        for node, group in enumerate(groups, start=1):
            ops.extend(_parse_group(group, node, text))
        return cls(tuple(ops))

    @classmethod
    def from_code(cls, code: int) -> Cell:
        """Build the cell whose :attr:`code` is ``code``.

        Parameters
        ----------
        code : int
            In ``0 .. 15624``.

        Returns
        -------
        Cell

        Raises
        ------
        OutOfDomainError
            If ``code`` is not an integer in range.

        Examples
        --------
        >>> Cell.from_code(0).ops == ("none",) * 6
        True
        """
        if isinstance(code, bool) or not isinstance(code, (int, np.integer)):
            raise OutOfDomainError(
                f"a NAS-Bench-201 code must be an int in 0..{NUM_CELLS - 1}, got {code!r}"
            )
        code = int(code)
        if not 0 <= code < NUM_CELLS:
            raise OutOfDomainError(
                f"NAS-Bench-201 code {code} is out of range; allowed: 0..{NUM_CELLS - 1}"
            )
        digits = []
        for _ in range(NUM_EDGES):
            code, d = divmod(code, NUM_OPS)
            digits.append(OPS[d])
        return cls(tuple(reversed(digits)))

    @classmethod
    def from_op_indices(cls, indices: Sequence[int]) -> Cell:
        """Build a cell from six positions in :data:`OPS` (string edge order).

        Examples
        --------
        >>> Cell.from_op_indices([3, 3, 4, 1, 3, 1]).op_indices()
        (3, 3, 4, 1, 3, 1)
        """
        idx = _int_tuple(indices, "op indices")
        for k, i in enumerate(idx):
            if not 0 <= i < NUM_OPS:
                raise OutOfDomainError(
                    f"op index {i} on edge {k} is out of range; allowed: 0..{NUM_OPS - 1} "
                    f"(positions in {OPS!r})"
                )
        return cls(tuple(OPS[i] for i in idx))

    @classmethod
    def from_naslib_indices(cls, indices: Sequence[int] | str) -> Cell:
        """Build a cell from NASLib's op-index tuple.

        Parameters
        ----------
        indices : sequence of int or str
            Six NASLib op codes (0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1,
            4 avg_pool_3x3) on the edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) in NASLib's
            1-based node numbering; a 6-digit string such as ``"433000"`` is accepted too.

        Returns
        -------
        Cell

        Examples
        --------
        >>> Cell.from_naslib_indices("433000").to_string()
        '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'
        """
        if isinstance(indices, str):
            if len(indices) != NUM_EDGES or not indices.isdigit():
                raise OutOfDomainError(
                    f"NASLib op-index string {indices!r} must be exactly {NUM_EDGES} digits "
                    f"in 0..{NUM_OPS - 1}"
                )
            indices = [int(ch) for ch in indices]
        idx = _int_tuple(indices, "NASLib op indices")
        ops: list[str] = [""] * NUM_EDGES
        for k, code in enumerate(idx):
            if not 0 <= code < len(NASLIB_OPS):
                raise OutOfDomainError(
                    f"NASLib op code {code} at position {k} is out of range; allowed: "
                    + ", ".join(f"{i} ({op})" for i, op in enumerate(NASLIB_OPS))
                )
            ops[NASLIB_EDGE_ORDER[k]] = NASLIB_OPS[code]
        return cls(tuple(ops))

    # ------------------------------------------------------------------ identifiers
    def to_string(self) -> str:
        """The exact official string.

        Examples
        --------
        >>> Cell(("none",) * 6).to_string()
        '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'
        """
        parts = []
        k = 0
        for size in _GROUP_SIZES:
            parts.append("|" + "|".join(f"{self.ops[k + j]}~{j}" for j in range(size)) + "|")
            k += size
        return "+".join(parts)

    def __str__(self) -> str:
        return self.to_string()

    def op_indices(self) -> tuple[int, ...]:
        """Positions of the six ops in :data:`OPS` (string edge order).

        Examples
        --------
        >>> Cell(("avg_pool_3x3",) + ("none",) * 5).op_indices()
        (4, 0, 0, 0, 0, 0)
        """
        return tuple(OP_INDEX[op] for op in self.ops)

    def naslib_indices(self) -> tuple[int, ...]:
        """NASLib's op-index tuple (see :meth:`from_naslib_indices`).

        Examples
        --------
        >>> Cell.from_naslib_indices((4, 3, 3, 0, 0, 0)).naslib_indices()
        (4, 3, 3, 0, 0, 0)
        """
        return tuple(NASLIB_CODE_OF_OP[self.ops[k]] for k in NASLIB_EDGE_ORDER)

    @property
    def code(self) -> int:
        """Base-5 number of the op indices, first edge most significant (0..15624).

        A formula, not the official benchmark index (use ``IndexTable`` for that).

        Examples
        --------
        >>> Cell(("none",) * 5 + ("skip_connect",)).code
        1
        """
        value = 0
        for op in self.ops:
            value = value * NUM_OPS + OP_INDEX[op]
        return value

    # ------------------------------------------------------------------ isomorphism
    def canonical(self) -> Cell:
        """The representative of this cell's isomorphism class.

        Dead edges become ``none`` and equivalent op-labelled DAGs are merged; the
        representative is the member with the smallest :attr:`code`. See
        :mod:`nasbench_tools.spaces.nb201.isomorphism` for the rule.

        Examples
        --------
        >>> a = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
        >>> a.canonical().to_string()
        '|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|'
        """
        return Cell.from_code(int(isomorphism.canonical_codes()[self.code]))

    @property
    def hash(self) -> str:
        """md5 hex digest of the canonical string; shared by isomorphic cells.

        Examples
        --------
        >>> a = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
        >>> b = Cell.from_string("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
        >>> a == b, a.hash == b.hash
        (False, True)
        """
        return _hashes()[self.code]

    def is_isomorphic(self, other: Cell) -> bool:
        """True when both cells compute the same function (same canonical form).

        Examples
        --------
        >>> Cell(("none",) * 6).is_isomorphic(Cell(("skip_connect",) * 3 + ("none",) * 3))
        True
        """
        table = isomorphism.canonical_codes()
        return bool(table[self.code] == table[other.code])

    def is_connected(self) -> bool:
        """False for the 341 cells whose output is always zero (no input-output path).

        Examples
        --------
        >>> Cell(("none",) * 6).is_connected()
        False
        """
        return bool(isomorphism.connected_mask()[self.code])

    # ------------------------------------------------------------------ derived views
    def encode(self, kind: str) -> np.ndarray:
        """One cell as an array; see :data:`~nasbench_tools.spaces.nb201.encodings.ENCODINGS`.

        Examples
        --------
        >>> Cell(("none",) * 6).encode("adjacency_onehot").shape
        (30,)
        """
        return encodings.encode_codes(np.array([self.code]), kind)[0]

    def to_graph(self, prune: bool = False) -> nx.DiGraph:
        """The op-labelled DAG (edges of the cell become nodes), as in NAS-Bench-101.

        Nodes: ``"input"``, one node per edge named ``"e<k>"`` (``k`` = string position,
        attributes ``op`` and ``edge=(source, destination)``), ``"output"``. An op node
        receives from the op nodes entering its source cell-node (or from ``input``) and
        feeds the op nodes leaving its destination (or ``output``).

        Parameters
        ----------
        prune : bool, default False
            Drop ``none`` op nodes and every op node that is not on an input-output path.

        Examples
        --------
        >>> g = Cell(("nor_conv_3x3",) * 6).to_graph()
        >>> g.number_of_nodes(), g.nodes["e0"]["op"]
        (8, 'nor_conv_3x3')
        """
        return isomorphism.op_graph(self.op_indices(), prune=prune)

    def num_params(self, dataset: str = "cifar10") -> int:
        """Trainable parameters of the network NAS-Bench-201 trained (N=5, C=16).

        Examples
        --------
        >>> Cell.from_string(_EXAMPLE_STRING).num_params("cifar10")
        802426
        """
        return int(costs.params_of_codes(np.array([self.code]), dataset)[0])

    def flops(self, dataset: str = "cifar10") -> float:
        """FLOPs in millions, in NAS-Bench-201's convention.

        Examples
        --------
        >>> round(Cell.from_string(_EXAMPLE_STRING).flops("cifar10"), 6)
        113.95137
        """
        return float(costs.flops_of_codes(np.array([self.code]), dataset)[0])

    def __repr__(self) -> str:
        return f"Cell.from_string({self.to_string()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cell, (self.ops,))


_EXAMPLE_STRING = _EXAMPLE


@functools.cache
def _hashes() -> tuple[str, ...]:
    """``.hash`` of every code: md5 hex of the canonical representative's string."""
    table = isomorphism.canonical_codes()
    digest = {
        int(c): hashlib.md5(Cell.from_code(int(c)).to_string().encode("ascii")).hexdigest()
        for c in np.unique(table)
    }
    return tuple(digest[int(c)] for c in table)


def _int_tuple(values: Any, what: str) -> tuple[int, ...]:
    """Validate a sequence of exactly six integers."""
    try:
        items = list(values)
    except TypeError:
        raise OutOfDomainError(f"{what} must be a sequence of {NUM_EDGES} ints, got {values!r}") from None
    if len(items) != NUM_EDGES or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        raise OutOfDomainError(
            f"{what} must be exactly {NUM_EDGES} ints, got {values!r}"
        )
    return tuple(int(v) for v in items)
