"""The NAS-Bench-101 search space singleton: parse, enumerate, sample, mutate, encode.

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.spaces.nb101 import SPACE
>>> SPACE.name, SPACE.size()
('nb101', 423624)
>>> c = random_spec(np.random.default_rng(0))
>>> SPACE.parse(c.to_string()) == c
True
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces.base import SearchSpace
from nasbench_tools.spaces.nb101.arrays import end_padded, inner_codes
from nasbench_tools.spaces.nb101.cell import Cell
from nasbench_tools.spaces.nb101.encodings import encode_packed
from nasbench_tools.spaces.nb101.enumerate import (
    OFFICIAL_SIZE,
    CellTable,
    enumerate_space,
    load_table,
)
from nasbench_tools.spaces.nb101.ops import INPUT, MAX_VERTICES, OPS, OUTPUT

__all__ = ["DATA_FILE", "SPACE", "CellSequence", "NB101Space", "random_spec"]

logger = logging.getLogger(__name__)

#: The enumerated table shipped with the project.
DATA_FILE = Path(__file__).resolve().parents[3] / "data" / "nb101_cells.npz"

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def _row_cell(table: CellTable, i: int) -> Cell:
    n = int(table.num_vertices[i])
    mat = end_padded(table.num_vertices[i : i + 1], table.edge_bits[i : i + 1])[0, :n, :n]
    codes = inner_codes(table.num_vertices[i : i + 1], table.op_code[i : i + 1])[0, : n - 2]
    ops = (INPUT, *(OPS[c] for c in codes.tolist()), OUTPUT)
    return Cell._trusted(mat, ops, table.hex(i))


class CellSequence(Sequence[Cell]):
    """A lazy, read-only sequence of the cells of a :class:`CellTable` (sorted by hash).

    Cells are built on access; the packed arrays stay available for vectorised work.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb101.enumerate import enumerate_space
    >>> seq = CellSequence(enumerate_space(3))
    >>> len(seq), seq[0].num_vertices >= 2
    (7, True)
    """

    def __init__(self, table: CellTable) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    @overload
    def __getitem__(self, index: int) -> Cell: ...

    @overload
    def __getitem__(self, index: slice) -> list[Cell]: ...

    def __getitem__(self, index: int | slice) -> Cell | list[Cell]:
        if isinstance(index, slice):
            return [_row_cell(self.table, i) for i in range(*index.indices(len(self)))]
        i = int(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"cell index {index} out of range for {len(self)} cells")
        return _row_cell(self.table, i % len(self))

    def __iter__(self) -> Iterator[Cell]:
        for i in range(len(self)):
            yield _row_cell(self.table, i)


def random_spec(rng: np.random.Generator) -> Cell:
    """Official-style random cell (the NAS-Bench-101 colab's ``random_spec``).

    Draws a 7x7 matrix with independent fair 0/1 entries, keeps its strict upper
    triangle, draws every op uniformly from ``OPS`` (then sets input and output), and
    rejects the spec until it is valid. Not uniform over unique cells: use
    ``SPACE.sample`` for that.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Cell
        The pruned cell.

    Examples
    --------
    >>> c = random_spec(np.random.default_rng(1))
    >>> 2 <= c.num_vertices <= 7
    True
    """
    while True:
        matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), 1)
        ops = [OPS[k] for k in rng.integers(0, len(OPS), size=MAX_VERTICES)]
        ops[0], ops[-1] = INPUT, OUTPUT
        try:
            return Cell(matrix, ops)
        except OutOfDomainError:
            continue


def _pad_output_last(cell: Cell, pad_ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    n = cell.num_vertices
    pos = np.array([*range(n - 1), MAX_VERTICES - 1])
    mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    mat[np.ix_(pos, pos)] = cell.matrix
    ops = [*cell.ops[:-1], *pad_ops[: MAX_VERTICES - n], OUTPUT]
    return mat, ops


def _topological(matrix: np.ndarray) -> np.ndarray:
    """Smallest-index-first topological order of a DAG (input first, output last)."""
    n = matrix.shape[0]
    indeg = matrix.sum(axis=0).astype(int).tolist()
    ready = [v for v in range(n) if indeg[v] == 0]
    order: list[int] = []
    while ready:
        ready.sort()
        u = ready.pop(0)
        order.append(u)
        for v in np.flatnonzero(matrix[u]).tolist():
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return np.array(order, dtype=np.intp)


class NB101Space(SearchSpace[Cell]):
    """NAS-Bench-101: 423,624 unique cells (see ``docs/spaces-nb101.md``)."""

    name = "nb101"
    encodings = ("adjacency_onehot", "path", "gbdt", "renas")

    def __init__(self, data_file: Path = DATA_FILE) -> None:
        self.data_file = data_file
        self._table: CellTable | None = None
        self._keys: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ table
    @property
    def table(self) -> CellTable:
        """The enumerated space (loaded from ``data/nb101_cells.npz`` on first use)."""
        if self._table is None:
            if self.data_file.is_file():
                self._table = load_table(self.data_file)
            else:
                logger.warning(
                    "%s not found: enumerating the NB101 space now (about a minute); write "
                    "it once with `python -m nasbench_tools.spaces.nb101.enumerate "
                    "--output %s`",
                    self.data_file,
                    self.data_file,
                )
                self._table = enumerate_space()
        return self._table

    def _hash_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Hashes as big-endian (high, low) uint64 halves: sorted like the table."""
        if self._keys is None:
            hashes = self.table.hashes
            self._keys = (
                hashes[:, :8].copy().view(">u8").ravel(),
                hashes[:, 8:].copy().view(">u8").ravel(),
            )
        return self._keys

    def index_of(self, value: Cell | str) -> int:
        """Row of a cell or 32-hex hash in the enumerated table (sorted by hash).

        Raises
        ------
        NotInBenchmarkError
            For a hash that is not one of the 423,624 cells.

        Examples
        --------
        >>> SPACE.index_of(SPACE.all_cells()[5])
        5
        """
        h = value.hash if isinstance(value, Cell) else str(value).lower()
        if not _HEX32.match(h):
            raise OutOfDomainError(f"{value!r} is not a 32-hex NB101 hash")
        table = self.table
        hi, lo = self._hash_keys()
        key = np.frombuffer(bytes.fromhex(h), dtype=">u8")
        i = int(np.searchsorted(hi, key[0]))
        while i < len(hi) and hi[i] == key[0] and lo[i] != key[1]:
            i += 1
        if i >= len(hi) or hi[i] != key[0]:
            raise NotInBenchmarkError(
                f"hash {h} is not an NB101 cell: the space holds {len(table)} unique cells; "
                "get valid hashes from SPACE.all_cells(), Cell(matrix, ops).hash or "
                "SPACE.sample(rng)"
            )
        return i

    # ------------------------------------------------------------------ contract
    def parse(self, value: Any) -> Cell:
        """A Cell, its ``to_string`` text, a 32-hex hash or a ``(matrix, ops)`` pair.

        Raises
        ------
        OutOfDomainError
            For malformed input.
        NotInBenchmarkError
            For a well-formed hash that is not in the space.

        Examples
        --------
        >>> SPACE.parse("c3|010.001.000").hash
        'b49ac8c578b4561d79ac7087988f1c61'
        >>> SPACE.parse("b49ac8c578b4561d79ac7087988f1c61").to_string()
        'c3|010.001.000'
        """
        if isinstance(value, Cell):
            return value
        if isinstance(value, str):
            s = value.strip()
            if _HEX32.match(s):
                return _row_cell(self.table, self.index_of(s))
            return Cell.from_string(s)
        if isinstance(value, tuple | list) and len(value) == 2:
            return Cell(value[0], value[1])
        raise OutOfDomainError(
            f"cannot read an NB101 cell from {type(value).__name__} {value!r}; allowed: a "
            "Cell, its to_string() text, a 32-hex module hash or a (matrix, ops) pair"
        )

    def size(self) -> int:
        """423,624 unique cells.

        Examples
        --------
        >>> SPACE.size()
        423624
        """
        return OFFICIAL_SIZE

    def all_cells(self) -> CellSequence:
        """Every unique cell once, sorted by hash (lazy sequence).

        Examples
        --------
        >>> len(SPACE.all_cells())
        423624
        """
        return CellSequence(self.table)

    @overload
    def sample(
        self, rng: np.random.Generator, n: None = None, *, replace: bool = True
    ) -> Cell: ...

    @overload
    def sample(self, rng: np.random.Generator, n: int, *, replace: bool = True) -> list[Cell]: ...

    @overload
    def sample(
        self, rng: np.random.Generator, n: int | None = None, *, replace: bool = True
    ) -> Cell | list[Cell]: ...

    def sample(
        self, rng: np.random.Generator, n: int | None = None, *, replace: bool = True
    ) -> Cell | list[Cell]:
        """Uniform random cell(s) over the unique cells of the space.

        Parameters
        ----------
        rng : numpy.random.Generator
        n : int or None
            ``None`` for one cell, else a list of ``n`` cells.
        replace : bool, default True
            ``False`` draws ``n`` distinct cells.

        Examples
        --------
        >>> cells = SPACE.sample(np.random.default_rng(0), 3, replace=False)
        >>> len({c.hash for c in cells})
        3
        """
        table = self.table
        if n is None:
            return _row_cell(table, int(rng.integers(len(table))))
        if n < 0:
            raise OutOfDomainError(f"sample size n={n}; allowed: n >= 0 or None")
        rows = rng.choice(len(table), size=n, replace=replace)
        return [_row_cell(table, int(i)) for i in rows]

    def mutate(self, cell: Cell, rng: np.random.Generator, mutation_rate: float = 1.0) -> Cell:
        """Regularized-evolution mutation of the NAS-Bench-101 colab (``mutate_spec``).

        The cell is padded to 7 vertices (pad vertices, with ops drawn uniformly once per
        call, inserted before the output). Then, until the result is valid and differs from
        ``cell``: each of the 21 upper-triangle entries flips with probability
        ``mutation_rate / 7`` and each of the 5 inner ops is, with probability
        ``mutation_rate / 5``, replaced by one of the two other ops.

        Examples
        --------
        >>> c = SPACE.parse("c3|010.001.000")
        >>> SPACE.mutate(c, np.random.default_rng(0)) != c
        True
        """
        cell = self.parse(cell)
        pad_ops = [OPS[k] for k in rng.integers(0, len(OPS), size=MAX_VERTICES)]
        base, base_ops = _pad_output_last(cell, pad_ops)
        edge_p = mutation_rate / MAX_VERTICES
        op_p = mutation_rate / (MAX_VERTICES - 2)
        iu = np.triu_indices(MAX_VERTICES, k=1)
        while True:
            mat = base.copy()
            flips = rng.random(len(iu[0])) < edge_p
            mat[iu[0][flips], iu[1][flips]] ^= 1
            ops = list(base_ops)
            for v in range(1, MAX_VERTICES - 1):
                if rng.random() < op_p:
                    others = [o for o in OPS if o != ops[v]]
                    ops[v] = others[int(rng.integers(len(others)))]
            try:
                new = Cell(mat, ops)
            except OutOfDomainError:
                continue
            if new != cell:
                return new

    def neighbours(self, cell: Cell) -> list[Cell]:
        """All valid cells one edit away, deduplicated by hash, ``cell`` excluded.

        Edits: change one inner op to another op; delete one edge (the result is pruned);
        add one edge ``u -> v`` between existing vertices (``u`` not the output, ``v`` not
        the input) that keeps the graph acyclic, in any topological order. The set
        depends only on the cell's isomorphism class.

        Examples
        --------
        >>> nb = SPACE.neighbours(SPACE.parse("c3|010.001.000"))
        >>> sorted(c.to_string() for c in nb)
        ['c1|010.001.000', 'c3|011.001.000', 'mp|010.001.000']
        """
        cell = self.parse(cell)
        a = np.array(cell.matrix, dtype=np.uint8)
        ops = list(cell.ops)
        n = len(ops)
        found: dict[str, Cell] = {}

        def add(mat: np.ndarray, new_ops: list[str]) -> None:
            try:
                new = Cell(mat, new_ops)
            except OutOfDomainError:
                return
            if new.hash != cell.hash and new.hash not in found:
                found[new.hash] = new

        for v in range(1, n - 1):
            for op in OPS:
                if op != ops[v]:
                    add(a, [*ops[:v], op, *ops[v + 1 :]])
        for i, j in zip(*np.nonzero(a)):
            m = a.copy()
            m[i, j] = 0
            add(m, ops)
        reach = a.astype(bool)
        for k in range(n):  # transitive closure (Warshall)
            reach = reach | (reach[:, k : k + 1] & reach[k : k + 1, :])
        for u in range(n - 1):
            for v in range(1, n):
                if u == v or a[u, v] or reach[v, u]:
                    continue
                m = a.copy()
                m[u, v] = 1
                if u > v:
                    order = _topological(m)
                    m = m[np.ix_(order, order)]
                    add(m, [ops[k] for k in order.tolist()])
                else:
                    add(m, ops)
        return list(found.values())

    def encode(self, cells: Sequence[Cell], kind: str) -> np.ndarray:
        """Encode many cells at once (vectorised over their packed form).

        Parameters
        ----------
        cells : sequence of Cell
            Any cells; ``SPACE.all_cells()`` is encoded straight from the table.
        kind : str
            One of :attr:`encodings`.

        Returns
        -------
        numpy.ndarray of shape (len(cells), ...)

        Examples
        --------
        >>> SPACE.encode([SPACE.parse("c3|010.001.000")] * 2, "gbdt").shape
        (2, 45)
        """
        self.check_encoding(kind)
        nv, bits, code = self.packed(cells)
        return encode_packed(nv, bits, code, kind)

    # ------------------------------------------------------------------ helpers
    def packed(self, cells: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Packed arrays ``(num_vertices, edge_bits, op_code)`` of many cells.

        Examples
        --------
        >>> [a.tolist() for a in SPACE.packed([SPACE.parse("c3|010.001.000")])]
        [[3], [5], [0]]
        """
        if isinstance(cells, CellSequence):
            t = cells.table
            return t.num_vertices, t.edge_bits, t.op_code
        rows = [self.parse(c).packed() for c in cells]
        nv = np.array([r[0] for r in rows], dtype=np.uint8)
        bits = np.array([r[1] for r in rows], dtype=np.uint32)
        code = np.array([r[2] for r in rows], dtype=np.uint8)
        return nv, bits, code


#: The NAS-Bench-101 space singleton.
SPACE = NB101Space()
