"""Recipes (official hyper-parameters) and datasets (real on-disk layouts, clear errors)."""

from __future__ import annotations

import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_tools.errors import FormatError, OutOfDomainError, UnsafePickleError
from nasbench_tools.trainer.datasets import load_dataset, safe_pickle_load
from nasbench_tools.trainer.recipes import PRESETS, get_recipe, make_optimizer, make_scheduler


def test_nb201_presets_are_the_official_recipe() -> None:
    for name, epochs in (("nb201-200", 200), ("nb201-12", 12)):
        r = get_recipe(name)
        assert (r.optimizer, r.lr, r.momentum, r.nesterov) == ("sgd", 0.1, 0.9, True)
        assert (r.weight_decay, r.batch_size, r.epochs, r.schedule) == (5e-4, 256, epochs, "cosine")
        assert r.eta_min == 0.0 and r.augment


def test_nb101_presets_are_the_official_recipe() -> None:
    for e in (4, 12, 36, 108):
        r = get_recipe(f"nb101-{e}")
        assert (r.optimizer, r.lr, r.momentum, r.rmsprop_alpha, r.rmsprop_eps) == (
            "rmsprop", 0.2, 0.9, 0.9, 1.0)
        assert (r.weight_decay, r.batch_size, r.epochs, r.schedule) == (1e-4, 256, e, "cosine")
    assert {"quick-cpu", "embedded"} <= set(PRESETS)


def test_optimizer_and_cosine_schedule_follow_the_recipe() -> None:
    net = torch.nn.Linear(3, 2)
    r = get_recipe("nb201-12")
    opt = make_optimizer(net.parameters(), r)
    assert isinstance(opt, torch.optim.SGD)
    g = opt.param_groups[0]
    assert g["nesterov"] and g["momentum"] == 0.9 and g["weight_decay"] == 5e-4
    sched = make_scheduler(opt, r, steps_per_epoch=5)
    lrs = []
    for _ in range(60):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[30] == pytest.approx(0.05)  # half-way through a cosine schedule
    assert all(a >= b for a, b in itertools.pairwise(lrs))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_recipe_errors_name_the_allowed_values() -> None:
    with pytest.raises(OutOfDomainError, match="quick-cpu"):
        get_recipe("nb201-1000")
    with pytest.raises(OutOfDomainError, match="batch_size"):
        get_recipe("quick-cpu", batch_sise=3)
    with pytest.raises(OutOfDomainError, match="'sgd' or 'rmsprop'"):
        get_recipe("quick-cpu", optimizer="adam")
    with pytest.raises(OutOfDomainError, match="epochs"):
        get_recipe("quick-cpu", epochs=0)


def test_digits_is_real_and_split_disjointly() -> None:
    d = load_dataset("digits", cache=False)
    assert (len(d.train), len(d.valid), len(d.test)) == (1000, 397, 400)
    assert d.image_shape == (3, 8, 8) and d.num_classes == 10
    allx = torch.cat([d.train.x, d.valid.x, d.test.x]).flatten(1)
    # 1,797 images, all distinct rows after normalisation would be too strong (digits has
    # duplicates); but the split must be a partition: sizes add up and labels cover 0..9.
    assert allx.shape[0] == 1797
    for s in (d.train, d.valid, d.test):
        assert set(s.y.tolist()) == set(range(10))
    assert abs(float(d.train.x.mean())) < 1e-4  # standardised on the training split
    again = load_dataset("digits", cache=False)
    assert torch.equal(again.valid.y, d.valid.y)


def _write(path: Path, obj: object) -> None:
    path.write_bytes(pickle.dumps(obj))


def _fake_cifar10(root: Path, n: int = 6) -> None:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        _write(root / f"data_batch_{i}", {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                          b"labels": [int(x) for x in rng.integers(0, 10, n)]})
    _write(root / "test_batch", {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                 b"labels": [int(x) for x in rng.integers(0, 10, n)]})


def test_cifar10_python_batches(tmp_path: Path) -> None:
    _fake_cifar10(tmp_path)
    d = load_dataset("cifar10", tmp_path, cache=False)
    assert d.train.x.shape == (30, 3, 32, 32) and len(d.test) == 6
    v = load_dataset("cifar10-valid", tmp_path, cache=False)
    assert (len(v.train), len(v.valid), len(v.test)) == (15, 15, 6)
    assert v.info["split"].startswith("seeded")
    # the official split file wins when present
    (tmp_path / "cifar-split.txt").write_text(json.dumps(
        {"train": ["int", list(range(0, 30, 2))], "valid": ["int", list(range(1, 30, 2))]}))
    w = load_dataset("cifar10-valid", tmp_path, cache=False)
    assert w.info["split"] == "cifar-split.txt"
    raw = safe_pickle_load(tmp_path / "data_batch_1")
    first = np.asarray(raw[b"data"][0], dtype=np.float32).reshape(3, 32, 32)
    # train index 0 of the split is raw image 0; check it up to the affine normalisation
    corr = np.corrcoef(first.ravel(), w.train.x[0].numpy().ravel())[0, 1]
    assert corr > 0.99


def test_cifar100_and_imagenet16_layouts(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    c100 = tmp_path / "c100"
    c100.mkdir()
    _write(c100 / "train", {"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8),
                            "fine_labels": list(range(8)), "coarse_labels": [0] * 8})
    _write(c100 / "test", {"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                           "fine_labels": list(range(10)), "coarse_labels": [0] * 10})
    d = load_dataset("cifar100", c100, cache=False)
    assert (len(d.train), len(d.valid), len(d.test), d.num_classes) == (8, 5, 5, 100)
    im = tmp_path / "im16"
    im.mkdir()
    for i in range(1, 11):
        # labels are 1-based; 121 and 500 lie outside the 120 kept classes
        _write(im / f"train_data_batch_{i}", {"data": rng.integers(0, 256, (3, 768), dtype=np.uint8),
                                              "labels": [1, 120, 500]})
    _write(im / "val_data", {"data": rng.integers(0, 256, (4, 768), dtype=np.uint8),
                             "labels": [1, 2, 121, 3]})
    d = load_dataset("ImageNet16-120", im, cache=False)
    assert d.train.x.shape == (20, 3, 16, 16)
    assert sorted(set(d.train.y.tolist())) == [0, 119]
    assert len(d.valid) + len(d.test) == 3


def test_missing_and_malformed_datasets_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(OutOfDomainError, match="data-root"):
        load_dataset("cifar10", cache=False)
    with pytest.raises(FormatError, match="does not exist"):
        load_dataset("cifar10", tmp_path / "nowhere", cache=False)
    with pytest.raises(FormatError, match="lacks 'data_batch_1'"):
        load_dataset("cifar10", tmp_path, cache=False)
    with pytest.raises(OutOfDomainError, match="'digits'"):
        load_dataset("mnist-fashion", cache=False)
    _fake_cifar10(tmp_path)
    _write(tmp_path / "data_batch_3", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    with pytest.raises(FormatError, match="data_batch_3 'data' has shape"):
        load_dataset("cifar10", tmp_path, cache=False)
    (tmp_path / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(FormatError, match="data_batch_3"):
        load_dataset("cifar10", tmp_path, cache=False)


class _Evil:
    def __reduce__(self) -> tuple[object, ...]:
        return (print, ("pwned",))


def test_unsafe_pickle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_cifar10(tmp_path)
    _write(tmp_path / "test_batch", {"data": _Evil(), "labels": []})
    with pytest.raises(UnsafePickleError, match=r"builtins\.print"):
        load_dataset("cifar10", tmp_path, cache=False)
    assert "pwned" not in capsys.readouterr().out
