"""Run records, the SQLite results database, the summary table and trajectory plots.

Every finished run is one row of table ``runs`` in an SQLite file (WAL mode), written in
its own transaction, keyed by ``(label, run)``. Parallel workers and restarts are therefore
safe: a restart asks :meth:`ResultsDB.finished_runs` and only does the rest. The settings of
an experiment (searcher, evaluator, budget) are stored once per label in table
``experiments``; resuming with different settings under the same label is refused.

Examples
--------
>>> import tempfile, pathlib
>>> db = ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
>>> db.begin("rs", {"algo": "rs"})
>>> db.write(RunResult("rs", 0, 0, "cell-a", 3, 360.0, 80.0, {"test_accuracy": 90.0},
...                    [[1, 120.0, 80.0, 90.0]], ["test_accuracy"]))
True
>>> sorted(db.finished_runs("rs")), summary_table(db.frame())["test_accuracy_mean"].tolist()
([0], [90.0])
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.io import atomic_path, atomic_write_text, fault_point, open_sqlite
from nasbench_tools.plotting import pyplot, save_png

__all__ = [
    "ResultsDB",
    "RunResult",
    "plot_trajectories",
    "results_frame",
    "summary_table",
    "summary_with_ri",
    "trajectory_grid",
    "write_outputs",
]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """The outcome of one search run.

    Parameters
    ----------
    label : str
        Experiment name (``algo`` column of ``runs.csv``), e.g. ``"rea"``.
    run : int
        Run number within the experiment.
    seed : int
        Seed of the searcher for this run.
    final_cell : str
        ``to_string()`` of the final pick (best search value seen; first one on ties).
    queries : int
        Charged evaluations (cells served again from the cache are not counted).
    simulated_seconds : float
        Seconds charged in total.
    final_value : float
        Search value of the final pick.
    metrics : dict
        Reported metrics of the final pick (e.g. ``test_accuracy``).
    trajectory : list of lists
        ``[queries, seconds, best value, *best metrics]`` after every charged query that
        improved the best value (or changed the searcher's incumbent, for a searcher with
        one), plus the final state.
    metric_names : list of str
        Names of the trailing trajectory columns.
    repeats : int
        Asks answered from the cache (cells proposed again).
    path : str
        ``"ask-tell"`` or ``"vectorized"``: how the run was computed.
    """

    label: str
    run: int
    seed: int
    final_cell: str
    queries: int
    simulated_seconds: float
    final_value: float
    metrics: dict[str, float]
    trajectory: list[list[float]]
    metric_names: list[str]
    repeats: int = 0
    path: str = "ask-tell"
    extra: dict[str, Any] = field(default_factory=dict)

    def same_outcome(self, other: RunResult) -> bool:
        """Equal in everything but how it was computed (``path``, ``extra``)."""
        keys = ("label", "run", "seed", "final_cell", "queries", "simulated_seconds",
                "final_value", "metrics", "trajectory", "metric_names", "repeats")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    label TEXT PRIMARY KEY, config TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    label TEXT NOT NULL, run INTEGER NOT NULL, seed INTEGER NOT NULL,
    final_cell TEXT NOT NULL, queries INTEGER NOT NULL, simulated_seconds REAL NOT NULL,
    final_value REAL NOT NULL, metrics TEXT NOT NULL, trajectory TEXT NOT NULL,
    metric_names TEXT NOT NULL, repeats INTEGER NOT NULL, path TEXT NOT NULL,
    extra TEXT NOT NULL, finished REAL NOT NULL,
    PRIMARY KEY (label, run));
"""


#: Columns of each table, in order (a file with others was written by another version).
_COLUMNS = {
    "experiments": ["label", "config", "created"],
    "runs": ["label", "run", "seed", "final_cell", "queries", "simulated_seconds",
             "final_value", "metrics", "trajectory", "metric_names", "repeats", "path",
             "extra", "finished"],
}


def _canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


