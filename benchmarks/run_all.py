"""Run the speed suites one after another and refresh ``benchmarks/results/``.

Each suite measures ratios side by side in one run and writes its own results file; this
script only sequences them. The quick suites run by default; ``--all`` adds the long ones
(whole-space NB101 enumeration, the 423,624-cell tfrecord conversion, NASWOT, the
predictor harness), which take from several minutes to about 15 minutes each on 2 cores.

Examples
--------
``python benchmarks/run_all.py`` (quick suites) or ``python benchmarks/run_all.py --all``.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data" / "nb201"
#: The NB201 store the search suite reads, built from the shared CSVs on first use.
STORE = Path(tempfile.gettempdir()) / "nbt_bench" / "nb201_shared.h5"

log = logging.getLogger("benchmarks")

#: name -> (arguments after the script path, long?)
SUITES: dict[str, tuple[list[str], bool]] = {
    "bench_spaces_nb201.py": ([], False),
    "bench_spaces_nb101.py": (["--skip-enumeration"], False),
    "bench_store.py": ([], False),
    "bench_trainer.py": ([], False),
    "bench_search.py": (
        ["--store", str(STORE), "--csv-dir", str(SHARED),
         "--write", str(HERE / "results" / "search.md")],
        False,
    ),
    "bench_naswot.py": ([], True),
    "bench_convert_nb101.py": ([], True),
    "bench_predictors.py": ([], True),
}


def main(argv: list[str] | None = None) -> int:
    """Run the suites; returns the number of suites that failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--all", action="store_true", help="also run the long suites")
    parser.add_argument("only", nargs="*", help="run only these scripts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    failed = 0
    for script, (extra, long) in SUITES.items():
        if args.only and script not in args.only:
            continue
        if long and not args.all and not args.only:
            log.info("skip %s (long; use --all)", script)
            continue
        if "--store" in extra and not STORE.exists():
            subprocess.check_call([sys.executable, "-m", "nasbench_tools.cli.main", "convert", "-q",
                                   str(SHARED / "nb201_cifar10_200ep_naswot_scores.csv"),
                                   str(SHARED / "nb201_hp12_mean_accuracies.csv"),
                                   "-o", str(STORE)])
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / script), *extra], cwd=ROOT)
        log.info("%s: exit %d in %.0f s", script, rc, time.perf_counter() - start)
        failed += rc != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
