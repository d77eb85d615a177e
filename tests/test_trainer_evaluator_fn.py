"""The train function handed to the searchers' TrainerEvaluator."""

from __future__ import annotations

import pytest

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.trainer.evaluator_fn import make_train_fn

CELL = Cell.from_string("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|")


def test_train_fn_averages_seeds_and_sums_cost() -> None:
    one = make_train_fn("digits", "quick-cpu", seeds=(0,), epochs=1, network={"C": 4, "N": 1})
    two = make_train_fn("digits", "quick-cpu", seeds=(0, 1), epochs=1, network={"C": 4, "N": 1})
    a, b = one(CELL), two(CELL)
    assert a["val_accuracy"] == one(CELL)["val_accuracy"]  # deterministic
    assert 0 <= a["val_accuracy"] <= 100 and a["epochs"] == 1.0 and a["params"] > 0
    other = make_train_fn("digits", "quick-cpu", seeds=(1,), epochs=1,
                          network={"C": 4, "N": 1})(CELL)
    assert b["val_accuracy"] == pytest.approx((a["val_accuracy"] + other["val_accuracy"]) / 2)


def test_train_fn_plugs_into_trainer_evaluator() -> None:
    evaluators = pytest.importorskip("nasbench_tools.search.evaluators")
    fn = make_train_fn("digits", "quick-cpu", seeds=(0,), epochs=1, network={"C": 4, "N": 1})
    ev = evaluators.TrainerEvaluator(fn, seed=1)
    first = ev.evaluate(CELL)
    assert first.value == pytest.approx(fn(CELL, 1)["val_accuracy"])
    assert first.cost > 0 and ev.evaluate(CELL).value == first.value  # cached


def test_train_fn_fails_early_on_bad_settings(tmp_path: object) -> None:
    with pytest.raises(OutOfDomainError, match="'digits'"):
        make_train_fn("svhn")
    with pytest.raises(FormatError, match="does not exist"):
        make_train_fn("cifar10", data_root="/nonexistent/cifar")
    with pytest.raises(OutOfDomainError, match="preset"):
        make_train_fn("digits", "nb201-9000")


def test_packed_kernel_trains_every_seed_and_averages_like_single() -> None:
    import pytest

    from nasbench_tools.errors import OutOfDomainError
    from nasbench_tools.spaces.nb201 import Cell
    from nasbench_tools.trainer.evaluator_fn import make_train_fn

    cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    single = make_train_fn("digits", "quick-cpu", seeds=(0, 1), epochs=1)(cell, seed=3)
    packed = make_train_fn("digits", "quick-cpu", seeds=(0, 1), epochs=1, kernel="packed")(
        cell, seed=3)
    assert set(single) == set(packed) and packed["params"] == single["params"]
    # Same seeds 3 and 4, other float order: the averages agree closely, not exactly.
    assert packed["val_loss"] == pytest.approx(single["val_loss"], rel=0.05)
    with pytest.raises(OutOfDomainError, match="kernel"):
        make_train_fn(kernel="gpu")
