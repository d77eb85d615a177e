"""NAS-Bench-201 space: enumeration, sampling, mutation, neighbours, isomorphism."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces.nb201 import SPACE, Cell, mutate_codes, neighbour_codes
from nasbench_tools.spaces.nb201.constants import EDGES, NUM_CELLS
from nasbench_tools.spaces.nb201.isomorphism import (
    canonical_codes,
    canonical_key,
    connected_mask,
    unique_codes,
)

codes = st.integers(min_value=0, max_value=NUM_CELLS - 1)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _diff(a: Cell, b: Cell) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def test_size_and_all_cells() -> None:
    assert SPACE.size() == len(SPACE) == 15625
    cells = SPACE.all_cells()
    assert len(cells) == 15625 and len(set(cells)) == 15625
    assert cells is SPACE.all_cells()  # cached


def test_sample_is_reproducible_and_in_space() -> None:
    a = SPACE.sample(np.random.default_rng(3), 50)
    b = SPACE.sample(np.random.default_rng(3), 50)
    assert a == b and all(isinstance(c, Cell) for c in a)
    assert len({c.code for c in a}) > 40
    single = SPACE.sample(np.random.default_rng(3))
    assert isinstance(single, Cell)


@settings(max_examples=200, deadline=None)
@given(codes, seeds)
def test_mutation_changes_exactly_one_edge(code: int, seed: int) -> None:
    parent = Cell.from_code(code)
    child = SPACE.mutate(parent, np.random.default_rng(seed))
    assert child != parent and _diff(parent, child) == 1
    assert child in SPACE.neighbours(parent)


@settings(max_examples=100, deadline=None)
@given(codes, seeds)
def test_mutate_matches_mutate_codes(code: int, seed: int) -> None:
    one = SPACE.mutate(Cell.from_code(code), np.random.default_rng(seed))
    many = mutate_codes(np.array([code]), np.random.default_rng(seed))
    assert one.code == int(many[0])


def test_mutation_distribution_is_uniform_over_edges_and_ops() -> None:
    rng = np.random.default_rng(0)
    parents = np.full(60000, Cell.from_string(
        "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|").code)
    kids = mutate_codes(parents, rng)
    parent = SPACE.all_cells()[int(parents[0])]
    edge_counts: Counter[int] = Counter()
    op_counts: Counter[tuple[int, str]] = Counter()
    for kid in SPACE.cells_from_codes(kids):
        (edge,) = [k for k in range(6) if kid.ops[k] != parent.ops[k]]
        edge_counts[edge] += 1
        op_counts[(edge, kid.ops[edge])] += 1
    assert set(edge_counts) == set(range(6))
    assert all(abs(n / 60000 - 1 / 6) < 0.01 for n in edge_counts.values())
    assert len(op_counts) == 24  # every (edge, different op)
    assert all(abs(n / 60000 - 1 / 24) < 0.006 for n in op_counts.values())


@settings(max_examples=100, deadline=None)
@given(codes)
def test_neighbours_are_the_24_one_edge_changes(code: int) -> None:
    cell = Cell.from_code(code)
    nbrs = SPACE.neighbours(cell)
    assert len(nbrs) == 24 and len(set(nbrs)) == 24 and cell not in nbrs
    assert all(_diff(cell, n) == 1 for n in nbrs)
    assert neighbour_codes(np.array([code]))[0].tolist() == [n.code for n in nbrs]


def test_neighbour_codes_vectorised_shape() -> None:
    out = neighbour_codes(np.arange(10).reshape(2, 5))
    assert out.shape == (2, 5, 24)
    assert (out[1, 2] == neighbour_codes(7)).all()
    with pytest.raises(OutOfDomainError):
        neighbour_codes(15625)
    with pytest.raises(OutOfDomainError):
        mutate_codes(np.array([0.5]), np.random.default_rng(0))


# ------------------------------------------------------------------ isomorphism
def test_published_unique_count_6466() -> None:
    assert len(unique_codes()) == 6466
    assert len(SPACE.unique_cells()) == 6466
    assert len({c.hash for c in SPACE.all_cells()}) == 6466


def test_functional_rule_count() -> None:
    assert len(unique_codes("functional")) == 5390
    with pytest.raises(OutOfDomainError, match="nb201"):
        canonical_codes("graph")


def test_disconnected_cells() -> None:
    mask = connected_mask()
    assert int((~mask).sum()) == 341
    table = canonical_codes("functional")
    # under full zero propagation every disconnected cell is the all-none cell
    assert set(table[~mask].tolist()) == {0}
    assert not Cell.from_code(0).is_connected()
    assert Cell.from_code(15624).is_connected()


@pytest.mark.parametrize("rule", ["nb201", "functional"])
def test_canonical_table_is_a_projection(rule: str) -> None:
    table = canonical_codes(rule)
    assert (table[table] == table).all()
    assert (table <= np.arange(NUM_CELLS)).all()  # representative = smallest code
    assert not table.flags.writeable


@settings(max_examples=200, deadline=None)
@given(codes)
def test_canonical_is_idempotent_and_shares_hash(code: int) -> None:
    cell = Cell.from_code(code)
    canon = cell.canonical()
    assert canon.canonical() == canon
    assert canon.hash == cell.hash
    assert cell.is_isomorphic(canon)
    assert len(cell.hash) == 32


def _swap_nodes_1_2(cell: Cell) -> Cell:
    """Relabel nodes 1 and 2; only valid when edge 2<-1 is none."""
    ops = dict(zip(EDGES, cell.ops))
    swapped = {(0, 1): ops[(0, 2)], (0, 2): ops[(0, 1)], (1, 2): "none",
               (0, 3): ops[(0, 3)], (1, 3): ops[(2, 3)], (2, 3): ops[(1, 3)]}
    return Cell(tuple(swapped[e] for e in EDGES))


@settings(max_examples=200, deadline=None)
@given(codes)
def test_functional_rule_invariant_under_node_swap(code: int) -> None:
    ops = list(Cell.from_code(code).ops)
    ops[2] = "none"  # make nodes 1 and 2 parallel
    cell = Cell(tuple(ops))
    other = _swap_nodes_1_2(cell)
    table = canonical_codes("functional")
    assert table[cell.code] == table[other.code]


@settings(max_examples=200, deadline=None)
@given(codes, st.integers(0, 4), st.integers(0, 4))
def test_dead_edges_do_not_matter(code: int, op_a: int, op_b: int) -> None:
    """With edge 3<-2 = none, node 2 is dead, so the ops entering it are irrelevant."""
    ops = list(Cell.from_code(code).op_indices())
    ops[5] = 0
    a, b = list(ops), list(ops)
    a[1], a[2] = op_a, op_b
    ca, cb = Cell.from_op_indices(a), Cell.from_op_indices(b)
    assert ca.hash == cb.hash
    assert canonical_key(a) == canonical_key(b)


def test_different_functions_are_not_merged() -> None:
    conv = Cell.from_string("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    pool = Cell.from_string("|none~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|")
    skip = Cell.from_string("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert len({conv.hash, pool.hash, skip.hash}) == 3
    # skip_connect is the identity: x->skip->node1->conv->out equals x->conv->out
    chain = Cell.from_string("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    assert Cell.from_string("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").hash != chain.hash
    assert chain.is_isomorphic(conv)
    assert chain != conv  # equality stays exact


def test_published_rule_quirk_is_documented_behaviour() -> None:
    """The published rule does not propagate zero through a node 2 whose inputs are zero."""
    a = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    b = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert a.hash != b.hash  # nb201 rule: '(#+#)@nor_conv_3x3' is not zero
    functional = canonical_codes("functional")
    assert functional[a.code] == functional[b.code]


def test_graph_view() -> None:
    cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    g = cell.to_graph()
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == 8
    assert all("op" in d for _, d in g.nodes(data=True))
    pruned = cell.to_graph(prune=True)
    assert sorted(pruned.nodes) == ["e3", "input", "output"]
    assert pruned.nodes["e3"]["op"] == "skip_connect"
    assert nx.is_directed_acyclic_graph(g)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The hashes produced for directed graphs")
def test_pruned_op_dag_isomorphism_classes_count() -> None:
    """Documented figure: graph isomorphism of pruned op DAGs (skip as an op) gives 8,765."""
    from networkx.algorithms.isomorphism import DiGraphMatcher

    buckets: dict[str, list[nx.DiGraph]] = {}
    classes = 0
    for cell in SPACE.all_cells():
        g = cell.to_graph(prune=True)
        for node in g.nodes:
            g.nodes[node]["label"] = g.nodes[node]["op"]
        key = nx.weisfeiler_lehman_graph_hash(g, node_attr="label", iterations=4)
        reps = buckets.setdefault(key, [])
        if not any(DiGraphMatcher(r, g, node_match=lambda a, b: a["label"] == b["label"]).is_isomorphic() for r in reps):
            reps.append(g)
            classes += 1
    assert classes == 8765


def test_node_first_scheme_matches_official_rea_edge_probabilities() -> None:
    rng = np.random.default_rng(4)
    kids = mutate_codes(np.zeros(90000, dtype=np.int64), rng, scheme="node_first")
    ops = SPACE.cells_from_codes(kids)
    edges = np.array([next(k for k in range(6) if c.ops[k] != "none") for c in ops])
    freq = np.bincount(edges, minlength=6) / len(edges)
    assert np.allclose(freq, [1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9], atol=0.01)
    child = SPACE.mutate(Cell.from_code(0), np.random.default_rng(0), scheme="node_first")
    assert _diff(child, Cell.from_code(0)) == 1
    with pytest.raises(OutOfDomainError, match="uniform"):
        SPACE.mutate(Cell.from_code(0), rng, scheme="random")
