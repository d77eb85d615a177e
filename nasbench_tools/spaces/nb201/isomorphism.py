"""Which NAS-Bench-201 cells compute the same function: canonical forms and the op DAG.

Two cells are *equivalent* when they have the same canonical key. The key describes what the
cell computes as an expression, bottom-up over the nodes 1, 2, 3:

* node 0 is the input ``x``;
* an edge ``j -> i`` with op ``o`` contributes one *term* to node ``i``: a zero term ``#``
  when ``o`` is ``none`` or when node ``j`` is zero; node ``j``'s own expression when ``o`` is
  ``skip_connect`` (the identity); otherwise ``(expr_j)@o``;
* node ``i`` is the sum of its terms; sums are commutative, so the terms are sorted.

Rules differ only in when a node counts as zero and whether zero terms are kept:

``"nb201"`` (default, 6,466 classes)
    The rule the NAS-Bench-201 authors used to count 6,466 unique cells among 15,625 (their
    ``Structure.to_unique_str(consider_zero=True)``). Zero terms are kept in the sums, and a
    node counts as zero only when its whole sum is a single zero term, which can only happen
    to node 1 (edge ``1<-0`` is ``none``). A node 2 whose two inputs are both zero is *not*
    treated as zero downstream. This reproduces the published count exactly.
``"functional"`` (5,390 classes)
    Full zero propagation: a node is zero when all its terms are zero, zero terms are
    dropped from sums. This merges every cell whose output is identically zero and is
    invariant under swapping nodes 1 and 2 when edge ``2<-1`` is ``none``.

Each rule maps every cell to the member of its class with the smallest ``code``; the
mapping is built once for all 15,625 cells and cached (:func:`canonical_codes`).

Note that a graph-isomorphism rule that turns each cell into a NAS-Bench-101-like
op-labelled DAG (see :func:`op_graph`), prunes it and keeps ``skip_connect`` as an op gives
8,765 classes, not 6,466: the published figure treats ``skip_connect`` as the identity.

Examples
--------
>>> int(len(unique_codes()))
6466
>>> int(len(unique_codes("functional")))
5390
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nb201.constants import (
    ALL_OP_INDICES,
    EDGES,
    NUM_CELLS,
    NUM_EDGES,
    NUM_NODES,
    OP_INDEX,
    OPS,
)

__all__ = [
    "RULES",
    "canonical_codes",
    "canonical_key",
    "connected_mask",
    "op_graph",
    "unique_codes",
]

_NONE = OP_INDEX["none"]
_SKIP = OP_INDEX["skip_connect"]
_ZERO = "#"


def _nb201_key(ops: Sequence[int]) -> str:
    """Key of the published rule: zero terms kept; only a one-term zero sum is zero."""
    nodes = ["x"]
    k = 0
    for i in range(1, NUM_NODES):
        terms = []
        for j in range(i):
            op = int(ops[k])
            k += 1
            if op == _NONE or nodes[j] == _ZERO:
                terms.append(_ZERO)
            elif op == _SKIP:
                terms.append(nodes[j])
            else:
                terms.append(f"({nodes[j]})@{OPS[op]}")
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]


def _functional_key(ops: Sequence[int]) -> str:
    """Key with full zero propagation; zero terms are dropped."""
    nodes: list[str] = ["x"]
    k = 0
    for i in range(1, NUM_NODES):
        terms = []
        for j in range(i):
            op = int(ops[k])
            k += 1
            if op == _NONE or nodes[j] == _ZERO:
                continue
            terms.append(nodes[j] if op == _SKIP else f"({nodes[j]})@{OPS[op]}")
        nodes.append("+".join(sorted(terms)) if terms else _ZERO)
    return nodes[-1]


#: Rule name -> function from six op indices to the canonical key (a str).
RULES: dict[str, Callable[[Sequence[int]], str]] = {
    "nb201": _nb201_key,
    "functional": _functional_key,
}


def _check_rule(rule: str) -> Callable[[Sequence[int]], str]:
    if rule not in RULES:
        raise OutOfDomainError(f"unknown isomorphism rule {rule!r}; allowed: {allowed(RULES)}")
    return RULES[rule]


def canonical_key(op_indices: Sequence[int], rule: str = "nb201") -> str:
    """The canonical expression of one cell given as six op indices.

    Parameters
    ----------
    op_indices : sequence of int
        Positions in ``OPS`` of the six ops, in official string order.
    rule : str, default "nb201"
        A key of :data:`RULES`.

    Returns
    -------
    str
        Equal for two cells exactly when they are equivalent under ``rule``.

    Examples
    --------
    >>> canonical_key([3, 0, 0, 1, 3, 0])
    '#+((x)@nor_conv_3x3)@nor_conv_3x3+x'
    """
    return _check_rule(rule)(op_indices)


@functools.cache
def canonical_codes(rule: str = "nb201") -> np.ndarray:
    """Code -> code of the canonical representative, for all 15,625 cells.

    The representative of a class is its member with the smallest code. The array is
    computed once per rule, cached and read-only.

    Parameters
    ----------
    rule : str, default "nb201"
        A key of :data:`RULES`.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of length 15,625.

    Examples
    --------
    >>> table = canonical_codes()
    >>> bool((table[table] == table).all())  # idempotent
    True
    """
    key_of = _check_rule(rule)
    first: dict[str, int] = {}
    out = np.empty(NUM_CELLS, dtype=np.int64)
    for code, ops in enumerate(ALL_OP_INDICES.tolist()):
        out[code] = first.setdefault(key_of(ops), code)
    out.setflags(write=False)
    return out


def unique_codes(rule: str = "nb201") -> np.ndarray:
    """Sorted codes of the class representatives (6,466 for the default rule).

    Examples
    --------
    >>> int(unique_codes()[0])
    0
    """
    table = canonical_codes(rule)
    return np.flatnonzero(table == np.arange(NUM_CELLS)).astype(np.int64)


@functools.cache
def connected_mask() -> np.ndarray:
    """Boolean mask over codes: True when some input-output path avoids ``none``.

    The 341 cells with False output zero for every input.

    Examples
    --------
    >>> int((~connected_mask()).sum())
    341
    """
    live = ALL_OP_INDICES != _NONE
    reach = [np.ones(NUM_CELLS, dtype=bool)]
    for i in range(1, NUM_NODES):
        r = np.zeros(NUM_CELLS, dtype=bool)
        for k, (src, dst) in enumerate(EDGES):
            if dst == i:
                r |= live[:, k] & reach[src]
        reach.append(r)
    out = reach[-1]
    out.setflags(write=False)
    return out


def _live_edges(op_indices: Sequence[int]) -> list[int]:
    """Edges that are not ``none`` and lie on an input-output path."""
    live = [int(o) != _NONE for o in op_indices]
    forward = {0}
    for i in range(1, NUM_NODES):
        if any(live[k] and s in forward for k, (s, d) in enumerate(EDGES) if d == i):
            forward.add(i)
    backward = {NUM_NODES - 1}
    for i in range(NUM_NODES - 2, -1, -1):
        if any(live[k] and d in backward for k, (s, d) in enumerate(EDGES) if s == i):
            backward.add(i)
    return [k for k in range(NUM_EDGES) if live[k] and EDGES[k][0] in forward and EDGES[k][1] in backward]


def op_graph(op_indices: Sequence[int], prune: bool = False) -> nx.DiGraph:
    """The op-labelled DAG of a cell (edges become nodes), NAS-Bench-101 style.

    Parameters
    ----------
    op_indices : sequence of int
        Six op indices in official string order.
    prune : bool, default False
        Keep only op nodes that are not ``none`` and lie on an input-output path.

    Returns
    -------
    networkx.DiGraph
        Nodes ``"input"``, ``"e0" .. "e5"`` (attributes ``op`` and ``edge``), ``"output"``.

    Examples
    --------
    >>> g = op_graph([3, 0, 0, 1, 3, 0], prune=True)
    >>> sorted(g.nodes), sorted(g.successors("e0"))
    (['e0', 'e3', 'e4', 'input', 'output'], ['e4'])
    """
    keep = _live_edges(op_indices) if prune else list(range(NUM_EDGES))
    g = nx.DiGraph()
    g.add_node("input", op="input")
    for k in keep:
        g.add_node(f"e{k}", op=OPS[int(op_indices[k])], edge=EDGES[k])
    g.add_node("output", op="output")
    for k in keep:
        src, dst = EDGES[k]
        if src == 0:
            g.add_edge("input", f"e{k}")
        if dst == NUM_NODES - 1:
            g.add_edge(f"e{k}", "output")
        for k2 in keep:
            if EDGES[k2][0] == dst:
                g.add_edge(f"e{k}", f"e{k2}")
    return g
