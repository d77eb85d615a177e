"""``nbt`` start-up stays cheap: building the parser imports no heavy dependency.

Every ``cmd_*.py`` module is imported to build the parser, so whatever such a module (or its
``register``) imports at module level is paid by ``nbt --help`` and ``nbt info``. Heavy
libraries belong inside the ``run`` functions. Each check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import nasbench_tools.cli as cli_pkg

HEAVY = ("torch", "xgboost", "matplotlib")

#: Known offenders (module owned elsewhere) -> heavy modules they still import while the
#: parser is built. Delete an entry once its module imports them inside ``run`` only.
KNOWN: dict[str, set[str]] = {}

COMMANDS = sorted(m.name for m in pkgutil.iter_modules(cli_pkg.__path__) if m.name.startswith("cmd_"))


def _heavy_imported(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; the modules of HEAVY it leaves in sys.modules."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([k for k in {HEAVY!r} if k in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_build_parser_imports_no_heavy_dependency() -> None:
    found = _heavy_imported("import nasbench_tools.cli.main as m\nm.build_parser()")
    known = set().union(*KNOWN.values())
    assert found <= known, f"building the nbt parser imports {sorted(found - known)}"


@pytest.mark.parametrize("name", COMMANDS)
def test_register_imports_no_heavy_dependency(name: str) -> None:
    found = _heavy_imported(
        "import argparse, importlib\n"
        f"importlib.import_module('nasbench_tools.cli.{name}')"
        ".register(argparse.ArgumentParser().add_subparsers())"
    )
    extra = found - KNOWN.get(name, set())
    assert not extra, f"nasbench_tools/cli/{name}.py imports {sorted(extra)} to build its parser"


def test_probe_sees_a_heavy_import() -> None:
    assert _heavy_imported("import matplotlib") == {"matplotlib"}
