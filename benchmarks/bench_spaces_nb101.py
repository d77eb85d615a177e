"""Benchmark of the NB101 space: whole-space enumeration, encodings, costs, hashing.

Run from the project root (takes a few minutes on 2 cores)::

    nice .venv/bin/python benchmarks/bench_spaces_nb101.py

It prints the figures and writes ``benchmarks/results/spaces_nb101.md`` atomically.
Goals: enumeration of all 423,624 cells at most 5 minutes; ``adjacency_onehot`` of all
cells at most 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.io import atomic_write_text
from nasbench_tools.spaces.nb101 import SPACE, Cell, encode_packed, network_costs
from nasbench_tools.spaces.nb101.enumerate import OFFICIAL_SIZE, enumerate_space, load_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "spaces_nb101.md"
CHUNK = 50_000


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _chunked(kind: str, nv: np.ndarray, bits: np.ndarray, code: np.ndarray) -> tuple[int, ...]:
    shape: tuple[int, ...] = ()
    for s in range(0, len(nv), CHUNK):
        part = encode_packed(nv[s : s + CHUNK], bits[s : s + CHUNK], code[s : s + CHUNK], kind)
        shape = part.shape[1:]
    return (len(nv), *shape)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-enumeration", action="store_true", help="time the rest only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, str]] = []

    def report(what: str, seconds: float, note: str = "") -> None:
        print(f"{what:<55} {seconds:9.3f} s  {note}")
        rows.append((what, f"{seconds:.3f}", note))

    if not args.skip_enumeration:
        cpu0 = _cpu_seconds()
        t, table = _timed(enumerate_space)
        cpu = _cpu_seconds() - cpu0
        assert len(table) == OFFICIAL_SIZE, len(table)
        stored = load_table(SPACE.data_file)
        same = all(
            np.array_equal(getattr(table, k), getattr(stored, k))
            for k in ("num_vertices", "edge_bits", "op_code", "hashes")
        )
        report(
            "enumerate all cells (enumerate_space)",
            t,
            f"{len(table):,} unique cells; identical to data file: {same}; CPU time "
            f"{cpu:.1f} s (this process + {os.cpu_count()} hashing workers)",
        )

    t, stored = _timed(lambda: load_table(SPACE.data_file))
    size_mb = SPACE.data_file.stat().st_size / 1e6
    report("load data/nb101_cells.npz", t, f"{len(stored):,} cells, {size_mb:.1f} MB file")

    cells = SPACE.all_cells()
    nv, bits, code = SPACE.packed(cells)
    for kind in ("adjacency_onehot", "path", "gbdt"):
        start = time.perf_counter()
        out = SPACE.encode(cells, kind)
        report(f"encode all cells: {kind}", time.perf_counter() - start, f"shape {out.shape}")
        del out
    t, shape = _timed(lambda: _chunked("renas", nv, bits, code))
    report("encode all cells: renas (chunks of 50,000)", t, f"shape {shape}")

    def all_costs() -> None:
        for s in range(0, len(nv), CHUNK):
            network_costs(nv[s : s + CHUNK], bits[s : s + CHUNK], code[s : s + CHUNK])

    t, _ = _timed(all_costs)
    report("params + MACs of all cells (network_costs)", t, "cifar10")

    rng = np.random.default_rng(0)
    t, sample = _timed(lambda: SPACE.sample(rng, 10_000))
    report("sample 10,000 cells uniformly", t)
    sample = sample[:2000]
    t, _ = _timed(lambda: [Cell(c.matrix, c.ops).hash for c in sample])
    report("build + hash 2,000 cells (Cell(...).hash)", t, f"{t / 2000 * 1e6:.0f} us per cell")
    t, _ = _timed(lambda: [SPACE.mutate(c, rng) for c in sample[:1000]])
    report("mutate 1,000 cells", t)
    t, nbs = _timed(lambda: [SPACE.neighbours(c) for c in sample[:200]])
    mean_nb = np.mean([len(n) for n in nbs])
    report("neighbours of 200 cells", t, f"{mean_nb:.1f} neighbours on average")

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    machine = (
        f"{platform.machine()}, nproc={os.cpu_count()}, load average at the end "
        f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (machine shared with other jobs); "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    lines = [
        "# NB101 search space benchmark",
        "",
        f"Produced by `nice .venv/bin/python benchmarks/bench_spaces_nb101.py` on "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {machine}.",
        "",
        "Goals: enumeration <= 300 s; `adjacency_onehot` of all 423,624 cells <= 10 s.",
        "",
        "| what | seconds | note |",
        "| --- | ---: | --- |",
        *[f"| {w} | {s} | {n} |" for w, s, n in rows],
        "",
    ]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
