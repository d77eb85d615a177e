"""Speed of the NAS-Bench-201 and NATS-Bench size spaces on whole-space operations.

Run from the project root::

    nice .venv/bin/python benchmarks/bench_spaces_nb201.py

Prints a Markdown table and writes it to ``benchmarks/results/spaces_nb201.md``. Each row
is the best of ``--repeat`` runs (wall clock, one process); cached tables are rebuilt from
scratch in every run (the caches are bypassed through ``__wrapped__``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import best_of, machine_note, markdown_table, utc_stamp, write_results

from nasbench_tools.spaces import nats_sss, nb201
from nasbench_tools.spaces.nats_sss import costs as sss_costs
from nasbench_tools.spaces.nats_sss import space as sss_space
from nasbench_tools.spaces.nb201 import costs as nb201_costs
from nasbench_tools.spaces.nb201 import isomorphism
from nasbench_tools.spaces.nb201 import space as nb201_space

log = logging.getLogger("bench_spaces_nb201")
RESULTS = Path(__file__).resolve().parent / "results" / "spaces_nb201.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    cells = nb201.SPACE.all_cells()
    codes = np.arange(nb201.NUM_CELLS)
    strings = [c.to_string() for c in cells]
    sss_cells = nats_sss.SPACE.all_cells()
    rng = np.random.default_rng(0)

    rows: list[tuple[str, str, float]] = []

    def add(space: str, what: str, fn: Callable[[], object]) -> None:
        seconds = best_of(fn, args.repeat)
        rows.append((space, what, seconds))
        log.info("%-8s %-58s %9.4f s", space, what, seconds)

    add("nb201", "enumerate 15,625 Cells (Cell.from_code)", nb201_space._all_cells.__wrapped__)
    add("nb201", "to_string of 15,625 cells", lambda: [c.to_string() for c in cells])
    add("nb201", "Cell.from_string of 15,625 strings", lambda: [nb201.Cell.from_string(s) for s in strings])
    add("nb201", "IndexTable.from_strings (15,625)", lambda: nb201.IndexTable.from_strings(strings))
    add("nb201", "canonical_codes('nb201') from scratch (6,466 classes)",
        lambda: isomorphism.canonical_codes.__wrapped__("nb201"))
    add("nb201", "canonical_codes('functional') from scratch",
        lambda: isomorphism.canonical_codes.__wrapped__("functional"))
    add("nb201", ".hash of 15,625 cells (table cached)", lambda: [c.hash for c in cells])
    def encode_nb201(kind: str) -> Callable[[], object]:
        return lambda: nb201.SPACE.encode(cells, kind)

    def encode_sss(kind: str) -> Callable[[], object]:
        return lambda: nats_sss.SPACE.encode(sss_cells, kind)

    for kind in nb201.SPACE.encodings:
        add("nb201", f"SPACE.encode(all 15,625, {kind!r})", encode_nb201(kind))
    add("nb201", "params + FLOPs of 15,625 cells, one dataset, from scratch",
        lambda: nb201_costs._all_costs.__wrapped__("cifar10"))
    add("nb201", "mutate_codes of 100,000 codes", lambda: nb201.mutate_codes(rng.integers(0, 15625, 100000), rng))
    add("nb201", "neighbour_codes of 15,625 codes", lambda: nb201.neighbour_codes(codes))
    add("nb201", "SPACE.mutate x 10,000 (Cell objects)",
        lambda: [nb201.SPACE.mutate(cells[i], rng) for i in range(10000)])

    add("nats_sss", "enumerate 32,768 Cells (Cell.from_index)", sss_space._all_cells.__wrapped__)
    for kind in nats_sss.SPACE.encodings:
        add("nats_sss", f"SPACE.encode(all 32,768, {kind!r})", encode_sss(kind))
    add("nats_sss", "params + FLOPs of 32,768 cells, one dataset, from scratch",
        lambda: sss_costs._all_costs.__wrapped__("cifar10"))

    lines = [
        "# Search-space speed: NAS-Bench-201 and NATS-Bench size space",
        "",
        f"Produced by `benchmarks/bench_spaces_nb201.py` on {utc_stamp()}; best of {args.repeat} "
        f"runs, wall clock, one process. {machine_note()}",
        "",
        *markdown_table(("space", "operation", "seconds"),
                        [(space, what, f"{seconds:.4f}") for space, what, seconds in rows],
                        right=(2,)),
        "",
        "Acceptance: every encoding of all 15,625 cells within 1 s: "
        + ("yes" if all(s <= 1.0 for sp, w, s in rows if "encode" in w and sp == "nb201") else "NO")
        + ".",
        "",
    ]
    write_results(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