class ResultsDB:
    """SQLite store of finished runs (one transaction per run, WAL journal).

    Parameters
    ----------
    path : path-like
        The database file; created with its directory when absent.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # A damaged or foreign file is refused here, naming it (FormatError).
        self._con: sqlite3.Connection | None = open_sqlite(
            self.path, schema=_SCHEMA, columns=_COLUMNS, timeout=120, check_same_thread=False)
        self._con.execute("PRAGMA synchronous=NORMAL")

    def _connect(self) -> sqlite3.Connection:
        """The connection of this object (opened once; ``with`` = one transaction)."""
        if self._con is None:
            con = sqlite3.connect(self.path, timeout=120, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._con = con
        return self._con

    def close(self) -> None:
        """Close the connection (reopened on next use)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._con = None
        self._lock = threading.Lock()

    def begin(self, label: str, config: Mapping[str, Any]) -> None:
        """Register experiment ``label``; refuse a different config under the same label.

        Raises
        ------
        OutOfDomainError
            When ``label`` exists with other settings.
        """
        text = _canonical(config)
        with self._lock, self._connect() as con:  # safe against concurrent writers
            con.execute(
                "INSERT OR IGNORE INTO experiments VALUES (?, ?, ?)", (label, text, time.time())
            )
            row = con.execute("SELECT config FROM experiments WHERE label = ?", (label,)).fetchone()
        if row[0] != text:
            raise OutOfDomainError(
                f"{self.path} already holds runs labelled {label!r} with other settings "
                f"(stored {row[0]}, now {text}); use another --label or output directory"
            )

    def config(self, label: str) -> dict[str, Any]:
        """The stored settings of ``label``."""
        with self._connect() as con:
            row = con.execute("SELECT config FROM experiments WHERE label = ?", (label,)).fetchone()
        if row is None:
            raise OutOfDomainError(f"no experiment {label!r} in {self.path}; have {self.labels()}")
        return dict(json.loads(row[0]))

    def labels(self) -> list[str]:
        """Experiment labels, in creation order."""
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT label FROM experiments ORDER BY created")]

    def write(self, result: RunResult) -> bool:
        """Store one finished run in its own transaction; False if it was already there."""
        with self._lock, self._connect() as con:
            cur = con.execute(
                "INSERT OR IGNORE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    result.label, int(result.run), int(result.seed), result.final_cell,
                    int(result.queries), float(result.simulated_seconds),
                    float(result.final_value), json.dumps(result.metrics),
                    json.dumps(result.trajectory), json.dumps(result.metric_names),
                    int(result.repeats), result.path, json.dumps(result.extra, default=str),
                    time.time(),
                ),
            )
        fault_point("search.run_stored")
        return cur.rowcount == 1

    def finished_runs(self, label: str) -> set[int]:
        """Run numbers of ``label`` already stored."""
        with self._connect() as con:
            return {r[0] for r in con.execute("SELECT run FROM runs WHERE label = ?", (label,))}

    def load(self, label: str | None = None) -> list[RunResult]:
        """Stored runs (of one label, or all), ordered by label creation then run."""
        sql = (
            "SELECT r.label, run, seed, final_cell, queries, simulated_seconds, final_value, "
            "metrics, trajectory, metric_names, repeats, path, extra FROM runs r "
            "JOIN experiments e ON e.label = r.label"
        )
        args: tuple[Any, ...] = ()
        if label is not None:
            sql += " WHERE r.label = ?"
            args = (label,)
        sql += " ORDER BY e.created, r.run"
        with self._connect() as con:
            rows = con.execute(sql, args).fetchall()
        out = []
        for r in rows:
            try:
                out.append(RunResult(
                    r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]),
                    json.loads(r[8]), json.loads(r[9]), r[10], r[11], json.loads(r[12]),
                ))
            except json.JSONDecodeError as exc:
                raise FormatError(f"corrupt row {r[0]!r}/{r[1]} in {self.path}: {exc}") from exc
        return out

    def frame(self, label: str | None = None) -> Any:
        """``pandas.DataFrame``, one row per run: the columns of ``runs.csv``."""
        return results_frame(self.load(label))


