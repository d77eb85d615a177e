"""The multi-architecture kernel: many cells x seeds in one grouped network.

Each member of a pack must train as it would alone (same initial weights, data order, loss;
float rounding aside): checked against separate ``train_model`` runs for NB201 (pruned and
unpruned networks, precise BN on and off) and NB101, on losses and on the trained weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.trainer import executors
from nasbench_tools.trainer import multiarch as multiarch_mod
from nasbench_tools.trainer.build_bench import BuildSpec, build_benchmark, table_from_db
from nasbench_tools.trainer.datasets import ImageData, Split, load_dataset
from nasbench_tools.trainer.loop import EpochRecord, build_cell_network, train_model
from nasbench_tools.trainer.multiarch import (
    MultiArchModel,
    train_cells_multiarch,
    train_models_multiarch,
)
from nasbench_tools.trainer.recipes import Recipe, get_recipe
from nasbench_tools.trainer.results import Job, ResultsDB

torch.set_num_threads(1)

# Every operation, a dead edge (avg_pool from node 1, which only a `none` edge feeds), a
# cell that is only a skip, and a cell with no live path at all.
NB201_CELLS = [
    Cell.from_string("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"),
    Cell.from_string("|none~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|"),
    Cell.from_string("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"),
    Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
]
NB101_NET = {"C": 8, "N": 1, "num_stacks": 2}


def _small(n_train: int = 128, dtype: torch.dtype = torch.float32) -> ImageData:
    d = load_dataset("digits")
    return ImageData(
        "digits", Split(d.train.x[:n_train].to(dtype), d.train.y[:n_train]),
        Split(d.valid.x[:100].to(dtype), d.valid.y[:100]),
        Split(d.test.x[:100].to(dtype), d.test.y[:100]), 10, d.info,
    )


def _nb101_cells(n: int) -> list[Any]:
    """``n`` NB101 cells with one adjacency matrix and different vertex operations."""
    space = get_space("nb101")
    rng = np.random.default_rng(5)
    labels = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
    while True:
        base = space.sample(rng)
        if base.matrix.shape[0] >= 5:
            break
    out, seen = [], set()
    while len(out) < n:
        ops = ["input", *(labels[i] for i in rng.integers(0, 3, len(base.ops) - 2)), "output"]
        cell = type(base)(base.matrix, tuple(ops))
        if cell.to_string() not in seen and np.array_equal(cell.matrix, base.matrix):
            seen.add(cell.to_string())
            out.append(cell)
    return out


@pytest.fixture
def float64() -> Any:
    """Compute in double precision: a pack and its separate trainings must then agree to
    ~1e-10, so any difference is a logic error, not float32 rounding amplified by training
    (a BatchNorm of a nearly constant channel can turn 1e-7 into 1e-4 in two steps)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _compare(members: list[tuple[Any, int]], data: ImageData, recipe: Recipe,
             monkeypatch: pytest.MonkeyPatch, tol: float = 1e-9) -> None:
    """Train ``members`` packed and one by one; losses and trained weights must agree."""
    captured: list[MultiArchModel] = []

    class Spy(MultiArchModel):
        def __init__(self, models: Any) -> None:
            super().__init__(models)
            captured.append(self)

    monkeypatch.setattr(multiarch_mod, "MultiArchModel", Spy)
    nets = [build_cell_network(c, data, recipe, s) for c, s in members]
    start = [MultiArchModel(nets).unpack(j) for j in range(len(nets))]
    packed = train_models_multiarch(nets, data, recipe, seeds=[s for _, s in members])
    trained = captured[0]
    for j, (cell, seed) in enumerate(members):
        net = build_cell_network(cell, data, recipe, seed)
        ref0 = {k: v.clone() for k, v in net.state_dict().items()}
        # the pack starts from exactly the member's own initialisation
        assert set(start[j]) == set(ref0)
        assert all(torch.equal(start[j][k], v) for k, v in ref0.items())
        single = train_model(net, data, recipe, seed=seed)
        a, b = single.final, packed[j].final
        for key in ("train_loss", "val_loss", "test_loss"):
            assert a[key] == pytest.approx(b[key], rel=tol, abs=tol), (j, key)
        assert a["train_accuracy"] == b["train_accuracy"], j
        assert packed[j].params == single.params
        moved = False
        after = trained.unpack(j)
        for k, v in net.state_dict().items():
            assert torch.allclose(after[k].double(), v.double(), atol=tol, rtol=0), (j, k)
            moved |= not torch.equal(ref0[k], v)
        assert moved


