"""Building a tabular benchmark by training: stratified order, resume, store round trip, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces.nb201 import SPACE
from nasbench_tools.store import load_benchmark, write_store
from nasbench_tools.trainer.build_bench import (
    TRAINED_METRICS,
    BuildSpec,
    build_benchmark,
    split_half_tau,
    stratified_cells,
    table_from_db,
)
from nasbench_tools.trainer.recipes import get_recipe
from nasbench_tools.trainer.results import ResultsDB

TINY = get_recipe("quick-cpu", epochs=2, network={"C": 4, "N": 1})


def test_stratified_order_is_a_fixed_growing_sequence_of_unique_cells() -> None:
    big = stratified_cells("nb201", 200, seed=0)
    assert stratified_cells("nb201", 50, seed=0) == big[:50]
    assert len({c.hash for c in big}) == 200  # no two isomorphic cells
    assert all(c == c.canonical() for c in big)
    assert stratified_cells("nb201", 50, seed=1) != big[:50]
    # stratified: the first 10 cells cover the whole range of parameter counts
    params = SPACE.num_params(big[:10])
    all_params = SPACE.num_params(SPACE.unique_cells())
    assert params.min() <= np.quantile(all_params, 0.1)
    assert params.max() >= np.quantile(all_params, 0.9)
    with pytest.raises(OutOfDomainError):
        stratified_cells("nb201", 0)


def test_split_half_tau() -> None:
    rng = np.random.default_rng(0)
    truth = np.arange(30.0)
    clean = truth[:, None] + rng.normal(0, 0.01, (30, 4))
    noisy = truth[:, None] + rng.normal(0, 100, (30, 4))
    assert split_half_tau(clean, np.random.default_rng(1)) == pytest.approx(1.0)
    assert split_half_tau(noisy, np.random.default_rng(1)) < 0.5
    with pytest.raises(OutOfDomainError, match="2 seeds"):
        split_half_tau(clean[:, :1], rng)


def test_build_resume_grow_and_store_round_trip(tmp_path: Path) -> None:
    db_path = tmp_path / "runs.sqlite"
    spec = BuildSpec("nb201", "digits", TINY, seeds=(0, 1), cells=3)
    first = build_benchmark(spec, db_path)
    assert (first.summary.submitted, first.summary.stored) == (6, 6)
    again = build_benchmark(spec, db_path)  # idempotent: nothing to do
    assert again.summary.submitted == 0
    np.testing.assert_array_equal(again.table.datasets["digits"].values,
                                  first.table.datasets["digits"].values)
    grown = build_benchmark(BuildSpec("nb201", "digits", TINY, seeds=(0, 1), cells=4), db_path)
    assert grown.summary.submitted == 2  # only the new cell's two seeds
    table = grown.table
    assert table.keys[:3] == first.table.keys
    ds = table.datasets["digits"]
    assert ds.fidelities == ((2, 1), (2, 2)) and ds.seeds == (0, 1)
    assert ds.values.shape == (4, 2, 2, 9) and not np.isnan(ds.values).any()
    assert table.provenance["build"]["recipe"]["epochs"] == 2
    out = write_store(table, tmp_path / "embedded_test.h5", command="test")
    bench = load_benchmark(out)
    assert len(bench) == 4 and bench.datasets == ("digits",)
    m = ds.metrics.index("val_accuracy")
    got = bench.lookup(table.keys[1], "val_accuracy", dataset="digits", epoch=2, seed=1)
    assert got == pytest.approx(float(ds.values[1, 1, 1, m]), abs=1e-4)
    mean = bench.lookup(table.keys[1], "val_accuracy", dataset="digits", epoch=2)
    assert mean == pytest.approx(float(ds.values[1, :, 1, m].mean()), abs=1e-3)


def test_partial_cells_are_left_out_and_an_empty_build_is_an_error(tmp_path: Path) -> None:
    db = ResultsDB(tmp_path / "r.sqlite")
    spec = BuildSpec("nb201", "digits", TINY.replace(epochs=1), seeds=(0, 1), cells=2)
    with pytest.raises(NotInBenchmarkError, match="no cell"):
        table_from_db(db, spec)
    from nasbench_tools.trainer.executors import run_job

    job = spec.jobs()[0]
    db.add(job, run_job(job))
    with pytest.raises(NotInBenchmarkError):
        table_from_db(db, spec)  # one seed of one cell is not a complete cell


def test_cli_train_and_build_bench(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cell = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    assert main(["train", "nb201", cell, "--dataset", "digits", "--preset", "quick-cpu",
                 "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert [ln[0] for ln in lines] == ["1", "2"]
    assert "val_acc" in out and "params" in out
    assert main(["train", "nb201", "|bad|", "--dataset", "digits"]) == 2
    assert "error" in capsys.readouterr().err
    store = tmp_path / "b.h5"
    args = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
            "--epochs", "1", "--cells", "3", "--seeds", "0", "1", "-o", str(store)]
    assert main(args) == 0
    assert "trained 6 new run(s)" in capsys.readouterr().out
    # The same build named with a seed range: nothing to train, the same command recorded.
    ranged = [*args[:args.index("--seeds")], "--seeds", "0..1", "-o", str(store)]
    assert main(ranged) == 0
    assert "trained 0 new run(s)" in capsys.readouterr().out
    assert len(load_benchmark(store)) == 3
    from nasbench_tools.store import read_metadata

    assert read_metadata(store).command == (
        "nbt build-bench nb201 --dataset digits --preset quick-cpu --epochs 1 --cells 3 "
        f"--seeds 0 1 --order-seed 0 --kernel packed -o {store}")
    assert main(["demo", "--store", str(store)]) == 0
    demo = capsys.readouterr().out
    assert "space nb201: 15,625 cells" in demo and "cells: 3" in demo


def test_packed_build_trains_one_task_per_cell_and_keys_its_kernel(tmp_path: Path) -> None:
    from nasbench_tools.trainer import executors
    from nasbench_tools.trainer.results import ResultsDB

    recipe = get_recipe("quick-cpu", epochs=1)
    spec = BuildSpec("nb201", "digits", recipe, seeds=(0, 1, 2), cells=2, kernel="packed")
    single = BuildSpec("nb201", "digits", recipe, seeds=(0, 1, 2), cells=2)
    assert not {j.key for j in spec.jobs()} & {j.key for j in single.jobs()}
    packs: list[list[int]] = []

    def spy(jobs):  # type: ignore[no-untyped-def]
        packs.append([j.seed for j in jobs])
        return executors.run_job_pack(jobs)

    db = ResultsDB(tmp_path / "runs.sqlite")
    with executors.make_executor("serial") as ex:
        summary = executors.run_jobs(spec.jobs(), db, ex, pack_fn=spy)
    assert packs == [[0, 1, 2], [0, 1, 2]] and summary.stored == 6
    table = table_from_db(db, spec)
    assert table.provenance["build"]["kernel"] == "packed"
    v = table.datasets["digits"].values
    assert v.shape == (2, 3, 1, len(TRAINED_METRICS)) and not np.isnan(v).any()
    # Idempotent: nothing left to train, no pack submitted.
    with executors.make_executor("serial") as ex:
        assert executors.run_jobs(spec.jobs(), db, ex, pack_fn=spy).submitted == 0
    assert len(packs) == 2
    with pytest.raises(OutOfDomainError, match="kernel"):
        BuildSpec("nb201", "digits", recipe, kernel="fast")


def test_failed_pack_lists_every_job_and_the_others_still_run(tmp_path: Path) -> None:
    from nasbench_tools.trainer import executors
    from nasbench_tools.trainer.results import ResultsDB

    recipe = get_recipe("quick-cpu", epochs=1)
    spec = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=2, kernel="packed")
    jobs = spec.jobs()

    def flaky(pack):  # type: ignore[no-untyped-def]
        if pack[0].cell == jobs[0].cell:
            raise RuntimeError("worker lost")
        return [{"records": [], "params": 1, "seed": j.seed} for j in pack]

    db = ResultsDB(tmp_path / "runs.sqlite")
    with executors.make_executor("serial") as ex:
        summary = executors.run_jobs(jobs, db, ex, pack_fn=flaky)
    assert sorted(summary.failed) == sorted(j.key for j in jobs[:2])
    assert summary.stored == 2 and jobs[2].key in db and jobs[0].key not in db


def test_time_limit_stops_new_trainings_and_keeps_what_is_done(tmp_path: Path) -> None:
    recipe = get_recipe("quick-cpu", epochs=1)
    small = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=1, kernel="packed")
    build_benchmark(small, tmp_path / "runs.sqlite")
    bigger = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=3, kernel="packed")
    out = build_benchmark(bigger, tmp_path / "runs.sqlite", time_limit=0.0)
    assert out.summary.submitted == 0 and out.summary.stored == 0
    assert len(out.table.keys) == 1


def test_store_alone_resumes_and_grows_the_build(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The shipped store has no results database next to it: growing it must not retrain.
    store = tmp_path / "b.h5"
    base = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
            "--epochs", "1", "--seeds", "0", "1", "-o", str(store)]
    assert main([*base, "--cells", "2"]) == 0
    from nasbench_tools.store.format import H5Backend

    old_values = H5Backend(store).values("digits")
    old_keys = H5Backend(store).keys()
    for p in tmp_path.glob("b.h5.runs.sqlite*"):
        p.unlink()
    capsys.readouterr()
    assert main([*base, "--cells", "3"]) == 0
    assert "trained 2 new run(s)" in capsys.readouterr().out  # only the third cell
    new = H5Backend(store)
    assert new.keys()[:2] == old_keys
    np.testing.assert_array_equal(new.values("digits")[:2], old_values)


def test_growth_by_seeds_in_a_second_file_then_merged(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # The workflow of docs/trainer.md: STORE keeps its seeds while GROW.h5 trains the new
    # ones; `nbt info --with` measures both; the merge trains nothing, on a fresh clone too.
    store, grow = tmp_path / "s.h5", tmp_path / "g.h5"
    base = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
            "--epochs", "1", "--cells", "3"]
    assert main([*base, "--seeds", "0", "1", "-o", str(store)]) == 0
    assert main([*base, "--seeds", "2..3", "-o", str(grow)]) == 0
    assert "trained 6 new run(s)" in capsys.readouterr().out
    assert main(["info", str(store), "--with", str(grow), "--repeats", "3"]) == 0
    assert "3 cells x 4 seeds" in capsys.readouterr().out
    for p in tmp_path.glob("g.h5.runs.sqlite*"):  # a fresh clone: GROW's journal is gone
        p.unlink()
    assert main([*base, "--seeds", "2..3", "-o", str(grow)]) == 0
    assert "trained 0 new run(s)" in capsys.readouterr().out
    assert main([*base, "--seeds", "0..3", "-o", str(store), "--db",
                 str(tmp_path / "g.h5.runs.sqlite")]) == 0
    assert "trained 0 new run(s)" in capsys.readouterr().out
    merged = load_benchmark(store)
    assert merged.seeds("digits") == (0, 1, 2, 3) and len(merged) == 3
    before, after = load_benchmark(grow), merged
    for s in (2, 3):
        np.testing.assert_array_equal(after.column("val_accuracy", "digits", 1, seed=s),
                                      before.column("val_accuracy", "digits", 1, seed=s))


def test_store_of_another_build_is_not_imported(tmp_path: Path) -> None:
    from nasbench_tools.trainer.build_bench import import_store

    recipe = get_recipe("quick-cpu", epochs=1)
    spec = BuildSpec("nb201", "digits", recipe, seeds=(0,), cells=1)
    out = build_benchmark(spec, tmp_path / "a.sqlite")
    store = write_store(out.table, tmp_path / "a.h5")
    other_lr = BuildSpec("nb201", "digits", recipe.replace(lr=0.05), seeds=(0,), cells=1)
    other_kernel = BuildSpec("nb201", "digits", recipe, seeds=(0,), cells=1, kernel="packed")
    for other in (other_lr, other_kernel):
        assert import_store(ResultsDB(tmp_path / f"{other.kernel}{other.recipe.lr}.sqlite"),
                            other, store) == 0
    db = ResultsDB(tmp_path / "same.sqlite")
    assert import_store(db, spec, store) == 1 and import_store(db, spec, store) == 0
    rebuilt = table_from_db(db, spec)
    np.testing.assert_array_equal(rebuilt.datasets["digits"].values,
                                  out.table.datasets["digits"].values)


def test_progress_counts_missing_trainings_and_should_stop_ends_the_build(
        tmp_path: Path) -> None:
    recipe = get_recipe("quick-cpu", epochs=1)
    spec = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=1, kernel="single")
    build_benchmark(spec, tmp_path / "runs.sqlite")   # 2 of the 6 trainings are done
    calls: list[tuple[int, int]] = []
    bigger = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=3, kernel="single")
    out = build_benchmark(bigger, tmp_path / "runs.sqlite",
                          progress=lambda d, t: calls.append((d, t)),
                          should_stop=lambda: len(calls) >= 2)   # stop after the first result
    # the serial executor runs one task at a time: one new training, then nothing starts
    assert calls == [(0, 4), (1, 4)]
    assert out.summary.stored == 1 and len(out.table.keys) == 1


def test_cli_sigterm_stops_like_a_time_limit_and_writes_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import os
    import signal

    from nasbench_tools.cli import long_run

    seen: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def killing_bar(desc: str, unit: str, *, enabled: bool = True):  # type: ignore[no-untyped-def]
        def update(done: int, total: int) -> None:
            seen.append((done, total))
            if done == 2:   # the first pack of two seeds is stored: a scheduler sends SIGTERM
                os.kill(os.getpid(), signal.SIGTERM)
        yield update

    monkeypatch.setattr(long_run, "progress_bar", killing_bar)
    store = tmp_path / "t.h5"
    before = signal.getsignal(signal.SIGTERM)
    assert main(["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
                 "--epochs", "1", "--cells", "3", "--seeds", "0", "1", "--kernel", "packed",
                 "-o", str(store)]) == 0
    assert "trained 2 new run(s)" in capsys.readouterr().out
    assert seen == [(0, 6), (1, 6), (2, 6)]
    assert len(load_benchmark(store)) == 1 and signal.getsignal(signal.SIGTERM) == before


def test_cli_progress_bar_on_stderr_unless_quiet(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    base = ["build-bench", "nb201", "--dataset", "digits", "--preset", "quick-cpu",
            "--epochs", "1", "--cells", "1", "--seeds", "0"]
    assert main([*base, "-o", str(tmp_path / "a.h5")]) == 0
    err = capsys.readouterr().err
    assert "build-bench nb201" in err and "1/1" in err
    assert main([*base, "-q", "-o", str(tmp_path / "b.h5")]) == 0
    assert "build-bench nb201" not in capsys.readouterr().err
