"""Evaluation harness: train predictors on random cells, rank all the others, report metrics.

Protocol (one row of the result per predictor, feature set, training-set size and seed):

1. Rows with a finite target form the pool. For each ``(seed, train_size)`` the training
   cells are drawn uniformly without replacement from the pool with
   ``numpy.random.default_rng([seed, train_size])``; every predictor sees the same draw.
2. A trained predictor (random_state = seed) is fitted on the encoding of those cells and
   predicts **all other** cells of the pool; metrics compare its predictions with the true
   targets of those cells.
3. Training-free entries (``"column"`` and ``"scorer"`` kinds of
   :mod:`predictors.registry`) get ``train_size = 0`` and rank the whole pool (scorers, which
   build networks, rank a random subset of ``max_scorer_cells`` cells drawn with the seed).
   ``"column:<name>"`` ranks by any extra column ``<name>`` (registered on first use).

Metrics: :mod:`predictors.metrics` (Kendall tau, Spearman, Pearson, precision@k, top-k
overlap, N@k, regret@k), with wall-clock ``fit_seconds`` and ``predict_seconds``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.integers(0, 2, size=(300, 8)).astype(float)
>>> data = EvalData(cells=list(range(300)), targets=X @ np.arange(8.0),
...                 features={"bits": X}, extras={"noise": rng.normal(size=300)})
>>> df = evaluate(data, predictors=["gbdt"], feature_sets=["bits"], train_sizes=[50],
...               seeds=2, k=10, progress=False)
>>> df[["predictor", "features", "train_size", "seed"]].values.tolist()
[['gbdt', 'bits', 50, 0], ['gbdt', 'bits', 50, 1]]
>>> bool(df["kendall_tau"].min() > 0.5)
True
"""

from __future__ import annotations

import logging
import sys
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.features import FEATURE_SETS, get_feature_set, known_columns, resolve_extra
from predictors.metrics import all_metrics
from predictors.registry import (
    PREDICTORS,
    PredictorSpec,
    get_predictor,
    register_predictor,
    zerocost_scorers,
)

__all__ = [
    "COLUMN_PREFIX",
    "RESULT_COLUMNS",
    "EvalData",
    "EvaluationReport",
    "Run",
    "evaluate",
    "plan_runs",
    "run_evaluation",
    "summarize",
    "to_markdown",
    "write_report",
]

log = logging.getLogger(__name__)

#: Predictor names ``"column:<name>"`` rank by the extra column ``<name>`` (training-free).
COLUMN_PREFIX = "column:"

#: Columns of the result table, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "predictor",
    "kind",
    "features",
    "train_size",
    "seed",
    "n_test",
    "k",
    "kendall_tau",
    "spearman",
    "pearson",
    "precision_at_k",
    "top_k_overlap",
    "n_at_k",
    "regret_at_k",
    "fit_seconds",
    "predict_seconds",
)


