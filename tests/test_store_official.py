"""End to end: official files -> ``nbt convert`` path -> store -> the official APIs' answers.

Checks the store's seed semantics (mean / per seed / random draw among present trials) and
budget charging (train time up to the epoch + one validation pass, as NATS-Bench's
``simulate_train_eval`` counts it) against answers recorded from ``nas_201_api`` and
``nats_bench`` on the shared fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.errors import NotInBenchmarkError
from nasbench_tools.store import Benchmark, load_benchmark
from nasbench_tools.store.converters.registry import convert_to_store

#: Official result keys -> store metric, per dataset.
SPLITS: dict[str, dict[str, str]] = {
    "cifar10-valid": {"valid-accuracy": "val_accuracy", "test-accuracy": "test_accuracy"},
    "cifar10": {"test-accuracy": "test_accuracy"},
    "cifar100": {"valid-accuracy": "val_accuracy", "test-accuracy": "test_accuracy",
                 "valtest-accuracy": "ori_test_accuracy"},
    "ImageNet16-120": {"valid-accuracy": "val_accuracy", "test-accuracy": "test_accuracy",
                       "valtest-accuracy": "ori_test_accuracy"},
}


@pytest.fixture(scope="module")
def tss(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Benchmark, Any]:
    src = shared_data / "nats" / "fake_torch_dir" / "NATS-tss-v1_0-3ffb9-simple"
    out = convert_to_store([src], tmp_path_factory.mktemp("tss") / "tss.h5",
                           options={"curves": False})
    answers = json.loads((shared_data / "nats" / "nats_official_api_answers.json").read_text())
    return load_benchmark(out), answers["tss"]["calls"]


@pytest.fixture(scope="module")
def nb201(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Benchmark, Any]:
    src = shared_data / "nb201" / "NAS-Bench-201-fixture.pth"
    out = convert_to_store([src], tmp_path_factory.mktemp("nb201") / "fx.h5",
                           options={"curves": False})
    answers = json.loads((shared_data / "nb201" / "nb201_official_api_answers.json").read_text())
    return load_benchmark(out), answers["calls"]


def test_nb201_means_and_seeds_match_official_api(nb201: tuple[Benchmark, Any]) -> None:
    bench, calls = nb201
    checked = 0
    for call in calls:
        a = call["args"]
        if call["call"] != "get_more_info" or "result" not in call:
            continue
        if a.get("iepoch") is not None:
            continue
        seed: Any = "mean" if a["is_random"] is False else int(a["is_random"])
        hp = int(a["hp"])
        for key, metric in SPLITS[a["dataset"]].items():
            if key not in call["result"]:
                continue
            got = bench.lookup(a["index"], metric, a["dataset"], epoch=hp, seed=seed)
            assert got == pytest.approx(call["result"][key], abs=1e-4), (a, key)
            checked += 1
    assert checked > 100


def test_nats_simulate_train_eval_values_and_charges(tss: tuple[Benchmark, Any]) -> None:
    bench, calls = tss
    sims = [c for c in calls if c["call"] == "simulate_train_eval"]
    assert len(sims) == 18
    for call in sims:
        a = call["args"]
        # the official call reads cifar10's validation numbers from cifar10-valid
        ds = "cifar10-valid" if a["dataset"] == "cifar10" else a["dataset"]
        hp = int(a["hp"])
        outcomes = call["outcomes_by_seed"]
        for seed, (acc, _latency, seconds, _total) in outcomes.items():
            b = bench.fork()
            assert b.query(a["arch"], "val_accuracy", ds, epoch=hp, seed=int(seed)) == \
                pytest.approx(acc, abs=1e-4)
            assert b.budget.simulated_seconds == pytest.approx(seconds, rel=1e-6)
        # seed="random" draws only among the trials the official API could draw
        rng = np.random.default_rng(0)
        draws = bench.lookup_many(np.full(64, a["arch"]), "val_accuracy", ds, epoch=hp,
                                  seed="random", rng=rng)
        want = sorted({round(v[0], 3) for v in outcomes.values()})
        assert sorted({round(float(v), 3) for v in draws}) == want


def test_nats_latency_and_missing_cells(tss: tuple[Benchmark, Any]) -> None:
    bench, calls = tss
    checked = 0
    for call in calls:
        if call["call"] == "get_latency" and "result" in call:
            a = call["args"]
            assert bench.cost(a["index"], "latency", a["dataset"]) == pytest.approx(
                call["result"], rel=1e-9)
            checked += 1
    assert checked >= 12
    with pytest.raises(NotInBenchmarkError, match="official index 5"):
        bench.lookup(5, "val_accuracy", "cifar10-valid")
