"""Published numbers as data: the records of ``benchmarks/published/*.csv``.

Every CSV has the header ``paper,table,space,setting,dataset,metric,mean,std,runs,unit,
confirmed,source`` (one record per published number; ``std`` and ``runs`` may be empty,
``confirmed`` is ``yes`` or ``no``). The directory is ``<repo>/benchmarks/published``
beside the package, or ``$NBT_PUBLISHED``, or an explicit path.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "p.csv").write_text(
...     "paper,table,space,setting,dataset,metric,mean,std,runs,unit,confirmed,source\\n"
...     "NB201,nb201-search,nb201,rs,cifar10,test_accuracy,93.70,0.36,500,%,yes,Table 5\\n")
>>> recs = load_published(d)
>>> find(recs, "nb201-search", "rs", "cifar10", "test_accuracy").std
0.36
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nasbench_tools.errors import FormatError, OutOfDomainError

__all__ = [
    "COLUMNS",
    "ENV_VAR",
    "PublishedRecord",
    "default_published_dir",
    "find",
    "load_published",
    "read_published_csv",
]

#: Header every published CSV must have, in this order.
COLUMNS: tuple[str, ...] = (
    "paper", "table", "space", "setting", "dataset", "metric", "mean", "std", "runs", "unit",
    "confirmed", "source",
)

#: Environment variable overriding the published directory.
ENV_VAR = "NBT_PUBLISHED"


@dataclass(frozen=True)
class PublishedRecord:
    """One published number (see the module notes); ``std``/``runs`` are NaN/0 if unknown."""

    paper: str
    table: str
    space: str
    setting: str
    dataset: str
    metric: str
    mean: float
    std: float
    runs: int
    unit: str
    confirmed: bool
    source: str
    file: str = ""
    line: int = 0

    @property
    def has_std(self) -> bool:
        """Whether a standard deviation was published."""
        return not math.isnan(self.std)

    def describe(self) -> str:
        """``mean +- std`` as published."""
        return f"{self.mean:.4g} +- {self.std:.4g}" if self.has_std else f"{self.mean:.4g}"


def default_published_dir() -> Path:
    """``$NBT_PUBLISHED`` or ``<repo root>/benchmarks/published``.

    Examples
    --------
    >>> default_published_dir().name
    'published'
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "benchmarks" / "published"


def _float(text: str, what: str, where: str, *, empty_ok: bool) -> float:
    if text.strip() == "":
        if empty_ok:
            return float("nan")
        raise FormatError(f"{where}: column {what!r} is empty")
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}: column {what!r} is not a number: {text!r}") from None


def read_published_csv(path: str | Path) -> list[PublishedRecord]:
    """The records of one published CSV.

    Raises
    ------
    FormatError
        Naming the file and line: a wrong header, an empty required field, a number that
        does not parse, ``confirmed`` other than yes/no, or a missing source.
    """
    path = Path(path)
    out: list[PublishedRecord] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise FormatError(
                f"{path}:1: header must be {','.join(COLUMNS)}; got {','.join(header or [])}"
            )
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            where = f"{path}:{lineno}"
            if len(row) != len(COLUMNS):
                raise FormatError(f"{where}: {len(row)} fields, expected {len(COLUMNS)}")
            rec = dict(zip(COLUMNS, (c.strip() for c in row)))
            for key in ("paper", "table", "space", "setting", "dataset", "metric", "source"):
                if not rec[key]:
                    raise FormatError(f"{where}: column {key!r} is empty")
            if rec["confirmed"] not in ("yes", "no"):
                raise FormatError(
                    f"{where}: column 'confirmed' must be yes or no, got {rec['confirmed']!r}"
                )
            runs = _float(rec["runs"], "runs", where, empty_ok=True)
            out.append(PublishedRecord(
                paper=rec["paper"], table=rec["table"], space=rec["space"],
                setting=rec["setting"], dataset=rec["dataset"], metric=rec["metric"],
                mean=_float(rec["mean"], "mean", where, empty_ok=False),
                std=_float(rec["std"], "std", where, empty_ok=True),
                runs=0 if math.isnan(runs) else int(runs), unit=rec["unit"],
                confirmed=rec["confirmed"] == "yes", source=rec["source"], file=str(path),
                line=lineno,
            ))
    return out


def load_published(directory: str | Path | None = None) -> list[PublishedRecord]:
    """Every record of ``directory/*.csv`` (default :func:`default_published_dir`).

    A missing directory gives no records (every comparison is then "not comparable").

    Raises
    ------
    FormatError
        When a file does not parse (see :func:`read_published_csv`).
    """
    d = Path(directory) if directory is not None else default_published_dir()
    if not d.is_dir():
        return []
    out: list[PublishedRecord] = []
    for p in sorted(d.glob("*.csv")):
        out.extend(read_published_csv(p))
    return out


def find(
    records: Iterable[PublishedRecord],
    table: str,
    setting: str,
    dataset: str,
    metric: str,
    space: str | None = None,
) -> PublishedRecord | None:
    """The record of ``(table, setting, dataset, metric[, space])``; None when not published.

    Raises
    ------
    OutOfDomainError
        When two records match (the published data is ambiguous).
    """
    hits: Sequence[PublishedRecord] = [
        r for r in records
        if r.table == table and r.setting == setting and r.dataset == dataset
        and r.metric == metric and (space is None or r.space == space)
    ]
    if len(hits) > 1:
        where = ", ".join(f"{r.file}:{r.line}" for r in hits)
        raise OutOfDomainError(
            f"{len(hits)} published records for {table}/{setting}/{dataset}/{metric}: {where}"
        )
    return hits[0] if hits else None