@dataclass
class EvalData:
    """Cells, their targets and where their features come from.

    Parameters
    ----------
    cells : sequence
        Cell objects (or any ids when every feature set is given in ``features``).
    targets : ndarray, shape (n,)
        NaN where a cell has no target (it is then never used).
    features : mapping of str to ndarray, optional
        Precomputed ``X`` (n, d) per feature-set name; other names are built through
        :data:`predictors.features.FEATURE_SETS`.
    extras : mapping of str to ndarray, optional
        Extra per-cell columns (aligned with ``cells``).
    space : SearchSpace, optional
        Needed to build encodings.
    bench : Benchmark, optional
        Source of stored features and costs.
    dataset : str, optional
        Dataset of stored features / analytic costs.
    target_name : str
        Shown in plots and summaries.
    """

    cells: Sequence[Any]
    targets: np.ndarray
    features: Mapping[str, np.ndarray] = field(default_factory=dict)
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)
    space: Any = None
    bench: Any = None
    dataset: str | None = None
    target_name: str = "target"

    def __post_init__(self) -> None:
        self.targets = np.asarray(self.targets, dtype=np.float64).ravel()
        if self.targets.shape != (len(self.cells),):
            raise OutOfDomainError(
                f"targets has {self.targets.size} values for {len(self.cells)} cells"
            )
        self._cache: dict[str, tuple[np.ndarray, tuple[int, ...] | None]] = {}
        self._encodings: dict[str, np.ndarray] = {}
        self._blocks: dict[str, np.ndarray] = {}

    @classmethod
    def from_benchmark(
        cls,
        bench: Any,
        *,
        metric: str = "val_accuracy",
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        extras: Mapping[str, np.ndarray] | None = None,
    ) -> EvalData:
        """All cells of a store with the target ``bench.column(metric, dataset, epoch, seed)``.

        ``extras`` are extra columns aligned with the store rows (``bench.keys``), e.g.
        from :func:`predictors.features_from.load_features_from`.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
        >>> ds = DatasetTable("cifar10", (0,), ((200, 200),), ("val_accuracy",),
        ...                   np.array([[[[90.0]]], [[[80.0]]]]))
        >>> keys = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        ...         "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
        >>> b = Benchmark.from_table(TableData("nb201", keys, np.array([0, 1]), {"cifar10": ds}))
        >>> EvalData.from_benchmark(b, epoch=200).targets.tolist()
        [90.0, 80.0]
        """
        from nasbench_tools.spaces import get_space

        y = np.asarray(bench.column(metric, dataset, epoch, seed), dtype=np.float64)
        space = get_space(bench.space)
        cells = [space.parse(k) for k in bench.keys]
        name = f"{metric} ({dataset or 'default dataset'}, epoch {epoch or 'last'})"
        return cls(
            cells,
            y,
            extras=dict(extras or {}),
            space=space,
            bench=bench,
            dataset=dataset,
            target_name=name,
        )

    def column_names(self) -> tuple[str, ...]:
        """Extra columns this data can resolve by name (besides analytic and ``zc:`` ones).

        The keys of ``extras``, then the features and costs of every dataset of ``bench``.

        Examples
        --------
        >>> EvalData([0, 1], [1.0, 2.0], extras={"mine": [3.0, 4.0]}).column_names()
        ('mine',)
        """
        names = list(self.extras)
        if self.bench is not None:
            for ds in getattr(self.bench, "datasets", ()):
                for getter in ("features", "costs"):
                    fn = getattr(self.bench, getter, None)
                    if callable(fn):
                        names.extend(fn(ds))
        return tuple(dict.fromkeys(names))

    def matrix(self, name: str) -> tuple[np.ndarray, tuple[int, ...] | None]:
        """``X`` of feature set ``name`` for all cells, and its per-cell tensor shape."""
        if name in self.features:
            X = np.asarray(self.features[name], dtype=np.float64)
            if X.shape[0] != len(self.cells):
                raise OutOfDomainError(
                    f"features[{name!r}] has {X.shape[0]} rows for {len(self.cells)} cells"
                )
            return X.reshape(len(self.cells), -1), (tuple(X.shape[1:]) if X.ndim > 2 else None)
        if name not in self._cache:
            fs = get_feature_set(name, columns=self.column_names())
            enc = None
            shape = None
            if fs.encoding is not None:
                if fs.encoding not in self._encodings:
                    self._encodings[fs.encoding] = fs.encode(self.cells, self.space)
                enc = self._encodings[fs.encoding]
                if enc.ndim > 2 and not fs.extras and not fs.blocks:
                    shape = tuple(int(d) for d in enc.shape[1:])
            X = fs.build(
                self.cells,
                space=self.space,
                extras=self.extras,
                bench=self.bench,
                dataset=self.dataset,
                encoded=enc,
                block_cache=self._blocks,
            )
            self._cache[name] = (X, shape)
        return self._cache[name]

    def column(self, name: str) -> np.ndarray:
        """One extra column for all cells (NaN kept)."""
        return resolve_extra(
            name,
            self.cells,
            extras=self.extras,
            bench=self.bench,
            dataset=self.dataset,
            space=self.space,
        )


@dataclass(frozen=True)
class Run:
    """One (predictor, feature set) pair of the plan."""

    spec: PredictorSpec
    features: str


@dataclass
class EvaluationReport:
    """Result table plus the predictions of the first seed (for scatter plots)."""

    table: pd.DataFrame
    predictions: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]]
    target_name: str = "target"


def _names(values: Sequence[str] | str | None, registry: Mapping[str, Any]) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
    if list(values) == ["all"]:
        return list(registry)
    return list(values)