def results_frame(results: Iterable[RunResult]) -> Any:
    """``pandas.DataFrame`` of runs: ``algo, run, seed, final_cell, queries,
    simulated_seconds, final_value``, the reported metrics, ``repeats``.

    Examples
    --------
    >>> r = RunResult("rs", 0, 0, "c", 1, 1.0, 2.0, {"test_accuracy": 3.0}, [], [])
    >>> list(results_frame([r]).columns)[-2:]
    ['test_accuracy', 'repeats']
    """
    import pandas as pd

    rows = []
    for res in results:
        row: dict[str, Any] = {
            "algo": res.label, "run": res.run, "seed": res.seed,
            "final_cell": res.final_cell, "queries": res.queries,
            "simulated_seconds": res.simulated_seconds, "final_value": res.final_value,
        }
        row.update(res.metrics)
        row["repeats"] = res.repeats
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(frame: Any) -> Any:
    """Mean and standard deviation (ddof=1) per experiment, as the papers print them.

    Parameters
    ----------
    frame : pandas.DataFrame
        As :meth:`ResultsDB.frame` returns.

    Returns
    -------
    pandas.DataFrame
        One row per ``algo``: ``runs``, ``<col>_mean`` / ``<col>_std`` for ``final_value``,
        every reported metric, ``queries`` and ``simulated_seconds``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"algo": ["a", "a"], "run": [0, 1], "final_value": [1.0, 3.0],
    ...                   "queries": [2, 2], "simulated_seconds": [1.0, 1.0]})
    >>> summary_table(f)[["algo", "runs", "final_value_mean", "final_value_std"]].values.tolist()
    [['a', 2, 2.0, 1.4142135623730951]]
    """
    import pandas as pd

    skip = {"algo", "run", "seed", "final_cell", "repeats"}
    cols = [c for c in frame.columns if c not in skip]
    out = []
    for algo, group in frame.groupby("algo", sort=False):
        row: dict[str, Any] = {"algo": algo, "runs": len(group)}
        for c in cols:
            v = group[c].to_numpy(dtype=np.float64)
            row[f"{c}_mean"] = float(np.mean(v))
            row[f"{c}_std"] = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
        out.append(row)
    return pd.DataFrame(out)


def summary_with_ri(db: ResultsDB, frame: Any) -> Any:
    """:func:`summary_table` plus ``ri_<metric>`` columns where ``db`` holds a random-search
    baseline with the same settings (:mod:`nasbench_tools.search.metrics`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> db = ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
    >>> summary_with_ri(db, db.frame()).empty
    True
    """
    from nasbench_tools.search.metrics import add_relative_improvement, baseline_labels

    if not len(frame):
        import pandas as pd

        return pd.DataFrame()
    summary = summary_table(frame)
    labels = [str(a) for a in dict.fromkeys(frame["algo"])]
    baselines = baseline_labels({label: db.config(label) for label in labels})
    if not baselines:
        return summary
    return add_relative_improvement(summary, db.frame(), baselines)


