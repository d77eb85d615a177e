"""Speed and memory of the tabular store against naive look-ups, in the same run.

Run from the project root (needs ``../shared/data``)::

    nice .venv/bin/python benchmarks/bench_store.py

Builds an NB201 store from the four shared CSV tables (15,625 cells, 4 datasets), then
measures, each in a fresh interpreter where memory matters:

* opening: wall time of ``load_benchmark`` and resident memory (RSS) it adds, plus the
  first query (reads one column and the keys);
* the same on a store shaped like NB201 *with per-epoch curves* (one dataset, 3 seeds,
  212 fidelities, 4 metrics; random values, used for timing only);
* look-ups per second: ``query_many`` / ``lookup_many`` on an int array of official
  indices, ``query`` / ``lookup`` one cell at a time (ints and strings), against a pandas
  ``.loc`` look-up and a dict-of-dicts (``table[arch][dataset][metric]``) built from the
  same values, with ratios.

Writes Markdown to ``benchmarks/results/store.md`` (atomically).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import best_of, machine_note, markdown_table, utc_stamp, write_results

log = logging.getLogger("bench_store")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "store.md"
SHARED = ROOT.parent / "shared" / "data" / "nb201"
CSVS = ("nb201_cifar10_200ep_naswot_scores.csv", "nb201_hp12_mean_accuracies.csv",
        "nb201_val_accuracy_zen_all.csv", "nb201_zc_proxies_v20220518_sample.csv")

# Measured in a child interpreter: imports, then open, then first query; RSS from /proc.
_CHILD = r"""
import json, sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
t0 = time.perf_counter()
from nasbench_tools.store import load_benchmark
t_import = time.perf_counter() - t0
r0 = rss()
t0 = time.perf_counter()
bench = load_benchmark(sys.argv[1])
t_open = time.perf_counter() - t0
r1 = rss()
t0 = time.perf_counter()
bench.lookup(0, sys.argv[2], dataset=sys.argv[3])
t_first = time.perf_counter() - t0
r2 = rss()
t0 = time.perf_counter()
bench.lookup(bench.keys[1], sys.argv[2], dataset=sys.argv[3])
t_key = time.perf_counter() - t0
print(json.dumps({"import_s": t_import, "open_s": t_open, "first_s": t_first,
                  "first_key_s": t_key, "rss_import_mb": r0, "rss_open_added_mb": r1 - r0,
                  "rss_first_added_mb": r2 - r1}))
