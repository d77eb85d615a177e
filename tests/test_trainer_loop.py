"""The training loop: determinism, per-epoch records, checkpoints and bit-identical resume."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.trainer.datasets import load_dataset
from nasbench_tools.trainer.loop import _augment, train_cell
from nasbench_tools.trainer.recipes import get_recipe

CELL = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"
)
RECIPE = get_recipe("quick-cpu", epochs=3, network={"C": 4, "N": 1})
NON_TIME = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
            "test_loss", "test_accuracy")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _curve(result: object) -> list[tuple[float, ...]]:
    return [tuple(asdict(r)[k] for k in NON_TIME) for r in result.records]  # type: ignore[attr-defined]


def test_same_seed_same_metrics_other_seed_differs() -> None:
    data = load_dataset("digits")
    a = train_cell(CELL, data, RECIPE, seed=5)
    b = train_cell(CELL, data, RECIPE, seed=5)
    c = train_cell(CELL, data, RECIPE, seed=6)
    assert _curve(a) == _curve(b)
    assert _curve(a) != _curve(c)
    assert [r.epoch for r in a.records] == [1, 2, 3]
    lrs = [r.lr for r in a.records]
    assert lrs[0] == pytest.approx(0.1) and lrs[0] > lrs[1] > lrs[2] > 0
    assert a.records[-1].train_time >= a.records[0].train_time > 0
    assert 10 < a.final["val_accuracy"] <= 100  # it learnt something on real digits
    assert a.params == sum(p.numel() for p in _net_params())


def _net_params() -> list[torch.nn.Parameter]:
    from nasbench_tools.networks import build_network

    net = build_network(CELL, "cifar10", num_classes=10, C=4, N=1)
    return [p for p in net.parameters() if p.requires_grad]


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_is_bit_identical(tmp_path: Path) -> None:
    data = load_dataset("digits")
    full = train_cell(CELL, data, RECIPE, seed=11)
    ckpt = tmp_path / "run.pt"

    def stop_after_first(rec: object) -> None:
        if rec.epoch == 1:  # type: ignore[attr-defined]
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_cell(CELL, data, RECIPE, seed=11, checkpoint=ckpt, callbacks=[stop_after_first])
    assert ckpt.is_file()
    resumed = train_cell(CELL, data, RECIPE, seed=11, checkpoint=ckpt)
    assert resumed.resumed_from == 1
    assert _curve(resumed) == _curve(full)
    # a finished checkpoint resumes to the same result without training
    again = train_cell(CELL, data, RECIPE, seed=11, checkpoint=ckpt)
    assert again.resumed_from == 3 and _curve(again) == _curve(full)


def test_checkpoint_of_another_run_or_corrupt_is_refused(tmp_path: Path) -> None:
    data = load_dataset("digits")
    ckpt = tmp_path / "run.pt"
    short = RECIPE.replace(epochs=1)
    train_cell(CELL, data, short, seed=0, checkpoint=ckpt)
    with pytest.raises(OutOfDomainError, match="belongs to another run"):
        train_cell(CELL, data, short, seed=1, checkpoint=ckpt)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(FormatError, match="cannot be read"):
        train_cell(CELL, data, short, seed=0, checkpoint=ckpt)
    assert not list(tmp_path.glob(".run.pt.*"))  # no temporary files left behind


def test_augmentation_is_a_seeded_crop_and_flip() -> None:
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    a = _augment(x, torch.Generator().manual_seed(0))
    b = _augment(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape
    outs = [_augment(x, torch.Generator().manual_seed(s)) for s in range(20)]
    assert any(not torch.equal(o, x) for o in outs)
    # with zero padding, a crop keeps a contiguous window: every non-zero value of the
    # output is a value of the input image
    for o in outs:
        vals = set(o[0].flatten().tolist()) - {0.0}
        assert vals <= set(x[0].flatten().tolist())


def test_augmented_recipe_runs_and_is_deterministic() -> None:
    data = load_dataset("digits")
    r = RECIPE.replace(epochs=1, augment=True)
    assert _curve(train_cell(CELL, data, r, seed=2)) == _curve(train_cell(CELL, data, r, seed=2))