@pytest.mark.parametrize(("prune", "bn_recalibrate"), [(True, False), (False, True)])
def test_nb201_pack_equals_separate_trainings(prune: bool, bn_recalibrate: bool, float64: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Two steps (128 images, batch 64): optimiser state and schedule are exercised, and the
    # float-order differences stay at rounding level. Cells differ, seeds repeat across cells.
    recipe = get_recipe("embedded", epochs=1, bn_recalibrate=bn_recalibrate,
                        network={"C": 8, "N": 1, "prune": prune})
    members = [(NB201_CELLS[0], 3), (NB201_CELLS[1], 3), (NB201_CELLS[2], 5),
               (NB201_CELLS[3], 3), (NB201_CELLS[1], 8)]
    _compare(members, _small(dtype=torch.float64), recipe, monkeypatch)


def test_nb201_pack_equals_separate_trainings_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    # In float32 only the rounding differs; a seed's weights after two steps agree to ~1e-4
    # (see the float64 fixture), its losses to 1e-4.
    recipe = get_recipe("embedded", epochs=1)
    members = [(NB201_CELLS[0], 3), (NB201_CELLS[1], 3), (NB201_CELLS[1], 4)]
    _compare(members, _small(), recipe, monkeypatch, tol=1e-3)


def test_nb101_pack_equals_separate_trainings(float64: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = get_recipe("nb101-4", epochs=1, batch_size=64, augment=False, network=NB101_NET)
    cells = _nb101_cells(3)
    members = [(cells[0], 0), (cells[1], 0), (cells[2], 1), (cells[0], 2)]
    _compare(members, _small(dtype=torch.float64), recipe, monkeypatch)


def test_augmentation_is_each_members_own() -> None:
    d = _small(64)
    pad = torch.nn.functional.pad
    big = ImageData("digits", Split(pad(d.train.x, (4, 4, 4, 4)), d.train.y),
                    Split(pad(d.valid.x[:50], (4, 4, 4, 4)), d.valid.y[:50]),
                    Split(pad(d.test.x[:50], (4, 4, 4, 4)), d.test.y[:50]), 10)
    recipe = get_recipe("embedded", epochs=1, augment=True, network={"C": 4, "N": 1})
    members = [(NB201_CELLS[0], 0), (NB201_CELLS[1], 5)]
    packed = train_cells_multiarch(members, big, recipe)
    for (cell, seed), res in zip(members, packed):
        single = train_model(build_cell_network(cell, big, recipe, seed), big, recipe, seed=seed)
        assert single.final["train_loss"] == pytest.approx(res.final["train_loss"], rel=1e-4)


def test_forward_equals_each_network_in_train_and_eval_mode() -> None:
    space = get_space("nb201")
    rng = np.random.default_rng(3)
    recipe = get_recipe("quick-cpu", network={"C": 4, "N": 1})
    data = _small(64)
    nets = [build_cell_network(space.sample(rng), data, recipe, s) for s in range(6)]
    nets += [build_cell_network(c, data, get_recipe("quick-cpu", network=NB101_NET), s)
             for s, c in enumerate(_nb101_cells(2))]
    for group in (nets[:6], nets[6:]):
        model = MultiArchModel(group)
        x = torch.randn(len(group), 8, 3, 8, 8)
        with torch.no_grad():
            out = model.train()(x)
            for j, net in enumerate(group):
                assert torch.allclose(out[j], net.train()(x[j]), atol=1e-4, rtol=1e-4)
            shared = model.eval()(x[0])
            for j, net in enumerate(group):
                assert torch.allclose(shared[j], net.eval()(x[0]), atol=1e-4, rtol=1e-4)


def test_resume_after_interruption_is_bit_identical(tmp_path: Path) -> None:
    data = _small(128)
    recipe = get_recipe("embedded", epochs=3, network={"C": 4, "N": 1, "prune": True})
    members = [(NB201_CELLS[0], 0), (NB201_CELLS[1], 1)]
    full = train_cells_multiarch(members, data, recipe)

    class Stop(Exception):
        pass

    def stop_after_epoch_2(member: int, rec: EpochRecord) -> None:
        if rec.epoch == 2 and member == 1:
            raise Stop

    ckpt = tmp_path / "pack.pt"
    with pytest.raises(Stop):
        train_cells_multiarch(members, data, recipe, checkpoint=ckpt,
                              callbacks=[stop_after_epoch_2])
    resumed = train_cells_multiarch(members, data, recipe, checkpoint=ckpt)
    assert [r.resumed_from for r in resumed] == [2, 2]
    for a, b in zip(full, resumed):
        for ra, rb in zip(a.records, b.records):
            assert {k: v for k, v in ra.metrics().items() if not k.endswith("_time")} == \
                   {k: v for k, v in rb.metrics().items() if not k.endswith("_time")}
    # Another pack is another run: its checkpoint is refused, not silently reused.
    with pytest.raises(OutOfDomainError, match="another run"):
        train_cells_multiarch(members[::-1], data, recipe, checkpoint=ckpt)


def test_invalid_packs_are_refused() -> None:
    data = _small(64)
    recipe = get_recipe("quick-cpu", network={"C": 4, "N": 1})
    with pytest.raises(OutOfDomainError, match="distinct"):
        train_cells_multiarch([(NB201_CELLS[0], 0), (NB201_CELLS[0], 0)], data, recipe)
    with pytest.raises(OutOfDomainError, match="at least one"):
        MultiArchModel([])
    nb201 = build_cell_network(NB201_CELLS[0], data, recipe, 0)
    nb101 = build_cell_network(_nb101_cells(1)[0], data, get_recipe("quick-cpu", network=NB101_NET), 0)
    with pytest.raises(OutOfDomainError, match="one kind"):
        MultiArchModel([nb201, nb101])
    other = build_cell_network(NB201_CELLS[0], data, get_recipe("quick-cpu", network={"C": 8, "N": 1}), 0)
    with pytest.raises(OutOfDomainError, match="differ"):
        MultiArchModel([nb201, other])
    space = get_space("nb101")
    rng = np.random.default_rng(0)
    a, b = space.sample(rng), space.sample(rng)
    while np.array_equal(a.matrix, b.matrix) if a.matrix.shape == b.matrix.shape else False:
        b = space.sample(rng)
    nets = [build_cell_network(c, data, get_recipe("quick-cpu", network=NB101_NET), 0)
            for c in (a, b)]
    with pytest.raises(OutOfDomainError):
        MultiArchModel(nets)


def test_job_keys_and_packing_of_multiarch_jobs() -> None:
    r = get_recipe("quick-cpu")
    cells = [c.to_string() for c in NB201_CELLS[:3]]
    multi = [Job("nb201", c, "digits", r, s, kernel="multiarch") for c in cells for s in (0, 1)]
    packed = [Job("nb201", c, "digits", r, s, kernel="packed") for c in cells for s in (0, 1)]
    single = [Job("nb201", c, "digits", r, s) for c in cells for s in (0, 1)]
    keys = [{j.key for j in jobs} for jobs in (multi, packed, single)]
    assert all(len(k) == 6 for k in keys)
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2])
    # any NB201 cells share a pack; the pack size is bounded
    assert [[(j.cell, j.seed) for j in t] for t in executors.pack_tasks(multi, max_pack=4)] == \
        [[(j.cell, j.seed) for j in multi[:4]], [(j.cell, j.seed) for j in multi[4:]]]
    assert len(executors.pack_tasks(multi)) == 1
    # NB101 cells are grouped by adjacency matrix, whatever their order
    same = [c.to_string() for c in _nb101_cells(2)]
    space = get_space("nb101")
    rng = np.random.default_rng(1)
    other = space.sample(rng)
    while other.matrix.shape == space.parse(same[0]).matrix.shape and np.array_equal(
            other.matrix, space.parse(same[0]).matrix):
        other = space.sample(rng)
    order = [same[0], other.to_string(), same[1]]
    jobs101 = [Job("nb101", c, "digits", r, 0, kernel="multiarch") for c in order]
    tasks = executors.pack_tasks(jobs101)
    assert [[j.cell for j in t] for t in tasks] == [[same[0], same[1]], [other.to_string()]]


