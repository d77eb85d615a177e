"""Fixtures of the reliability suite: a tally of what was tried, and its summary.

Every test of ``tests/reliability`` carries the ``reliability`` marker (added here), so
``pytest -m reliability`` runs the suite alone; it also runs in ``make test``.

The session-scoped :func:`tally` counts, per area (a reader, a command), the inputs tried,
the faults injected and the outcomes. The counts of xdist workers are merged in the
controller. At the end of the run a short summary is printed; with the environment
variable ``NBT_RELIABILITY_REPORT=PATH`` it is also written as markdown to ``PATH``
(``benchmarks/reliability_summary.py`` does that for ``benchmarks/results/reliability.md``).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

REPORT_ENV = "NBT_RELIABILITY_REPORT"
HERE = Path(__file__).resolve().parent


class Tally:
    """Counts of inputs tried, faults injected and outcomes, per area.

    ``add(area, fault, outcome)`` records one input carrying one fault (``fault="none"``
    for an intact input) and what came of it (e.g. ``"FormatError"``, ``"accepted"``,
    ``"resumed identical"``, ``"refused"``).
    """

    def __init__(self) -> None:
        self.faults: dict[str, Counter[str]] = defaultdict(Counter)
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, area: str, fault: str, outcome: str, n: int = 1) -> None:
        """Record ``n`` inputs of ``area`` with ``fault`` that ended in ``outcome``."""
        self.faults[area][fault] += n
        self.outcomes[area][outcome] += n

    def to_json(self) -> str:
        return json.dumps({"faults": self.faults, "outcomes": self.outcomes})

    def merge_json(self, text: str) -> None:
        data = json.loads(text)
        for kind in ("faults", "outcomes"):
            mine = getattr(self, kind)
            for area, counts in data[kind].items():
                mine[area].update(counts)

    def totals(self) -> tuple[int, int]:
        """(inputs tried, faults injected): faults are inputs whose fault is not 'none'."""
        inputs = sum(sum(c.values()) for c in self.faults.values())
        clean = sum(c.get("none", 0) for c in self.faults.values())
        return inputs, inputs - clean

    def markdown(self) -> str:
        inputs, faults = self.totals()
        out = ["| area | inputs tried | faults injected (kind: count) | outcomes (kind: count) |",
               "| --- | ---: | --- | --- |"]
        for area in sorted(self.faults):
            f, o = self.faults[area], self.outcomes[area]
            fs = ", ".join(f"{k}: {v}" for k, v in sorted(f.items()))
            os_ = ", ".join(f"{k}: {v}" for k, v in sorted(o.items()))
            out.append(f"| {area} | {sum(f.values())} | {fs} | {os_} |")
        outcomes: Counter[str] = Counter()
        for c in self.outcomes.values():
            outcomes.update(c)
        out.append(f"| **total** | **{inputs}** | **{faults}** faults | "
                   + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) + " |")
        return "\n".join(out) + "\n"


_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    """The session's :class:`Tally` (one per xdist worker, merged at the end)."""
    return _TALLY


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput: Any = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["nbt_reliability"] = _TALLY.to_json()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    text = getattr(node, "workeroutput", {}).get("nbt_reliability")
    if text:
        _TALLY.merge_json(text)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None or not _TALLY.faults:
        return
    inputs, faults = _TALLY.totals()
    terminalreporter.write_sep("-", "reliability summary")
    terminalreporter.write_line(
        f"{inputs} inputs tried, {faults} faults injected, over {len(_TALLY.faults)} areas"
        + (f" (markdown: {os.environ[REPORT_ENV]})" if os.environ.get(REPORT_ENV) else ""))
    report = os.environ.get(REPORT_ENV)
    if report:
        Path(report).write_text(_TALLY.markdown())