def trajectory_grid(
    results: Sequence[RunResult], column: str, *, x: str = "seconds", points: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best-so-far ``column`` of many runs on a common x grid: (grid, mean, std).

    Before a run's first query its value is NaN (left out of the mean).

    Examples
    --------
    >>> r = RunResult("a", 0, 0, "c", 2, 2.0, 1.0, {}, [[1, 1.0, 0.5], [2, 2.0, 1.0]], [])
    >>> g, m, s = trajectory_grid([r], "value", points=3)
    >>> g.tolist(), m.tolist()
    ([0.0, 1.0, 2.0], [nan, 0.5, 1.0])
    """
    if x not in ("queries", "seconds"):
        raise OutOfDomainError(f"x must be 'queries' or 'seconds', got {x!r}")
    xi = 0 if x == "queries" else 1
    end = max((r.trajectory[-1][xi] for r in results if r.trajectory), default=1.0)
    grid = np.linspace(0.0, float(end), points)
    table = np.full((len(results), points), np.nan)
    for i, r in enumerate(results):
        if not r.trajectory:
            continue
        names = ["queries", "seconds", "value", *r.metric_names]
        if column not in names:
            raise OutOfDomainError(f"no trajectory column {column!r}; have {names}")
        t = np.asarray(r.trajectory, dtype=np.float64)
        pos = np.searchsorted(t[:, xi], grid, side="right") - 1
        ok = pos >= 0
        table[i, ok] = t[pos[ok], names.index(column)]
    with np.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(table, axis=0)
            std = np.nanstd(table, axis=0)
    return grid, mean, std


def plot_trajectories(
    groups: Mapping[str, Sequence[RunResult]],
    column: str,
    path: str | Path,
    *,
    x: str = "seconds",
    title: str | None = None,
) -> Path:
    """Mean (band: one std) best-so-far ``column`` against ``x``, one line per group (PNG).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> r = RunResult("a", 0, 0, "c", 1, 1.0, 1.0, {}, [[1, 1.0, 1.0]], [])
    >>> p = plot_trajectories({"a": [r]}, "value", pathlib.Path(tempfile.mkdtemp()) / "t.png")
    >>> p.stat().st_size > 0
    True
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    low, high = np.inf, -np.inf
    for name, results in groups.items():
        grid, mean, std = trajectory_grid(results, column, x=x)
        (line,) = ax.plot(grid, mean, label=f"{name} ({len(results)} runs)")
        ax.fill_between(grid, mean - std, mean + std, color=line.get_color(), alpha=0.15)
        late = slice(len(grid) // 10, None)  # zoom on the part after the first tenth
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low = min(low, float(np.nanmin(mean[late] - std[late])))
            high = max(high, float(np.nanmax(mean[late] + std[late])))
    if np.isfinite(low) and np.isfinite(high) and high > low:
        pad = 0.05 * (high - low)
        ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel("simulated seconds" if x == "seconds" else "queries")
    ax.set_ylabel(f"{column} of the best cell so far")
    ax.set_title(title or f"best so far: {column}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path)


def write_outputs(
    db: ResultsDB,
    out_dir: str | Path,
    *,
    command: str | None = None,
    plots: bool = True,
    labels: Iterable[str] | None = None,
    plot_labels: Iterable[str] | None = None,
) -> dict[str, Path]:
    """Write ``runs.csv``, ``summary.csv``, trajectory PNGs and ``command.txt`` (atomically).

    ``labels`` restricts every output to those experiments (default: all in ``db``);
    ``plot_labels`` restricts the plots only.

    Returns
    -------
    dict
        Name -> written path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = db.frame()
    if labels is not None:
        keep = list(labels)
        frame = frame[frame["algo"].isin(keep)]
    written: dict[str, Path] = {}
    with atomic_path(out / "runs.csv") as tmp:
        frame.to_csv(tmp, index=False)
    written["runs"] = out / "runs.csv"
    with atomic_path(out / "summary.csv") as tmp:
        summary_with_ri(db, frame).to_csv(tmp, index=False, float_format="%.4f")
    written["summary"] = out / "summary.csv"
    if command is not None:
        atomic_write_text(out / "command.txt", command.rstrip("\n") + "\n")
        written["command"] = out / "command.txt"
    if plots and len(frame):
        groups: dict[str, list[RunResult]] = {}
        wanted = set(frame["algo"]) if plot_labels is None else set(plot_labels)
        for r in db.load():
            if r.label in wanted:
                groups.setdefault(r.label, []).append(r)
        first = next(iter(groups.values()))
        x = "seconds" if any(r.simulated_seconds > 0 for r in first) else "queries"
        for column in ["value", *first[0].metric_names]:
            p = out / f"trajectory_{column}.png"
            plot_trajectories(groups, column, p, x=x)
            written[f"plot_{column}"] = p
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
    return written
