"""benchmarks/seed_agreement.py: the check run before a store grown by seeds is merged."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.store import DatasetTable, TableData
from nasbench_tools.store.format import write_store

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
seed_agreement = pytest.importorskip("seed_agreement")


def _sets(shared: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(400, 1))
    common = rng.normal(size=(400, 1)) * shared
    return truth + rng.normal(size=(400, 4)), truth + common + rng.normal(size=(400, 4))


def test_independent_sets_agree_alike_and_a_shared_term_shows() -> None:
    g = seed_agreement.pairwise_agreement(*_sets(0.0))
    assert abs(g.within_first - g.within_second) < 0.05
    assert abs(g.across - g.within_first) < 0.05
    assert g.per_seed.shape == (8,)
    coupled = seed_agreement.pairwise_agreement(*_sets(1.0))
    # the second set's seeds share a term: they agree with each other, not with the first
    assert coupled.within_second > coupled.across + 0.1
    assert abs(coupled.across - g.across) < 0.1
    with pytest.raises(ValueError, match="at least 2 seeds in each set; got 1 and 4"):
        seed_agreement.pairwise_agreement(np.zeros((5, 1)), np.zeros((5, 4)))


def _store(path: Path, values: np.ndarray, seeds: tuple[int, ...], keys: list[str]) -> Path:
    acc = values[:, :, None, None].repeat(2, axis=2).astype(np.float32)
    ds = DatasetTable("digits", seeds, ((2, 1), (2, 2)), ("val_accuracy",), acc)
    return write_store(TableData("nb201", keys, np.arange(len(keys)), {"digits": ds}), path)


def test_report_joins_the_side_file_by_key(tmp_path: Path) -> None:
    a, b = _sets(0.0, seed=1)
    keys = [f"c{i}" for i in range(400)]
    first = _store(tmp_path / "a.h5", np.concatenate([a, b[:, :2]], axis=1),
                   (0, 1, 2, 3, 4, 5), keys)
    # the side file holds seeds 6-7 of the first 150 cells, in reverse row order
    side = _store(tmp_path / "b.h5", b[:150, 2:][::-1], (6, 7), keys[:150][::-1])
    out = tmp_path / "r.md"
    assert seed_agreement.main([str(first), str(side), "--k", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert "150 of 400 cells complete in both files" in text
    ref = seed_agreement.pairwise_agreement(np.concatenate([a, b[:, :2]], axis=1)[:150],
                                            b[:150, 2:])
    assert f"| within seeds 6-7 | {ref.within_second:.4f} |" in text
    assert f"| across the two sets | {ref.across:.4f} |" in text
    assert "| not yet in the side file | 250 |" in text


def test_merged_store_splits_at_first_seeds(tmp_path: Path) -> None:
    a, b = _sets(0.0, seed=2)
    keys = [f"c{i}" for i in range(400)]
    merged = _store(tmp_path / "m.h5", np.concatenate([a, b], axis=1), tuple(range(8)), keys)
    out = tmp_path / "r.md"
    assert seed_agreement.main([str(merged), "--first-seeds", "3", "--k", "1",
                                "--out", str(out)]) == 0
    text = out.read_text()
    # the split is by position: seeds 0-2 against 3-7, not the sets the values came from
    ref = seed_agreement.pairwise_agreement(np.concatenate([a, b], axis=1)[:, :3],
                                            np.concatenate([a, b], axis=1)[:, 3:])
    assert text.startswith(f"# Seed agreement: `{merged}` (seeds 0-2) and its seeds 3-7\n")
    assert "400 of 400 cells complete in both seed sets" in text
    # the machine note measures the load instead of assuming a shared machine
    assert "load average " in text and "shared with other jobs" not in text
    assert f"| within seeds 3-7 | {ref.within_second:.4f} |" in text
    assert f"| across the two sets | {ref.across:.4f} |" in text
    assert "| not yet in the second seed set | 0 | - |" in text


@pytest.mark.parametrize("extra, message", [
    ([], "either a side file OTHER"),
    (["--first-seeds", "7"], "so 2..6; got 7"),
])
def test_bad_split_is_refused_with_the_allowed_range(tmp_path: Path, extra: list[str],
                                                     message: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _sets(0.0, seed=3)
    merged = _store(tmp_path / "m.h5", np.concatenate([a, b], axis=1), tuple(range(8)),
                    [f"c{i}" for i in range(400)])
    with pytest.raises(SystemExit):
        seed_agreement.main([str(merged), *extra, "--out", str(tmp_path / "r.md")])
    assert message in capsys.readouterr().err
