"""Enumerate the whole NAS-Bench-101 space (423,624 unique cells) and store it compactly.

Method (exact, no sampling):

1. For every vertex count ``n = 2..7``, take every upper-triangular ``n x n`` 0/1 matrix
   with at most 9 edges in which every vertex lies on an input -> output path. For an
   upper-triangular matrix that holds exactly when every vertex but the input has an
   in-edge and every vertex but the output has an out-edge (the official
   ``graph_util.is_full_dag`` test). These are exactly the pruned matrices.
2. Group them into isomorphism classes: input and output are the only source and sink,
   so an isomorphism permutes the inner vertices; the class key is the smallest bit code
   of the matrix over all ``(n-2)!`` inner permutations.
3. For one matrix per class, keep each op labelling (``3**(n-2)``) that is the smallest in
   its orbit under the matrix's automorphisms: one labelled cell per isomorphism class.
4. Compute the official module hash of each, keep the first of every hash (the official
   count is the number of distinct hashes) and sort by hash.

The table is stored as ``.npz`` with arrays ``num_vertices`` (uint8), ``edge_bits``
(uint32), ``op_code`` (uint8) (the packed form of ``Cell.packed``) and ``hashes``
(``(N, 16)`` uint8, md5 digests, sorted ascending), plus ``format`` (int, 1).

Command (written atomically)::

    python -m nasbench_tools.spaces.nb101.enumerate --output data/nb101_cells.npz

Examples
--------
>>> t = enumerate_space(max_vertices=3)
>>> len(t.hashes)
7
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import numpy as np

from nasbench_tools.errors import FormatError
from nasbench_tools.io import atomic_path
from nasbench_tools.spaces.nb101.hashing import labels_of, module_hashes
from nasbench_tools.spaces.nb101.ops import MAX_EDGES, MAX_VERTICES

__all__ = ["FORMAT_VERSION", "CellTable", "enumerate_space", "load_table", "main", "save_table"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Number of unique cells of the official benchmark.
OFFICIAL_SIZE = 423_624


@dataclass(frozen=True)
class CellTable:
    """Packed arrays of many cells, sorted by hash (the stored form of the space)."""

    num_vertices: np.ndarray
    edge_bits: np.ndarray
    op_code: np.ndarray
    hashes: np.ndarray  # (N, 16) uint8 md5 digests

    def __len__(self) -> int:
        return len(self.num_vertices)

    def hex(self, i: int) -> str:
        """Hash of row ``i`` as 32 hex digits."""
        return bytes(self.hashes[i]).hex()


def _bit_positions(n: int) -> list[tuple[int, int]]:
    """(i, j) of every official bit index ``i + j*(j-1)/2`` below ``n*(n-1)/2``."""
    return [(i, j) for j in range(n) for i in range(j)]


def _full_dags(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edge bit masks and (M, n, n) matrices of all pruned n-vertex cells."""
    pos = _bit_positions(n)
    m = len(pos)
    masks = np.arange(1 << m, dtype=np.uint32)
    flat = ((masks[:, None] >> np.arange(m, dtype=np.uint32)) & 1).astype(np.uint8)
    keep = flat.sum(axis=1) <= MAX_EDGES
    masks, flat = masks[keep], flat[keep]
    mats = np.zeros((len(masks), n, n), dtype=np.uint8)
    ii = np.array([p[0] for p in pos], dtype=np.intp)
    jj = np.array([p[1] for p in pos], dtype=np.intp)
    mats[:, ii, jj] = flat
    full = (mats[:, :, 1:].sum(axis=1) > 0).all(axis=1) & (mats[:, :-1, :].sum(axis=2) > 0).all(
        axis=1
    )
    return masks[full], mats[full]