def test_build_bench_with_the_multiarch_kernel(tmp_path: Path) -> None:
    recipe = get_recipe("embedded", epochs=1, network={"C": 4, "N": 1, "prune": True})
    spec = BuildSpec("nb201", "digits", recipe, seeds=(0, 1), cells=3, kernel="multiarch")
    calls: list[int] = []

    def flaky(jobs):  # type: ignore[no-untyped-def]
        calls.append(len(jobs))
        if len(calls) == 1:
            raise RuntimeError("worker lost")
        return executors.run_job_pack(jobs)

    db = ResultsDB(tmp_path / "runs.sqlite")
    with executors.make_executor("serial") as ex:
        first = executors.run_jobs(spec.jobs(), db, ex, pack_fn=flaky, max_pack=4)
    # the first pack (4 trainings) was lost whole, the second (2) stored
    assert calls == [4, 2] and first.stored == 2 and len(first.failed) == 4
    with executors.make_executor("serial") as ex:
        second = executors.run_jobs(spec.jobs(), db, ex, pack_fn=flaky, max_pack=4)
    assert calls == [4, 2, 4] and second.stored == 4 and len(db) == 6
    db.close()
    # build_benchmark on the same database trains nothing more and tabulates all 3 cells
    out = build_benchmark(spec, tmp_path / "runs.sqlite")
    assert out.summary.submitted == 0 and len(out.table.keys) == 3
    assert out.table.provenance["build"]["kernel"] == "multiarch"
    # each training is its own: equal to training its pack again directly (deterministic)
    db = ResultsDB(tmp_path / "runs.sqlite")
    jobs = spec.jobs()
    again = executors.run_job_pack(jobs[4:])
    for job, res in zip(jobs[4:], again):
        stored = db.get(job.key)
        assert stored["records"][0]["val_loss"] == res["records"][0]["val_loss"]
    table = table_from_db(db, spec)
    assert not np.isnan(table.datasets["digits"].values).any()


