"""The paper tables ``nbt reproduce`` knows: what each needs and how it runs.

:data:`TABLES` maps a table id to a :class:`ReproTable`: the paper, a title, the data it
needs (:class:`StoreNeed` = a store with some values, found among the stores given with
``--bench`` and those shipped in ``data/``; :class:`FileNeed` = a shared CSV) and a runner.
A runner gets a :class:`Context` (the resolved data, the output directory, the number of
runs, the published records) and returns a :class:`TableResult`: rows of ours-vs-published
(:class:`Row`), every run as a frame, and the pictures it drew. The search runners keep
their runs in ``OUTPUT/runs.sqlite`` (:class:`~nasbench_tools.search.ResultsDB`), so a
second invocation recomputes nothing; the predictor runners keep ``results.csv`` with the
settings that produced it.

Examples
--------
>>> sorted(TABLES)[:3]
['embedded-predictors', 'embedded-search', 'gbdtnas-nb101']
>>> TABLES["nb201-search"].paper
'NAS-Bench-201 (Dong & Yang, ICLR 2020)'
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import NasBenchToolsError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.reproduce.published import PublishedRecord, find
from nasbench_tools.reproduce.verdict import Comparison, Ours, Published, compare
from nasbench_tools.search.base import PoolProposals

__all__ = [
    "TABLES",
    "Context",
    "FileNeed",
    "ReproTable",
    "Row",
    "StoreNeed",
    "TableResult",
    "default_shared_dir",
    "known_stores",
]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
NB201_SIZE = 15625

#: The official NB201 CSV tables shipped in ../shared and the command that converts them.
NB201_CSVS = (
    "nb201/nb201_cifar10_200ep_naswot_scores.csv",
    "nb201/nb201_hp12_mean_accuracies.csv",
    "nb201/nb201_val_accuracy_zen_all.csv",
    "nb201/nb201_zc_proxies_v20220518_sample.csv",
)
NB201_CONVERT = "nbt convert " + " ".join(f"../shared/data/{p}" for p in NB201_CSVS) + \
    " -o nb201_full.h5"
NB101_CONVERT = "nbt convert nasbench_only108.tfrecord -o nb101.h5"
SSS_CONVERT = "nbt convert NATS-sss-v1_0-50262-simple -o sss.h5"


def default_shared_dir() -> Path:
    """``$NBT_SHARED`` or ``../shared/data`` beside the repository.

    Examples
    --------
    >>> default_shared_dir().name
    'data'
    """
    import os

    env = os.environ.get("NBT_SHARED")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def known_stores(given: Sequence[str | Path] = ()) -> list[Path]:
    """The stores given (in order), then the ``.h5`` files shipped in ``data/``.

    Examples
    --------
    >>> all(p.suffix == ".h5" for p in known_stores())
    True
    """
    out = [Path(p) for p in given]
    out += sorted(p for p in DATA_DIR.glob("*.h5") if p not in out)
    return out


# --------------------------------------------------------------------------- needs
@dataclass(frozen=True)
class StoreNeed:
    """A store of ``space`` with ``values`` ((metric, dataset, epoch)), ``features``
    ((name, dataset)) and at least ``min_cells`` cells (0: any).

    ``official`` names the file a user needs, ``command`` the conversion.
    """

    key: str
    space: str
    values: tuple[tuple[str, str, int], ...] = ()
    features: tuple[tuple[str, str], ...] = ()
    min_cells: int = 0
    official: str = ""
    command: str = ""

    def describe(self) -> str:
        """One line for ``--list``."""
        parts = [f"{m}@{d}/{e}" for m, d, e in self.values]
        parts += [f"feature {n}@{d}" for n, d in self.features]
        if self.min_cells:
            parts.append(f">= {self.min_cells:,} cells")
        return f"{self.space} store ({', '.join(parts) or 'any'})"

    def why_not(self, bench: Any) -> str:
        """Empty when ``bench`` fits, else what is missing."""
        if bench.space != self.space:
            return f"space {bench.space}, need {self.space}"
        if len(bench) < self.min_cells:
            return f"{len(bench)} cells, need {self.min_cells}"
        for metric, dataset, epoch in self.values:
            if dataset not in bench.datasets:
                return f"no dataset {dataset}"
            if metric not in bench.metrics(dataset) or epoch not in bench.epochs(dataset):
                return f"no {metric}@{dataset}/{epoch}"
        for name, dataset in self.features:
            if dataset not in bench.datasets or name not in bench.features(dataset):
                return f"no feature {name}@{dataset}"
        return ""


@dataclass(frozen=True)
class FileNeed:
    """A file under the shared data directory."""

    key: str
    path: str
    official: str = ""

    def describe(self) -> str:
        """One line for ``--list``."""
        return f"shared file {self.path}"


Need = StoreNeed | FileNeed


# --------------------------------------------------------------------------- context
@dataclass
class Context:
    """What a runner gets: resolved data, where to write, how many runs, the published data.

    Parameters
    ----------
    stores : mapping
        Need key -> store path; files : need key -> file path.
    work : Path
        Output directory of this table (``runs.sqlite`` lives there).
    runs : int
        Search runs (or predictor seeds) to do.
    published : sequence of PublishedRecord
    progress : bool
        Show tqdm bars.
    """

    stores: Mapping[str, Path]
    files: Mapping[str, Path]
    work: Path
    runs: int
    published: Sequence[PublishedRecord]
    progress: bool = True
    _open: dict[str, Any] = field(default_factory=dict)

    def bench(self, key: str) -> Any:
        """The opened store of need ``key``."""
        if key not in self._open:
            from nasbench_tools.store import load_benchmark

            self._open[key] = load_benchmark(self.stores[key])
        return self._open[key]


@dataclass
class Row:
    """One line of a reproduced table."""

    group: str
    setting: str
    dataset: str
    metric: str
    ours: Ours
    published: PublishedRecord | None
    comparison: Comparison
    ri: float = math.nan
    explain: str = ""


@dataclass
class TableResult:
    """What a runner returns."""

    rows: list[Row]
    runs: Any  # pandas.DataFrame: every run / fit
    pictures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    searches: dict[str, list[Any]] = field(default_factory=dict)  # label -> RunResults


Runner = Callable[["ReproTable", Context], TableResult]


@dataclass(frozen=True)
class ReproTable:
    """A paper table: id, paper, title, data needs, runner, protocol notes.

    ``published`` is the table id of the published records (default ``id``).
    ``explain`` maps a setting (or ``"*"``) to the sentence shown beside a verdict that is
    not "reproduced".
    """

    id: str
    paper: str
    title: str
    needs: tuple[Need, ...]
    runner: Runner
    protocol: str = ""
    default_runs: int = 500
    published: str = ""
    space: str = "nb201"
    explain: Mapping[str, str] = field(default_factory=dict)

    @property
    def published_table(self) -> str:
        """Table id of the published records compared with."""
        return self.published or self.id


def _explain(table: ReproTable, setting: str, comp: Comparison) -> str:
    """The sentence beside a verdict: the table's own for the setting, else the reason."""
    text = table.explain.get(setting) or table.explain.get("*") or ""
    reason = comp.reason[:1].upper() + comp.reason[1:] + "."
    return f"{reason} {text}".strip() if text else reason


def row(
    table: ReproTable,
    ctx: Context,
    *,
    group: str,
    setting: str,
    dataset: str,
    metric: str,
    values: Sequence[float] | np.ndarray,
    pub_setting: str | None = None,
    note: str = "",
    ri: float = math.nan,
    std: float | None = None,
) -> Row:
    """A :class:`Row` from our values, looked up against the published records."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    mean = float(v.mean()) if v.size else math.nan
    sd = std if std is not None else (float(v.std(ddof=1)) if v.size > 1 else math.nan)
    ours = Ours(mean, sd, int(v.size))
    rec = find(ctx.published, table.published_table, pub_setting or setting, dataset, metric,
               space=table.space)
    pub = None if rec is None else Published(rec.mean, rec.std, "yes" if rec.confirmed else "no")
    comp = compare(ours, pub, metric=metric, protocol_note=note)
    explain = _explain(table, setting, comp) if comp.verdict != "reproduced" else ""
    return Row(group, setting, dataset, metric, ours, rec, comp, ri, explain)


# --------------------------------------------------------------------------- search
@dataclass(frozen=True)
class SearchExp:
    """One searcher of a search table: the published setting, registry algo, budget."""

    setting: str
    algo: str
    budget: str
    kwargs: Callable[[Context], dict[str, Any]] = field(default_factory=lambda: Kw())
    optional: bool = False
    note: str = ""
    runs: int = 0  # the paper's runs of this row: at most this many (0: the table's)
    published: str = ""  # the published setting compared with (default: ``setting``)


#: Budget tag -> (description, Budget keyword arguments).
BUDGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "q1": ("1 query (the pick)", {"queries": 1}),
    "q20": ("20 queries", {"queries": 20}),
    "q100": ("100 queries", {"queries": 100}),
    "s12000": ("12000 s (flops-120)", {"seconds": 12000.0}),
    "q434": ("434 queries", {"queries": 434}),
    "q2000": ("2000 queries", {"queries": 2000}),
    "t12000": ("12000 s (recorded times)", {"seconds": 12000.0}),
    "t20000": ("20000 s (recorded times)", {"seconds": 20000.0}),
    "t40000": ("40000 s (recorded times)", {"seconds": 40000.0}),
    "t60000": ("60000 s (recorded times)", {"seconds": 60000.0}),
}


class _Tick:
    """``on_result`` callback advancing a progress bar."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def __call__(self, _result: Any) -> None:
        self.bar.update()


