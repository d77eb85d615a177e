"""The floors of the house import downwards only (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# floor -> (package directory, forbidden import prefixes)
RULES: dict[str, tuple[Path, tuple[str, ...]]] = {
    "spaces": (
        ROOT / "nasbench_tools" / "spaces",
        (
            "torch",
            "h5py",
            "pandas",
            "xgboost",
            "nasbench_tools.store",
            "nasbench_tools.networks",
            "nasbench_tools.trainer",
            "nasbench_tools.search",
            "nasbench_tools.cli",
            "predictors",
        ),
    ),
    "store": (
        ROOT / "nasbench_tools" / "store",
        (
            "torch",
            "xgboost",
            "nasbench_tools.networks",
            "nasbench_tools.trainer",
            "nasbench_tools.search",
            "nasbench_tools.cli",
            "predictors",
        ),
    ),
    "networks": (
        ROOT / "nasbench_tools" / "networks",
        ("nasbench_tools.trainer", "nasbench_tools.search", "nasbench_tools.cli", "predictors"),
    ),
    "predictors": (
        ROOT / "predictors",
        ("nasbench_tools.search", "nasbench_tools.cli", "nasbench_tools.trainer"),
    ),
    "trainer": (
        ROOT / "nasbench_tools" / "trainer",
        ("nasbench_tools.search", "nasbench_tools.cli", "predictors"),
    ),
    "search": (ROOT / "nasbench_tools" / "search", ("nasbench_tools.cli", "nasbench_tools.reproduce")),
    "reproduce": (ROOT / "nasbench_tools" / "reproduce", ("nasbench_tools.cli",)),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module named by an import statement in ``path`` (absolute names only)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("floor", sorted(RULES))
def test_floor_imports_only_downwards(floor: str) -> None:
    directory, forbidden = RULES[floor]
    if not directory.is_dir():
        pytest.skip(f"{directory} does not exist yet")
    violations = []
    for path in sorted(directory.rglob("*.py")):
        for lineno, module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                violations.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    assert not violations, f"{floor} must not import upwards:\n" + "\n".join(violations)


def test_rule_detects_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom nasbench_tools.store import load_benchmark\n")
    names = [m for _, m in imported_modules(bad)]
    assert names == ["torch", "nasbench_tools.store"]
