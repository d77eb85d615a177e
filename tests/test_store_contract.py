"""One contract suite over every store backend (HDF5 file opened lazily, in-memory table).

A new backend joins by adding a builder to ``BACKENDS``: every test below then runs on it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import BudgetExhaustedError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.store import (
    MEAN_SEED,
    UNKNOWN_SEED,
    Benchmark,
    DatasetTable,
    TableData,
    load_benchmark,
    write_store,
)

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def nb201_string(code: int) -> str:
    """A valid NB201 string from a base-5 code (first edge most significant)."""
    ops = []
    for _ in range(6):
        ops.append(OPS[code % 5])
        code //= 5
    ops = ops[::-1]
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


N = 6
KEYS = [nb201_string(c) for c in (7, 100, 2000, 3001, 9999, 15624)]
INDICES = np.array([10, 11, 12, 13, 14, 20], dtype=np.int64)  # not 0..n-1 on purpose
SEEDS = (777, 888, 999)
FIDS = ((12, 12), (200, 100), (200, 200))
METRICS = ("val_accuracy", "test_accuracy", "train_time", "val_time")


def make_table() -> TableData:
    """Synthetic table whose values encode their coordinates (so mix-ups show)."""
    v = np.zeros((N, len(SEEDS), len(FIDS), len(METRICS)), dtype=np.float32)
    for r in range(N):
        for s in range(len(SEEDS)):
            for f in range(len(FIDS)):
                v[r, s, f, 0] = 50 + r + s + 10 * f  # val_accuracy
                v[r, s, f, 1] = 40 + r + s + 10 * f  # test_accuracy
                v[r, s, f, 2] = 10.0 * FIDS[f][1] * (r + 1)  # train_time: cumulative seconds
                v[r, s, f, 3] = 1.0  # val_time: one evaluation pass
    v[1, 1, :, 0] = np.nan  # row 1: seed 888 missing val_accuracy
    v[2, :, :, 0] = np.nan  # row 2: no val_accuracy at all
    v[3, :, :, 2] = np.nan  # row 3: no train_time -> falls back to cost
    c10 = DatasetTable(
        "cifar10-valid", SEEDS, FIDS, METRICS, v,
        costs={"params": np.arange(N) + 0.5,
               "train_time_per_epoch": np.full(N, 2.0)},
        features={"naswot_score": np.array([-5.0, -1.0, np.nan, -3.0, -2.0, -4.0])},
    )
    means = np.array([91.0, 92.5, 93.0, np.nan, 90.0, 89.5], dtype=np.float32).reshape(N, 1, 1, 1)
    trial = np.array([90.0, 92.0, 94.0, 95.0, 91.0, 88.0], dtype=np.float32).reshape(N, 1, 1, 1)
    c10m = DatasetTable("cifar10", (MEAN_SEED, UNKNOWN_SEED), ((200, 200),), ("test_accuracy",),
                        np.concatenate([means, trial], axis=1))
    c100 = DatasetTable("cifar100", (MEAN_SEED,), ((200, 200),), ("test_accuracy",),
                        means.copy())
    return TableData("nb201", list(KEYS), INDICES, {"cifar10-valid": c10, "cifar10": c10m,
                                                   "cifar100": c100},
                     provenance={"sources": [{"path": "synthetic"}]},
                     extra={"code": np.arange(N, dtype=np.int32)})


def _h5(tmp: Path) -> Benchmark:
    return load_benchmark(write_store(make_table(), tmp / "s.h5", command="test"))


def _memory(tmp: Path) -> Benchmark:
    return Benchmark.from_table(make_table())


BACKENDS: dict[str, Callable[[Path], Benchmark]] = {"hdf5": _h5, "memory": _memory}


@pytest.fixture(params=sorted(BACKENDS))
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Benchmark:
    return BACKENDS[request.param](tmp_path)


# ----------------------------------------------------------------------------- vocabulary
def test_vocabulary(bench: Benchmark) -> None:
    assert bench.space == "nb201"
    assert bench.datasets == ("cifar10-valid", "cifar10", "cifar100")
    assert bench.metrics("cifar10-valid") == METRICS
    assert bench.seeds("cifar10") == (MEAN_SEED, UNKNOWN_SEED)
    assert bench.fidelities("cifar10-valid") == FIDS
    assert bench.budgets("cifar10-valid") == (12, 200)
    assert bench.epochs("cifar10-valid") == (12, 100, 200)
    assert bench.epochs("cifar10-valid", budget=200) == (100, 200)
    assert bench.costs("cifar10-valid") == ("params", "train_time_per_epoch")
    assert bench.features("cifar10-valid") == ("naswot_score",)
    assert len(bench) == N
    assert bench.keys == KEYS
    assert bench.indices.tolist() == INDICES.tolist()
    assert bench.extra("code").tolist() == list(range(N))


def test_rows_accept_indices_strings_and_arrays(bench: Benchmark) -> None:
    assert bench.row(13) == 3
    assert bench.row(np.int64(20)) == 5
    assert bench.row(KEYS[4]) == 4
    assert bench.rows(np.array([20, 10, 12])).tolist() == [5, 0, 2]
    assert bench.rows([KEYS[1], 14]).tolist() == [1, 4]


def test_rows_errors(bench: Benchmark) -> None:
    with pytest.raises(NotInBenchmarkError, match=r"official index 15 .* indices 10 .. 20"):
        bench.row(15)
    with pytest.raises(NotInBenchmarkError, match="official index 99"):
        bench.rows(np.array([10, 99]))
    with pytest.raises(NotInBenchmarkError, match="not in this store"):
        bench.row(nb201_string(1))  # a valid cell the store does not hold
    with pytest.raises(OutOfDomainError):
        bench.row("|bogus~0|")
    with pytest.raises(OutOfDomainError, match="boolean"):
        bench.row(True)


def test_cells_iterate_as_space_cells(bench: Benchmark) -> None:
    cells = list(bench)
    assert [c.to_string() for c in cells] == KEYS
    assert bench.row(cells[2]) == 2  # a cell object resolves to its row
    assert bench.cell_at(5).to_string() == KEYS[5]


# ----------------------------------------------------------------------------- seeds
def test_seed_mean_ignores_nan(bench: Benchmark) -> None:
    # final epoch of the largest budget is (200, 200): f = 2
    assert bench.lookup(10, "val_accuracy", "cifar10-valid") == pytest.approx(50 + 0 + 1 + 20)
    # row 1, seed 888 missing: mean of seeds 777 and 999 = 50+1+{0,2}+20
    assert bench.lookup(11, "val_accuracy", "cifar10-valid") == pytest.approx(72.0)


def test_seed_int(bench: Benchmark) -> None:
    assert bench.lookup(10, "test_accuracy", "cifar10-valid", seed=999) == 40 + 0 + 2 + 20
    with pytest.raises(NotInBenchmarkError, match=r"seed 123 .* 777, 888 or 999"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", seed=123)
    with pytest.raises(NotInBenchmarkError, match="has no val_accuracy"):
        bench.lookup(11, "val_accuracy", "cifar10-valid", seed=888)


def test_seed_random_draws_present_trials(bench: Benchmark) -> None:
    rng = np.random.default_rng(0)
    draws = {bench.lookup(11, "val_accuracy", "cifar10-valid", seed="random", rng=rng)
             for _ in range(60)}
    assert draws == {71.0, 73.0}  # seeds 777, 999 only: 888 is missing for row 1
    many = bench.lookup_many(np.array([11] * 200), "val_accuracy", "cifar10-valid",
                             seed="random", rng=np.random.default_rng(1))
    assert set(many.tolist()) == {71.0, 73.0}
    a = bench.lookup_many(INDICES, "test_accuracy", "cifar10-valid", seed="random",
                          rng=np.random.default_rng(5))
    b = bench.lookup_many(INDICES, "test_accuracy", "cifar10-valid", seed="random",
                          rng=np.random.default_rng(5))
    assert a.tolist() == b.tolist()


def test_seed_random_needs_rng(bench: Benchmark) -> None:
    with pytest.raises(OutOfDomainError, match="Generator"):
        bench.lookup(10, "val_accuracy", "cifar10-valid", seed="random")
    with pytest.raises(OutOfDomainError, match="Generator"):
        bench.lookup_many(INDICES, "val_accuracy", "cifar10-valid", seed="random")


def test_seed_bad_values(bench: Benchmark) -> None:
    with pytest.raises(OutOfDomainError, match="'mean', 'random'"):
        bench.lookup(10, "val_accuracy", "cifar10-valid", seed="median")
    with pytest.raises(OutOfDomainError):
        bench.lookup(10, "val_accuracy", "cifar10-valid", seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(OutOfDomainError):
        bench.lookup(10, "val_accuracy", "cifar10-valid", seed=True)


def test_published_mean_wins_and_means_only(bench: Benchmark) -> None:
    assert bench.lookup(11, "test_accuracy", "cifar10") == 92.5  # the published mean
    assert bench.lookup(13, "test_accuracy", "cifar10") == 95.0  # no mean: the trial
    assert bench.lookup(11, "test_accuracy", "cifar10", seed=UNKNOWN_SEED) == 92.0
    rng = np.random.default_rng(0)
    assert bench.lookup(11, "test_accuracy", "cifar10", seed="random", rng=rng) == 92.0
    with pytest.raises(NotInBenchmarkError, match="published means only"):
        bench.lookup(11, "test_accuracy", "cifar100", seed="random", rng=rng)


# ----------------------------------------------------------------------------- fidelities
def test_epoch_and_budget(bench: Benchmark) -> None:
    assert bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=12, seed=777) == 40
    assert bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=100, budget=200,
                        seed=777) == 50
    assert bench.lookup(10, "test_accuracy", "cifar10-valid", budget=200, seed=777) == 60
    assert bench.lookup(10, "test_accuracy", "cifar10-valid", seed=777) == 60
    with pytest.raises(NotInBenchmarkError, match=r"epoch 100 exists with budget 200"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=100)
    with pytest.raises(NotInBenchmarkError, match=r"\(12, 12\)"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=50)
    with pytest.raises(NotInBenchmarkError, match="budget 90"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", budget=90)
    with pytest.raises(OutOfDomainError, match="positive int"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=0)
    with pytest.raises(OutOfDomainError, match="positive int"):
        bench.lookup(10, "test_accuracy", "cifar10-valid", epoch=12.0)  # type: ignore[arg-type]


def test_dataset_and_metric_errors(bench: Benchmark) -> None:
    with pytest.raises(OutOfDomainError, match="several datasets"):
        bench.lookup(10, "test_accuracy")
    with pytest.raises(NotInBenchmarkError, match="'ImageNet16-120' is not in this store"):
        bench.lookup(10, "test_accuracy", "ImageNet16-120")
    with pytest.raises(OutOfDomainError, match="unknown dataset 'mnist'"):
        bench.lookup(10, "test_accuracy", "mnist")
    with pytest.raises(NotInBenchmarkError, match=r"'train_loss' is not stored .* 'val_accuracy'"):
        bench.lookup(10, "train_loss", "cifar10-valid")
    with pytest.raises(OutOfDomainError, match="unknown metric 'top1'"):
        bench.lookup(10, "top1", "cifar10-valid")


def test_missing_values_raise_or_nan(bench: Benchmark) -> None:
    with pytest.raises(NotInBenchmarkError, match="has no val_accuracy"):
        bench.lookup(12, "val_accuracy", "cifar10-valid")
    with pytest.raises(NotInBenchmarkError, match="1 of 3 cells"):
        bench.lookup_many(np.array([10, 12, 13]), "val_accuracy", "cifar10-valid")
    got = bench.lookup_many(np.array([10, 12]), "val_accuracy", "cifar10-valid", missing="nan")
    assert np.isnan(got[1]) and got[0] == pytest.approx(71.0)


# ----------------------------------------------------------------------------- vectorised
def test_many_equals_single(bench: Benchmark) -> None:
    cells = np.array([20, 10, 11, 13, 14])
    many = bench.lookup_many(cells, "val_accuracy", "cifar10-valid", epoch=12)
    single = [bench.lookup(int(c), "val_accuracy", "cifar10-valid", epoch=12) for c in cells]
    assert many.tolist() == pytest.approx(single)
    by_key = bench.lookup_many([KEYS[5], KEYS[0]], "val_accuracy", "cifar10-valid", epoch=12)
    assert by_key.tolist() == pytest.approx(single[:2])


def test_column_and_best(bench: Benchmark) -> None:
    col = bench.column("test_accuracy", "cifar10")
    assert col.tolist() == pytest.approx([91.0, 92.5, 93.0, 95.0, 90.0, 89.5])
    with pytest.raises(ValueError):
        col[0] = 1.0  # read-only: callers cannot corrupt the cache
    key, value = bench.best("test_accuracy", dataset="cifar10", as_key=True)
    assert (key, value) == (KEYS[3], 95.0)
    cell, value = bench.best("test_accuracy", dataset="cifar10", maximize=False)
    assert (cell.to_string(), value) == (KEYS[5], 89.5)
    with pytest.raises(OutOfDomainError, match="lookup_many"):
        bench.column("test_accuracy", "cifar10", seed="random")


def test_costs_and_features(bench: Benchmark) -> None:
    assert bench.cost(12, "params", "cifar10-valid") == 2.5
    assert bench.cost_column("params", "cifar10-valid").tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    with pytest.raises(NotInBenchmarkError, match="'flops' is not stored"):
        bench.cost(12, "flops", "cifar10-valid")
    with pytest.raises(OutOfDomainError, match="unknown cost 'watts'"):
        bench.cost(12, "watts", "cifar10-valid")
    f = bench.feature("naswot_score")
    assert np.isnan(f[2]) and f[0] == -5.0
    with pytest.raises(NotInBenchmarkError, match="naswot_score"):
        bench.feature("zen")


# ----------------------------------------------------------------------------- budget
def test_query_charges_train_plus_eval_time(bench: Benchmark) -> None:
    assert bench.budget.queries == 0
    v = bench.query(10, "val_accuracy", "cifar10-valid", epoch=12, seed=777)
    assert v == bench.lookup(10, "val_accuracy", "cifar10-valid", epoch=12, seed=777)
    # train_time at epoch 12 for row 0 = 10*12*1 = 120, plus one val pass of 1 s
    assert bench.budget.queries == 1
    assert bench.budget.simulated_seconds == pytest.approx(121.0)
    bench.query(11, "val_accuracy", "cifar10-valid", epoch=100, budget=200)
    assert bench.budget.simulated_seconds == pytest.approx(121.0 + 10 * 100 * 2 + 1)
    bench.lookup(11, "val_accuracy", "cifar10-valid")  # lookups are free
    assert bench.budget.queries == 2
    bench.reset_budget()
    assert bench.budget.queries == 0 and bench.budget.simulated_seconds == 0.0


def test_charge_falls_back_to_cost_then_time_model(bench: Benchmark) -> None:
    # row 3 has no train_time: train_time_per_epoch (2 s) * 12 epochs + 1 s eval
    bench.query(13, "val_accuracy", "cifar10-valid", epoch=12)
    assert bench.budget.simulated_seconds == pytest.approx(25.0)
    # cifar10 has no times at all: untimed unless a time model is given
    bench.query(13, "test_accuracy", "cifar10")
    assert bench.budget.untimed_queries == 1
    bench.time_model = lambda rows, ds: np.asarray(rows, dtype=float) + 1.0
    bench.query(13, "test_accuracy", "cifar10")  # (3 + 1) s/epoch * 200 epochs
    assert bench.budget.simulated_seconds == pytest.approx(25.0 + 800.0)


def test_query_many_charges_each_cell(bench: Benchmark) -> None:
    cells = np.array([10, 11])
    bench.query_many(cells, "test_accuracy", "cifar10-valid", epoch=12, seed=777)
    assert bench.budget.queries == 2
    assert bench.budget.simulated_seconds == pytest.approx(121.0 + 241.0)


def test_limits_raise_without_charging(tmp_path: Path) -> None:
    for build in BACKENDS.values():
        b = build(tmp_path)
        b.max_queries = 2
        b.query(10, "test_accuracy", "cifar10-valid", epoch=12)
        with pytest.raises(BudgetExhaustedError, match="max_queries=2"):
            b.query_many(np.array([10, 11]), "test_accuracy", "cifar10-valid", epoch=12)
        assert b.budget.queries == 1
        b.max_queries, b.max_seconds = None, 200.0
        with pytest.raises(BudgetExhaustedError, match="max_seconds=200"):
            b.query(11, "test_accuracy", "cifar10-valid", epoch=12)  # costs 241 s
        assert b.budget.queries == 1
        with pytest.raises(NotInBenchmarkError, match="time_model"):
            b.query(10, "test_accuracy", "cifar10")  # untimed with a seconds limit


def test_fork_has_own_budget(bench: Benchmark) -> None:
    bench.query(10, "test_accuracy", "cifar10-valid")
    other = bench.fork()
    other.query(10, "test_accuracy", "cifar10-valid")
    other.query(10, "test_accuracy", "cifar10-valid")
    assert (bench.budget.queries, other.budget.queries) == (1, 2)


# ----------------------------------------------------------------------------- exports
def test_to_pandas_long_and_wide(bench: Benchmark) -> None:
    long = bench.to_pandas(dataset="cifar10")
    assert set(long.columns) == {"row", "index", "key", "dataset", "seed", "budget", "epoch",
                                 "metric", "value"}
    assert len(long) == 11  # 5 published means + 6 trials
    best = long[long.seed == MEAN_SEED].sort_values("value").iloc[-1]
    assert (best["index"], best["value"]) == (12, 93.0)
    wide = bench.to_pandas("wide")
    assert wide.shape[0] == N
    assert wide[("cifar10-valid", "test_accuracy", 12, 12, 999)].tolist()[0] == 42.0
    with pytest.raises(OutOfDomainError):
        bench.to_pandas("tall")


def test_info_summary(bench: Benchmark) -> None:
    info = bench.info()
    assert info.space == "nb201" and info.n_cells == N
    d = {x.name: x for x in info.datasets}
    assert d["cifar10"].present == {"test_accuracy": 11}
    assert d["cifar10-valid"].present["val_accuracy"] == N * 9 - 3 - 9
    text = info.render()
    assert "budget 200: epochs 100, 200" in text and "mean(published)" in text


def test_pickle_round_trip(bench: Benchmark) -> None:
    bench.query(10, "test_accuracy", "cifar10-valid")
    clone = pickle.loads(pickle.dumps(bench))
    assert clone.budget == bench.budget
    assert clone.lookup(13, "test_accuracy", "cifar10") == 95.0


def test_nb101_cells_rebuilt_from_stored_arrays() -> None:
    from nasbench_tools.spaces.nb101 import Cell
    from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
    from nasbench_tools.spaces.nb101.ops import OP_CODE

    cells = [
        Cell(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), ["input", "conv3x3-bn-relu", "output"]),
        Cell(np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]),
             ["input", "maxpool3x3", "conv1x1-bn-relu", "output"]),
    ]
    kinds = {**OP_CODE, "input": KIND_INPUT, "output": KIND_OUTPUT}
    matrix = np.zeros((2, 7, 7), dtype=np.uint8)
    ops = np.full((2, 7), KIND_PAD, dtype=np.uint8)
    for r, c in enumerate(cells):
        n = c.num_vertices
        matrix[r, :n, :n] = c.matrix
        ops[r, :n] = [kinds[o] for o in c.ops]
    ds = DatasetTable("cifar10", (0,), ((108, 108),), ("val_accuracy",),
                      np.array([90.0, 91.0]).reshape(2, 1, 1, 1))
    table = TableData("nb101", [c.hash for c in cells], np.arange(2), {"cifar10": ds},
                      extra={"nb101_matrix": matrix, "nb101_ops": ops})
    bench = Benchmark.from_table(table)
    assert list(bench) == cells
    assert [c.hash for c in bench] == bench.keys
    assert bench.best("val_accuracy")[0] == cells[1]
    assert bench.lookup(cells[0], "val_accuracy") == 90.0  # a cell object resolves by hash
    assert bench.lookup(cells[1].to_string(), "val_accuracy") == 91.0  # and its text form


def test_fork_time_model_does_not_leak(bench: Benchmark) -> None:
    other = bench.fork()
    other.time_model = lambda rows, ds: np.full(len(rows), 1.0)
    other.query(10, "test_accuracy", "cifar10")  # 1 s/epoch * 200
    bench.query(10, "test_accuracy", "cifar10")  # the parent has no time model
    assert other.budget.simulated_seconds == 200.0
    assert (bench.budget.simulated_seconds, bench.budget.untimed_queries) == (0.0, 1)
