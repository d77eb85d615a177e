"""One speed summary: headline rows of every suite's results file, machine and versions.

Each suite (``bench_*.py``) writes its detailed Markdown file; :data:`EXTRACTORS` reads the
headline figures back from its tables (what, ours, reference, ratio) and
:func:`write_summary` writes ``SUMMARY.md`` with one row per figure, a link to the
detailed file, and the machine, package versions, date and load average. A suite that
failed, or whose results file cannot be read (not rewritten by this run, a row missing),
is listed as **failed** with its error: nothing is dropped silently.

Examples
--------
>>> tables = read_tables("| a | b |\\n| --- | --- |\\n| x | 1 |\\n")
>>> tables[0][0]["b"]
'1'
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from _common import markdown_table, utc_stamp

from nasbench_tools.io import atomic_write_text

Table = list[dict[str, str]]


@dataclass(frozen=True)
class Row:
    """One line of the summary: ``ratio`` > 1 means ours is faster ("" when no reference)."""

    what: str
    ours: str
    reference: str
    ratio: str


@dataclass
class Outcome:
    """What one suite gave: its rows, or the reason it failed."""

    script: str
    results: Path
    command: str
    seconds: float
    rows: list[Row] = field(default_factory=list)
    error: str = ""


def read_tables(text: str) -> list[Table]:
    """Every Markdown table of ``text``, each as a list of ``{header: cell}`` rows."""
    tables: list[Table] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        s = line.strip()
        if s.startswith("|") and s.endswith("|"):
            block.append([c.strip() for c in s[1:-1].split("|")])
            continue
        if len(block) >= 2 and set("".join(block[1])) <= set("-: "):
            header = block[0]
            tables.append([dict(zip(header, r)) for r in block[2:]])
        block = []
    return tables


def _find(tables: list[Table], column: str, startswith: str) -> dict[str, str]:
    """The first row whose ``column`` starts with ``startswith``."""
    for table in tables:
        for row in table:
            if row.get(column, "").startswith(startswith):
                return row
    raise KeyError(f"no row with {column!r} starting {startswith!r}")


def _num(text: str) -> float:
    m = re.search(r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?", text)
    if m is None:
        raise ValueError(f"no number in {text!r}")
    return float(m.group(0).replace(",", ""))


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


# -- one extractor per suite: tables of its results file -> rows ---------------------------

def _official(t: list[Table]) -> list[Row]:
    rows = []
    for table in t:
        for r in table:
            if r.get("ratio"):
                rows.append(Row(f"{r['file']}: {r['what']}, vs the official API", r["ours"],
                                r["official API"], r["ratio"]))
    if not rows:
        raise KeyError("no rows with a ratio")
    return rows


def _store(t: list[Table]) -> list[Row]:
    def res(prefix: str) -> str:
        return _find(t, "what", prefix)["result"]

    many, q = res("query_many"), res("query, one int index")
    pairs = [("query_many, 1,000,000 indices vs pandas `.loc[array]`", many,
              "reference: pandas frame.loc[int array"),
             ("query, one index per call vs pandas `.at`", q, "reference: pandas frame.at"),
             ("query, one index per call vs dict-of-dicts", q,
              "reference: dict-of-dicts d[i]")]
    rows = [Row(what, ours, res(ref), _ratio(_num(ours) / _num(res(ref))))
            for what, ours, ref in pairs]
    rows.append(Row("store open (`load_benchmark`, NB201 from CSVs)",
                    res("load_benchmark (NB201"), "", ""))
    return rows


def _search(t: list[Table]) -> list[Row]:
    rows = []
    for algo in ("rea", "rs"):
        r = _find(t, "algo", algo)
        plain, vec, full = r["plain loop"], r["vectorised"], r["+ runs.csv, summary.csv"]
        rows.append(Row(f"search {algo.upper()}, all runs of 100 queries: vectorised vs plain "
                        "Python loop", vec, plain, _ratio(_num(plain) / _num(vec))))
        rows.append(Row(f"search {algo.upper()}: with SQLite + CSV output vs plain loop "
                        "(no output)", full, plain, _ratio(_num(plain) / _num(full))))
    return rows


def _naswot(t: list[Table]) -> list[Row]:
    col = "mean CPU s / cell"
    ref, ours = _find(t, "implementation", "straightforward"), _find(t, "implementation", "ours")
    return [Row("NASWOT score per unique NB201 cell vs the straightforward implementation",
                f"{ours[col]} CPU s", f"{ref[col]} CPU s",
                _ratio(_num(ref[col]) / _num(ours[col])))]


def _trainer(t: list[Table]) -> list[Row]:
    rows = []
    # Trainings per second of every kernel (the first table: the headline run of bench_trainer).
    kernels = next((table for table in t if table and "/ plain" in table[0]), [])
    plain = next((r for r in kernels if r["kernel"].startswith("plain")), None)
    for r in kernels:
        if plain is not None and r is not plain:
            rows.append(Row(f"trainer: {r['kernel']} vs plain PyTorch loop (trainings/s, embedded recipe)",
                            f"{r['trainings/s']} /s", f"{plain['trainings/s']} /s", r["/ plain"]))
    for table in t:
        for r in table:
            if "ours (img/s)" not in r or "plain (img/s)" not in r:
                continue
            case = f"{r['case']}, batch {r.get('batch', '?')}"
            ours, plain = r["ours (img/s)"], r["plain (img/s)"]
            rows.append(Row(f"trainer: our loop vs plain PyTorch loop ({case})",
                            f"{ours} img/s", f"{plain} img/s", _ratio(_num(ours) / _num(plain))))
            if r.get("packed (img/s)"):
                rows.append(Row(f"trainer: packed kernel, {r.get('S', '?')} seeds, vs plain "
                                f"loop ({case})", f"{r['packed (img/s)']} img/s",
                                f"{plain} img/s",
                                _ratio(_num(r["packed (img/s)"]) / _num(plain))))
    if not rows:
        raise KeyError("no table with 'ours (img/s)' and 'plain (img/s)' columns")
    return rows


def _encodings(t: list[Table]) -> list[Row]:
    rows = [Row(f"encoding {r['what']}", r["ours (SPACE.encode)"], r["plain loop"], r["ratio"])
            for table in t for r in table if "ours (SPACE.encode)" in r]
    if not rows:
        raise KeyError("no encoding rows")
    return rows


def _spaces_nb201(t: list[Table]) -> list[Row]:
    enc = [r for table in t for r in table
           if r.get("space") == "nb201" and r.get("operation", "").startswith("SPACE.encode")]
    if not enc:
        raise KeyError("no nb201 SPACE.encode rows")
    worst = max(_num(r["seconds"]) for r in enc)
    return [Row(f"nb201: slowest of {len(enc)} encodings of all 15,625 cells (goal <= 1 s)",
                f"{worst:.3f} s", "", "")]


def _spaces_nb101(t: list[Table]) -> list[Row]:
    rows = []
    try:
        r = _find(t, "what", "enumerate all cells")
        rows.append(Row("nb101: enumerate all 423,624 cells (goal <= 300 s)",
                        f"{r['seconds']} s", "", ""))
    except KeyError:
        pass  # --skip-enumeration (quick mode)
    r = _find(t, "what", "encode all cells: adjacency_onehot")
    rows.append(Row("nb101: `adjacency_onehot` of all 423,624 cells (goal <= 10 s)",
                    f"{r['seconds']} s", "", ""))
    return rows


def _convert(t: list[Table]) -> list[Row]:
    cells = _find(t, "figure", "cells x repeats")["value"].split(" x ")[0]
    wall = _find(t, "figure", "conversion wall time")["value"]
    rss = _find(t, "figure", "peak RSS")["value"]
    return [Row(f"NB101 tfrecord conversion, {cells} synthetic cells: wall time", wall,
                "official API: needs TensorFlow 1.x, not installable here; not measured", ""),
            Row("NB101 conversion: peak RSS", rss, "", "")]


#: results file name -> how to read its headline rows.
EXTRACTORS: dict[str, Callable[[list[Table]], list[Row]]] = {
    "official_apis.md": _official,
    "store.md": _store,
    "search.md": _search,
    "naswot.md": _naswot,
    "trainer.md": _trainer,
    "encodings.md": _encodings,
    "spaces_nb201.md": _spaces_nb201,
    "spaces_nb101.md": _spaces_nb101,
    "convert_nb101.md": _convert,
}


def extract(outcome: Outcome, started: float) -> None:
    """Fill ``outcome.rows`` from its results file, or ``outcome.error`` with why not."""
    if outcome.error:
        return
    path = outcome.results
    try:
        if not path.is_file():
            raise FileNotFoundError(f"{path.name} was not written")
        if path.stat().st_mtime < started:
            raise RuntimeError(f"{path.name} was not rewritten by this run (stale file)")
        outcome.rows = EXTRACTORS[path.name](read_tables(path.read_text()))
    except Exception as exc:  # any reason is reported in the summary
        outcome.error = f"could not read {path.name}: {type(exc).__name__}: {exc}"


# -- the machine -----------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _versions() -> str:
    names = ("numpy", "scipy", "pandas", "h5py", "torch", "scikit-learn", "xgboost-cpu",
             "nas-bench-201", "nats_bench", "pooch")
    out = [f"Python {platform.python_version()}"]
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            out.append(f"{n} (not installed)")
    return ", ".join(out)


def _git(root: Path) -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                             capture_output=True, check=True).stdout.strip()
        # the results files rewritten by this very run do not count as changes
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)benchmarks/results"],
                               cwd=root, text=True, capture_output=True, check=True).stdout
        return rev + (" (with uncommitted changes outside benchmarks/results)"
                      if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_summary(path: Path, outcomes: Sequence[Outcome], *, command: str, root: Path,
                  load_start: tuple[float, float, float], started_utc: str,
                  wall_seconds: float, notes: Sequence[str] = ()) -> str:
    """Write ``SUMMARY.md`` atomically and return its text."""
    load_end = os.getloadavg()
    rows: list[tuple[str, ...]] = []
    for o in outcomes:
        link = f"[{o.results.name}]({os.path.relpath(o.results, path.parent)})"
        if o.error:
            rows.append((f"**{o.script}: FAILED** ({o.error})", "", "", "", link))
            continue
        rows += [(r.what, r.ours, r.reference, r.ratio, link) for r in o.rows]
    failed = [o.script for o in outcomes if o.error]
    lines = [
        "# Speed summary",
        "",
        f"Made by `{command}` (started {started_utc}, {wall_seconds / 60:.1f} min in all; "
        f"niceness {os.nice(0)}). Every suite measures ours and its reference side by side "
        "in the same run; **ratio > 1 means ours is faster** (reference time / our time, or "
        "our rate / reference rate). Rows without a reference state a goal or a figure "
        "that has no reference here (and why). Details, exact commands and checks are in "
        "the linked files.",
        "",
        f"* Machine: {_cpu_model()}, {os.cpu_count()} cores, {_memory()} memory, "
        f"{platform.system()} {platform.machine()}; **shared with other engineers' jobs**: "
        f"load average {load_start[0]:.2f} / {load_start[1]:.2f} / {load_start[2]:.2f} "
        f"(1/5/15 min) at the start, {load_end[0]:.2f} / {load_end[1]:.2f} / "
        f"{load_end[2]:.2f} at the end, so absolute times are inflated and noisy; the "
        "ratios compare runs that saw the same load.",
        f"* Versions: {_versions()}; nasbench-tools at commit {_git(root)}.",
        f"* Date: {utc_stamp()}.",
        f"* Suites: {len(outcomes)} run, {len(failed)} failed"
        + (f" ({', '.join(failed)})" if failed else "") + ".",
        *[f"* {n}" for n in notes],
        "",
        *markdown_table(("what", "ours", "reference", "ratio", "details"), rows, right=(3,)),
        "",
        "Per suite (wall time of the whole script, command):",
        "",
        *[f"* `{o.script}`: {o.seconds:.0f} s, `{o.command}`"
          + (f" -- FAILED: {o.error}" if o.error else "") for o in outcomes],
        "",
    ]
    text = "\n".join(lines)
    atomic_write_text(path, text)
    return text
