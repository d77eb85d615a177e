"""The speed summary writer (benchmarks/summary.py): rows read back, failures listed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
summary = pytest.importorskip("summary")

TRAINER = """# Trainer

| case | batch | ours (img/s) | plain (img/s) | ours / plain | S | packed (img/s) | packed / plain |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| digits 8x8 | 64 | 1,200 | 400 | 3.00 | 16 | 8,000 | 20.00 |
"""


def _outcome(tmp: Path, name: str, text: str | None, error: str = "") -> summary.Outcome:
    path = tmp / name
    if text is not None:
        path.write_text(text)
    return summary.Outcome(f"bench_{name}", path, f"python benchmarks/bench_{name}", 1.0,
                           error=error)


def test_rows_ratios_and_failures(tmp_path: Path) -> None:
    started = time.time() - 5
    good = _outcome(tmp_path, "trainer.md", TRAINER)
    broken = _outcome(tmp_path, "naswot.md", "# no table here\n")
    crashed = _outcome(tmp_path, "store.md", None, error="exit 1: Traceback ... KeyError")
    stale = _outcome(tmp_path, "encodings.md",
                     "| what | ours (SPACE.encode) | plain loop | ratio |\n| --- | --- | --- | --- |\n"
                     "| x | 1 ms | 2 ms | 2.0 |\n")
    os.utime(stale.results, (started - 100, started - 100))
    for o in (good, broken, crashed, stale):
        summary.extract(o, started)
    assert [r.ratio for r in good.rows] == ["3.00", "20.0"]
    assert good.rows[0].ours == "1,200 img/s" and good.rows[0].reference == "400 img/s"
    assert "could not read naswot.md" in broken.error and not broken.rows
    assert crashed.error.startswith("exit 1")
    assert "stale" in stale.error
    out = tmp_path / "SUMMARY.md"
    text = summary.write_summary(out, [good, broken, crashed, stale], command="python x",
                                 root=tmp_path, load_start=(1.0, 2.0, 3.0),
                                 started_utc="now", wall_seconds=60.0)
    assert out.read_text() == text
    assert "4 run, 3 failed (bench_naswot.md, bench_store.md, bench_encodings.md)" in text
    assert "**bench_store.md: FAILED** (exit 1: Traceback ... KeyError)" in text
    assert "| trainer: our loop vs plain PyTorch loop (digits 8x8, batch 64) | 1,200 img/s" in text
    assert "load average 1.00 / 2.00 / 3.00" in text and "cores" in text
    assert "[trainer.md](trainer.md)" in text


def test_every_suite_has_an_extractor() -> None:
    import run_all

    speed = {s.results for s in run_all.SUITES.values() if s.speed}
    assert speed == set(summary.EXTRACTORS)
