"""NB101 cells: validation, pruning, official hash, text form, graph, immutability."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces.nb101 import OPS, Cell, module_hash, prune
from nasbench_tools.spaces.nb101.hashing import module_hashes

C3, C1, MP = OPS
IN, OUT = "input", "output"


def _rows(shared: Path, name: str) -> list[dict[str, str]]:
    with open(shared / "nb101" / name, newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- official hashes
def test_hash_of_official_records(shared_data: Path) -> None:
    rows = _rows(shared_data, "nb101_official_records_20arch.csv")
    assert len(rows) == 60
    for r in rows:
        cell = Cell(json.loads(r["matrix"]), json.loads(r["ops"]))
        assert cell.hash == r["nb101_hash"]


def test_hash_and_pruning_of_zc_sample(shared_data: Path) -> None:
    rows = _rows(shared_data, "nb101_zc_proxies_sample500.csv")
    assert len(rows) == 500
    for r in rows:
        unpruned = Cell(json.loads(r["matrix"]), json.loads(r["ops"]))
        pruned = Cell(json.loads(r["pruned_matrix"]), json.loads(r["pruned_ops"]))
        assert unpruned.hash == r["nb101_hash"]
        assert pruned.hash == r["nb101_hash"]
        assert unpruned.matrix.tolist() == json.loads(r["pruned_matrix"])
        assert list(unpruned.ops) == json.loads(r["pruned_ops"])
        assert unpruned.num_vertices == int(r["pruned_num_vertices"])


def test_zc_sample_has_specs_that_need_pruning(shared_data: Path) -> None:
    """The pruning test above is not vacuous: many specs lose vertices or edges."""
    rows = _rows(shared_data, "nb101_zc_proxies_sample500.csv")
    shrunk = sum(len(json.loads(r["ops"])) != len(json.loads(r["pruned_ops"])) for r in rows)
    over_nine = sum(int(np.sum(json.loads(r["matrix"]))) > 9 for r in rows)
    assert shrunk > 50
    assert over_nine > 0  # the 9-edge limit applies after pruning, as in the official API


def test_module_hash_known_values() -> None:
    assert module_hash([[0, 1], [0, 0]], [-1, -2]) == "043721b9c7fe8c5fad811d47d83132ec"
    assert module_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [-1, 0, -2]) == (
        "b49ac8c578b4561d79ac7087988f1c61"
    )
    m = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    labellings = [[-1, a, b, -2] for a in range(3) for b in range(3)]
    batch = module_hashes(m, labellings)
    assert batch == [module_hash(m, lab) for lab in labellings]
    assert len(set(batch)) == 6  # (a, b) and (b, a) are isomorphic
    # a different op gives a different hash
    assert module_hash([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [-1, 1, -2]) != (
        "b49ac8c578b4561d79ac7087988f1c61"
    )


# ---------------------------------------------------------------- pruning rules
def test_prune_removes_dead_ends_and_keeps_order() -> None:
    # 0 -> 1 -> 4 ; 0 -> 2 (dead end) ; 3 -> 4 (unreachable from input)
    m = np.zeros((5, 5), dtype=int)
    m[0, 1] = m[1, 4] = m[0, 2] = m[3, 4] = 1
    pm, po = prune(m, [IN, C3, C1, MP, OUT])
    assert pm.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert po == (IN, C3, OUT)


def test_prune_keeps_direct_input_output_edge() -> None:
    m = [[0, 1, 1], [0, 0, 0], [0, 0, 0]]
    c = Cell(m, [IN, MP, OUT])
    assert c.to_string() == "|01.00"
    assert c.num_vertices == 2


def test_edge_limit_applies_after_pruning() -> None:
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 2] = m[2, 3] = m[3, 6] = m[0, 6] = m[1, 6] = m[2, 6] = 1  # 7 live edges
    m[0, 4] = m[1, 4] = m[2, 4] = m[4, 5] = 1  # 4 and 5 never reach the output
    assert m.sum() == 11
    c = Cell(m, [IN, C3, C3, C3, C1, C1, OUT])
    assert c.num_edges == 7 and c.num_vertices == 5


# ---------------------------------------------------------------- malformed input
GOOD = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
FULL7 = np.triu(np.ones((7, 7), dtype=int), 1)

BAD_CELLS = [
    ([[0, 1, 0], [0, 0, 1]], [IN, C3, OUT], "square"),
    (np.zeros((2, 2, 2)), [IN, OUT], "square"),
    ([[0]], [IN], "vertices"),
    (np.zeros((8, 8), dtype=int), [IN, *[C3] * 6, OUT], "vertices"),
    ([[0, 2, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT], "0 or 1"),
    ([[0, -1, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT], "0 or 1"),
    ([[0, 0.5, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT], "0 or 1"),
    ("010.001.000", [IN, C3, OUT], "string"),
    ([[0, 1, 0], [0, 0], [0, 0, 0]], [IN, C3, OUT], "rectangular"),
    ([[0, 1, 0], [1, 0, 1], [0, 0, 0]], [IN, C3, OUT], "upper triangular"),
    ([[1, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT], "upper triangular"),
    (GOOD, [IN, OUT], "one label per vertex"),
    (GOOD, None, "sequence"),
    (GOOD, "input,conv3x3-bn-relu,output", "sequence"),
    (GOOD, [C3, C3, OUT], "first op"),
    (GOOD, [IN, C3, C1], "last op"),
    (GOOD, [IN, "conv5x5-bn-relu", OUT], "allowed"),
    (GOOD, [IN, IN, OUT], "inner op"),
    (GOOD, [IN, OUT, OUT], "inner op"),
    (GOOD, [IN, 3, OUT], "op 1"),
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [IN, C3, OUT], "no path from input to output"),
    (np.zeros((7, 7), dtype=int), [IN, *[C3] * 5, OUT], "no path from input to output"),
    (FULL7, [IN, *[C3] * 5, OUT], "at most 9"),
    (np.array([[0, 1j], [0, 0]]), [IN, OUT], "numbers"),
]


@pytest.mark.parametrize(("matrix", "ops", "needle"), BAD_CELLS)
def test_malformed_cells_raise(matrix: object, ops: object, needle: str) -> None:
    with pytest.raises(OutOfDomainError, match=needle) as info:
        Cell(matrix, ops)  # type: ignore[arg-type]
    assert "NB101" in str(info.value)


BAD_TEXTS = [
    ("", "exactly one '\\|'"),
    ("c3|010.001.000|", "exactly one '\\|'"),
    ("c3,010.001.000", "exactly one '\\|'"),
    ("c5|010.001.000", "unknown op token 'c5'"),
    ("input|010.001.000", "unknown op token"),
    ("c3|010.001", "not square"),
    ("c3|012.001.000", "0/1"),
    ("c3|010..000", "0/1"),
    ("c3,c1|010.001.000", "op tokens"),
    ("|010.001.000", "op tokens"),
    ("c3|0100.0010.0001.0000", "op tokens"),
    ("c3|100.001.000", "upper triangular"),
    ("c3|000.000.000", "no path"),
    ("c3|010.000.000", "no path"),
    ("c3,c3,c3,c3,c3,c3|" + ".".join(["0" * 8] * 8), "vertices"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_TEXTS)
def test_malformed_strings_raise(text: str, needle: str) -> None:
    with pytest.raises(OutOfDomainError, match=needle):
        Cell.from_string(text)


def test_from_string_rejects_non_str() -> None:
    with pytest.raises(OutOfDomainError, match="must be a str"):
        Cell.from_string(123)  # type: ignore[arg-type]


# ---------------------------------------------------------------- text form, graph
def test_to_string_known_and_full_labels() -> None:
    c = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [IN, C3, MP, OUT])
    assert c.to_string() == "c3,mp|0110.0001.0001.0000"
    assert Cell.from_string(" conv3x3-bn-relu , maxpool3x3 |0110.0001.0001.0000 ") == c
    assert repr(c) == "Cell.from_string('c3,mp|0110.0001.0001.0000')"


def test_to_graph() -> None:
    c = Cell.from_string("c3,mp|0111.0001.0001.0000")
    g = c.to_graph()
    assert sorted(g.edges()) == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert [g.nodes[v]["op"] for v in range(4)] == [IN, C3, MP, OUT]


def test_immutable_and_picklable() -> None:
    c = Cell.from_string("c3|010.001.000")
    with pytest.raises(ValueError):
        c.matrix[0, 1] = 0
    with pytest.raises(AttributeError):
        c.foo = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        c._ops = ()  # type: ignore[misc]
    d = pickle.loads(pickle.dumps(c))
    assert d == c and d.to_string() == c.to_string()
    # the caller's array is copied, not aliased
    m = np.array(GOOD)
    e = Cell(m, [IN, C3, OUT])
    m[0, 1] = 0
    assert e.matrix[0, 1] == 1


def test_equality_is_by_hash_and_isomorphism() -> None:
    a = Cell.from_string("c3,mp|0110.0001.0001.0000")
    b = Cell.from_string("mp,c3|0110.0001.0001.0000")  # inner vertices swapped
    c = Cell.from_string("c3,c3|0110.0001.0001.0000")
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert a != "c3,mp|0110.0001.0001.0000"


# ---------------------------------------------------------------- properties
@st.composite
def specs(draw: st.DrawFn) -> tuple[np.ndarray, list[str]]:
    n = draw(st.integers(2, 7))
    bits = draw(st.lists(st.integers(0, 1), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    m = np.zeros((n, n), dtype=int)
    m[np.triu_indices(n, 1)] = bits
    ops = [IN, *draw(st.lists(st.sampled_from(OPS), min_size=n - 2, max_size=n - 2)), OUT]
    return m, ops


def _valid(spec: tuple[np.ndarray, list[str]]) -> bool:
    try:
        Cell(*spec)
    except OutOfDomainError:
        return False
    return True


valid_specs = specs().filter(_valid)


def _random_topological_order(m: np.ndarray, priorities: list[float]) -> list[int]:
    n = len(m)
    indeg = m.sum(axis=0).tolist()
    ready = [v for v in range(n) if indeg[v] == 0]
    order = []
    while ready:
        ready.sort(key=lambda v: (v == n - 1, v != 0, priorities[v]))
        u = ready.pop(0)
        order.append(u)
        for v in np.flatnonzero(m[u]).tolist():
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return order


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=valid_specs, priorities=st.lists(st.floats(0, 1), min_size=7, max_size=7))
def test_hash_invariant_under_topological_relabelling(
    spec: tuple[np.ndarray, list[str]], priorities: list[float]
) -> None:
    m, ops = spec
    cell = Cell(m, ops)
    # relabel the pruned cell and the unpruned spec (dead vertices included)
    for mat, labels in ((np.asarray(cell.matrix), list(cell.ops)), (m, ops)):
        order = _random_topological_order(mat, priorities)
        assert order[0] == 0 and order[-1] == len(mat) - 1
        pm = mat[np.ix_(order, order)]
        assert not np.tril(pm).any()
        relabelled = Cell(pm, [labels[k] for k in order])
        assert relabelled.hash == cell.hash
        assert relabelled == cell


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=valid_specs)
def test_string_round_trip(spec: tuple[np.ndarray, list[str]]) -> None:
    cell = Cell(*spec)
    text = cell.to_string()
    back = Cell.from_string(text)
    assert back.to_string() == text
    assert np.array_equal(back.matrix, cell.matrix) and back.ops == cell.ops
    assert back.hash == cell.hash


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=valid_specs)
def test_pruned_cell_is_a_fixed_point(spec: tuple[np.ndarray, list[str]]) -> None:
    cell = Cell(*spec)
    again = Cell(cell.matrix, cell.ops)
    assert np.array_equal(again.matrix, cell.matrix)
    assert cell.num_edges <= 9 and 2 <= cell.num_vertices <= 7
    # every remaining vertex is on an input -> output path
    g = cell.to_graph()
    import networkx as nx

    for v in range(cell.num_vertices):
        assert v == 0 or nx.has_path(g, 0, v)
        assert v == cell.num_vertices - 1 or nx.has_path(g, v, cell.num_vertices - 1)
