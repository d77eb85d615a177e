"""Run one reproduced table end to end: resolve its data, run it, write its outputs.

Examples
--------
>>> lines = list_tables([])
>>> any(line.startswith("nb201-search ") for line in lines)
True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nasbench_tools.reproduce.published import PublishedRecord
from nasbench_tools.reproduce.report import render, write_report
from nasbench_tools.reproduce.tables import (
    TABLES,
    Context,
    ReproTable,
    TableResult,
    default_shared_dir,
    known_stores,
    resolve,
)

__all__ = ["Outcome", "list_tables", "run_table"]

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What :func:`run_table` did: the markdown, the result (None when data is missing)."""

    table: ReproTable
    markdown: str
    result: TableResult | None
    missing: list[str]
    out_dir: Path | None


def list_tables(stores: Sequence[str | Path], shared: Path | None = None) -> list[str]:
    """One block of lines per table: id, paper, needs and whether the stores have them."""
    shared = shared or default_shared_dir()
    candidates = known_stores(stores)
    lines = []
    for t in TABLES.values():
        found_s, found_f, missing = resolve(t, candidates, shared)
        state = "data missing" if missing else "runnable"
        lines.append(f"{t.id}  [{state}]  {t.paper}: {t.title}")
        for need in t.needs:
            where = found_s.get(need.key) or found_f.get(need.key)
            lines.append(f"    needs {need.describe()}: " + (f"found {where}" if where else "MISSING"))
        for m in missing:
            lines.append(f"    missing: {m}")
    return lines


def run_table(
    table_id: str,
    *,
    stores: Sequence[str | Path],
    output: str | Path,
    published: Sequence[PublishedRecord],
    runs: int | None = None,
    shared: Path | None = None,
    progress: bool = True,
    command: str = "",
) -> Outcome:
    """Run table ``table_id`` into ``output/table_id`` (resumable) and write its outputs.

    Returns an :class:`Outcome` whose ``markdown`` says what data is missing when the table
    cannot run.
    """
    table = TABLES[table_id]
    shared = shared or default_shared_dir()
    found_s, found_f, missing = resolve(table, known_stores(stores), shared)
    if missing:
        text = f"## {table.id}: {table.title}\n\nPaper: {table.paper}.\n\nNot run: " + \
            "; ".join(missing) + "\n"
        return Outcome(table, text, None, list(missing), None)
    out = Path(output) / table.id
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(found_s, found_f, out, runs or table.default_runs, published, progress)
    result = table.runner(table, ctx)
    inputs = {**{f"store {k}": v for k, v in found_s.items()},
              **{f"file {k}": v for k, v in found_f.items()}}
    write_report(table, result, out, command=command, inputs=inputs)
    return Outcome(table, render(table, result), result, [], out)
