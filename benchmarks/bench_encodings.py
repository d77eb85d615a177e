"""Encodings: the vectorised encoders against a plain per-cell Python loop, same output.

Run from the project root::

    nice .venv/bin/python benchmarks/bench_encodings.py [--nb101-cells 50000] [--repeat 3]

Side by side in one run, best of ``--repeat`` (wall clock, one process):

* NAS-Bench-201 ``adjacency_onehot`` and ``path`` of all 15,625 cells: ``SPACE.encode``
  against a straightforward loop that parses each cell string and fills the row (the way a
  research script usually does it);
* NAS-Bench-101 ``adjacency_onehot`` of ``--nb101-cells`` random cells (Cell objects):
  ``SPACE.encode`` against a loop over each cell's matrix and ops (output moved to the last
  of 7 vertices, upper triangle, then the one-hot of the inner ops).

Both sides must give identical arrays (checked), so the ratio compares equal work. Writes
``benchmarks/results/encodings.md``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from pathlib import Path

import numpy as np
from _common import best_of, machine_note, markdown_table, utc_stamp, write_results

from nasbench_tools.spaces import nb101, nb201

log = logging.getLogger("bench_encodings")
RESULTS = Path(__file__).resolve().parent / "results" / "encodings.md"

_NB201_OPS = {op: i for i, op in enumerate(nb201.OPS)}
# (edges of a path in string order) for the four input->output paths of the NB201 cell
_NB201_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))


def _nb201_ops(s: str) -> list[int]:
    """Op index of each of the 6 edges of ``|a~0|+|b~0|c~1|+|d~0|e~1|f~2|``."""
    return [_NB201_OPS[tok.split("~")[0]] for node in s.split("+")
            for tok in node.strip("|").split("|")]


def plain_nb201_onehot(strings: list[str]) -> np.ndarray:
    out = np.zeros((len(strings), 30), dtype=np.float32)
    for r, s in enumerate(strings):
        for e, op in enumerate(_nb201_ops(s)):
            out[r, 5 * e + op] = 1.0
    return out


def plain_nb201_path(strings: list[str]) -> np.ndarray:
    out = np.zeros((len(strings), 155), dtype=np.float32)
    for r, s in enumerate(strings):
        ops = _nb201_ops(s)
        for path in _NB201_PATHS:
            codes = [ops[e] for e in path]
            if len(codes) == 1:
                k = codes[0]
            elif len(codes) == 2:
                k = 5 + 5 * codes[0] + codes[1]
            else:
                k = 30 + 25 * codes[0] + 5 * codes[1] + codes[2]
            out[r, k] = 1.0
    return out


_NB101_INNER = {op: i for i, op in enumerate(nb101.OPS)}


def plain_nb101_onehot(cells: list[nb101.Cell]) -> np.ndarray:
    v = nb101.MAX_VERTICES
    out = np.zeros((len(cells), 36), dtype=np.float32)
    for r, cell in enumerate(cells):
        m, ops = np.asarray(cell.matrix), cell.ops
        n = len(ops)
        slot = [*range(n - 1), v - 1]  # output to the last vertex, pads before it
        full = np.zeros((v, v), dtype=np.float32)
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    full[slot[i], slot[j]] = 1.0
        row = out[r]
        k = 0
        for i in range(v):
            for j in range(i + 1, v):
                row[k] = full[i, j]
                k += 1
        for i in range(1, n - 1):
            row[21 + 3 * (i - 1) + _NB101_INNER[ops[i]]] = 1.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nb101-cells", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    rows: list[tuple[str, ...]] = []
    cells201 = nb201.SPACE.all_cells()
    strings = [c.to_string() for c in cells201]
    for kind, plain in (("adjacency_onehot", plain_nb201_onehot), ("path", plain_nb201_path)):
        ours = nb201.SPACE.encode(cells201, kind)
        if not np.array_equal(ours, plain(strings)):
            raise SystemExit(f"nb201 {kind}: the plain loop disagrees with SPACE.encode")
        t_ours = best_of(functools.partial(nb201.SPACE.encode, cells201, kind), args.repeat)
        t_plain = best_of(functools.partial(plain, strings), args.repeat)
        rows.append((f"nb201 `{kind}`, all 15,625 cells", f"{t_ours * 1e3:.1f} ms",
                     f"{t_plain * 1e3:.1f} ms", f"{t_plain / t_ours:.1f}"))
        log.info("%s", rows[-1])

    rng = np.random.default_rng(0)
    table = nb101.SPACE.all_cells()
    idx = rng.choice(len(table), size=min(args.nb101_cells, len(table)), replace=False)
    cells101 = [table[int(i)] for i in idx]
    ours = nb101.SPACE.encode(cells101, "adjacency_onehot")
    if not np.array_equal(ours, plain_nb101_onehot(cells101)):
        raise SystemExit("nb101 adjacency_onehot: the plain loop disagrees with SPACE.encode")
    t_ours = best_of(lambda: nb101.SPACE.encode(cells101, "adjacency_onehot"), args.repeat)
    t_plain = best_of(lambda: plain_nb101_onehot(cells101), args.repeat)
    rows.append((f"nb101 `adjacency_onehot`, {len(cells101):,} random Cell objects",
                 f"{t_ours * 1e3:.1f} ms", f"{t_plain * 1e3:.1f} ms", f"{t_plain / t_ours:.1f}"))
    log.info("%s", rows[-1])

    lines = [
        "# Encodings: vectorised encoders vs a plain per-cell loop",
        "",
        f"Produced by `benchmarks/bench_encodings.py --repeat {args.repeat} --nb101-cells "
        f"{args.nb101_cells}` on {utc_stamp()}; best of {args.repeat} (wall clock, one "
        f"process). " + machine_note(),
        "",
        "The plain loop parses each cell (NB201: its string; NB101: its matrix and ops) and "
        "fills one row at a time; both sides give identical arrays (checked before timing). "
        "Ratio = plain / ours (> 1: ours is faster).",
        "",
        *markdown_table(("what", "ours (SPACE.encode)", "plain loop", "ratio"), rows,
                        right=(1, 2, 3)),
        "",
    ]
    write_results(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
