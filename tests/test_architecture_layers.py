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


# --- no import circles --------------------------------------------------------------------
#
# Decision: an edge ``a -> b`` is any ``import`` of module ``b`` in module ``a`` that can run,
# at module level or inside a function or method. A lazy (function-level) import does not
# remove a circle, it only hides it until the function runs; both circles this test was
# written for (search.runner <-> search.vectorized, predictors.features <->
# predictors.registry) had one side imported lazily. Imports under ``if TYPE_CHECKING:``
# never run and are skipped. ``from pkg import name`` is an edge to ``pkg.name`` when that
# is a module of ours, else to ``pkg``; the implicit import of a parent package's
# ``__init__`` is not an edge (Python's package mechanism, not a dependency).

PACKAGES = ("nasbench_tools", "predictors")


def module_files(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``packages`` under ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of ``tree`` at any depth, except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``modules`` it imports (module- and function-level)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name in modules)
                continue
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    targets.add(f"{base}.{alias.name}")
                elif base in modules:
                    targets.add(base)
        targets.discard(name)
        graph[name] = targets
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        # iterative Tarjan: (node, iterator over its successors)
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return sorted(circles)


def test_no_import_circles() -> None:
    circles = import_circles(import_graph(module_files()))
    assert not circles, "import circles (module- or function-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in circles
    )


def test_circle_rule_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import X\n"
    )
    (pkg / "d.py").write_text("from . import c\n")
    graph = import_graph(module_files(tmp_path, ("pkg",)))
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == set() and graph["pkg.d"] == {"pkg.c"}
    assert import_circles(graph) == [["pkg.a", "pkg.b"]]


def test_moved_names_keep_their_old_import_paths() -> None:
    """Splits and circle breaks moved definitions; the old import paths still give them."""
    import nasbench_tools
    import nasbench_tools.store as store
    from nasbench_tools.search import budget, runner, spec
    from nasbench_tools.store import backend, benchmark, cells, metadata, report
    from nasbench_tools.store import budget as store_budget
    from predictors import entries, registry

    assert runner.Budget is budget.Budget and runner.SearcherSpec is spec.SearcherSpec
    assert registry.add_entry is entries.add_entry and registry.get_entry is entries.get_entry
    assert nasbench_tools.__version__ == nasbench_tools._version.__version__
    moved = {
        "Budget": store_budget, "TimeModel": store_budget, "DatasetInfo": report,
        "StoreInfo": report, "TableBackend": backend, "KNOWN_DATASETS": metadata,
        "CELL_KEY": cells, "CELL_BUILDERS": cells,
    }
    for name, home in moved.items():
        assert getattr(benchmark, name) is getattr(home, name), name
        assert name in benchmark.__all__, name
    for name in ("Benchmark", "Budget", "DatasetInfo", "StoreInfo", "TimeModel", "load_benchmark"):
        assert getattr(store, name) is getattr(benchmark, name), name
    # pickles name the class where it is defined: that must not move
    assert benchmark.Benchmark.__module__ == "nasbench_tools.store.benchmark"
