"""Search metrics beside mean +- std: the relative improvement over random search (RI).

Yang et al., "NAS evaluation is frustratingly hard" (ICLR 2020), compare a method with
random sampling *in the same space and with the same budget*:

    RI = 100 x (acc_method - acc_random) / acc_random

A positive RI is the percentage by which the method beats random search. Here the random
baseline is the ``rs`` experiment of the same results database run with the same
evaluator settings and budget; its first ``n`` runs (seeds ``base_seed .. base_seed+n-1``)
are averaged, ``n`` being the number of runs of the method (same seed count).

Examples
--------
>>> round(relative_improvement(94.0, 93.5), 4)
0.5348
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError

__all__ = [
    "BASELINE_ALGO",
    "add_relative_improvement",
    "baseline_labels",
    "relative_improvement",
]

#: Searcher whose runs are the random baseline of RI.
BASELINE_ALGO = "rs"


def relative_improvement(acc_method: Any, acc_random: Any) -> Any:
    """``100 * (acc_method - acc_random) / acc_random`` (floats or arrays).

    Parameters
    ----------
    acc_method, acc_random : float or array-like
        Mean accuracy of the method and of random search (same space, same budget).

    Returns
    -------
    float or numpy.ndarray
        The relative improvement in percent.

    Raises
    ------
    OutOfDomainError
        When a random-search accuracy is zero (RI is undefined).

    Examples
    --------
    >>> relative_improvement(90.0, 90.0)
    0.0
    >>> relative_improvement([91.0, 89.1], 90.0).round(3).tolist()
    [1.111, -1.0]
    """
    m = np.asarray(acc_method, dtype=np.float64)
    r = np.asarray(acc_random, dtype=np.float64)
    if np.any(r == 0):
        raise OutOfDomainError("relative improvement is undefined for a random accuracy of 0")
    out = 100.0 * (m - r) / r
    return float(out) if out.ndim == 0 else out


def _key(config: Mapping[str, Any]) -> str:
    import json

    return json.dumps(
        {k: config.get(k) for k in ("evaluator", "budget", "base_seed")},
        sort_keys=True,
        default=str,
    )


def baseline_labels(configs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """For each experiment label, the label of its random-search baseline (if any).

    A baseline is an experiment whose searcher is ``rs`` with the same evaluator settings,
    budget and base seed. Experiments without one are left out.

    Parameters
    ----------
    configs : mapping
        Label -> stored configuration (:meth:`ResultsDB.config`).

    Examples
    --------
    >>> cfg = {"evaluator": {"p": 1}, "budget": {"queries": 100}, "base_seed": 0}
    >>> baseline_labels({"rea": {**cfg, "searcher": {"algo": "rea"}},
    ...                  "rs": {**cfg, "searcher": {"algo": "rs"}},
    ...                  "other": {**cfg, "budget": {"queries": 5}, "searcher": {"algo": "ls"}}})
    {'rea': 'rs', 'rs': 'rs'}
    """
    by_key: dict[str, str] = {}
    for label, cfg in configs.items():
        if cfg.get("searcher", {}).get("algo") == BASELINE_ALGO:
            by_key.setdefault(_key(cfg), label)
    return {
        label: by_key[_key(cfg)] for label, cfg in configs.items() if _key(cfg) in by_key
    }


def add_relative_improvement(
    summary: Any,
    frame: Any,
    baselines: Mapping[str, str],
    metrics: Sequence[str] = ("test_accuracy", "val_accuracy"),
) -> Any:
    """Add ``ri_<metric>`` columns (percent) to a :func:`summary_table` frame.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per ``algo`` with ``runs`` and ``<metric>_mean``.
    frame : pandas.DataFrame
        The runs (``algo``, ``run``, metrics) the summary came from.
    baselines : mapping
        ``algo`` -> random-search label (:func:`baseline_labels`).
    metrics : sequence of str
        Metrics to compare (those present).

    Returns
    -------
    pandas.DataFrame
        A copy with the columns added; NaN where no baseline (or not enough baseline runs)
        is available.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"algo": ["rs", "rs", "rea", "rea"], "run": [0, 1, 0, 1],
    ...                   "test_accuracy": [90.0, 92.0, 93.0, 93.0]})
    >>> s = pd.DataFrame({"algo": ["rs", "rea"], "runs": [2, 2],
    ...                   "test_accuracy_mean": [91.0, 93.0]})
    >>> add_relative_improvement(s, f, {"rea": "rs", "rs": "rs"})["ri_test_accuracy"].round(3).tolist()
    [0.0, 2.198]
    """
    out = summary.copy()
    for metric in metrics:
        if f"{metric}_mean" not in out.columns or metric not in frame.columns:
            continue
        values = []
        for _, row in out.iterrows():
            base = baselines.get(row["algo"])
            ri = float("nan")
            if base is not None:
                runs = frame[frame["algo"] == base].sort_values("run")
                n = int(row["runs"])
                if len(runs) >= n:
                    ri = relative_improvement(
                        float(row[f"{metric}_mean"]), float(runs[metric].iloc[:n].mean())
                    )
            values.append(ri)
        out[f"ri_{metric}"] = values
    return out