def test_train_fn_with_the_multiarch_kernel_averages_the_packed_seeds() -> None:
    from nasbench_tools.trainer.evaluator_fn import make_train_fn

    fn = make_train_fn("digits", "embedded", seeds=(0, 1), kernel="multiarch", epochs=1,
                       network={"C": 4, "N": 1, "prune": True})
    out = fn(NB201_CELLS[0], seed=3)
    ref = train_cells_multiarch([(NB201_CELLS[0], 3), (NB201_CELLS[0], 4)], "digits", fn.recipe)
    assert out["val_accuracy"] == pytest.approx(np.mean([r.final["val_accuracy"] for r in ref]))
    assert out["epochs"] == 1.0


def test_evaluation_in_sub_batches_gives_the_logits_of_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    # _evaluate runs the pack on sub-batches (multiarch.EVAL_CHUNK images); in eval mode each
    # image is computed on its own, so the logits are those of one big batch up to the
    # rounding of oneDNN's batch-size-dependent convolution algorithms.
    data = _small(64)
    recipe = get_recipe("embedded", network={"C": 4, "N": 1, "prune": True})
    model = MultiArchModel([build_cell_network(c, data, recipe, s)
                            for s, c in enumerate(NB201_CELLS)]).eval()
    with torch.no_grad():
        whole = model(data.valid.x)
    seen: list[torch.Tensor] = []
    original = multiarch_mod._evaluate_members

    def spy(forward: Any, size: int, split: Split, batch_size: int) -> Any:
        seen.append(forward(split.x))
        return original(forward, size, split, batch_size)

    monkeypatch.setattr(multiarch_mod, "EVAL_CHUNK", 30)
    monkeypatch.setattr(multiarch_mod, "_evaluate_members", spy)
    multiarch_mod._evaluate(model, data.valid, 1000)
    assert seen[0].shape == whole.shape
    assert torch.allclose(seen[0], whole, rtol=0, atol=1e-6)