def _codes(mats: np.ndarray) -> np.ndarray:
    """Bit code of whole n x n matrices (n*n <= 49 bits) as uint64."""
    n = mats.shape[1]
    weights = (np.uint64(1) << np.arange(n * n, dtype=np.uint64)).astype(np.uint64)
    return (mats.reshape(len(mats), -1).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _inner_perms(n: int) -> list[tuple[int, ...]]:
    return [(0, *p, n - 1) for p in permutations(range(1, n - 1))]


def _labelled_classes(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(matrix, op-code rows) of one labelled cell per isomorphism class, n vertices."""
    _, mats = _full_dags(n)
    if len(mats) == 0:
        return []
    perms = np.array(_inner_perms(n), dtype=np.intp)  # identity first
    best = np.full(len(mats), np.iinfo(np.uint64).max, dtype=np.uint64)
    for p in perms:
        best = np.minimum(best, _codes(mats[:, p][:, :, p]))
    _, first = np.unique(best, return_index=True)
    reps = mats[first]
    permuted = reps[:, perms[:, :, None], perms[:, None, :]]  # (R, P, n, n)
    codes = _codes(permuted.reshape(-1, n, n)).reshape(len(reps), len(perms))
    is_auto = codes == codes[:, :1]
    k = n - 2
    powers = 3 ** np.arange(k)
    labellings = ((np.arange(3**k)[:, None] // powers) % 3).astype(np.int64)
    label_code = labellings @ powers
    inner = perms[:, 1:-1] - 1  # permutation of the inner vertices 0..k-1
    out = []
    for r in range(len(reps)):
        keep = np.ones(len(labellings), dtype=bool)
        for a in np.flatnonzero(is_auto[r])[1:]:
            keep &= label_code <= labellings[:, inner[a]] @ powers
        out.append((reps[r], labellings[keep]))
    logger.info("n=%d: %d pruned matrices, %d classes", n, len(mats), len(first))
    return out


def _pack_bits(mat: np.ndarray) -> int:
    n = mat.shape[0]
    return sum(1 << b for b, (i, j) in enumerate(_bit_positions(n)) if mat[i, j])


def _hash_class(item: tuple[np.ndarray, np.ndarray]) -> tuple[int, int, list[int], list[bytes]]:
    """Packed rows and md5 digests of every labelling of one matrix (worker function)."""
    mat, labs = item
    n = mat.shape[0]
    hexes = module_hashes(mat, [labels_of(lab) for lab in labs.tolist()])
    codes = (labs @ (3 ** np.arange(n - 2))).tolist() if n > 2 else [0] * len(labs)
    return n, _pack_bits(mat), codes, [bytes.fromhex(h) for h in hexes]


def enumerate_space(max_vertices: int = MAX_VERTICES, jobs: int | None = None) -> CellTable:
    """Enumerate every unique cell (one per official hash), sorted by hash.

    Parameters
    ----------
    max_vertices : int, default 7
        Largest vertex count (smaller values give sub-spaces, for tests).
    jobs : int or None
        Worker processes for the hashing (default: the number of CPUs); small spaces are
        always hashed in this process.

    Returns
    -------
    CellTable

    Examples
    --------
    >>> t = enumerate_space(max_vertices=2)
    >>> len(t), t.hex(0)
    (1, '043721b9c7fe8c5fad811d47d83132ec')
    """
    start = time.perf_counter()
    items = [item for n in range(2, max_vertices + 1) for item in _labelled_classes(n)]
    total = sum(len(labs) for _, labs in items)
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    if workers == 1 or total < 20_000:
        results = [_hash_class(item) for item in items]
    else:
        context = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = list(pool.map(_hash_class, items, chunksize=16))
    nv: list[int] = []
    bits: list[int] = []
    codes: list[int] = []
    digests: list[bytes] = []
    for n, b, cs, ds in results:
        nv.extend([n] * len(cs))
        bits.extend([b] * len(cs))
        codes.extend(cs)
        digests.extend(ds)
    hashes = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 16)
    order = np.lexsort(hashes.T[::-1])  # byte-wise ascending = hex order
    ordered = hashes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    if not first.all():
        logger.warning("%d labelled classes share a hash with another one", int((~first).sum()))
    order = order[first]
    table = CellTable(
        num_vertices=np.asarray(nv, dtype=np.uint8)[order],
        edge_bits=np.asarray(bits, dtype=np.uint32)[order],
        op_code=np.asarray(codes, dtype=np.uint8)[order],
        hashes=np.ascontiguousarray(hashes[order]),
    )
    logger.info(
        "enumerated %d unique cells in %.1f s (%d worker(s))",
        len(table),
        time.perf_counter() - start,
        workers,
    )
    return table


def save_table(table: CellTable, path: str | Path) -> Path:
    """Write a table as compressed ``.npz``, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = save_table(enumerate_space(3), pathlib.Path(tempfile.mkdtemp()) / "t.npz")
    >>> len(load_table(p))
    7
    """
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            format=np.array(FORMAT_VERSION),
            num_vertices=table.num_vertices,
            edge_bits=table.edge_bits,
            op_code=table.op_code,
            hashes=table.hashes,
        )
        fh.flush()
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a data file is meant to be shared
    return path


def load_table(path: str | Path) -> CellTable:
    """Read a table written by :func:`save_table`.

    Raises
    ------
    FormatError
        When the file is not such a table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = save_table(enumerate_space(2), pathlib.Path(tempfile.mkdtemp()) / "t.npz")
    >>> load_table(p).hex(0)
    '043721b9c7fe8c5fad811d47d83132ec'
    """
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            fmt = int(z["format"])
            table = CellTable(
                num_vertices=z["num_vertices"].astype(np.uint8),
                edge_bits=z["edge_bits"].astype(np.uint32),
                op_code=z["op_code"].astype(np.uint8),
                hashes=z["hashes"].astype(np.uint8),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"{path} is not an NB101 cell table ({exc})") from exc
    if fmt != FORMAT_VERSION:
        raise FormatError(f"{path} has table format {fmt}; allowed: {FORMAT_VERSION}")
    n = len(table.num_vertices)
    if not (len(table.edge_bits) == len(table.op_code) == n and table.hashes.shape == (n, 16)):
        raise FormatError(f"{path}: the arrays of the NB101 cell table differ in length")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: enumerate the space and write the table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.npz"
    >>> main(["--output", str(out), "--max-vertices", "3"])
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m nasbench_tools.spaces.nb101.enumerate",
        description="Enumerate the NAS-Bench-101 space and store it as a compact .npz table.",
    )
    parser.add_argument("--output", required=True, type=Path, help="where to write the .npz")
    parser.add_argument(
        "--max-vertices", type=int, default=MAX_VERTICES, help="largest vertex count (tests)"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: number of CPUs)"
    )
    args = parser.parse_args(argv)
    table = enumerate_space(args.max_vertices, jobs=args.jobs)
    save_table(table, args.output)
    logger.info("wrote %d cells to %s", len(table), args.output)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    raise SystemExit(main())
