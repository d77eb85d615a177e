"""Run every speed suite and write one ``benchmarks/results/SUMMARY.md``.

Each suite measures ours and a reference side by side in one run and writes its own
results file; this script sequences them (each in its own process, output logged), then
reads their headline figures back (``summary.py``) into ``SUMMARY.md`` with the machine,
versions, date and load average. A suite that fails is listed as failed with its error.

``--quick`` runs every suite with short settings (a few minutes in all) and writes the
results and the summary to ``--results`` (default ``$TMPDIR/nbt_bench/quick``), so the
committed files are not replaced by quick figures. The full run (``make bench``) takes
about 30-40 minutes on 2 shared cores (NB101 enumeration and 423,624-cell conversion,
NASWOT). The predictor harness (``bench_predictors.py``) measures quality, not speed, and
runs only when named.

Examples
--------
``nice python benchmarks/run_all.py`` (everything), ``python benchmarks/run_all.py --quick``,
``python benchmarks/run_all.py bench_store.py bench_trainer.py`` (only these).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import utc_stamp
from summary import Outcome, extract, write_summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data" / "nb201"
#: The NB201 store the search suite reads, built from the shared CSVs on first use.
STORE = Path(tempfile.gettempdir()) / "nbt_bench" / "nb201_shared.h5"
QUICK_DIR = Path(tempfile.gettempdir()) / "nbt_bench" / "quick"

log = logging.getLogger("benchmarks")


@dataclass(frozen=True)
class Suite:
    """A speed suite: its results file, full and quick arguments (``{out}`` = the file)."""

    results: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    speed: bool = True


SUITES: dict[str, Suite] = {
    "bench_spaces_nb201.py": Suite("spaces_nb201.md", ("--out", "{out}"),
                                   ("--repeat", "1", "--out", "{out}")),
    "bench_encodings.py": Suite("encodings.md", ("--out", "{out}"),
                                ("--repeat", "1", "--nb101-cells", "5000", "--out", "{out}")),
    "bench_store.py": Suite("store.md", ("--out", "{out}"),
                            ("--repeat", "1", "--no-curves", "--out", "{out}")),
    "bench_official.py": Suite("official_apis.md", ("--out", "{out}"),
                               ("--repeat", "1", "--calls", "2000", "--out", "{out}")),
    "bench_search.py": Suite(
        "search.md",
        ("--store", str(STORE), "--csv-dir", str(SHARED), "--write", "{out}"),
        ("--store", str(STORE), "--csv-dir", str(SHARED), "--runs", "50", "--repeat", "1",
         "--write", "{out}")),
    "bench_trainer.py": Suite("trainer.md", ("--out", "{out}"),
                              ("--rounds", "1", "--epochs", "1", "--out", "{out}")),
    "bench_naswot.py": Suite(
        "naswot.md",
        ("--n-speed", "16", "--n-tau", "300", "--batch-size", "128", "--seed", "0",
         "--out", "{out}"),
        ("--n-speed", "3", "--n-tau", "20", "--out", "{out}")),
    "bench_spaces_nb101.py": Suite("spaces_nb101.md", ("--out", "{out}"),
                                   ("--skip-enumeration", "--out", "{out}")),
    "bench_convert_nb101.py": Suite("convert_nb101.md", ("--out", "{out}"),
                                    ("--cells", "20000", "--out", "{out}")),
    "bench_predictors.py": Suite("predictors_nb201.md", (), ("--quick",), speed=False),
}


def _ensure_store() -> None:
    if not STORE.exists():
        subprocess.check_call([sys.executable, "-m", "nasbench_tools.cli.main", "convert", "-q",
                               str(SHARED / "nb201_cifar10_200ep_naswot_scores.csv"),
                               str(SHARED / "nb201_hp12_mean_accuracies.csv"),
                               "-o", str(STORE)], cwd=ROOT)


def _last_lines(path: Path, n: int = 3) -> str:
    lines = [s for s in path.read_text(errors="replace").splitlines() if s.strip()]
    return " / ".join(s.strip() for s in lines[-n:])[-400:]


def run_suite(script: str, suite: Suite, results: Path, logs: Path, quick: bool) -> Outcome:
    """Run one suite in its own process; its output goes to ``logs/<script>.log``."""
    out = results / suite.results
    if script == "bench_search.py":
        # --write replaces a marked section of an existing file
        if not out.exists():
            shutil.copyfile(HERE / "results" / suite.results, out)
        _ensure_store()
    args = [a.format(out=out) for a in (suite.quick if quick else suite.full)]
    command = shlex.join(["python", f"benchmarks/{script}",
                          *[os.path.relpath(a, ROOT) if a.startswith(str(ROOT.parent)) else a
                            for a in args]])
    log_file = logs / f"{script}.log"
    log.info("running %s", command)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    with log_file.open("w") as fh:
        rc = subprocess.call([sys.executable, str(HERE / script), *args], cwd=ROOT,
                             stdout=fh, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    outcome = Outcome(script, out, command, seconds)
    if rc != 0:
        outcome.error = f"exit {rc}: {_last_lines(log_file)} (log: {log_file})"
    log.info("%s: exit %d in %.0f s", script, rc, seconds)
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the suites, write the summary; returns the number of suites that failed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short settings, results elsewhere")
    parser.add_argument("--results", type=Path,
                        help="folder of the results files and SUMMARY.md (default: "
                             "benchmarks/results; with --quick: $TMPDIR/nbt_bench/quick)")
    parser.add_argument("--all", action="store_true", help=argparse.SUPPRESS)  # old spelling
    parser.add_argument("only", nargs="*", help="run only these scripts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    unknown = [s for s in args.only if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; allowed: {', '.join(SUITES)}")
    results = args.results or (QUICK_DIR if args.quick else HERE / "results")
    results.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="nbt_bench_logs_"))
    load_start = os.getloadavg()
    started_utc, t0 = utc_stamp(), time.perf_counter()
    outcomes = []
    for script, suite in SUITES.items():
        if (args.only and script not in args.only) or (not args.only and not suite.speed):
            continue
        started = time.time()
        outcome = run_suite(script, suite, results, logs, args.quick)
        if suite.speed:
            extract(outcome, started)
            outcomes.append(outcome)
    command = shlex.join(["python", "benchmarks/run_all.py", *(argv if argv is not None
                                                                  else sys.argv[1:])])
    if outcomes:
        summary = results / ("SUMMARY.md" if not args.only else "SUMMARY-partial.md")
        write_summary(summary, outcomes, command=command, root=ROOT, load_start=load_start,
                      started_utc=started_utc, wall_seconds=time.perf_counter() - t0,
                      notes=["Quick mode: short settings, figures are indicative only."]
                      if args.quick else [])
        log.info("wrote %s (suite logs in %s)", summary, logs)
    return sum(bool(o.error) for o in outcomes)


if __name__ == "__main__":
    sys.exit(main())