def test_small_image_batchnorm_equals_torch_batchnorm(float64: Any) -> None:
    # On images of at most SMALL_BN_PIXELS pixels a pack's BatchNorm normalises channel-major:
    # the same output, gradients and running statistics as torch's BatchNorm2d.
    torch.manual_seed(0)
    ref = torch.nn.BatchNorm2d(6)
    grouped = multiarch_mod._group_bn([ref])
    assert isinstance(grouped, torch.nn.BatchNorm2d)
    ref = ref.train()
    x = torch.randn(5, 6, 2, 2, requires_grad=True)
    for _ in range(2):
        a, b = ref(x), grouped(x)
        assert torch.allclose(a, b, atol=1e-12)
        ga = torch.autograd.grad(a.square().sum(), (x, ref.weight))
        gb = torch.autograd.grad(b.square().sum(), (x, grouped.weight))
        assert all(torch.allclose(u, v, atol=1e-12) for u, v in zip(ga, gb))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.allclose(getattr(ref, name).double(), getattr(grouped, name).double(), atol=1e-12)


def test_checkpoint_of_another_kernel_layout_is_refused(tmp_path: Path) -> None:
    # A pack checkpoint whose grouped modules are laid out differently (another version of
    # the kernel) is refused with FormatError, not a bare RuntimeError from torch.
    from nasbench_tools.errors import FormatError

    data = _small(64)
    recipe = get_recipe("embedded", epochs=1, network={"C": 4, "N": 1, "prune": True})
    members = [(NB201_CELLS[0], 0), (NB201_CELLS[1], 1)]
    ckpt = tmp_path / "pack.pt"
    train_cells_multiarch(members, data, recipe, checkpoint=ckpt)
    state = torch.load(ckpt, weights_only=True)
    state["model"] = {k.replace("cells.0", "cells.zero"): v for k, v in state["model"].items()}
    torch.save(state, ckpt)
    with pytest.raises(FormatError, match="does not fit"):
        train_cells_multiarch(members, data, get_recipe(recipe), checkpoint=ckpt)


def test_no_gradient_parameters_shortcut_agrees_with_the_probe() -> None:
    # _unused_parameters skips its gradient probe when every cell holds exactly its live
    # edges; whatever the path, it must name the parameters autograd leaves without gradient.
    space = get_space("nb201")
    rng = np.random.default_rng(7)
    data = _small(64)
    cells = NB201_CELLS + [space.sample(rng) for _ in range(30)]
    for prune in (True, False):
        recipe = get_recipe("embedded", network={"C": 4, "N": 1, "prune": prune})
        for cell in cells:
            net = build_cell_network(cell, data, recipe, 0).eval()
            names, params = zip(*net.named_parameters())
            x = torch.zeros(2, 3, 8, 8)
            x[1] = 1.0
            grads = torch.autograd.grad(net(x).sum(), params, allow_unused=True)
            expected = {k for k, g in zip(names, grads) if g is None}
            assert multiarch_mod._unused_parameters(net) == expected, (cell.to_string(), prune)
    # the cell without any path has parameters without gradient, pruned or not
    assert multiarch_mod._unused_parameters(build_cell_network(NB201_CELLS[3], data, recipe, 0))
