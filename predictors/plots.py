"""Plots of the evaluation harness (matplotlib, Agg backend, written atomically).

Examples
--------
>>> import tempfile, pathlib, numpy as np, pandas as pd
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> y = np.arange(10.0)
>>> plot_scatter({("gbdt", "onehot", 5): (y, y + 1)}, d / "s.png").name
's.png'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.plotting import pyplot, save_png
from predictors.metrics import kendall_tau

__all__ = ["plot_scatter", "plot_tau_vs_train_size"]


def plot_scatter(
    predictions: Mapping[tuple[str, str, int], tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    target_name: str = "target",
    max_points: int = 4000,
) -> Path:
    """Predicted versus true, one panel per (predictor, features) at its largest train size.

    Parameters
    ----------
    predictions : mapping
        ``(predictor, features, train_size) -> (y_true, y_pred)`` (one seed).
    path : path-like
        PNG to write.
    max_points : int
        Points drawn per panel (an evenly spaced subset; tau uses all).

    Returns
    -------
    pathlib.Path
    """
    plt = pyplot()
    largest: dict[tuple[str, str], int] = {}
    for name, feats, size in predictions:
        largest[(name, feats)] = max(size, largest.get((name, feats), -1))
    keys = sorted(largest)
    n = max(len(keys), 1)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel()[len(keys) :]:
        ax.set_visible(False)
    for ax, (name, feats) in zip(axes.ravel(), keys):
        size = largest[(name, feats)]
        y, p = predictions[(name, feats, size)]
        step = max(1, y.size // max_points)
        ax.scatter(y[::step], p[::step], s=3, alpha=0.35, linewidths=0)
        ax.set_title(f"{name} / {feats} / n={size}\ntau={kendall_tau(y, p):.3f}", fontsize=8)
        ax.set_xlabel(f"true {target_name}", fontsize=7)
        ax.set_ylabel("predicted", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return save_png(fig, path)


def plot_tau_vs_train_size(
    table: pd.DataFrame, path: str | Path, *, metric: str = "kendall_tau"
) -> Path:
    """Mean ``metric`` (error bar: std over seeds) against training size, log x axis.

    Training-free entries (train_size 0) are drawn as horizontal dashed lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> t = pd.DataFrame({"predictor": ["a"] * 2, "features": ["f"] * 2, "train_size": [10, 20],
    ...                   "seed": [0, 0], "kendall_tau": [0.3, 0.5]})
    >>> plot_tau_vs_train_size(t, pathlib.Path(tempfile.mkdtemp()) / "t.png").suffix
    '.png'
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10.0, 5.2))
    g = (
        table.groupby(["predictor", "features", "train_size"])[metric]
        .agg(["mean", "std"])
        .reset_index()
    )
    groups = list(g.groupby(["predictor", "features"]))
    colors = plt.get_cmap("tab20")
    markers = "osD^v<>pPX*h"
    for i, ((name, feats), part) in enumerate(groups):
        part = part.sort_values("train_size")
        label = f"{name} / {feats}"
        color = colors(i % 20)
        if (part["train_size"] == 0).all():
            ax.axhline(
                float(part["mean"].iloc[0]),
                ls="--",
                lw=1,
                color=color,
                label=label + " (training-free)",
            )
        else:
            ax.errorbar(
                part["train_size"],
                part["mean"],
                yerr=part["std"].fillna(0.0),
                marker=markers[i % len(markers)],
                ms=4,
                capsize=2,
                lw=1,
                color=color,
                label=label,
            )
    if (g["train_size"] > 0).any():
        ax.set_xscale("log")
    ax.set_xlabel("training cells")
    ax.set_ylabel(f"{metric} (mean over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return save_png(fig, path)
