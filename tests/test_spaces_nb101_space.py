"""NB101 space: the enumerated table, parse, sampling, mutation, neighbours."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces import SearchSpace, get_space
from nasbench_tools.spaces.nb101 import (
    DATA_FILE,
    OPS,
    SPACE,
    Cell,
    module_hash,
    prune,
    random_spec,
)
from nasbench_tools.spaces.nb101.enumerate import enumerate_space, load_table, main
from nasbench_tools.spaces.nb101.hashing import labels_of

#: Unique cells per vertex count, as enumerated; they add up to the official 423,624.
PER_SIZE = {2: 1, 3: 6, 4: 84, 5: 2441, 6: 62010, 7: 359082}


def _rows(shared: Path, name: str) -> list[dict[str, str]]:
    with open(shared / "nb101" / name, newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- the data file
def test_data_file_is_consistent() -> None:
    assert DATA_FILE.is_file(), "run: python -m nasbench_tools.spaces.nb101.enumerate --output data/nb101_cells.npz"
    t = load_table(DATA_FILE)
    assert len(t) == 423_624 == sum(PER_SIZE.values())
    hi = t.hashes[:, :8].copy().view(">u8").ravel()
    lo = t.hashes[:, 8:].copy().view(">u8").ravel()
    increasing = (hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] > lo[:-1]))
    assert increasing.all()  # strictly sorted by hash: unique
    counts = np.bincount(t.num_vertices, minlength=8)
    assert {n: int(counts[n]) for n in range(2, 8)} == PER_SIZE
    nbits = t.num_vertices.astype(np.int64) * (t.num_vertices.astype(np.int64) - 1) // 2
    assert (t.edge_bits.astype(np.int64) >> nbits == 0).all()
    edges = np.array([bin(int(b)).count("1") for b in t.edge_bits[::97]])
    assert edges.max() <= 9
    assert (t.op_code.astype(np.int64) < 3 ** (t.num_vertices.astype(np.int64) - 2)).all()


def test_table_hashes_recomputed() -> None:
    cells = SPACE.all_cells()
    rng = np.random.default_rng(7)
    for i in rng.choice(len(cells), size=300, replace=False).tolist():
        cell = cells[i]
        assert module_hash(cell.matrix, labels_of(cell.op_codes)) == cell.hash
        assert Cell(cell.matrix, cell.ops).hash == cell.hash


def test_official_hashes_are_in_the_table(shared_data: Path) -> None:
    hashes = {r["nb101_hash"] for r in _rows(shared_data, "nb101_official_records_20arch.csv")}
    hashes |= {r["nb101_hash"] for r in _rows(shared_data, "nb101_zc_proxies_sample500.csv")}
    assert len(hashes) == 20 + 292
    for h in hashes:
        assert SPACE.all_cells()[SPACE.index_of(h)].hash == h


def test_enumeration_matches_brute_force_up_to_five_vertices() -> None:
    """Every 5-vertex spec, pruned and hashed, gives exactly the enumerated sub-space."""
    distinct_ops = ["input", *OPS, "output"]  # 3 inner vertices, 3 distinct labels
    keys: set[tuple[bytes, tuple[int, ...]]] = set()
    iu = np.triu_indices(5, 1)
    for bits in range(1 << 10):
        m = np.zeros((5, 5), dtype=np.uint8)
        m[iu] = [(bits >> k) & 1 for k in range(10)]
        try:
            pm, kept_ops = prune(m, distinct_ops)
        except OutOfDomainError:
            continue
        kept = [distinct_ops.index(op) for op in kept_ops[1:-1]]  # surviving inner vertices
        for inner in itertools.product(range(3), repeat=3):
            keys.add((pm.tobytes(), tuple(inner[v - 1] for v in kept)))
    brute = set()
    for raw, codes in keys:
        n = len(codes) + 2
        brute.add(module_hash(np.frombuffer(raw, dtype=np.uint8).reshape(n, n), labels_of(codes)))
    t = enumerate_space(max_vertices=5)
    assert len(t) == 2532
    assert {t.hex(i) for i in range(len(t))} == brute


@pytest.mark.slow
def test_full_enumeration_reproduces_data_file(tmp_path: Path) -> None:
    out = tmp_path / "cells.npz"
    assert main(["--output", str(out)]) == 0
    fresh, stored = load_table(out), load_table(DATA_FILE)
    assert len(fresh) == 423_624
    for name in ("num_vertices", "edge_bits", "op_code", "hashes"):
        assert np.array_equal(getattr(fresh, name), getattr(stored, name)), name


def test_small_table_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "t.npz"
    assert main(["--output", str(out), "--max-vertices", "4"]) == 0
    t = load_table(out)
    assert len(t) == 91
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_load_table_rejects_other_files(tmp_path: Path) -> None:
    from nasbench_tools.errors import FormatError

    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.arange(3))
    with pytest.raises(FormatError, match="not an NB101 cell table"):
        load_table(bad)


# ---------------------------------------------------------------- contract
def test_space_contract() -> None:
    assert get_space("nb101") is SPACE
    assert get_space("nasbench101") is SPACE
    assert isinstance(SPACE, SearchSpace)
    assert SPACE.name == "nb101"
    assert SPACE.encodings == ("adjacency_onehot", "path", "gbdt", "renas")
    assert SPACE.size() == len(SPACE) == len(SPACE.all_cells()) == 423_624
    cells = SPACE.all_cells()
    assert cells[-1] == cells[len(cells) - 1]
    assert [c.hash for c in cells[:3]] == [cells.table.hex(i) for i in range(3)]
    with pytest.raises(IndexError):
        cells[423_624]


def test_parse_accepts_cell_text_hash_and_pair() -> None:
    c = Cell.from_string("c3,mp|0110.0001.0001.0000")
    assert SPACE.parse(c) is c
    assert SPACE.parse(c.to_string()) == c
    assert SPACE.parse(c.hash) == c
    assert SPACE.parse(c.hash.upper()) == c
    assert SPACE.parse((c.matrix.tolist(), list(c.ops))) == c


def test_parse_errors() -> None:
    with pytest.raises(NotInBenchmarkError, match="all_cells"):
        SPACE.parse("0" * 32)
    with pytest.raises(OutOfDomainError, match="32-hex module hash"):
        SPACE.parse(3.5)
    with pytest.raises(OutOfDomainError, match="exactly one"):
        SPACE.parse("not a cell")
    with pytest.raises(OutOfDomainError, match="encoding"):
        SPACE.encode([SPACE.parse("c3|010.001.000")], "onehot")


# ---------------------------------------------------------------- sampling
def test_sample_is_uniform_over_unique_cells() -> None:
    rng = np.random.default_rng(3)
    cells = SPACE.sample(rng, 4000)
    assert len(cells) == 4000 and all(isinstance(c, Cell) for c in cells)
    share7 = np.mean([c.num_vertices == 7 for c in cells])
    expected = PER_SIZE[7] / 423_624  # 0.848; random_spec gives a different mix
    assert abs(share7 - expected) < 5 * np.sqrt(expected * (1 - expected) / 4000)
    one = SPACE.sample(np.random.default_rng(3))
    assert isinstance(one, Cell)
    again = SPACE.sample(np.random.default_rng(3), 4000)
    assert [c.hash for c in again] == [c.hash for c in cells]
    distinct = SPACE.sample(rng, 500, replace=False)
    assert len({c.hash for c in distinct}) == 500
    with pytest.raises(OutOfDomainError):
        SPACE.sample(rng, -1)


def test_random_spec_is_valid_and_seeded() -> None:
    a = [random_spec(np.random.default_rng(s)) for s in range(30)]
    b = [random_spec(np.random.default_rng(s)) for s in range(30)]
    assert a == b
    assert len({c.hash for c in a}) > 20
    for c in a:
        SPACE.index_of(c)  # every valid cell is in the enumerated space


# ---------------------------------------------------------------- mutation
def test_mutation_stays_in_space_and_differs() -> None:
    rng = np.random.default_rng(11)
    parents = SPACE.sample(rng, 60)
    for p in parents:
        for _ in range(3):
            child = SPACE.mutate(p, rng)
            assert child != p
            SPACE.index_of(child)
    c = SPACE.parse("|01.00")
    assert SPACE.mutate(c, np.random.default_rng(0)) == SPACE.mutate(c, np.random.default_rng(0))


def test_small_mutation_rate_gives_one_step_neighbours() -> None:
    """At a tiny rate nearly every accepted child differs by exactly one edit."""
    rng = np.random.default_rng(5)
    p = SPACE.parse("c3,c1,mp,c3,c1|0110000.0001000.0001100.0000010.0000011.0000001.0000000")
    nb = {c.hash for c in SPACE.neighbours(p)}
    children = [SPACE.mutate(p, rng, mutation_rate=0.02) for _ in range(100)]
    assert sum(c.hash in nb for c in children) >= 95
    wide = [SPACE.mutate(p, rng, mutation_rate=3.0) for _ in range(100)]
    assert sum(c.hash in nb for c in wide) < 60


# ---------------------------------------------------------------- neighbours
def test_neighbours_known_example() -> None:
    nb = SPACE.neighbours(SPACE.parse("c3|010.001.000"))
    assert sorted(c.to_string() for c in nb) == ["c1|010.001.000", "c3|011.001.000", "mp|010.001.000"]
    # input -> output only: no single edit gives another valid cell
    assert SPACE.neighbours(SPACE.parse("|01.00")) == []


def _upper_flip_neighbours(cell: Cell) -> set[str]:
    """Independent reference: op changes and flips of upper-triangle entries only."""
    out = set()
    m = np.array(cell.matrix)
    n = len(m)
    for i, j in zip(*np.triu_indices(n, 1)):
        mm = m.copy()
        mm[i, j] ^= 1
        try:
            out.add(Cell(mm, cell.ops).hash)
        except OutOfDomainError:
            pass
    for v in range(1, n - 1):
        for op in OPS:
            if op != cell.ops[v]:
                out.add(Cell(m, [*cell.ops[:v], op, *cell.ops[v + 1 :]]).hash)
    out.discard(cell.hash)
    return out


def test_neighbours_valid_unique_and_representation_free() -> None:
    rng = np.random.default_rng(2)
    for cell in SPACE.sample(rng, 40):
        nb = SPACE.neighbours(cell)
        hashes = [c.hash for c in nb]
        assert len(hashes) == len(set(hashes)) > 0
        assert cell.hash not in hashes
        for c in nb:
            SPACE.index_of(c)
        assert _upper_flip_neighbours(cell) <= set(hashes)
        # the same cell written in reverse inner order (when that is a valid order)
        n = cell.num_vertices
        order = [0, *range(n - 2, 0, -1), n - 1]
        pm = np.asarray(cell.matrix)[np.ix_(order, order)]
        if not np.tril(pm).any():
            twin = Cell(pm, [cell.ops[k] for k in order])
            assert twin == cell
            assert {c.hash for c in SPACE.neighbours(twin)} == set(hashes)


def test_table_cells_are_valid_and_match_their_row(shared_data: Path) -> None:
    rows = _rows(shared_data, "nb101_official_records_20arch.csv")
    cells = SPACE.all_cells()
    for r in rows[::3]:
        got = cells[SPACE.index_of(r["nb101_hash"])]
        assert got == Cell(json.loads(r["matrix"]), json.loads(r["ops"]))
        assert got.num_params() == int(r["trainable_parameters"])