"""


def child(store: Path, metric: str, dataset: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(store), metric, dataset],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def open_runs(store: Path, metric: str, dataset: str, repeat: int,
              ) -> tuple[dict[str, float], dict[str, float]]:
    """``repeat`` fresh-interpreter runs of :func:`child`: (best time of each field, last run).

    Times are the best of the runs; RSS figures are read from the last run.
    """
    runs = [child(store, metric, dataset) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in runs[0]}, runs[-1]


def timed_write(make: Callable[[Path], Path], path: Path) -> tuple[float, float]:
    """(seconds, size in MB) of writing a store with ``make(path)``."""
    t0 = time.perf_counter()
    store = make(path)
    return time.perf_counter() - t0, store.stat().st_size / 2**20


def synthetic_store(path: Path, space: str, dataset: str, n: int, seeds: tuple[int, ...],
                    fids: tuple[tuple[int, int], ...], metrics: tuple[str, ...],
                    hex_keys: bool = False) -> Path:
    """A store of the given shape holding random values (timing only), streamed."""
    from nasbench_tools.store import DatasetTable, StoreWriter, TableData

    rng = np.random.default_rng(0)
    step = 16384
    with StoreWriter(path, command="bench_store synthetic") as w:
        for start in range(0, n, step):
            k = min(step, n - start)
            vals = rng.uniform(0, 100, size=(k, len(seeds), len(fids), len(metrics)))
            ds = DatasetTable(dataset, seeds, fids, metrics, vals.astype(np.float32))
            keys = ([f"{i:032x}" for i in range(start, start + k)] if hex_keys
                    else [f"cell{i}" for i in range(start, start + k)])
            w.append(TableData(space, keys, np.arange(start, start + k), {dataset: ds}))
    return path


def curves_store(path: Path) -> Path:
    """Shaped like one NB201 dataset with per-epoch curves: 15,625 x 3 x 212 x 4."""
    fids = tuple((12, e) for e in range(1, 13)) + tuple((200, e) for e in range(1, 201))
    return synthetic_store(path, "nb201", "cifar10-valid", 15625, (777, 888, 999), fids,
                           ("train_accuracy", "val_accuracy", "test_accuracy", "train_time"))


def nb101_store(path: Path) -> Path:
    """Shaped like nasbench_only108: 423,624 x 3 x 2 x 4, 32-hex keys."""
    return synthetic_store(path, "nb101", "cifar10", 423624, (0, 1, 2), ((108, 54), (108, 108)),
                           ("train_accuracy", "val_accuracy", "test_accuracy", "train_time"),
                           hex_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-curves", action="store_true",
                        help="skip the synthetic curve-shaped and NB101-shaped stores")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not SHARED.is_dir():
        log.error("shared data not found at %s", SHARED)
        return 2

    import pandas as pd

    from nasbench_tools.store import load_benchmark
    from nasbench_tools.store.converters.registry import convert_to_store

    rows: list[tuple[str, str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        t0 = time.perf_counter()
        store = convert_to_store([SHARED / c for c in CSVS], tmp / "nb201.h5", command="bench")
        t_convert = time.perf_counter() - t0
        size_mb = store.stat().st_size / 2**20
        rows.append(("convert 4 shared CSVs -> store (15,625 cells, 4 datasets)",
                     f"{t_convert:.2f} s", f"file {size_mb:.1f} MB"))

        # -- opening, in fresh interpreters (best of `repeat` for times; RSS of the last run)
        o, last = open_runs(store, "test_accuracy", "cifar10", args.repeat)
        open_rss = last["rss_open_added_mb"]
        rows += [
            ("import nasbench_tools.store (numpy, h5py)", f"{o['import_s'] * 1e3:.0f} ms",
             f"RSS {o['rss_import_mb']:.0f} MB"),
            ("load_benchmark (NB201 store from CSVs)", f"{o['open_s'] * 1e3:.1f} ms",
             f"RSS +{last['rss_open_added_mb']:.1f} MB"),
            ("first lookup by index (reads one column)", f"{o['first_s'] * 1e3:.1f} ms",
             f"RSS +{last['rss_first_added_mb']:.1f} MB"),
            ("first lookup by string (reads 15,625 keys)", f"{o['first_key_s'] * 1e3:.1f} ms", ""),
        ]
        if not args.no_curves:
            t_w, csize = timed_write(curves_store, tmp / "curves.h5")
            c, last = open_runs(tmp / "curves.h5", "val_accuracy", "cifar10-valid", args.repeat)
            rows += [
                ("StoreWriter: curve-shaped store, 15,625 x 3 x 212 x 4 (streamed, 4,096 rows/chunk)",
                 f"{t_w:.2f} s", f"file {csize:.0f} MB"),
                ("load_benchmark (curve-shaped store)", f"{c['open_s'] * 1e3:.1f} ms",
                 f"RSS +{last['rss_open_added_mb']:.1f} MB"),
                ("first lookup (reads 1 of 848 columns)", f"{c['first_s'] * 1e3:.1f} ms",
                 f"RSS +{last['rss_first_added_mb']:.1f} MB"),
            ]
            t_w, bsize = timed_write(nb101_store, tmp / "nb101.h5")
            c, last = open_runs(tmp / "nb101.h5", "val_accuracy", "cifar10", args.repeat)
            rows += [
                ("StoreWriter: NB101-shaped store, 423,624 x 3 x 2 x 4 (streamed)",
                 f"{t_w:.2f} s", f"file {bsize:.0f} MB"),
                ("load_benchmark (NB101-shaped store)", f"{c['open_s'] * 1e3:.1f} ms",
                 f"RSS +{last['rss_open_added_mb']:.1f} MB"),
                ("first lookup by index (reads one 423,624 x 3 column)",
                 f"{c['first_s'] * 1e3:.0f} ms",
                 f"RSS +{last['rss_first_added_mb']:.1f} MB"),
                ("first lookup by hash (reads 423,624 keys, builds the map)",
                 f"{c['first_key_s'] * 1e3:.0f} ms", ""),
            ]

        # -- look-ups per second, same values three ways
        bench = load_benchmark(store)
        col = bench.column("test_accuracy", "cifar10", epoch=200)
        keys = bench.keys
        rng = np.random.default_rng(0)
        many = rng.integers(0, len(bench), size=1_000_000)
        few = many[:100_000]
        few_list = few.tolist()
        few_keys = [keys[i] for i in few_list]
        frame = pd.DataFrame({"test_accuracy": col}, index=pd.Index(bench.indices, name="index"))
        nested = {i: {"cifar10": {"test_accuracy": float(v)}} for i, v in enumerate(col)}
        nested_by_key = {k: nested[i] for i, k in enumerate(keys)}
        kw: dict[str, Any] = {"dataset": "cifar10", "epoch": 200}
        np.testing.assert_array_equal(bench.lookup_many(few, "test_accuracy", **kw), col[few])

        def loop(fn: Callable[[object], object], cells: list[object]) -> Callable[[], None]:
            def run() -> None:
                for c in cells:
                    fn(c)
            return run

        def rate(seconds: float, n: int) -> float:
            return n / seconds

        t_many = best_of(lambda: bench.query_many(many, "test_accuracy", **kw), args.repeat)
        t_lmany = best_of(lambda: bench.lookup_many(many, "test_accuracy", **kw), args.repeat)
        t_pd_vec = best_of(lambda: frame.loc[many, "test_accuracy"].to_numpy(), args.repeat)
        t_q = best_of(loop(lambda c: bench.query(c, "test_accuracy", **kw), few_list), args.repeat)
        t_l = best_of(loop(lambda c: bench.lookup(c, "test_accuracy", **kw), few_list), args.repeat)
        t_qs = best_of(loop(lambda c: bench.query(c, "test_accuracy", **kw), few_keys), args.repeat)
        t_pd = best_of(loop(lambda c: frame.loc[c, "test_accuracy"], few_list[:20_000]), args.repeat)
        t_pd_at = best_of(loop(lambda c: frame.at[c, "test_accuracy"], few_list), args.repeat)
        t_dict = best_of(loop(lambda c: nested[c]["cifar10"]["test_accuracy"], few_list),  # type: ignore[index]
                         args.repeat)
        t_dict_s = best_of(loop(lambda c: nested_by_key[c]["cifar10"]["test_accuracy"], few_keys),  # type: ignore[index]
                           args.repeat)
        r_many = rate(t_many, len(many))
        r_q = rate(t_q, len(few))
        rows += [
            ("query_many, int array of 1,000,000 official indices (charged)",
             f"{r_many:,.0f} cells/s", ""),
            ("lookup_many, same", f"{rate(t_lmany, len(many)):,.0f} cells/s", ""),
            ("reference: pandas frame.loc[int array, col]", f"{rate(t_pd_vec, len(many)):,.0f} cells/s",
             f"query_many is x{r_many / rate(t_pd_vec, len(many)):.1f}"),
            ("query, one int index per call (charged)", f"{r_q:,.0f} cells/s", ""),
            ("lookup, one int index per call", f"{rate(t_l, len(few)):,.0f} cells/s", ""),
            ("query, one arch string per call (charged)", f"{rate(t_qs, len(few)):,.0f} cells/s", ""),
            ("reference: pandas frame.loc[i, col] per call", f"{rate(t_pd, 20_000):,.0f} cells/s",
             f"query is x{r_q / rate(t_pd, 20_000):.0f}"),
            ("reference: pandas frame.at[i, col] per call", f"{rate(t_pd_at, len(few)):,.0f} cells/s",
             f"query is x{r_q / rate(t_pd_at, len(few)):.1f}"),
            ("reference: dict-of-dicts d[i][dataset][metric]", f"{rate(t_dict, len(few)):,.0f} cells/s",
             f"query is x{r_q / rate(t_dict, len(few)):.2f}"),
            ("reference: dict-of-dicts d[arch_str][dataset][metric]",
             f"{rate(t_dict_s, len(few)):,.0f} cells/s",
             f"string query is x{rate(t_qs, len(few)) / rate(t_dict_s, len(few)):.2f}"),
        ]
        goals = (f"Goals: open < 50 ms: {'yes' if o['open_s'] < 0.05 else 'no'}; "
                 f"open adds < 200 MB RSS: {'yes' if open_rss < 200 else 'no'}; "
                 f"query_many >= 1,000,000 cells/s: {'yes' if r_many >= 1e6 else 'no'}; "
                 f"query >= 100,000 cells/s: {'yes' if r_q >= 1e5 else 'no'}.")
    finally:
        for p in sorted(tmp.glob("*")):
            p.unlink()
        tmp.rmdir()

    import h5py

    lines = [
        "# Store speed and memory",
        "",
        f"Produced by `benchmarks/bench_store.py` on {utc_stamp()}; times are the best of "
        f"{args.repeat} runs (wall clock); opening is measured in fresh interpreters, RSS "
        f"from `/proc/self/status`. "
        + machine_note(f"h5py {h5py.__version__}", f"pandas {pd.__version__}")
        + " Data: the four NB201 CSV tables of `shared/data/nb201`; the curve-shaped "
        "and NB101-shaped stores hold random values and only serve to time writing, "
        "opening and column reads.",
        "",
        *markdown_table(("what", "result", "note"), rows, right=(1,)),
        "",
        goals,
        "",
        "Design: opening reads root and dataset attributes only; a `(dataset, fidelity, "
        "metric)` column (all cells, all seeds) is read on first use, reduced per seed "
        "choice and cached as a float64 array, so `query` is a dict look-up of the cell plus "
        "an array index and `query_many` is one numpy `take`.",
        "",
    ]
    write_results(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
