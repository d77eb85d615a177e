"""The published numbers in ``benchmarks/published/`` parse and are traceable.

Every ``<paper>.csv`` has the fixed header, one record per published number, a source
note on every record, numbers that parse, ``confirmed`` in {yes, no}, unique keys
(table, space, setting, dataset, metric) and a table id that the README of that folder
documents. Only the standard library is used: the files are data, not code.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).resolve().parents[1] / "benchmarks" / "published"
HEADER = ["paper", "table", "space", "setting", "dataset", "metric", "mean", "std", "runs", "unit", "confirmed", "source"]
REQUIRED = ["paper", "table", "space", "setting", "dataset", "metric", "source"]
SPACES = {"nb201", "nb101", "nats-sss"}
DATASETS = {"cifar10", "cifar100", "imagenet16-120"}
UNITS = {"%", "1", "samples", "s"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
TABLE_ROW = re.compile(r"^\|\s*`([a-z0-9][a-z0-9-]*)`\s*\|")


def known_tables(readme: Path) -> set[str]:
    """Table ids documented in the README: rows of the form ``| `table-id` | ... |``."""
    return {m.group(1) for line in readme.read_text(encoding="utf-8").splitlines() if (m := TABLE_ROW.match(line))}


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def check_file(path: Path, tables: set[str]) -> list[str]:
    """Every problem of one published CSV, as readable messages (empty when it is valid)."""
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [f"{path.name}: not UTF-8 ({exc})"]
    rows = list(csv.reader(text.splitlines()))
    if not rows or rows[0] != HEADER:
        return [f"{path.name}: header must be exactly {','.join(HEADER)}; got {rows[0] if rows else 'nothing'}"]
    if len(rows) == 1:
        problems.append(f"{path.name}: no records")
    seen: dict[tuple[str, ...], int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        where = f"{path.name}:{lineno}"
        if len(row) != len(HEADER):
            problems.append(f"{where}: {len(row)} fields, expected {len(HEADER)}")
            continue
        rec = dict(zip(HEADER, row))
        for field in REQUIRED:
            if not rec[field].strip():
                problems.append(f"{where}: empty {field}")
        if rec["paper"] != path.stem:
            problems.append(f"{where}: paper {rec['paper']!r} does not match the file name {path.stem!r}")
        if rec["table"] not in tables:
            problems.append(f"{where}: table {rec['table']!r} is not documented in README.md")
        if rec["space"] not in SPACES:
            problems.append(f"{where}: space {rec['space']!r} not in {sorted(SPACES)}")
        if rec["dataset"] not in DATASETS:
            problems.append(f"{where}: dataset {rec['dataset']!r} not in {sorted(DATASETS)}")
        if not SNAKE.match(rec["metric"]):
            problems.append(f"{where}: metric {rec['metric']!r} is not snake_case")
        if not _is_float(rec["mean"]):
            problems.append(f"{where}: mean {rec['mean']!r} is not a number")
        if rec["std"] and not (_is_float(rec["std"]) and float(rec["std"]) >= 0):
            problems.append(f"{where}: std {rec['std']!r} is not a non-negative number")
        if rec["runs"] and not (rec["runs"].isdigit() and int(rec["runs"]) > 0):
            problems.append(f"{where}: runs {rec['runs']!r} is not a positive integer")
        if rec["unit"] and rec["unit"] not in UNITS:
            problems.append(f"{where}: unit {rec['unit']!r} not in {sorted(UNITS)}")
        if rec["confirmed"] not in {"yes", "no"}:
            problems.append(f"{where}: confirmed {rec['confirmed']!r} not in ['no', 'yes']")
        key = (rec["table"], rec["space"], rec["setting"], rec["dataset"], rec["metric"])
        if key in seen:
            problems.append(f"{where}: duplicate key {key} (first at line {seen[key]})")
        seen.setdefault(key, lineno)
    return problems


FILES = sorted(PUBLISHED.glob("*.csv"))


def test_there_are_published_files() -> None:
    assert (PUBLISHED / "README.md").is_file()
    assert {"nb201", "naswot"} <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_published_file_is_valid(path: Path) -> None:
    problems = check_file(path, known_tables(PUBLISHED / "README.md"))
    assert not problems, "\n".join(problems)


def test_every_documented_table_has_records() -> None:
    used = set()
    for path in FILES:
        with path.open(encoding="utf-8", newline="") as f:
            used |= {row["table"] for row in csv.DictReader(f)}
    documented = known_tables(PUBLISHED / "README.md")
    assert documented, "README.md documents no table ids"
    assert used <= documented


def test_search_table_keys_for_reproduce() -> None:
    """The keys `nbt reproduce` looks up exist (the NB201 and NASWOT CIFAR-10 search rows)."""
    with (PUBLISHED / "nb201.csv").open(encoding="utf-8", newline="") as f:
        keys = {(r["table"], r["setting"], r["dataset"], r["metric"]) for r in csv.DictReader(f)}
    assert ("nb201-search", "rs", "cifar10", "test_accuracy") in keys
    assert ("nb201-search", "reinforce", "cifar10", "test_accuracy") in keys
    with (PUBLISHED / "naswot.csv").open(encoding="utf-8", newline="") as f:
        keys = {(r["table"], r["setting"], r["dataset"], r["metric"]) for r in csv.DictReader(f)}
    for setting in ("naswot-n10", "naswot-n100", "naswot-n1000", "naswot-n10-v1"):
        assert ("naswot-nb201-search", setting, "cifar10", "test_accuracy") in keys
    assert ("naswot-nb201-search", "area", "cifar10", "val_accuracy") in keys


BROKEN = [
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,abc,0.36,500,%,no,src", "mean"),
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,0.36,500,%,maybe,src", "confirmed"),
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,0.36,500,%,no,", "empty source"),
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,-1,500,%,no,src", "std"),
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,0.36,5.5,%,no,src", "runs"),
    ("naswot,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,0.36,500,%,no,src", "file name"),
    ("nb201,no-such-table,nb201,rs,cifar10,test_accuracy,93.7,0.36,500,%,no,src", "not documented"),
    ("nb201,nb201-search,nb201,rs,cifar-10,test_accuracy,93.7,0.36,500,%,no,src", "dataset"),
    ("nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.7,0.36,500,%,no", "fields"),
]


@pytest.mark.parametrize(("row", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_check_file_rejects_a_broken_row(tmp_path: Path, row: str, message: str) -> None:
    good = "nb201,nb201-search,nb201,reinforce,cifar10,test_accuracy,93.85,0.37,500,%,no,src"
    path = tmp_path / "nb201.csv"
    path.write_text(",".join(HEADER) + "\n" + good + "\n" + row + "\n", encoding="utf-8")
    problems = check_file(path, {"nb201-search"})
    assert problems and all(":3:" in p for p in problems)
    assert any(message in p for p in problems), problems


def test_check_file_rejects_duplicates_and_bad_header(tmp_path: Path) -> None:
    good = "nb201,nb201-search,nb201,rs,cifar10,test_accuracy,93.70,0.36,500,%,no,src"
    path = tmp_path / "nb201.csv"
    path.write_text(",".join(HEADER) + "\n" + good + "\n" + good + "\n", encoding="utf-8")
    assert any("duplicate key" in p for p in check_file(path, {"nb201-search"}))
    path.write_text(",".join(HEADER[:-1]) + "\n" + good + "\n", encoding="utf-8")
    assert any("header" in p for p in check_file(path, {"nb201-search"}))
    path.write_text(",".join(HEADER) + "\n" + good + "\n", encoding="utf-8")
    assert check_file(path, {"nb201-search"}) == []
