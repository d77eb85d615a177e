"""Outputs of a reproduced table: ``table.md``, ``table.csv``, ``runs.csv``, PNGs, ``command.txt``.

``table.md`` is the markdown table printed by ``nbt reproduce`` (published mean +- std,
ours, the difference, the difference in published stds, RI against random search where the
table is a search table, the verdict and one sentence beside every verdict that is not
"reproduced"); ``table.csv`` has the same rows as data; ``runs.csv`` every run (or fit);
``command.txt`` the exact command, the package versions and the SHA-256 of every store and
file used.

Examples
--------
>>> fmt(93.7049, 0.36), fmt(float("nan"), float("nan"))
('93.70 ± 0.36', '')
"""

from __future__ import annotations

import hashlib
import math
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from nasbench_tools.io import atomic_path, atomic_write_text
from nasbench_tools.reproduce.tables import ReproTable, Row, TableResult

__all__ = ["PACKAGES", "fmt", "package_versions", "render", "sha256", "write_report"]

#: Packages whose versions go into ``command.txt``.
PACKAGES: tuple[str, ...] = (
    "nasbench-tools", "numpy", "pandas", "scipy", "scikit-learn", "xgboost", "torch", "h5py",
    "matplotlib", "optuna",
)


def fmt(mean: float, std: float, digits: int = 2) -> str:
    """``mean ± std`` (std left out when NaN; empty when mean is NaN)."""
    if math.isnan(mean):
        return ""
    if math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _digits(r: Row) -> int:
    return 3 if r.metric in ("kendall_tau", "spearman_rho", "spearman") else 2


def rows_frame(rows: Sequence[Row]) -> Any:
    """The rows as a ``pandas.DataFrame`` (the columns of ``table.csv``)."""
    import pandas as pd

    out = []
    for r in rows:
        p = r.published
        out.append({
            "group": r.group, "setting": r.setting, "dataset": r.dataset, "metric": r.metric,
            "published_mean": p.mean if p else math.nan,
            "published_std": p.std if p else math.nan,
            "published_runs": p.runs if p else 0,
            "published_confirmed": ("yes" if p.confirmed else "no") if p else "",
            "published_source": f"{p.paper}: {p.source}" if p else "",
            "ours_mean": r.ours.mean, "ours_std": r.ours.std, "ours_runs": r.ours.runs,
            "diff": r.comparison.diff, "diff_in_std": r.comparison.diff_in_std,
            "ri_percent": r.ri, "verdict": r.comparison.verdict,
            "reason": r.comparison.reason, "explanation": r.explain,
        })
    return pd.DataFrame(out)


def render(table: ReproTable, result: TableResult) -> str:
    """The markdown of one table (title, protocol, rows, notes)."""
    has_ri = any(not math.isnan(r.ri) for r in result.rows)
    head = ["budget / group", "setting", "dataset", "metric", "published", "ours", "diff",
            "diff / std"] + (["RI %"] if has_ri else []) + ["verdict", "why"]
    lines = [
        f"## {table.id}: {table.title}",
        "",
        f"Paper: {table.paper}.",
        "",
    ]
    if table.protocol:
        lines += [f"Protocol: {table.protocol}.", ""]
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for r in result.rows:
        d = _digits(r)
        p = r.published
        pub = fmt(p.mean, p.std, d) + ("" if p is None or p.confirmed else " (unconfirmed)") \
            if p else ""
        ours = fmt(r.ours.mean, r.ours.std, d)
        if ours and r.ours.runs > 1:
            ours += f" ({r.ours.runs})"
        diff = "" if math.isnan(r.comparison.diff) else f"{r.comparison.diff:+.{d}f}"
        ins = "" if math.isnan(r.comparison.diff_in_std) else f"{r.comparison.diff_in_std:+.2f}"
        cells = [r.group, r.setting, r.dataset, r.metric, pub, ours, diff, ins]
        if has_ri:
            cells.append("" if math.isnan(r.ri) else f"{r.ri:+.2f}")
        why = "" if r.comparison.verdict == "reproduced" else r.explain
        cells += [f"**{r.comparison.verdict}**" if r.comparison.verdict == "reproduced"
                  else r.comparison.verdict, why]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Ours: mean ± std (ddof=1) over runs (run count in brackets); diff / std = "
                 "(ours - published) / published std; RI = 100 (method - random) / random "
                 "with random search in the same space, budget and seeds (Yang et al. 2020).")
    for note in result.notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def sha256(path: str | Path) -> str:
    """SHA-256 of a file (hex).

    Examples
    --------
    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile(delete=False); _ = f.write(b"abc"); f.close()
    >>> sha256(f.name)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each package (``not installed`` otherwise).

    Examples
    --------
    >>> "numpy" in package_versions(["numpy"])
    True
    """
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = _module_version(name)
    return out


#: Distribution name -> import name, where they differ.
_MODULES = {"scikit-learn": "sklearn", "nasbench-tools": "nasbench_tools"}


def _module_version(name: str) -> str:
    """``__version__`` of the module (e.g. xgboost installed as ``xgboost-cpu``)."""
    import importlib

    try:
        module = importlib.import_module(_MODULES.get(name, name))
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "unknown version"))


def write_report(
    table: ReproTable,
    result: TableResult,
    out_dir: str | Path,
    *,
    command: str,
    inputs: Mapping[str, Path],
) -> dict[str, Path]:
    """Write the outputs of one table into ``out_dir`` (atomically); returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    atomic_write_text(out / "table.md", render(table, result))
    written["table"] = out / "table.md"
    with atomic_path(out / "table.csv") as tmp:
        rows_frame(result.rows).to_csv(tmp, index=False, float_format="%.6g")
    written["table_csv"] = out / "table.csv"
    with atomic_path(out / "runs.csv") as tmp:
        result.runs.to_csv(tmp, index=False, float_format="%.6g")
    written["runs"] = out / "runs.csv"
    lines = [command, "", f"python {platform.python_version()} on {platform.platform()}"]
    lines += [f"{k} {v}" for k, v in package_versions().items()]
    lines.append("")
    for key, path in inputs.items():
        lines.append(f"{key}: {path} sha256={sha256(path)}")
    atomic_write_text(out / "command.txt", "\n".join(lines) + "\n")
    written["command"] = out / "command.txt"
    for i, p in enumerate(result.pictures):
        written[f"picture{i}"] = p
    return written