def _column_predictor(name: str, columns: Sequence[str] | None) -> None:
    """Register ``"column:<col>"`` on first use (a training-free ranking by ``<col>``)."""
    if not name.startswith(COLUMN_PREFIX) or name in PREDICTORS:
        return
    col = name[len(COLUMN_PREFIX) :]
    cols = known_columns(columns or ())
    if col not in cols:
        raise OutOfDomainError(
            f"predictor {name!r}: no extra column {col!r}; allowed columns: "
            f"{allowed(cols, limit=40)}"
        )
    register_predictor(
        PredictorSpec(name, "column", column=col, description=f"rank by column {col!r}")
    )


def plan_runs(
    predictors: Sequence[str] | str,
    feature_sets: Sequence[str] | str | None = None,
    *,
    available: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> list[Run]:
    """Pair each predictor with the feature sets it accepts.

    A trained predictor runs on every requested feature set it accepts, or on its
    ``default_features`` if none is accepted (or none was requested). Training-free
    entries run once. ``"all"`` means every registered predictor / feature set;
    ``available`` adds feature-set names precomputed by the caller. Feature-set names that
    are not registered are composed from their ``+``-joined parts
    (:func:`predictors.features.compose_feature_set`), and ``"column:<name>"`` predictors
    are registered on first use; ``columns`` are the extra column names both may use
    besides :func:`predictors.features.known_columns`.

    Examples
    --------
    >>> [(r.spec.name, r.features) for r in plan_runs("gbdt,renas,naswot", "onehot,renas")]
    [('gbdt', 'onehot'), ('renas', 'renas'), ('naswot', 'naswot_score')]
    >>> [(r.spec.name, r.features) for r in plan_runs(
    ...     "rf,column:zc_naswot", "onehot+zc_naswot+params", columns=["zc_naswot"])]
    [('rf', 'onehot+zc_naswot+params'), ('column:zc_naswot', 'zc_naswot')]
    """
    zerocost_scorers()
    pred_names = _names(predictors, PREDICTORS) or []
    if _names(predictors, PREDICTORS) == list(PREDICTORS):
        # "all" skips the (slow, network-building) zero-cost scorers; name them to run them.
        pred_names = [p for p in pred_names if PREDICTORS[p].kind != "scorer"]
    if feature_sets is None and _names(predictors, PREDICTORS) == list(PREDICTORS):
        feature_sets = "all"  # "--predictors all" alone: every predictor on every feature set
    fs_names = _names(feature_sets, {**FEATURE_SETS, **dict.fromkeys(available)})
    for f in fs_names or []:
        if f not in available:
            get_feature_set(f, columns=columns or ())  # composes, or raises with the allowed
    runs: list[Run] = []
    for name in pred_names:
        _column_predictor(name, columns)
        spec = get_predictor(name)
        if spec.kind == "column":
            runs.append(Run(spec, str(spec.column)))
            continue
        if spec.kind == "scorer":
            runs.append(Run(spec, "-"))
            continue
        chosen = [f for f in fs_names or [] if f in available or spec.accepts(f)]
        if spec.features is not None:
            chosen = [f for f in chosen if f in spec.features]
        runs.extend(Run(spec, f) for f in (chosen or [spec.default_features]))
    return runs


def _seeds(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise OutOfDomainError(f"seeds must be >= 1 (a count) or a list of ints; got {seeds}")
        return list(range(int(seeds)))
    return [int(s) for s in seeds]


def _row(
    run: Run,
    size: int,
    seed: int,
    y: np.ndarray,
    p: np.ndarray,
    k: int,
    fit_s: float,
    pred_s: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "predictor": run.spec.name,
        "kind": run.spec.kind,
        "features": run.features,
        "train_size": int(size),
        "seed": int(seed),
        "n_test": int(y.size),
        "k": int(min(k, y.size)),
    }
    row.update(all_metrics(y, p, k))
    row["fit_seconds"] = fit_s
    row["predict_seconds"] = pred_s
    return row


Outcome = tuple[np.ndarray, np.ndarray, float, float]


def _run_trained(
    data: EvalData,
    run: Run,
    size: int,
    seed: int,
    pool: np.ndarray,
    *,
    n_jobs: int,
    max_scorer_cells: int,
) -> Outcome:
    """Fit on ``size`` random pool cells, predict all other pool cells."""
    X, shape = data.matrix(run.features)
    rng = np.random.default_rng([seed, size])
    train = np.sort(rng.choice(pool, size=size, replace=False))
    test = np.setdiff1d(pool, train, assume_unique=True)
    model = run.spec.build(random_state=seed, n_jobs=n_jobs)
    params = model.get_params()
    if shape is not None and "input_shape" in params:
        model.set_params(input_shape=shape)
    if "pretrain_pool" in params and params["pretrain_pool"] is None and (
        params.get("pretrain", True) is not None
    ):
        # free statistics of every pool cell (features only, no target): FBNetV3 pretraining
        model.set_params(pretrain_pool=X[pool])
    t0 = time.perf_counter()
    model.fit(X[train], data.targets[train])
    t1 = time.perf_counter()
    pred = np.asarray(model.predict(X[test]), dtype=np.float64)
    return test, pred, t1 - t0, time.perf_counter() - t1


def _fill_missing(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    fill = values[finite].min() if finite.any() else 0.0
    return np.where(finite, values, fill)


def _run_column(
    data: EvalData,
    run: Run,
    size: int,
    seed: int,
    pool: np.ndarray,
    *,
    n_jobs: int,
    max_scorer_cells: int,
) -> Outcome:
    """Rank the whole pool by one extra column (missing values last)."""
    t0 = time.perf_counter()
    pred = run.spec.sign * _fill_missing(data.column(str(run.spec.column))[pool])
    return pool, pred, 0.0, time.perf_counter() - t0


def _run_scorer(
    data: EvalData,
    run: Run,
    size: int,
    seed: int,
    pool: np.ndarray,
    *,
    n_jobs: int,
    max_scorer_cells: int,
) -> Outcome:
    """Score a random subset of the pool with a zero-cost scorer (NaN scores ranked last)."""
    rng = np.random.default_rng([seed, 0])
    test = np.sort(rng.choice(pool, size=min(int(max_scorer_cells), pool.size), replace=False))
    scorer = run.spec.build()
    t0 = time.perf_counter()
    pred = np.asarray(scorer.score([data.cells[i] for i in test]), dtype=np.float64)
    return test, _fill_missing(pred), 0.0, time.perf_counter() - t0


#: Predictor kind -> how one (run, train size, seed) job is executed.
_RUNNERS = {"trained": _run_trained, "column": _run_column, "scorer": _run_scorer}


def run_evaluation(
    data: EvalData | Any,
    *,
    predictors: Sequence[str] | str = ("gbdt",),
    feature_sets: Sequence[str] | str | None = None,
    train_sizes: Sequence[int] = (100, 400, 1000),
    seeds: int | Sequence[int] = 5,
    k: int = 100,
    metric: str = "val_accuracy",
    dataset: str | None = None,
    epoch: int | None = None,
    n_jobs: int = 1,
    max_scorer_cells: int = 1000,
    progress: bool = True,
) -> EvaluationReport:
    """Like :func:`evaluate`, but also return the first seed's predictions.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(60, 3))
    >>> rep = run_evaluation(EvalData(list(range(60)), X[:, 0], features={"f": X}),
    ...                      predictors="rf", feature_sets="f", train_sizes=[20], seeds=1,
    ...                      k=5, progress=False)
    >>> sorted(rep.predictions)
    [('rf', 'f', 20)]
    """
    from tqdm.auto import tqdm

    if not isinstance(data, EvalData):
        data = EvalData.from_benchmark(data, metric=metric, dataset=dataset, epoch=epoch)
    runs = plan_runs(
        predictors, feature_sets, available=list(data.features), columns=data.column_names()
    )
    seed_list = _seeds(seeds)
    pool = np.flatnonzero(np.isfinite(data.targets))
    sizes = sorted({int(s) for s in train_sizes})
    trained = any(r.spec.kind == "trained" for r in runs)
    for s in sizes if trained else []:
        if not 1 <= s <= pool.size - 2:
            raise OutOfDomainError(
                f"train size {s} impossible with {pool.size} cells that have a target; "
                f"allowed: 1 .. {pool.size - 2}"
            )
    jobs: list[tuple[Run, int, int]] = []
    for run in runs:
        for seed in seed_list:
            if run.spec.kind == "trained":
                jobs.extend((run, size, seed) for size in sizes)
            else:
                jobs.append((run, 0, seed))
    rows: list[dict[str, Any]] = []
    predictions: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}
    y_all = data.targets
    bar = tqdm(jobs, desc="eval-predictor", unit="fit", disable=not progress)
    for run, size, seed in bar:
        bar.set_postfix_str(f"{run.spec.name}/{run.features}/{size}/{seed}", refresh=False)
        test, pred, fit_s, pred_s = _RUNNERS[run.spec.kind](
            data, run, size, seed, pool, n_jobs=n_jobs, max_scorer_cells=max_scorer_cells
        )
        y_test = y_all[test]
        rows.append(_row(run, size, seed, y_test, pred, k, fit_s, pred_s))
        if seed == seed_list[0]:
            predictions[(run.spec.name, run.features, size)] = (y_test, pred)
        log.info(
            "%s/%s n=%d seed=%d tau=%.3f",
            run.spec.name,
            run.features,
            size,
            seed,
            rows[-1]["kendall_tau"],
        )
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return EvaluationReport(table, predictions, data.target_name)


def evaluate(
    data: EvalData | Any,
    *,
    predictors: Sequence[str] | str = ("gbdt",),
    feature_sets: Sequence[str] | str | None = None,
    train_sizes: Sequence[int] = (100, 400, 1000),
    seeds: int | Sequence[int] = 5,
    k: int = 100,
    metric: str = "val_accuracy",
    dataset: str | None = None,
    epoch: int | None = None,
    n_jobs: int = 1,
    max_scorer_cells: int = 1000,
    progress: bool = True,
) -> pd.DataFrame:
    """Evaluate predictors on a benchmark (or :class:`EvalData`); one row per fit.

    Parameters
    ----------
    data : Benchmark or EvalData
        A benchmark (the target is ``bench.column(metric, dataset, epoch)``) or cells,
        targets and features you assembled.
    predictors : str or sequence of str
        Names in :data:`predictors.registry.PREDICTORS` (a comma-separated string works;
        ``"all"`` = every registered one except the network-building zero-cost scorers),
        or ``"column:<name>"`` to rank by any extra column (training-free).
    feature_sets : str or sequence of str, optional
        Names in :data:`predictors.features.FEATURE_SETS`, names composed of ``+``-joined
        parts (:func:`predictors.features.compose_feature_set`, e.g.
        ``"onehot+graph+zc_naswot+cost"`` with a ``zc_naswot`` extra column) or keys of
        ``data.features``; ``"all"`` = every registered one; ``None`` = each predictor's
        default.
    train_sizes : sequence of int
        Training-set sizes for trained predictors.
    seeds : int or sequence of int
        A count (seeds ``0 .. seeds-1``) or the seeds.
    k : int
        ``k`` of precision@k, top-k overlap, N@k, regret@k.
    metric, dataset, epoch : target spec when ``data`` is a benchmark.
    n_jobs : int
        Threads per model (XGBoost, random forest, torch).
    max_scorer_cells : int
        Cells ranked by a zero-cost scorer per seed.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> data = EvalData(list(range(200)), X[:, 0], features={"x": X}, extras={"c": X[:, 0]})
    >>> from predictors.registry import PredictorSpec, register_predictor
    >>> _ = register_predictor(PredictorSpec("doc-c", "column", column="c"), replace=True)
    >>> df = evaluate(data, predictors="doc-c", train_sizes=[10], seeds=1, k=10, progress=False)
    >>> float(df.loc[0, "kendall_tau"]), int(df.loc[0, "train_size"])
    (1.0, 0)
    """
    return run_evaluation(
        data,
        predictors=predictors,
        feature_sets=feature_sets,
        train_sizes=train_sizes,
        seeds=seeds,
        k=k,
        metric=metric,
        dataset=dataset,
        epoch=epoch,
        n_jobs=n_jobs,
        max_scorer_cells=max_scorer_cells,
        progress=progress,
    ).table


def summarize(table: pd.DataFrame, metric: str = "kendall_tau") -> pd.DataFrame:
    """Mean and standard deviation of ``metric`` over seeds; one row per predictor/features.

    Returns a frame indexed by ``(predictor, features)`` with one ``"mean ± std"`` string
    column per training size, best mean first.

    Examples
    --------
    >>> t = pd.DataFrame({"predictor": ["a", "a"], "features": ["f", "f"], "train_size": [5, 5],
    ...                   "seed": [0, 1], "kendall_tau": [0.5, 0.7]})
    >>> summarize(t).iloc[0, 0]
    '0.600 ± 0.141'
    """
    if metric not in table.columns:
        raise OutOfDomainError(
            f"unknown metric column {metric!r}; allowed: {allowed(table.columns)}"
        )
    g = table.groupby(["predictor", "features", "train_size"])[metric]
    mean, std = g.mean().unstack("train_size"), g.std().fillna(0.0).unstack("train_size")
    order = mean.max(axis=1).sort_values(ascending=False).index
    out = pd.DataFrame(index=order)
    for size in mean.columns:
        out[str(size)] = [
            ""
            if np.isnan(mean.loc[i, size])
            else f"{mean.loc[i, size]:.3f} ± {std.loc[i, size]:.3f}"
            for i in order
        ]
    return out


def to_markdown(frame: pd.DataFrame, *, index: bool = True) -> str:
    """A GitHub markdown table of ``frame`` (no extra dependency).

    Examples
    --------
    >>> print(to_markdown(pd.DataFrame({"a": [1]}), index=False))
    | a |
    | --- |
    | 1 |
    """
    cols = (
        [" / ".join(map(str, frame.index.names)) if frame.index.names[0] else ""] if index else []
    ) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for idx, row in frame.iterrows():
        cells = [" / ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)] if index else []
        cells += [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    report: EvaluationReport, out_dir: str | Path, *, command: str | None = None
) -> list[Path]:
    """Write ``results.csv``, ``summary.md``, the plots and ``command.txt`` atomically.

    Returns the written paths.

    Examples
    --------
    >>> import tempfile
    >>> X = np.random.default_rng(1).normal(size=(60, 3))
    >>> rep = run_evaluation(EvalData(list(range(60)), X[:, 0], features={"f": X}),
    ...                      predictors="gbdt", feature_sets="f", train_sizes=[20], seeds=1,
    ...                      k=5, progress=False)
    >>> sorted(p.name for p in write_report(rep, tempfile.mkdtemp(), command="demo"))
    ['command.txt', 'results.csv', 'scatter.png', 'summary.md', 'tau_vs_train_size.png']
    """
    from nasbench_tools.io import atomic_path, atomic_write_text
    from predictors.plots import plot_scatter, plot_tau_vs_train_size

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with atomic_path(out / "results.csv") as tmp:
        report.table.to_csv(tmp, index=False, float_format="%.6g")
    written.append(out / "results.csv")
    table = report.table
    parts = [f"# Predictor evaluation: {report.target_name}\n"]
    if command:
        parts.append(f"Command: `{command}`\n")
    n_seeds = table["seed"].nunique() if len(table) else 0
    parts.append(f"Mean ± std over {n_seeds} seed(s); train_size 0 = training-free.\n")
    for metric in ("kendall_tau", "spearman", "precision_at_k"):
        if len(table):
            parts.append(f"## {metric}\n\n" + to_markdown(summarize(table, metric)) + "\n")
    if len(table):
        timing = table.groupby(["predictor", "features", "train_size"])[
            ["fit_seconds", "predict_seconds"]
        ].mean()
        parts.append(
            "## mean seconds per fit / prediction of all test cells\n\n"
            + to_markdown(timing)
            + "\n"
        )
    atomic_write_text(out / "summary.md", "\n".join(parts))
    written.append(out / "summary.md")
    written.append(
        plot_scatter(report.predictions, out / "scatter.png", target_name=report.target_name)
    )
    written.append(plot_tau_vs_train_size(table, out / "tau_vs_train_size.png"))
    if command is not None:
        atomic_write_text(out / "command.txt", command.rstrip("\n") + "\n")
        written.append(out / "command.txt")
    return written


class _CallableModule(types.ModuleType):
    """Lets ``predictors.evaluate(...)`` call :func:`evaluate` while staying a module."""

    def __call__(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