@dataclass(frozen=True)
class Kw:
    """Searcher keyword arguments built from the context: a score (``v1`` = the authors'
    ``naswot_score`` column, ``ours`` = our digits NASWOT), ``n_samples``, a pool."""

    score: str = ""
    n_samples: int = 0
    pool: Any = None

    def __call__(self, ctx: Context) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.score:
            out["scorer"] = _scorer(ctx, self.score)
        if self.n_samples:
            out["n_samples"] = self.n_samples
        if self.pool is not None:
            out["proposals"] = self.pool
        return out


@dataclass(frozen=True)
class Args:
    """Fixed keyword arguments on top of another builder's (e.g. REA's sample size)."""

    extra: tuple[tuple[str, Any], ...]
    base: Callable[[Context], dict[str, Any]] = field(default_factory=lambda: Kw())

    def __call__(self, ctx: Context) -> dict[str, Any]:
        return {**self.base(ctx), **dict(self.extra)}


@dataclass(frozen=True)
class BohbPreset:
    """BOHB's keyword arguments: a named preset of
    :data:`~nasbench_tools.search.bohb.BOHB_PRESETS` (``nb201-script`` for the NB201 tables),
    with ``overrides`` (e.g. the size space's fidelities)."""

    name: str = "nb201-script"
    overrides: tuple[tuple[str, Any], ...] = ()

    def __call__(self, ctx: Context) -> dict[str, Any]:
        from nasbench_tools.search.bohb import BOHB_PRESETS

        return {**BOHB_PRESETS[self.name], **dict(self.overrides)}


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def run_search_experiments(
    table: ReproTable,
    ctx: Context,
    evaluator: Any,
    experiments: Sequence[SearchExp],
    *,
    dataset: str,
    metrics: Sequence[str] = ("test_accuracy", "val_accuracy"),
    space: str = "nb201",
    prefix: str = "",
    baseline: Callable[[Context], dict[str, Any]] | None = None,
) -> TableResult:
    """Run every experiment (plus an RS baseline per budget) into ``work/runs.sqlite``.

    Each experiment is labelled ``PREFIX SETTING@BUDGET`` (``prefix`` keeps the runs of
    several datasets of one table apart); RI is against ``rs@BUDGET`` (same evaluator,
    budget and seeds; ``baseline`` builds its keyword arguments, e.g. the proposals of a
    store). An experiment with ``runs`` does at most that many runs.
    """
    import pandas as pd

    from nasbench_tools.search import REGISTRY, Budget, ResultsDB, SearcherSpec, run_many
    from nasbench_tools.search.metrics import relative_improvement
    from nasbench_tools.search.results import plot_trajectories

    exps = list(experiments)
    for tag in dict.fromkeys(e.budget for e in exps):
        if not any(e.algo == "rs" and e.budget == tag for e in exps):
            exps.insert(0, SearchExp("rs", "rs", tag, baseline or Kw()))
    db = ResultsDB(ctx.work / "runs.sqlite")
    results: dict[str, list[Any]] = {}
    failed: dict[str, str] = {}
    for e in exps:
        label = f"{prefix}{e.setting}@{e.budget}"
        if e.algo not in REGISTRY:
            failed[label] = f"searcher {e.algo} not available in this build"
            continue
        spec = SearcherSpec(e.algo, space, e.kwargs(ctx))
        budget = Budget(**BUDGETS[e.budget][1])
        runs = min(ctx.runs, e.runs) if e.runs else ctx.runs
        bar = _progress(runs, label, ctx.progress)
        try:
            results[label] = run_many(spec, evaluator, budget, runs=runs, label=label,
                                      db=db, on_result=_Tick(bar))
        except NasBenchToolsError as exc:
            if not e.optional:
                raise
            failed[label] = f"searcher {e.algo} failed: {exc}"
        except Exception as exc:  # an optional searcher from another package
            if not e.optional:
                raise
            log.warning("%s failed", label, exc_info=True)
            failed[label] = f"searcher {e.algo} failed: {type(exc).__name__}: {exc}"
        finally:
            bar.close()
    rows: list[Row] = []
    for e in exps:
        label = f"{prefix}{e.setting}@{e.budget}"
        group = BUDGETS[e.budget][0]
        base = next((results.get(f"{prefix}{b.setting}@{b.budget}") for b in exps
                     if b.algo == "rs" and b.budget == e.budget), None)
        for metric in metrics:
            if label in failed:
                rows.append(row(table, ctx, group=group, setting=e.setting, dataset=dataset,
                                metric=metric, values=[], note=failed[label]))
                rows[-1].comparison = Comparison("not comparable", math.nan, math.nan,
                                                 failed[label])
                rows[-1].explain = f"Not comparable: {failed[label]}."
                continue
            vals = [r.metrics.get(metric, math.nan) for r in results[label]]
            ri = math.nan
            if base is not None:
                b = [r.metrics.get(metric, math.nan) for r in base[: len(vals)]]
                ri = relative_improvement(float(np.nanmean(vals)), float(np.nanmean(b)))
            rows.append(row(table, ctx, group=group, setting=e.setting, dataset=dataset,
                            metric=metric, values=vals, note=e.note, ri=ri,
                            pub_setting=e.published or None))
    frame = db.frame()
    keep = [lab for lab in results]
    frame = frame[frame["algo"].isin(keep)] if len(frame) else pd.DataFrame()
    pictures: list[Path] = []
    for tag in dict.fromkeys(e.budget for e in exps):
        groups = {lab[len(prefix):].split("@")[0]: res for lab, res in results.items()
                  if lab.endswith(f"@{tag}")}
        groups = {k: v for k, v in groups.items() if any(len(r.trajectory) > 1 for r in v)}
        if groups and "test_accuracy" in metrics:
            x = "seconds" if "seconds" in BUDGETS[tag][1] else "queries"
            stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in prefix + tag)
            pictures.append(plot_trajectories(
                groups, "test_accuracy", ctx.work / f"trajectory_{stem}.png", x=x,
                title=f"{table.id}: {prefix}best so far, {BUDGETS[tag][0]}"))
    return TableResult(rows, frame, pictures, searches=results)


def _nb201_store_need(key: str = "nb201") -> StoreNeed:
    return StoreNeed(
        key, "nb201",
        values=(("val_accuracy", "cifar10-valid", 12), ("val_accuracy", "cifar10-valid", 200),
                ("test_accuracy", "cifar10", 200)),
        min_cells=NB201_SIZE,
        official="the NB201 CSV tables in ../shared/data/nb201 (or NAS-Bench-201-v1_1-096897.pth)",
        command=NB201_CONVERT,
    )


_TARGET_NEED = StoreNeed(
    "target", "nb201", values=(("val_accuracy", "cifar10-valid", 200),),
    features=(("naswot_score", "cifar10"),),
    official="nb201_cifar10_200ep_naswot_scores.csv in ../shared/data/nb201",
    command="nbt convert ../shared/data/nb201/nb201_cifar10_200ep_naswot_scores.csv -o t.h5",
)

_ZC_NEED = StoreNeed(
    "zc", "nb201", features=(("zc_naswot", "cifar10"),), min_cells=NB201_SIZE,
    official="data/nb201_zc_naswot_digits.h5 (shipped; or nbt zc-score nb201 --proxy naswot)",
    command="nbt zc-score nb201 --proxy naswot --data digits -o nb201_zc_naswot_digits.h5",
)


def _nb201_evaluator(ctx: Context, search_epoch: int = 12) -> Any:
    from nasbench_tools.search import TabularEvaluator, get_cost_model
    from nasbench_tools.search.evaluators import PROTOCOLS, Protocol_, Query

    base = PROTOCOLS["nb201-cifar10"]
    protocol: Any = "nb201-cifar10"
    if search_epoch != 12:
        protocol = Protocol_(Query("val_accuracy", "cifar10-valid", search_epoch), base.report)
    return TabularEvaluator(ctx.bench("nb201"), protocol=protocol,
                            cost_model=get_cost_model("flops-120"))


def _search_exps(budgets: Sequence[str], note: str = "") -> list[SearchExp]:
    out = []
    for tag in budgets:
        out += [
            SearchExp("rs", "rs", tag, note=note),
            SearchExp("rea", "rea", tag, note=note),
            SearchExp("reinforce", "reinforce", tag, note=note),
            SearchExp("bohb", "bohb", tag, BohbPreset("nb201-script"), optional=True,
                      note=note),
        ]
    return out


def _run_nb201_search(table: ReproTable, ctx: Context) -> TableResult:
    ev = _nb201_evaluator(ctx)
    return run_search_experiments(table, ctx, ev, _search_exps(("q100", "s12000")),
                                  dataset="cifar10")


#: RoBoT's six training-free metrics, as columns of the NB201 store (NASLib's values).
ROBOT_METRICS: tuple[str, ...] = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacov")


@dataclass(frozen=True)
class RobotKw:
    """RoBoT's arguments: one :class:`ArrayScorer` per metric and the pool of cells that
    have all of them (the cells of NASLib's zero-cost table)."""

    pool: tuple[Any, ...]

    def __call__(self, ctx: Context) -> dict[str, Any]:
        from nasbench_tools.search import ArrayScorer
        from nasbench_tools.spaces import get_space

        space = get_space("nb201")
        bench = ctx.bench("nb201")
        scorers = [ArrayScorer.by_code(scores_by_code(bench, m, "cifar10"), space)
                   for m in ROBOT_METRICS]
        return {"scorers": scorers, "pool": list(self.pool), "names": list(ROBOT_METRICS)}


