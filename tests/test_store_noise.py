"""Seed-noise statistics (``store.noise``) and ``nbt info --noise``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasbench_tools.cli.main import main
from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.store import Benchmark, DatasetTable, TableData
from nasbench_tools.store.format import MEAN_SEED, write_store
from nasbench_tools.store.noise import (
    noise_curves,
    project_split_half,
    seeds_needed,
    split_half_curve,
    split_half_tau,
)


def _normal_table(cells: int, seeds: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(cells, 1)) + rng.normal(scale=noise, size=(cells, seeds))


def test_split_half_tau_default_is_half_the_seeds_and_k_picks_fewer() -> None:
    v = _normal_table(300, 8, 1.0)
    # the default draws exactly what an explicit k = seeds // 2 draws
    assert split_half_tau(v, np.random.default_rng(3), 20) == split_half_tau(
        v, np.random.default_rng(3), 20, k=4)
    by_hand = []
    rng = np.random.default_rng(5)
    for _ in range(20):
        p = rng.permutation(8)
        by_hand.append(kendalltau(v[:, p[:1]].mean(1), v[:, p[1:2]].mean(1))[0])
    assert split_half_tau(v, np.random.default_rng(5), 20, k=1) == pytest.approx(np.mean(by_hand))
    assert split_half_tau(v, np.random.default_rng(0), 20, k=1) < split_half_tau(
        v, np.random.default_rng(0), 20, k=4)
    with pytest.raises(OutOfDomainError, match=">= 10 seeds"):
        split_half_tau(v, np.random.default_rng(0), k=5)
    with pytest.raises(OutOfDomainError, match=r"k .* >= 1"):
        split_half_tau(v, np.random.default_rng(0), k=0)
    with pytest.raises(OutOfDomainError, match="shape"):
        split_half_tau(v[:, 0], np.random.default_rng(0))


def test_curve_rises_with_seeds_and_ignores_incomplete_cells() -> None:
    v = _normal_table(400, 10, 1.5)
    v[:7, 3] = np.nan
    curve = split_half_curve(v, np.random.default_rng(0), repeats=15)
    assert list(curve) == [1, 2, 3, 4, 5]
    assert all(a < b for a, b in zip(list(curve.values()), list(curve.values())[1:]))
    # the NaN rows are dropped, not treated as values
    same = split_half_curve(v[7:], np.random.default_rng(0), repeats=15)
    assert curve == same


def test_projection_matches_normal_data_and_is_consistent() -> None:
    # Greiner + Spearman-Brown are exact for normal data: a projection from 2 vs 2 seeds
    # lands on the measured 8 vs 8 tau of the same population (sampling error only).
    v = _normal_table(3000, 16, 2.0, seed=1)
    t2 = split_half_tau(v, np.random.default_rng(0), 20, k=2)
    t8 = split_half_tau(v, np.random.default_rng(0), 20, k=8)
    assert abs(project_split_half(t2, 2, 8) - t8) < 0.02
    assert project_split_half(0.55, 3, 3) == pytest.approx(0.55)
    ups = [project_split_half(0.5, 2, m) for m in (1, 2, 4, 8, 64)]
    assert ups == sorted(ups) and ups[0] < 0.5 < ups[-1] < 1.0
    with pytest.raises(OutOfDomainError, match=r"\(0, 1\)"):
        project_split_half(0.0, 2, 4)
    with pytest.raises(OutOfDomainError, match="k_target"):
        project_split_half(0.5, 2, 0)


def test_seeds_needed_is_the_smallest_even_count() -> None:
    n = seeds_needed(0.6, 4, 0.75)
    assert n % 2 == 0
    assert project_split_half(0.6, 4, n // 2) >= 0.75 > project_split_half(0.6, 4, n // 2 - 1)
    assert seeds_needed(0.8, 6, 0.75) <= 12
    with pytest.raises(OutOfDomainError, match="target"):
        seeds_needed(0.6, 4, 1.0)
    with pytest.raises(OutOfDomainError, match="not reached"):
        seeds_needed(0.001, 1, 0.999)


def _bench(values: np.ndarray, seeds: tuple[int, ...]) -> TableData:
    ds = DatasetTable("digits", seeds, ((2, 1), (2, 2)), ("val_accuracy", "val_loss"), values)
    return TableData("nb201", [f"c{i}" for i in range(len(values))], np.arange(len(values)),
                     {"digits": ds})


def _values(cells: int, seeds: int) -> np.ndarray:
    acc = _normal_table(cells, seeds, 1.0) * 5 + 80
    vals = np.stack([acc, -acc], axis=-1)[:, :, None, :].repeat(2, axis=2)
    vals[:, :, 0] += 3.0  # epoch 1 is another column
    return vals.astype(np.float32)


def test_noise_curves_per_fidelity_skip_pseudo_seeds_and_name_errors() -> None:
    vals = _values(60, 6)
    vals[0, 2, 1, 0] = np.nan
    curves = noise_curves(Benchmark.from_table(_bench(vals, (0, 1, 2, 3, 4, 5))), repeats=5)
    assert [(c.budget, c.epoch, c.cells, c.seeds) for c in curves] == [(2, 1, 60, 6), (2, 2, 59, 6)]
    last = curves[-1]
    expect = split_half_curve(vals[1:, :, 1, 0], np.random.default_rng(0), 5)
    assert last.curve == {k: round(t, 4) for k, t in expect.items()}
    assert last.seeds_needed == seeds_needed(expect[3], 3, 0.75)
    # a mean column on the seed axis is not a trial
    with_mean = np.concatenate([vals, vals.mean(axis=1, keepdims=True)], axis=1)
    b = Benchmark.from_table(_bench(with_mean, (0, 1, 2, 3, 4, 5, MEAN_SEED)))
    assert [c.seeds for c in noise_curves(b, repeats=5)] == [6, 6]
    with pytest.raises(OutOfDomainError, match=r"metric 'test_accuracy'.*val_loss"):
        noise_curves(b, "test_accuracy")
    one = Benchmark.from_table(_bench(vals[:, :1], (0,)))
    with pytest.raises(OutOfDomainError, match="2 real seeds"):
        noise_curves(one)


def test_nbt_info_noise_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_store(_bench(_values(40, 4), (0, 1, 2, 3)), tmp_path / "s.h5")
    assert main(["info", str(path), "--noise", "--repeats", "5", "--target", "0.9"]) == 0
    text = capsys.readouterr().out
    assert "seed noise:" in text and "digits, epoch 2 of 2, val_accuracy: 40 cells x 4 seeds" in text
    assert "k=1 " in text and "k=2 " in text and "projected seeds for tau >= 0.9" in text
    assert main(["info", str(path), "--noise", "--json", "--metric", "val_loss"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [n["metric"] for n in doc["noise"]] == ["val_loss", "val_loss"]
    assert all(math.isfinite(t) for n in doc["noise"] for t in n["curve"].values())
    assert main(["info", str(path), "--noise", "--target", "1.5"]) == 2
    assert "strictly between 0 and 1" in capsys.readouterr().err
    assert main(["info", str(path), "--noise", "--metric", "nope"]) == 2
    assert "val_accuracy" in capsys.readouterr().err


def test_noise_joins_other_seeds_of_the_same_cells_by_key() -> None:
    vals = _values(50, 8)
    whole = Benchmark.from_table(_bench(vals, tuple(range(8))))
    # seeds 0-3 in one store; seeds 4-7 of the first 30 cells, rows reversed, in another
    first = Benchmark.from_table(_bench(vals[:, :4], (0, 1, 2, 3)))
    t = _bench(vals[:30, 4:][::-1], (4, 5, 6, 7))
    t.keys = t.keys[::-1]
    grown = Benchmark.from_table(t)
    joined = noise_curves(first, repeats=5, others=[grown])
    # the same report as one store of those 30 cells with all eight seeds
    ref = Benchmark.from_table(_bench(vals[:30], tuple(range(8))))
    assert [(c.cells, c.seeds, c.curve) for c in joined] == [
        (c.cells, c.seeds, c.curve) for c in noise_curves(ref, repeats=5)]
    assert [c.cells for c in joined] == [30, 30]
    assert noise_curves(whole, repeats=5)[0].cells == 50
    with pytest.raises(OutOfDomainError, match=r"seeds \[0, 1, 2, 3\].*other seeds"):
        noise_curves(first, repeats=5, others=[first])
    def accuracy_only(dataset: str) -> Benchmark:  # seeds 4, 5 of val_accuracy alone
        ds = DatasetTable(dataset, (4, 5), ((2, 1), (2, 2)), ("val_accuracy",),
                          vals[:, 4:6, :, :1])
        return Benchmark.from_table(TableData("nb201", [f"c{i}" for i in range(50)],
                                              np.arange(50), {dataset: ds}))

    with pytest.raises(OutOfDomainError, match=r"no dataset 'digits'.*mnist"):
        noise_curves(first, repeats=5, others=[accuracy_only("mnist")])
    with pytest.raises(OutOfDomainError, match="no metric 'val_loss'"):
        noise_curves(first, "val_loss", repeats=5, others=[accuracy_only("digits")])
    sss = Benchmark.from_table(TableData("nats_sss", ["8:8:8:8:8"], np.arange(1), {}))
    with pytest.raises(OutOfDomainError, match="'nats_sss' store"):
        noise_curves(first, repeats=5, others=[sss])


def test_nbt_info_with_joins_stores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vals = _values(40, 6)
    a = write_store(_bench(vals[:, :4], (0, 1, 2, 3)), tmp_path / "a.h5")
    b = write_store(_bench(vals[:25, 4:], (4, 5)), tmp_path / "b.h5")
    assert main(["info", str(a), "--with", str(b), "--repeats", "5"]) == 0
    text = capsys.readouterr().out
    assert f"seed noise of {a} + {b}:" in text
    assert "digits, epoch 2 of 2, val_accuracy: 25 cells x 6 seeds" in text
    assert main(["info", str(a), "--with", str(b), "--json", "--repeats", "5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["noise_with"] == [str(b)] and [n["cells"] for n in doc["noise"]] == [25, 25]
    assert main(["info", str(a), "--with", str(a)]) == 2
    assert "other seeds" in capsys.readouterr().err
