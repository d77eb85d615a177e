"""Reproduce the papers' tables (``nbt reproduce``): published numbers as data, runners,
verdicts and reports.

Examples
--------
>>> from nasbench_tools.reproduce import TABLES, compare, Ours, Published
>>> "nb201-search" in TABLES
True
>>> compare(Ours(93.72, 0.36, 500), Published(93.70, 0.36)).verdict
'reproduced'
"""

from __future__ import annotations

from nasbench_tools.reproduce.published import (
    PublishedRecord,
    default_published_dir,
    find,
    load_published,
    read_published_csv,
)
from nasbench_tools.reproduce.report import render, write_report
from nasbench_tools.reproduce.runner import Outcome, list_tables, run_table
from nasbench_tools.reproduce.tables import TABLES, Context, ReproTable, Row, TableResult
from nasbench_tools.reproduce.verdict import Comparison, Ours, Published, compare

__all__ = [
    "TABLES",
    "Comparison",
    "Context",
    "Ours",
    "Outcome",
    "Published",
    "PublishedRecord",
    "ReproTable",
    "Row",
    "TableResult",
    "compare",
    "default_published_dir",
    "find",
    "list_tables",
    "load_published",
    "read_published_csv",
    "render",
    "run_table",
    "write_report",
]