def _robot_pool(ctx: Context) -> list[Any]:
    from nasbench_tools.search.base import code_layout

    bench = ctx.bench("nb201")
    values = np.stack([scores_by_code(bench, m, "cifar10") for m in ROBOT_METRICS])
    codes = np.flatnonzero(np.isfinite(values).all(axis=0))
    layout = code_layout("nb201")
    return [layout.from_code(int(c)) for c in codes]


def _run_robot(table: ReproTable, ctx: Context) -> TableResult:
    from nasbench_tools.search.base import PoolProposals

    ev = _nb201_evaluator(ctx)
    pool = _robot_pool(ctx)
    note = (f"20 queries over the {len(pool)} cells with all six metrics; the published RS row "
            "is the NB201 12000 s baseline over the whole space")
    exps = [SearchExp("rs-pool", "rs", "q20", Kw(pool=PoolProposals(pool)), note=note),
            SearchExp("robot", "robot", "q20", RobotKw(tuple(pool)), optional=True)]
    result = run_search_experiments(table, ctx, ev, exps, dataset="cifar10")
    result.notes.append(
        f"RoBoT and its RS baseline search the {len(pool)} cells of NASLib's CIFAR-10 "
        "zero-cost table (the only cells with all six metrics here); the paper uses the "
        "whole space with the zero-cost-nas metrics.")
    return result


_EPOCH200_NOTE = ("searches on the 200-epoch validation accuracy; the paper's protocol "
                  "searches on 12 epochs")


def _run_nb201_search_200(table: ReproTable, ctx: Context) -> TableResult:
    ev = _nb201_evaluator(ctx, search_epoch=200)
    return run_search_experiments(table, ctx, ev, _search_exps(("q100",), _EPOCH200_NOTE),
                                  dataset="cifar10")


def scores_by_code(bench: Any, feature: str, dataset: str | None = None) -> np.ndarray:
    """A store feature re-indexed by NB201 integer cell code (NaN where absent).

    Examples
    --------
    >>> from nasbench_tools.store import DatasetTable, TableData, Benchmark
    >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((1, 1, 1, 1)),
    ...                   features={"s": np.array([5.0])})
    >>> key = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    >>> b = Benchmark.from_table(TableData("nb201", [key], np.arange(1), {"c": ds}))
    >>> v = scores_by_code(b, "s"); int(np.isfinite(v).sum()), float(np.nanmax(v))
    (1, 5.0)
    """
    from nasbench_tools.search.base import code_layout
    from nasbench_tools.spaces import get_space

    space = get_space(bench.space)
    layout = code_layout(space.name)
    out = np.full(layout.size, np.nan)
    values = np.asarray(bench.feature(feature, dataset=dataset), dtype=np.float64)
    codes = np.fromiter((layout.to_code(space.parse(k)) for k in bench.keys), dtype=np.int64,
                        count=len(bench))
    out[codes] = values
    return out


def _scorer(ctx: Context, which: str) -> Any:
    from nasbench_tools.search import ArrayScorer
    from nasbench_tools.spaces import get_space

    cache = ctx._open.setdefault("_scorers", {})
    if which not in cache:
        if which == "v1":
            values = scores_by_code(ctx.bench("nb201"), "naswot_score", "cifar10")
        else:
            values = scores_by_code(ctx.bench("zc"), "zc_naswot", "cifar10")
        cache[which] = ArrayScorer.by_code(values, get_space("nb201"))
    return cache[which]


def _naswot_exps() -> list[SearchExp]:
    # the paper's "random" row: one random cell (= random search with one query)
    exps = [SearchExp("random", "rs", "q1")]
    for n in (10, 100, 1000):
        exps.append(SearchExp(f"naswot-n{n}-v1", "naswot", "q1",
                              Kw("v1", n)))
        exps.append(SearchExp(f"naswot-n{n}", "naswot", "q1",
                              Kw("ours", n)))
    # AREA as in the paper: REA seeded with the 10 best-scored of 20 random cells, 12000 s
    exps.append(SearchExp("area-v1", "area", "s12000", Kw("v1", 20)))
    exps.append(SearchExp("area", "area", "s12000", Kw("ours", 20)))
    return exps


def _run_naswot_search(table: ReproTable, ctx: Context) -> TableResult:
    ev = _nb201_evaluator(ctx)
    return run_search_experiments(table, ctx, ev, _naswot_exps(), dataset="cifar10")


# --------------------------------------------------------------------------- embedded
_EMBEDDED_NEED = StoreNeed(
    "embedded", "nb201", values=(("val_accuracy", "digits", 2), ("test_accuracy", "digits", 2)),
    official="data/embedded_nb201_digits.h5 (shipped with the project)",
    command="nbt build-bench nb201 --dataset digits --preset embedded -o embedded.h5",
)


def _run_embedded_search(table: ReproTable, ctx: Context) -> TableResult:
    from nasbench_tools.search import TabularEvaluator
    from nasbench_tools.search.base import PoolProposals
    from nasbench_tools.search.cost_models import RecordedCost
    from nasbench_tools.search.evaluators import Protocol_, Query

    bench = ctx.bench("embedded")
    last = max(bench.epochs("digits"))
    # the store's epochs are those of one training budget: search on the validation
    # accuracy of the last epoch, report its test accuracy (as nbt demo does)
    protocol = Protocol_(Query("val_accuracy", "digits", last),
                         {"test_accuracy": Query("test_accuracy", "digits", last),
                          "val_accuracy": Query("val_accuracy", "digits", last)})
    ev = TabularEvaluator(bench, protocol=protocol,
                          cost_model=RecordedCost(dataset="digits", epoch=last))
    pool = PoolProposals([bench.cell_at(r) for r in range(len(bench))])
    queries = "q20" if len(bench) >= 40 else "q1"
    exps = [SearchExp("rs", "rs", queries, Kw(pool=pool))]
    if "zc" in ctx.stores:
        for n in (10, 100):
            exps.append(SearchExp(f"naswot-n{n}", "naswot", "q1",
                                  Kw("ours", n, pool)))
        exps.insert(1, SearchExp("rs", "rs", "q1", Kw(pool=pool)))
    result = run_search_experiments(table, ctx, ev, exps, dataset="digits")
    result.notes.append(
        f"Search over the {len(bench)} cells of the embedded table (digits, validation "
        f"accuracy of epoch {last} searched, its test accuracy reported); no published numbers "
        "exist for it."
    )
    return result


# --------------------------------------------------------------------------- taus
def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    from predictors.metrics import kendall_tau

    ok = np.isfinite(a) & np.isfinite(b)
    return float(kendall_tau(a[ok], b[ok]))


def _run_naswot_tau(table: ReproTable, ctx: Context) -> TableResult:
    import pandas as pd

    bench = ctx.bench("nb201")
    acc = np.asarray(bench.column("val_accuracy", "cifar10-valid", 200), dtype=np.float64)
    test = np.asarray(bench.column("test_accuracy", "cifar10", 200), dtype=np.float64)
    from nasbench_tools.search.base import code_layout
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    layout = code_layout("nb201")
    codes = np.fromiter((layout.to_code(space.parse(k)) for k in bench.keys), dtype=np.int64,
                        count=len(bench))
    ours = scores_by_code(ctx.bench("zc"), "zc_naswot", "cifar10")[codes]
    v1 = np.asarray(bench.feature("naswot_score", "cifar10"), dtype=np.float64)
    records = []
    rows = []
    for setting, score, pub in (("naswot", ours, "naswot"), ("naswot-v1", v1, "naswot-v1")):
        for target_name, target in (("val_accuracy", acc), ("test_accuracy", test)):
            tau = _kendall(score, target)
            n = int((np.isfinite(score) & np.isfinite(target)).sum())
            records.append({"setting": setting, "target": target_name, "cells": n,
                            "kendall_tau": tau})
            if target_name == "val_accuracy":
                rows.append(row(table, ctx, group=f"{n:,} cells", setting=setting,
                                dataset="cifar10", metric="kendall_tau", values=[tau],
                                pub_setting=pub))
    return TableResult(rows, pd.DataFrame(records))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic)


#: NASLib's zero-cost proxy columns of the shared tables.
ZC_PROXIES: tuple[str, ...] = (
    "flops", "params", "snip", "jacov", "grad_norm", "fisher", "grasp", "synflow", "epe_nas",
    "l2_norm", "plain", "nwot",
)


