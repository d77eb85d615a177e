"""The seed-packed training kernel: same computation as separate trainings, resumable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.networks import build_network
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.trainer.datasets import ImageData, Split, load_dataset
from nasbench_tools.trainer.loop import EpochRecord, build_cell_network, train_model
from nasbench_tools.trainer.packed import PackedModel, train_cell_seeds, train_models_packed
from nasbench_tools.trainer.recipes import get_recipe

torch.set_num_threads(1)

CELL = Cell.from_string(
    "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
)


def _small(n_train: int = 128, augment_shape: bool = False) -> ImageData:
    d = load_dataset("digits")
    return ImageData(
        "digits", Split(d.train.x[:n_train], d.train.y[:n_train]),
        Split(d.valid.x[:100], d.valid.y[:100]), Split(d.test.x[:100], d.test.y[:100]),
        10, d.info,
    )


@pytest.mark.parametrize("bn_recalibrate", [False, True])
def test_packed_equals_separate_trainings_to_float_rounding(bn_recalibrate: bool) -> None:
    # Two steps (128 images, batch 64): long enough to exercise optimiser state and the
    # schedule, short enough that float-order differences stay at rounding level.
    data = _small()
    recipe = get_recipe("embedded", epochs=1, bn_recalibrate=bn_recalibrate)
    seeds = (3, 7, 11)
    packed_nets = [build_cell_network(CELL, data, recipe, s) for s in seeds]
    packed = train_models_packed(packed_nets, data, recipe, seeds=seeds)
    model = PackedModel(packed_nets)  # fresh stack of the same initial weights
    for j, s in enumerate(seeds):
        net = build_cell_network(CELL, data, recipe, s)
        start = model.unpack(j)
        assert all(torch.equal(v, start[k]) for k, v in net.state_dict().items())
        single = train_model(net, data, recipe, seed=s)
        a, b = single.final, packed[j].final
        for key in ("train_loss", "val_loss", "test_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-5), (s, key)
        assert a["train_accuracy"] == b["train_accuracy"]
        assert packed[j].info["seed"] == s and packed[j].info["pack"] == 3
        assert packed[j].params == single.params


def test_packed_training_moves_the_weights_like_the_single_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The packed model after training must hold the single-trained weights, not its start.
    from nasbench_tools.trainer import packed as packed_mod

    data = _small(64)
    recipe = get_recipe("embedded", epochs=1)
    nets = [build_cell_network(CELL, data, recipe, s) for s in (0, 1)]
    start = PackedModel(nets).unpack(1)
    captured: list[PackedModel] = []

    class Spy(PackedModel):
        def __init__(self, models: list[torch.nn.Module]) -> None:
            super().__init__(models)
            captured.append(self)

    monkeypatch.setattr(packed_mod, "PackedModel", Spy)
    train_models_packed(nets, data, recipe, seeds=(0, 1))
    single = build_cell_network(CELL, data, recipe, 1)
    train_model(single, data, recipe, seed=1)
    trained = captured[0].unpack(1)
    moved = False
    for k, v in single.state_dict().items():
        assert torch.allclose(trained[k].float(), v.float(), atol=2e-5), k
        moved |= not torch.equal(start[k], v)
    assert moved


@pytest.mark.parametrize("space", ["nb201", "nb101", "nats_sss"])
def test_packed_forward_equals_each_network(space: str) -> None:
    sp = get_space(space)
    cell = sp.sample(np.random.default_rng(3))
    small = {"nb201": {"C": 4, "N": 1}, "nb101": {"C": 8, "N": 1, "num_stacks": 1},
             "nats_sss": {}}[space]
    nets = []
    for s in range(3):
        torch.manual_seed(s)
        nets.append(build_network(cell, dataset="cifar10", **small))
    model = PackedModel(nets)
    x = torch.randn(3, 4, 3, 16, 16)
    with torch.no_grad():
        out = model(x)
        for j, net in enumerate(nets):
            assert torch.allclose(out[j], net.train()(x[j]), atol=1e-4, rtol=1e-4)
        model.eval()
        shared = model(x[0], shared=True)
        for j, net in enumerate(nets):
            assert torch.allclose(shared[j], net.eval()(x[0]), atol=1e-4, rtol=1e-4)


def test_resume_after_interruption_is_bit_identical(tmp_path: Path) -> None:
    data = _small(128)
    recipe = get_recipe("embedded", epochs=3)
    full = train_cell_seeds(CELL, data, recipe, seeds=(0, 1))

    class Stop(Exception):
        pass

    def stop_after_epoch_2(seed: int, rec: EpochRecord) -> None:
        if rec.epoch == 2 and seed == 1:
            raise Stop

    ckpt = tmp_path / "pack.pt"
    with pytest.raises(Stop):
        train_cell_seeds(CELL, data, recipe, seeds=(0, 1), checkpoint=ckpt,
                         callbacks=[stop_after_epoch_2])
    resumed = train_cell_seeds(CELL, data, recipe, seeds=(0, 1), checkpoint=ckpt)
    assert [r.resumed_from for r in resumed] == [2, 2]
    for a, b in zip(full, resumed):
        for ra, rb in zip(a.records, b.records):
            assert {k: v for k, v in ra.metrics().items() if not k.endswith("_time")} == \
                   {k: v for k, v in rb.metrics().items() if not k.endswith("_time")}
    # Another seed list is another run: its checkpoint is refused, not silently reused.
    with pytest.raises(OutOfDomainError, match="another run"):
        train_cell_seeds(CELL, data, recipe, seeds=(0, 2), checkpoint=ckpt)


def test_seeds_must_be_distinct_and_match_the_models() -> None:
    data = _small(64)
    recipe = get_recipe("embedded", epochs=1)
    nets = [build_cell_network(CELL, data, recipe, 0) for _ in range(2)]
    with pytest.raises(OutOfDomainError, match="distinct seed"):
        train_models_packed(nets, data, recipe, seeds=(0, 0))
    with pytest.raises(OutOfDomainError, match="one distinct seed per model"):
        train_models_packed(nets, data, recipe, seeds=(0, 1, 2))
    with pytest.raises(OutOfDomainError, match="at least one"):
        PackedModel([])


def test_augmented_recipe_packs_each_seeds_own_augmentation() -> None:
    d = load_dataset("digits")
    pad = torch.nn.functional.pad
    big = ImageData("digits", Split(pad(d.train.x[:64], (4, 4, 4, 4)), d.train.y[:64]),
                    Split(pad(d.valid.x[:50], (4, 4, 4, 4)), d.valid.y[:50]),
                    Split(pad(d.test.x[:50], (4, 4, 4, 4)), d.test.y[:50]), 10)
    recipe = get_recipe("embedded", epochs=1, augment=True)
    packed = train_cell_seeds(CELL, big, recipe, seeds=(0, 5))
    for j, s in enumerate((0, 5)):
        net = build_cell_network(CELL, big, recipe, s)
        single = train_model(net, big, recipe, seed=s)
        assert single.final["train_loss"] == pytest.approx(packed[j].final["train_loss"], rel=1e-4)