def _bootstrap_std(a: np.ndarray, b: np.ndarray, seed: int, n: int = 200) -> float:
    """Std of Spearman's rho over ``n`` bootstrap resamples of the cells (vectorised)."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    idx = rng.integers(0, len(a), size=(n, len(a)))
    ra, rb = rankdata(a[idx], axis=1), rankdata(b[idx], axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ra * rb).sum(1) / np.sqrt((ra * ra).sum(1) * (rb * rb).sum(1))
    return float(np.nanstd(rho, ddof=1))


#: Our proxy column -> Abdelfattah et al.'s name (their six proxies only).
ABDELFATTAH_NAMES: dict[str, str] = {
    "grad_norm": "grad_norm", "snip": "snip", "grasp": "grasp", "fisher": "fisher",
    "synflow": "synflow", "jacov": "jacob_cov",
}


def _run_zc_abdelfattah(table: ReproTable, ctx: Context) -> TableResult:
    return _run_zc(table, ctx, names=ABDELFATTAH_NAMES, absolute=True)


def _run_zc_suite(table: ReproTable, ctx: Context) -> TableResult:
    return _run_zc(table, ctx, names={p: p for p in ZC_PROXIES}, absolute=False)


def _run_zc(table: ReproTable, ctx: Context, *, names: Mapping[str, str],
            absolute: bool) -> TableResult:
    import pandas as pd

    frames: list[dict[str, Any]] = []
    rows: list[Row] = []
    sources = [("nb201", ctx.files.get("zc201")), ("nb101", ctx.files.get("zc101"))]
    for space, path in sources:
        if path is None:
            continue
        df = pd.read_csv(path)
        if space == "nb101":
            df = df.drop_duplicates("nb101_hash")
            df["dataset"] = "cifar10"
        for dataset, part in df.groupby("dataset", sort=False):
            y = part["val_accuracy"].to_numpy(np.float64)
            for proxy, name in names.items():
                if proxy not in part.columns:
                    continue
                x = part[proxy].to_numpy(np.float64)
                rho = _spearman(x, y)
                rho = abs(rho) if absolute else rho
                sd = _bootstrap_std(x, y, seed=len(frames))
                frames.append({"space": space, "dataset": dataset, "proxy": proxy,
                               "cells": int(np.isfinite(x).sum()), "spearman_rho": rho,
                               "bootstrap_std": sd})
                r = _zc_row(table, ctx, space, str(dataset).lower(), name, rho, sd, len(part))
                rows.append(r)
    kind = "absolute Spearman rank correlation" if absolute else "Spearman rank correlation"
    return TableResult(rows, pd.DataFrame(frames), notes=[
        f"Ours: {kind} of each NASLib proxy column with val_accuracy on the shared samples "
        "(NB201: 725/725/724 cells per dataset; NB101: the distinct cells of the 500-row "
        "sample); std = bootstrap over cells (200 resamples); verdict: |diff| <= "
        "max(0.05, 2 bootstrap std)."])


def _zc_row(table: ReproTable, ctx: Context, space: str, dataset: str, proxy: str, rho: float,
            sd: float, n: int) -> Row:
    rec = find(ctx.published, table.published_table, proxy, dataset, "spearman_rho", space=space)
    ours = Ours(rho, sd, 1)
    pub = None if rec is None else Published(rec.mean, rec.std)
    # our sampling error is known: compare within max(tolerance, 2 bootstrap std)
    from nasbench_tools.reproduce.verdict import CORRELATION_TOLERANCE

    comp = compare(ours, pub, metric="spearman_rho", tolerance=max(CORRELATION_TOLERANCE, 2 * sd))
    explain = ""
    if comp.verdict != "reproduced":
        explain = _explain(table, proxy, comp)
    return Row(f"{space}, {n} cells", proxy, dataset, "spearman_rho", ours, rec, comp,
               math.nan, explain)


# --------------------------------------------------------------------------- predictors
def _cached_eval(ctx: Context, config: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """Run the harness once per configuration (``work/results.csv`` + ``work/config.json``)."""
    import pandas as pd

    from nasbench_tools.io import atomic_path, atomic_write_text

    cfg_path, res_path = ctx.work / "config.json", ctx.work / "results.csv"
    text = json.dumps(config, sort_keys=True)
    if cfg_path.is_file() and res_path.is_file() and cfg_path.read_text() == text:
        log.info("%s: results of these settings already computed", ctx.work)
        return pd.read_csv(res_path), None
    report = compute()
    with atomic_path(res_path) as tmp:
        report.table.to_csv(tmp, index=False, float_format="%.6g")
    atomic_write_text(cfg_path, text)
    return report.table, report


#: Predictors the paper-protocol tables run: the papers' own (XGBoost as ``gbdt``, ReNAS) and
#: the project's tree and network baselines. The neural predictors added later (BANANAS, the
#: GCN, the FBNetV3-style nets, RoBoT) are compared in ``nbt eval-predictor`` and
#: ``benchmarks/bench_predictors_neural.py``: some need zero-cost columns that a given store
#: may lack, and their fits (minutes each at 1,000 cells) would multiply the cost of
#: ``nbt reproduce all`` without a published number to compare with.
REPRO_PREDICTORS: tuple[str, ...] = ("gbdt", "gbdt_tuned", "gbdt_rank", "renas", "rf", "mlp")


def _trained_predictors() -> list[str]:
    from predictors.registry import PREDICTORS

    return [name for name in REPRO_PREDICTORS
            if name in PREDICTORS and PREDICTORS[name].kind == "trained"]


def _plan(features: Sequence[str]) -> tuple[list[str], list[str]]:
    """The table predictors (:data:`REPRO_PREDICTORS`) and the feature sets to try."""
    return _trained_predictors(), list(features)


def _sizes(pool: int, wanted: Sequence[int], max_fraction: float = 0.5) -> list[int]:
    """The wanted training sizes that leave at least ``1 - max_fraction`` of the pool to test."""
    sizes = [n for n in wanted if n <= int(pool * max_fraction)]
    return sizes or [max(2, pool // 4)]


#: (predictor, feature set) -> published setting prefix of NAS-Bench-Suite-Zero.
SUITE_ZERO: dict[tuple[str, str], tuple[str, str]] = {
    ("gbdt", "onehot"): ("xgb-onehot", ""),
    ("gbdt", "onehot+naswot+params"): (
        "xgb-onehot+zc",
        "our +zc features are the NASWOT score and params only; the paper adds all 13 "
        "NASLib proxies",
    ),
}


def _predictor_rows(table: ReproTable, ctx: Context, frame: Any, dataset: str,
                    published: Mapping[tuple[str, str], tuple[str, str]]) -> list[Row]:
    rows = []
    for (pred, feats, size), part in frame.groupby(["predictor", "features", "train_size"],
                                                   sort=False):
        pub_setting, note = published.get((pred, feats), ("", ""))
        setting = f"{pred} [{feats}]"
        r = row(table, ctx, group=f"{int(size)} training cells", setting=setting,
                dataset=dataset, metric="kendall_tau", values=part["kendall_tau"].to_numpy(),
                pub_setting=f"{pub_setting}/n{int(size)}" if pub_setting else setting,
                note=note)
        rows.append(r)
    return rows


def _harness(ctx: Context, data: Any, predictors: list[str], features: list[str],
             sizes: list[int], seeds: int, config: dict[str, Any]) -> Any:
    from predictors.evaluate import run_evaluation, write_report

    def compute() -> Any:
        rep = run_evaluation(data, predictors=predictors, feature_sets=features,
                             train_sizes=sizes, seeds=seeds, k=min(100, max(2, len(data.cells) // 10)),
                             progress=ctx.progress)
        write_report(rep, ctx.work)
        return rep

    frame, _ = _cached_eval(ctx, config, compute)
    return frame


def _run_predictors_nb201(table: ReproTable, ctx: Context) -> TableResult:
    import torch

    from predictors.evaluate import EvalData

    torch.set_num_threads(1)
    bench = ctx.bench("target")
    # params: the space's analytic count (= the official one); NASWOT: the stored v1 score
    data = EvalData.from_benchmark(bench, metric="val_accuracy", dataset="cifar10-valid",
                                   epoch=200, extras={
                                       "naswot_score": np.asarray(bench.feature("naswot_score",
                                                                                "cifar10"))})
    predictors, features = _plan(("onehot", "onehot+naswot+params"))
    sizes = _sizes(int(np.isfinite(data.targets).sum()), (100, 400, 1000))
    config = {"predictors": predictors, "features": features, "sizes": sizes,
              "seeds": ctx.runs, "store": str(ctx.stores["target"])}
    frame = _harness(ctx, data, predictors, features, sizes, ctx.runs, config)
    pics = [p for p in (ctx.work / "scatter.png", ctx.work / "tau_vs_train_size.png")
            if p.exists()]
    return TableResult(_predictor_rows(table, ctx, frame, "cifar10", SUITE_ZERO), frame, pics,
                       ["Target: 200-epoch cifar10-valid validation accuracy (mean of trials); "
                        "train on N random cells, Kendall tau on all the others; mean +- std "
                        f"over {ctx.runs} seeds; the predictors of REPRO_PREDICTORS."])


def _run_predictors_embedded(table: ReproTable, ctx: Context) -> TableResult:
    import torch

    from predictors.evaluate import EvalData

    torch.set_num_threads(1)
    bench = ctx.bench("embedded")
    last = max(bench.epochs("digits"))
    data = EvalData.from_benchmark(bench, metric="val_accuracy", dataset="digits", epoch=last)
    predictors, features = _plan(("onehot",))
    sizes = _sizes(len(bench), (20, 50, 100, 200))
    config = {"predictors": predictors, "features": features, "sizes": sizes,
              "seeds": ctx.runs, "store": str(ctx.stores["embedded"])}
    frame = _harness(ctx, data, predictors, features, sizes, ctx.runs, config)
    pics = [p for p in (ctx.work / "scatter.png",) if p.exists()]
    return TableResult(_predictor_rows(table, ctx, frame, "digits", {}), frame, pics)


def _nb101_sample(path: Path) -> Any:
    import pandas as pd

    from nasbench_tools.spaces import get_space
    from nasbench_tools.spaces.nb101 import Cell as NB101Cell
    from predictors.evaluate import EvalData

    df = pd.read_csv(path).drop_duplicates("nb101_hash")
    cells = [NB101Cell(np.array(json.loads(m)), tuple(json.loads(o)))
             for m, o in zip(df["matrix"], df["ops"])]
    return EvalData(cells, df["val_accuracy"].to_numpy(np.float64), space=get_space("nb101"),
                    target_name="NB101 validation accuracy (108 ep, one repeat)")


#: (predictor, features) -> published setting prefix on the NB101 sample.
NB101_PUBLISHED: dict[tuple[str, str], tuple[str, str]] = {
    ("renas", "renas"): ("renas", "trained and tested on the 292 distinct cells of the "
                         "500-row sample; the paper trains on 424 and tests on the whole space"),
    ("gbdt", "gbdt"): ("gbdt", "trained and tested on the 292 distinct cells of the 500-row "
                       "sample, not on the whole space"),
}


def _run_nb101_sample(table: ReproTable, ctx: Context) -> TableResult:
    import torch

    torch.set_num_threads(1)
    data = _nb101_sample(ctx.files["zc101"])
    sizes = _sizes(len(data.cells), (100, 200), max_fraction=0.7)  # 200 of 292 as before
    predictors, features = ["renas", "gbdt"], ["renas", "gbdt"]
    config = {"predictors": predictors, "features": features, "sizes": sizes,
              "seeds": ctx.runs, "file": str(ctx.files["zc101"])}
    frame = _harness(ctx, data, predictors, features, sizes, ctx.runs, config)
    pics = [p for p in (ctx.work / "scatter.png",) if p.exists()]
    rows = _predictor_rows(table, ctx, frame, "cifar10", NB101_PUBLISHED)
    # the paper's 424-cell setting cannot be run on 292 cells: say so against its number
    for pred in ("renas",):
        rec = find(ctx.published, table.published_table, f"{pred}/n424", "cifar10",
                   "kendall_tau", space="nb101")
        if rec is not None:
            reason = (f"the 500-row sample holds {len(data.cells)} distinct cells, fewer than "
                      "the paper's 424 training cells")
            rows.append(Row("424 training cells", f"{pred} [renas]", "cifar10", "kendall_tau",
                            Ours(math.nan, math.nan, 0), rec,
                            Comparison("not comparable", math.nan, math.nan, reason),
                            explain=f"Not comparable: {reason}."))
    return TableResult(rows, frame, pics, [
        f"Train on N of the {len(data.cells)} distinct cells of the shared NB101 500-row "
        "sample, Kendall tau on the rest; the papers use the whole NB101 space."])


# --------------------------------------------------------------------------- NB101 / SSS search
def _store_key(space: str, cell: Any) -> str:
    """The store key of ``cell``: the NB101 module hash, else the cell string."""
    return str(cell.hash) if space == "nb101" else str(cell.to_string())


class StoreProposals(PoolProposals):
    """Uniform draws from ``cells``; mutations by the space's kernel, kept in the store.

    A mutant the store lacks is redrawn (up to ``tries`` times, then a uniform draw from
    ``cells``). On a store that holds the whole space (the converted official NB101 file)
    every mutant is there and this is the space's own kernel; on a smaller store the search
    stays on the store's cells.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nats_sss")
    >>> cells = sp.sample(np.random.default_rng(0), 5)
    >>> k = StoreProposals(cells, sp, {c.to_string() for c in cells})
    >>> k.mutate(cells[0], np.random.default_rng(1)) in cells
    True
    """

    def __init__(self, cells: Sequence[Any], space: Any, members: set[str] | frozenset[str],
                 tries: int = 5) -> None:
        from nasbench_tools.search.base import proposals_for

        super().__init__(cells)
        self.kernel = proposals_for(space)
        self.space_name = str(space.name)
        self.members = frozenset(members)
        self.tries = int(tries)

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        for _ in range(self.tries):
            child = self.kernel.mutate(cell, rng)
            if _store_key(self.space_name, child) in self.members:
                return child
        return self.sample(rng)


def _store_proposals(ctx: Context, key: str) -> StoreProposals:
    """Every cell of store ``key`` (cached on the context: 423,624 cells for NB101)."""
    cache = ctx._open.setdefault("_proposals", {})
    if key not in cache:
        from nasbench_tools.spaces import get_space

        bench = ctx.bench(key)
        cells = [bench.cell_at(r) for r in range(len(bench))]
        cache[key] = StoreProposals(cells, get_space(bench.space), set(bench.keys))
    return cache[key]


def _zc_pool(ctx: Context, key: str, zc_key: str, dataset: str = "cifar10") -> tuple[
        Any, PoolProposals, str]:
    """The scorer and the pool of the cells of store ``key`` that zc store ``zc_key`` scores.

    The ``zc_naswot`` feature of ``dataset`` is used when the zc store has it, else that of
    ``cifar10``; returns (scorer, pool, dataset of the scores).
    """
    from nasbench_tools.search import ArrayScorer

    cache = ctx._open.setdefault("_zc_pools", {})
    zc = ctx.bench(zc_key)
    ds = dataset if dataset in zc.datasets and "zc_naswot" in zc.features(dataset) else "cifar10"
    if (key, ds) not in cache:
        bench = ctx.bench(key)
        scores = np.asarray(zc.feature("zc_naswot", dataset=ds), dtype=np.float64)
        row_of = {k: i for i, k in enumerate(bench.keys)}
        values = np.full(len(bench), np.nan)
        for k, v in zip(zc.keys, scores):
            r = row_of.get(k)
            if r is not None and np.isfinite(v):
                values[r] = v
        rows = np.flatnonzero(np.isfinite(values))
        if not len(rows):
            raise NotInBenchmarkError(
                f"the zc store {ctx.stores[zc_key]} scores none of the cells of "
                f"{ctx.stores[key]} (make one with: nbt zc-score {bench.space} --proxy naswot "
                "--cells N -o zc.h5)")
        pool = PoolProposals([bench.cell_at(int(r)) for r in rows])
        cache[(key, ds)] = (ArrayScorer(values, bench.rows), pool)
    scorer, pool = cache[(key, ds)]
    return scorer, pool, ds


@dataclass(frozen=True)
class ZcKw:
    """NASWOT / AREA arguments from a zc store: the scorer and ``n_samples``; ``pooled``
    draws the N cells from the scored cells (else from ``proposals_key``'s kernel)."""

    key: str
    zc_key: str
    n_samples: int
    dataset: str = "cifar10"
    proposals_key: str = ""

    def __call__(self, ctx: Context) -> dict[str, Any]:
        scorer, pool, _ = _zc_pool(ctx, self.key, self.zc_key, self.dataset)
        out: dict[str, Any] = {"scorer": scorer, "n_samples": self.n_samples}
        if self.proposals_key:  # AREA: the N scored cells from the pool, mutations in the store
            full = _store_proposals(ctx, self.proposals_key)
            out["proposals"] = _PooledMutations(pool.cells, full)
        else:
            out["proposals"] = pool
        return out


class _PooledMutations(PoolProposals):
    """Draws from a pool (the scored cells), mutations through another kernel."""

    def __init__(self, cells: Sequence[Any], kernel: Any) -> None:
        super().__init__(cells)
        self.kernel = kernel

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        return self.kernel.mutate(cell, rng)


@dataclass(frozen=True)
class StoreKw:
    """Keyword arguments of a searcher on store ``key``: its :class:`StoreProposals` plus
    ``extra``."""

    key: str
    extra: tuple[tuple[str, Any], ...] = ()

    def __call__(self, ctx: Context) -> dict[str, Any]:
        return {"proposals": _store_proposals(ctx, self.key), **dict(self.extra)}


@dataclass(frozen=True)
class GuidedKw:
    """A predictor-guided search on store ``key``: registry predictor, encoding, n_init,
    top_k, ranking every cell of the store (the whole space for the official NB101 file).

    On a store too small for the paper's numbers (fewer than ``n_init + top_k`` cells, e.g.
    a test store), ``n_init`` becomes half the store and ``top_k`` a quarter."""

    key: str
    predictor: str
    encoding: str
    n_init: int
    top_k: int
    params: tuple[tuple[str, Any], ...] = ()  # set on the predictor (set_params)

    def __call__(self, ctx: Context) -> dict[str, Any]:
        from predictors.registry import get_predictor

        proposals = _store_proposals(ctx, self.key)
        n_init, top_k = self.n_init, self.top_k
        if len(proposals.cells) < n_init + top_k:
            n_init = max(1, len(proposals.cells) // 2)
            top_k = max(1, len(proposals.cells) // 4)
        model = get_predictor(self.predictor).build(random_state=0)
        if self.params:
            model.set_params(**dict(self.params))
        return {"predictor": model,
                "encoding": self.encoding, "n_init": n_init, "top_k": top_k,
                "pool_size": None, "proposals": proposals}


def _nb101_evaluator(ctx: Context) -> Any:
    from nasbench_tools.search import TabularEvaluator
    from nasbench_tools.search.cost_models import RecordedCost

    # the NB101 API charges each query its recorded training time (mean of the 3 repeats here)
    return TabularEvaluator(ctx.bench("nb101"), protocol="nb101",
                            cost_model=RecordedCost(dataset="cifar10", epoch=108))


_NB101_MEAN_NOTE = ("every query reads the mean of the 3 NB101 repeats, where the NB101 API "
                    "returns one random repeat")


def _run_naswot_nb101(table: ReproTable, ctx: Context) -> TableResult:
    _, pool, _ = _zc_pool(ctx, "nb101", "zcnb101")
    exps = [
        SearchExp("random", "rs", "q1", StoreKw("nb101")),
        SearchExp("naswot-n100", "naswot", "q1", ZcKw("nb101", "zcnb101", 100)),
        SearchExp("rea", "rea", "t12000", StoreKw("nb101"), runs=50),
        SearchExp("area", "area", "t12000", ZcKw("nb101", "zcnb101", 20, proposals_key="nb101"),
                  runs=50),
    ]
    result = run_search_experiments(table, ctx, _nb101_evaluator(ctx), exps, dataset="cifar10",
                                    space="nb101", baseline=StoreKw("nb101"))
    bench = ctx.bench("nb101")
    result.notes.append(
        f"NASWOT draws its N cells uniformly from the {len(pool.cells):,} cells of "
        f"{len(bench):,} that the zc store scores (a uniform sample is needed: nbt zc-score "
        "nb101 --proxy naswot --cells N); REA and AREA (10 best-scored of 20 scored cells) "
        "mutate over the whole store, 12000 s of recorded NB101 training time, at most 50 "
        f"runs as in the paper; {_NB101_MEAN_NOTE}.")
    return result


def _ranking_rows(table: ReproTable, ctx: Context, result: TableResult,
                  settings: Mapping[str, str]) -> None:
    """Add a ``ranking_percent`` row per setting: 100 x the fraction of the store's cells with
    a better test accuracy than the pick (ReNAS's 'ranking(%)')."""
    test = np.sort(np.asarray(ctx.bench("nb101").column("test_accuracy", dataset="cifar10",
                                                      epoch=108), dtype=np.float64))
    test = test[np.isfinite(test)]
    frame = result.runs
    for setting, pub in settings.items():
        part = frame[frame["algo"].str.split("@").str[0] == setting] if len(frame) else frame
        picks = part["test_accuracy"].to_numpy(np.float64) if "test_accuracy" in part else []
        ranks = [100.0 * (len(test) - np.searchsorted(test, p, side="right")) / len(test)
                 for p in picks if np.isfinite(p)]
        group = next((r.group for r in result.rows if r.setting == setting), "")
        result.rows.append(row(table, ctx, group=group, setting=setting, dataset="cifar10",
                               metric="ranking_percent", values=ranks, pub_setting=pub))


#: The ReNAS predictor's training in the search (the official renas.py defaults: 200 epochs,
#: Adam lr 0.001, batch 1024).
RENAS_SEARCH_PARAMS: dict[str, Any] = {"epochs": 200, "learning_rate": 1e-3, "batch_size": 1024}


def _run_renas_nb101(table: ReproTable, ctx: Context) -> TableResult:
    import torch

    torch.set_num_threads(1)
    exps = [
        SearchExp("rs", "rs", "q434", StoreKw("nb101")),
        SearchExp("renas", "predictor", "q434",
                  GuidedKw("nb101", "renas", "renas", n_init=424, top_k=10,
                           params=tuple(RENAS_SEARCH_PARAMS.items())),
                  published="renas-6"),
    ]
    result = run_search_experiments(table, ctx, _nb101_evaluator(ctx), exps, dataset="cifar10",
                                    metrics=("test_accuracy",), space="nb101",
                                    baseline=StoreKw("nb101"))
    _ranking_rows(table, ctx, result, {"rs": "rs", "renas": "renas-6"})
    result.notes.append(
        "ReNAS: train the ReNAS predictor on 424 random cells (0.1 %), rank every cell of the "
        "store, query the 10 best predicted; the pick is the best-validation cell of the 434 "
        f"queried; RS gets the same 434 queries; {_NB101_MEAN_NOTE}.")
    return result


def _samples_to_optimum(runs: Sequence[Any], optimum: float) -> list[float]:
    """Charged queries until the best search value reached ``optimum`` (runs that did)."""
    out = []
    for res in runs:
        hit = [t[0] for t in res.trajectory if t[2] >= optimum - 1e-9]
        if hit:
            out.append(float(hit[0]))
    return out


def _run_gbdtnas_nb101(table: ReproTable, ctx: Context) -> TableResult:
    ev = _nb101_evaluator(ctx)
    exps = [
        SearchExp("rs", "rs", "q2000", StoreKw("nb101")),
        SearchExp("rea", "rea", "q2000", StoreKw("nb101")),
        SearchExp("gbdt-nas", "predictor", "q2000",
                  GuidedKw("nb101", "gbdt", "gbdt", n_init=1000, top_k=1000)),
        SearchExp("mcts", "mcts", "q2000", optional=True),
    ]
    result = run_search_experiments(table, ctx, ev, exps, dataset="cifar10", space="nb101",
                                    baseline=StoreKw("nb101"))
    value = np.asarray(ctx.bench("nb101").column("val_accuracy", dataset="cifar10", epoch=108),
                       dtype=np.float64)
    optimum = float(np.nanmax(value))
    for label, runs in result.searches.items():
        setting = label.split("@")[0]
        found = _samples_to_optimum(runs, optimum)
        note = (f"{len(found)} of {len(runs)} runs reached the store's best validation cell "
                "within 2000 queries; the mean is over those runs")
        result.rows.append(row(table, ctx, group="2000 queries", setting=setting,
                               dataset="cifar10", metric="samples_to_optimum", values=found))
        result.rows[-1].explain = (result.rows[-1].explain + " " + note + ".").strip()
        result.notes.append(f"{setting}: {note}.")
    result.notes.append(
        "GBDT-NAS: 1000 random cells, the GBDT predictor (XGBoost with GBDT-NAS's settings) "
        "ranks every cell of the store, the 1000 best predicted are queried (2000 queries in "
        "all); RS and REA get the same 2000 queries; the optimum is the cell of the store with "
        f"the best mean validation accuracy; {_NB101_MEAN_NOTE}.")
    return result


#: NATS-Bench size space: dataset -> (search protocol, the official run-all.sh time budget).
SSS_DATASETS: dict[str, tuple[str, str]] = {
    "cifar10": ("nats-sss-cifar10", "t20000"),
    "cifar100": ("nats-sss-cifar100", "t40000"),
    "ImageNet16-120": ("nats-sss-imagenet16-120", "t60000"),
}


def _sss_evaluator(ctx: Context, dataset: str) -> Any:
    from nasbench_tools.search import TabularEvaluator
    from nasbench_tools.search.cost_models import RecordedCost
    from nasbench_tools.search.evaluators import PROTOCOLS

    protocol = SSS_DATASETS[dataset][0]
    search = PROTOCOLS[protocol].search
    # simulate_train_eval's charge: the recorded 12-epoch training + evaluation time
    return TabularEvaluator(ctx.bench("sss"), protocol=protocol,
                            cost_model=RecordedCost(dataset=search.dataset, epoch=12))


#: BOHB on the size space: the NB201 script's settings with the size space's fidelities.
_SSS_BOHB = BohbPreset("nb201-script", (("fidelities", (12, 90)),))


def _sss_baselines(tag: str) -> list[SearchExp]:
    return [
        SearchExp("rs", "rs", tag),
        SearchExp("rea", "rea", tag, Args((("population_size", 10), ("sample_size", 3)))),
        SearchExp("reinforce", "reinforce", tag, Args((("learning_rate", 0.01),))),
        SearchExp("bohb", "bohb", tag, _SSS_BOHB, optional=True),
    ]


def _run_sss(table: ReproTable, ctx: Context, exps_of: Callable[[str], list[SearchExp]]
             ) -> TableResult:
    import pandas as pd

    rows: list[Row] = []
    frames: list[Any] = []
    pictures: list[Path] = []
    notes: list[str] = []
    for dataset in SSS_DATASETS:
        if dataset not in ctx.bench("sss").datasets:
            continue
        part = run_search_experiments(table, ctx, _sss_evaluator(ctx, dataset),
                                      exps_of(dataset), dataset=dataset.lower(),
                                      space="nats_sss", prefix=f"{dataset}/")
        rows += part.rows
        frames.append(part.runs)
        pictures += part.pictures
        notes += part.notes
    frame = pd.concat([f for f in frames if len(f)]) if any(len(f) for f in frames) \
        else pd.DataFrame()
    return TableResult(rows, frame, pictures, notes)


def _run_natsbench_sss(table: ReproTable, ctx: Context) -> TableResult:
    result = _run_sss(table, ctx, lambda ds: _sss_baselines(SSS_DATASETS[ds][1]))
    result.notes.append(
        "Each search runs on the dataset it is evaluated on (12-epoch validation accuracy "
        "searched, hp 90 reported; CIFAR-10 searched on cifar10-valid), charged the recorded "
        "12-epoch training time, with the official run-all.sh budgets 20000 / 40000 / 60000 s.")
    return result


def _run_naswot_sss(table: ReproTable, ctx: Context) -> TableResult:
    def exps(dataset: str) -> list[SearchExp]:
        out = _sss_baselines("t12000")
        out.insert(0, SearchExp("random", "rs", "q1"))
        for n in (10, 100, 1000):
            out.append(SearchExp(f"naswot-n{n}", "naswot", "q1",
                                 ZcKw("sss", "zcsss", n, dataset=dataset)))
        return out

    result = _run_sss(table, ctx, exps)
    _, pool, _ = _zc_pool(ctx, "sss", "zcsss")
    result.notes.append(
        f"NASWOT draws its N cells uniformly from the {len(pool.cells):,} cells the zc store "
        "scores (nbt zc-score nats_sss --proxy naswot [--cells N]), using the score of the "
        "searched dataset when the zc store has it (else that of cifar10); the baselines get "
        "the 12000 s NASWOT's table prints, charged the recorded 12-epoch times.")
    return result


# --------------------------------------------------------------------------- registry
_ZC201 = FileNeed("zc201", "nb201/nb201_zc_proxies_v20220518_sample.csv",
                  "NASLib zc_nasbench201.json (shared as CSV)")
_ZC101 = FileNeed("zc101", "nb101/nb101_zc_proxies_sample500.csv",
                  "NASLib zc_nasbench101.json (shared as CSV)")
NB101_SIZE = 423624
SSS_SIZE = 32768
_NB101_NEED = StoreNeed("nb101", "nb101", values=(("val_accuracy", "cifar10", 108),
                                                  ("test_accuracy", "cifar10", 108),
                                                  ("train_time", "cifar10", 108)),
                        min_cells=NB101_SIZE,
                        official="nasbench_only108.tfrecord (about 499 MB)",
                        command=NB101_CONVERT)
_ZCNB101_NEED = StoreNeed(
    "zcnb101", "nb101", features=(("zc_naswot", "cifar10"),),
    official="NASWOT scores of a uniform random sample of NB101 cells (a zc store; scoring "
    "all 423,624 takes days on 2 cores, and the cells must be a uniform sample since each "
    "run draws its N cells from the scored ones)",
    command="nbt zc-score nb101 --proxy naswot --cells 20000 --time-limit 36000 "
    "-o nb101_zc_naswot.h5",
)
_SSS_NEED = StoreNeed("sss", "nats_sss",
                      values=(("val_accuracy", "cifar10-valid", 12),
                              ("val_accuracy", "cifar10-valid", 90),
                              ("test_accuracy", "cifar10", 90),
                              ("train_time", "cifar10-valid", 12)),
                      min_cells=SSS_SIZE,
                      official="NATS-sss-v1_0-50262-simple/ (NATS-Bench size space)",
                      command=SSS_CONVERT)
_ZCSSS_NEED = StoreNeed(
    "zcsss", "nats_sss", features=(("zc_naswot", "cifar10"),),
    official="NASWOT scores of the size space's cells, all or a uniform random sample (a zc "
    "store; per dataset when scored with --dataset, else cifar10's)",
    command="nbt zc-score nats_sss --proxy naswot -o sss_zc_naswot.h5",
)

_NB101_EXPLAIN = ("Each query reads the mean of the 3 NB101 repeats where the NB101 API "
                  "returns one random repeat.")

_SEARCH_EXPLAIN = {
    "bohb": "BOHB runs the NB201 script's protocol (preset nb201-script: hpbandster's brackets "
    "over budgets 22.2/66.7/200 shape only the schedule, every query is the 12-epoch value "
    "and cost, promotions are charged again, the pick is the incumbent at budget 200); the "
    "script read one random trial per query where we read the trial mean, and the "
    "fidelity-aware variant is in benchmarks/results/bohb_nb201.md.",
    "*": "",
}

TABLES: dict[str, ReproTable] = {t.id: t for t in (
    ReproTable(
        "nb201-search", "NAS-Bench-201 (Dong & Yang, ICLR 2020)",
        "NB201 CIFAR-10 search: RS, REA, REINFORCE, BOHB",
        (_nb201_store_need(),), _run_nb201_search,
        protocol="search on the 12-epoch cifar10-valid validation accuracy, report the "
        "200-epoch cifar10 test and cifar10-valid validation accuracy of the final pick; "
        "500 runs; budgets 100 queries and 12000 simulated s (cost model flops-120: "
        "64 + 0.792 MFLOPs s, scaled to a mean of 120 s); REINFORCE lr 0.01; BOHB as the "
        "NB201 script (budgets 12 to 200, eta 3, only for its brackets: every query is the "
        "12-epoch one and charged, promotions too; pick = incumbent at budget 200; "
        "num_samples 4, random_fraction 0, bandwidth_factor 3)",
        explain=_SEARCH_EXPLAIN,
    ),
    ReproTable(
        "nb201-search-200ep", "NAS-Bench-201 (Dong & Yang, ICLR 2020)",
        "NB201 CIFAR-10 search on the 200-epoch validation accuracy",
        (_nb201_store_need(),), _run_nb201_search_200, published="nb201-search",
        protocol="as nb201-search, but the search signal is the 200-epoch cifar10-valid "
        "validation accuracy; 100 queries",
        explain={"*": "The difference shows what searching on the cheap 12-epoch fidelity "
                 "costs (or how noisy it is)."},
    ),
    ReproTable(
        "naswot-nb201-search", "NASWOT (Mellor et al., ICML 2021)",
        "NASWOT N=10/100/1000 and AREA on NB201 CIFAR-10",
        (_nb201_store_need(), _ZC_NEED), _run_naswot_search,
        protocol="score N random cells, evaluate the best-scored one (1 query), 500 runs; "
        "'-v1' = the authors' Jacobian-covariance score (shared naswot_score column), "
        "without suffix = our log-determinant NASWOT on digits images "
        "(data/nb201_zc_naswot_digits.h5); 'random' = one random cell; AREA: REA (population "
        "10) seeded with the 10 best-scored of 20 random cells, 12000 s (flops-120)",
        explain={**{k: "Our score is computed on digits images, the paper's on a CIFAR-10 "
                    "minibatch (no CIFAR-10 images on this machine)."
                    for k in ("naswot-n10", "naswot-n100", "naswot-n1000", "area")}},
    ),
    ReproTable(
        "naswot-tau", "NASWOT (Mellor et al., ICML 2021)",
        "Kendall tau of the NASWOT score with the 200-epoch accuracy (NB201 CIFAR-10)",
        (_nb201_store_need(), _ZC_NEED), _run_naswot_tau, default_runs=1,
        protocol="Kendall tau over every cell with a score: our digits score and the authors' "
        "v1 score vs the 200-epoch cifar10-valid validation accuracy",
        explain={"naswot": "Our score uses digits images, the paper's CIFAR-10 images.",
                 "naswot-v1": "The authors' early Jacobian-covariance score (shared "
                 "naswot_score column), not the log-determinant score of the paper's tau."},
    ),
    ReproTable(
        "nbsuitezero-predictors", "NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022)",
        "Predictor Kendall tau at 100/400/1000 training cells (NB201 CIFAR-10)",
        (_TARGET_NEED,), _run_predictors_nb201, default_runs=5,
        protocol="the predictors harness: train on N random cells, Kendall tau on all others, "
        "5 seeds, the table predictors (REPRO_PREDICTORS) on onehot and "
        "onehot+naswot+params features",
        explain={"*": "The paper gives Spearman rho of XGBoost at 100 CIFAR-100 training cells "
                 "only; these rows are Kendall taus on CIFAR-10 at every size, ours only."},
    ),
    ReproTable(
        "zc-proxies", "Zero-Cost Proxies (Abdelfattah et al., ICLR 2021)",
        "Spearman rho of six zero-cost proxies with the accuracy (NB201, NB101)",
        (_ZC201, _ZC101), _run_zc_abdelfattah, default_runs=1,
        protocol="absolute Spearman rank correlation of NASLib's grad_norm, snip, grasp, "
        "fisher, synflow and jacov (= jacob_cov) columns with val_accuracy on the shared "
        "NASLib samples (725 NB201 cells per dataset, the distinct cells of the 500-row NB101 "
        "sample); the paper correlates its own proxy implementations over the whole space",
        explain={"*": "NASLib's proxy implementations on a sample, not the authors' code over "
                 "the whole space, and the published values are the notebooks' correlations "
                 "with test accuracy: implementation, cells and target all differ."},
    ),
    ReproTable(
        "nbsuitezero-zc", "NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022)",
        "Spearman rho of NASLib's zero-cost proxies with the validation accuracy",
        (_ZC201, _ZC101), _run_zc_suite, default_runs=1,
        protocol="signed Spearman rank correlation of each NASLib proxy column with "
        "val_accuracy on the shared samples (the same NASLib zc_*.json values the paper's "
        "Figure 2 uses, over its 1000 random cells; ours over 725 NB201 / the distinct NB101 "
        "cells)",
        explain={"*": "Same NASLib proxy values, other cells: the paper's figure uses 1000 "
                 "random cells (read off the figure), ours 725 NB201 / 292 NB101 cells whose "
                 "NB101 target is one random repeat; gaps beyond 2 bootstrap std (NB101 "
                 "flops, params, synflow) are not explained by sampling alone."},
    ),
    ReproTable(
        "renas-tau", "ReNAS (Xu et al., CVPR 2021) / GBDT-NAS (Luo et al., 2020)",
        "ReNAS and GBDT predictor Kendall tau on the NB101 500-row sample",
        (_ZC101,), _run_nb101_sample, default_runs=3, space="nb101",
        protocol="train on 100/200 of the 292 distinct cells of the shared NB101 sample, "
        "Kendall tau on the rest, 3 seeds (the paper: 424 training cells, whole space)",
        explain={"*": "No ReNAS or GBDT-NAS tau could be read in the papers (see "
                 "benchmarks/published/README.md); ours only, on a 292-cell sample."},
    ),
    ReproTable(
        "embedded-search", "nasbench-tools (embedded digits benchmark)",
        "RS and NASWOT search on the embedded benchmark",
        (_EMBEDDED_NEED, _ZC_NEED), _run_embedded_search, space="nb201-embedded",
        protocol="search on the last-epoch digits validation accuracy over the cells of the "
        "table, report the test accuracy; RS 20 queries, NASWOT N=10/100 with our digits "
        "score (restricted to the table's cells)",
        explain={"*": "No published numbers exist for the embedded benchmark: ours only."},
    ),
    ReproTable(
        "embedded-predictors", "nasbench-tools (embedded digits benchmark)",
        "Predictor Kendall tau on the embedded benchmark",
        (_EMBEDDED_NEED,), _run_predictors_embedded, default_runs=3, space="nb201-embedded",
        protocol="the predictors harness on the embedded table (last-epoch digits validation "
        "accuracy), 20/50/100/200 training cells, 3 seeds",
        explain={"*": "No published numbers exist for the embedded benchmark: ours only."},
    ),
    ReproTable(
        "robot-nb201-search", "RoBoT (He et al., ICLR 2024)",
        "RoBoT search on NB201 CIFAR-10 (with its random-search baseline)",
        (StoreNeed("nb201", "nb201", values=_nb201_store_need().values,
                   features=tuple((m, "cifar10") for m in ROBOT_METRICS),
                   min_cells=NB201_SIZE, official=_nb201_store_need().official,
                   command=NB201_CONVERT),), _run_robot,
        default_runs=10,
        protocol="RoBoT's protocol: 20 queries of the 12-epoch cifar10-valid validation "
        "accuracy, 10 runs, 200-epoch test accuracy of the pick; the searcher comes from the "
        "registry (robot) when this build has it; RS with the same budget is the RI baseline",
        explain={"rs-pool": "Random search over RoBoT's pool with its budget, the RI "
                 "baseline; the paper prints only the whole-space 12000 s RS row."},
    ),
    ReproTable(
        "naswot-nb101-search", "NASWOT (Mellor et al., ICML 2021)",
        "NASWOT search on NAS-Bench-101", (_NB101_NEED, _ZCNB101_NEED), _run_naswot_nb101,
        space="nb101",
        protocol="NASWOT Table 1: 'random' = one random cell, NASWOT N=100 = the best-scored "
        "of 100 cells drawn uniformly from the cells the zc store scores (1 query), 500 runs; "
        "REA (population 10, sample 3) and AREA (REA seeded with the 10 best-scored of 20 "
        "scored cells) with 12000 s of recorded NB101 training time, 50 runs; CIFAR-10 test "
        "accuracy (108 epochs) of the best-validation pick; the scored cells must be a uniform "
        "sample (nbt zc-score nb101 --proxy naswot --cells N)",
        explain={"naswot-n100": "Our NASWOT score is the project's (zc store, on the images "
                 "it was scored with), drawn from a uniform sample of scored cells; the paper "
                 "scores on a CIFAR-10 mini-batch over the whole space.",
                 "area": "AREA uses our NASWOT score on the scored sample. " + _NB101_EXPLAIN,
                 "*": _NB101_EXPLAIN},
    ),
    ReproTable(
        "renas-nb101-search", "ReNAS (Xu et al., CVPR 2021)",
        "ReNAS-guided search on NAS-Bench-101", (_NB101_NEED,), _run_renas_nb101,
        space="nb101", default_runs=10,
        protocol="ReNAS's NB101 search (official renas.py defaults): train the ReNAS predictor "
        "on 424 random cells (0.1 %), rank every NB101 cell, query the 10 best predicted; "
        "report the CIFAR-10 test accuracy of the best-validation cell of the 434 queried and "
        "its ranking(%) among all cells by test accuracy; RS with the same 434 queries; the "
        "paper's runs per row are not known, 10 by default",
        explain={"renas": "Compared with ReNAS-6, the README's headline (about 93.95 %); our "
                 "ReNAS predictor is the project's (predictors.renas), and the paper's runs "
                 "per row are not known. " + _NB101_EXPLAIN,
                 "rs": "The paper's RS budget is not known; ours gets the 434 queries of the "
                 "ReNAS search. " + _NB101_EXPLAIN},
    ),
    ReproTable(
        "gbdtnas-nb101", "GBDT-NAS (Luo et al., 2020)",
        "GBDT-NAS on NB101 vs RS, REA, MCTS (2000 queries, samples to the optimum)",
        (_NB101_NEED,), _run_gbdtnas_nb101, space="nb101",
        protocol="GBDT-NAS's official defaults: 1000 random cells, the GBDT predictor "
        "(gbdt: XGBoost with 31 leaves, lr 0.05, 100 trees, on the gbdt encoding) ranks every "
        "cell, the 1000 best predicted not yet seen are queried (2000 queries), the pick is "
        "the best-validation cell, 500 runs; RS and REA get the same 2000 queries; samples to "
        "the optimum = queries until the store's best-validation cell was queried",
        explain={"*": "No GBDT-NAS number is recorded (the paper was not reachable, see "
                 "benchmarks/published/README.md): ours only. " + _NB101_EXPLAIN,
                 "mcts": "No MCTS searcher in this build."},
    ),
    ReproTable(
        "naswot-nats-sss-search", "NASWOT (Mellor et al., ICML 2021)",
        "NASWOT search on the NATS-Bench size space", (_SSS_NEED, _ZCSSS_NEED), _run_naswot_sss,
        space="nats-sss",
        protocol="NASWOT Table 2(b): each search runs on the dataset it is evaluated on; "
        "NASWOT N=10/100/1000 = the best-scored of N cells drawn uniformly from the scored "
        "cells (1 query), 500 runs; baselines RS, REA (population 10, sample 3), REINFORCE "
        "(lr 0.01), BOHB (NB201 script settings, fidelities 12/90) with the 12000 s the table "
        "prints, charged the recorded 12-epoch training time; hp-90 validation and test "
        "accuracy of the pick",
        explain={**{f"naswot-n{n}": "Our NASWOT score (zc store, the images it was scored "
                    "with, one score for all datasets unless scored per dataset), the paper's "
                    "a mini-batch of each dataset." for n in (10, 100, 1000)},
                 "*": "The baselines run with the 12000 s NASWOT's table prints; the official "
                 "NATS-Bench scripts that produced these numbers use 20000 / 40000 / 60000 s "
                 "(table natsbench-sss-search)."},
    ),
    ReproTable(
        "natsbench-sss-search", "NATS-Bench (Dong et al., TPAMI 2021)",
        "Search baselines on the NATS-Bench size space", (_SSS_NEED,), _run_natsbench_sss,
        space="nats-sss",
        protocol="NATS-Bench exps/NATS-algos: RS, REA (population 10, sample 3), REINFORCE "
        "(lr 0.01), BOHB (num_samples 4, random_fraction 0, bandwidth_factor 3; fidelities "
        "12/90 for its brackets only) searched on the 12-epoch (hp 12) validation accuracy of "
        "the dataset evaluated (CIFAR-10: cifar10-valid), each query charged its recorded "
        "12-epoch training time, budgets of run-all.sh: 20000 / 40000 / 60000 s for CIFAR-10 / "
        "CIFAR-100 / ImageNet16-120; hp-90 validation and test accuracy of the pick; 500 runs",
        explain={"*": "The published numbers are NASWOT's copy, which says 12000 s, where the "
                 "official run-all.sh budgets (ours) are 20000 / 40000 / 60000 s.",
                 "bohb": "BOHB runs the NB201 script's schedule protocol with fidelities 12/90 "
                 "(hpbandster brackets only, every query the 12-epoch one)."},
    ),
)}


def resolve(table: ReproTable, stores: Sequence[Path], shared: Path) -> tuple[
        dict[str, Path], dict[str, Path], list[str]]:
    """Find each need of ``table``: (store paths, file paths, missing-data messages)."""
    from nasbench_tools.store import load_benchmark

    found_s: dict[str, Path] = {}
    found_f: dict[str, Path] = {}
    missing: list[str] = []
    for need in table.needs:
        if isinstance(need, FileNeed):
            p = shared / need.path
            if p.is_file():
                found_f[need.key] = p
            else:
                missing.append(f"{need.describe()}: not found at {p} ({need.official})")
            continue
        why: list[str] = []
        for path in stores:
            try:
                bench = load_benchmark(path)
            except (NasBenchToolsError, OSError) as exc:
                why.append(f"{path}: {exc}")
                continue
            reason = need.why_not(bench)
            if not reason:
                found_s[need.key] = Path(path)
                break
            why.append(f"{Path(path).name}: {reason}")
        else:
            missing.append(
                f"{need.describe()}: none of the stores fits"
                + (f" ({'; '.join(why)})" if why else "")
                + f". Needs {need.official}; convert with: {need.command}"
            )
    return found_s, found_f, missing


def check_names(names: Sequence[str]) -> list[str]:
    """``names`` with ``all`` expanded; unknown ids raise.

    Raises
    ------
    OutOfDomainError
        Naming the allowed table ids.
    """
    from nasbench_tools.errors import allowed

    out: list[str] = []
    for name in names:
        if name == "all":
            out += [t for t in TABLES if t not in out]
        elif name in TABLES:
            out.append(name)
        else:
            raise OutOfDomainError(
                f"unknown table {name!r}; allowed: all, {allowed(TABLES, limit=50)}"
            )
    return list(dict.fromkeys(out))
