"""Minibatch sources (digits, CIFAR, ImageNet16-120 layouts) and the HDF5 score cache."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_tools.errors import FormatError, OutOfDomainError, UnsafePickleError
from nasbench_tools.spaces.nb201 import Cell
from predictors.zerocost import get_proxy, make_source, score_cells
from predictors.zerocost.cache import ScoreCache
from predictors.zerocost.data import CifarSource, DigitsSource, ImageNet16Source, safe_load_pickle


def test_digits_are_real_standardised_images() -> None:
    src = DigitsSource(32)
    assert src.images.shape == (1797, 3, 32, 32)
    assert float(src.images.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(src.images.std()) == pytest.approx(1.0, abs=1e-4)
    x, y = src.minibatch(128, np.random.default_rng(0))
    assert x.shape == (128, 3, 32, 32) and y.dtype == torch.int64
    assert len(set(y.tolist())) == 10
    x2, _ = src.minibatch(128, np.random.default_rng(0))
    assert torch.equal(x, x2)
    assert make_source(None, "ImageNet16-120").minibatch(4, np.random.default_rng(0))[0].shape == (4, 3, 16, 16)
    with pytest.raises(OutOfDomainError, match="batch_size"):
        src.minibatch(5000, np.random.default_rng(0))


def _write_cifar(root: Path, n: int = 20) -> None:
    rng = np.random.default_rng(0)
    root.mkdir()
    for i in range(1, 3):
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, n))}
        (root / f"data_batch_{i}").write_bytes(pickle.dumps(batch))


def test_cifar_python_layout(tmp_path: Path) -> None:
    _write_cifar(tmp_path / "cifar-10-batches-py")
    src = make_source(tmp_path / "cifar-10-batches-py", "cifar10")
    assert isinstance(src, CifarSource)
    x, y = src.minibatch(16, np.random.default_rng(0))
    assert x.shape == (16, 3, 32, 32) and int(y.max()) < 10
    assert "40 training images" in src.description
    proxy = get_proxy("naswot", data=tmp_path / "cifar-10-batches-py", batch_size=16,
                      network_overrides={"C": 4, "N": 1})
    assert proxy.metadata["data"] == "cifar10"
    assert np.isfinite(proxy.score([Cell(("nor_conv_3x3",) * 6)])[0])


def test_imagenet16_layout_keeps_120_classes_zero_based(tmp_path: Path) -> None:
    root = tmp_path / "ImageNet16"
    root.mkdir()
    labels = np.array([1, 120, 121, 1000, 5, 7])
    data = np.arange(6 * 768, dtype=np.int64).astype(np.uint8).reshape(6, 768)
    (root / "train_data_batch_1").write_bytes(pickle.dumps({"data": data, "labels": labels.tolist()}))
    src = ImageNet16Source(root)
    assert sorted(src.labels.tolist()) == [0, 4, 6, 119]
    assert src.minibatch(4, np.random.default_rng(0))[0].shape == (4, 3, 16, 16)


def test_missing_or_empty_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutOfDomainError, match=r"not found.*data_batch_1"):
        make_source(tmp_path / "nowhere", "cifar10")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="train"):
        make_source(tmp_path / "empty", "cifar100")


def test_unsafe_pickle_is_refused_before_running(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("echo pwned",))

    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({"data": Evil()}))
    with pytest.raises(UnsafePickleError, match="system"):
        safe_load_pickle(p)
    (tmp_path / "junk").write_bytes(b"not a pickle")
    with pytest.raises(FormatError):
        safe_load_pickle(tmp_path / "junk")


def test_cache_computes_once_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "zc.h5"
    cells = [c for c in map(Cell.from_code, range(9000, 9100)) if c.is_connected()][:4]
    kw = {"batch_size": 8, "network_overrides": {"C": 4, "N": 1}}
    partial = score_cells(get_proxy("naswot", **kw), cells[:2], cache=path)
    calls: list[object] = []
    proxy = get_proxy("naswot", **kw)
    original = proxy.score_cell

    def counting(cell: object) -> float:
        calls.append(cell)
        return original(cell)

    monkeypatch.setattr(proxy, "score_cell", counting)
    full = score_cells(proxy, cells, cache=path)
    assert len(calls) == len({c.hash for c in cells[2:]} - {c.hash for c in cells[:2]})
    np.testing.assert_array_equal(full[:2], partial)
    np.testing.assert_array_equal(full, get_proxy("naswot", **kw).score(cells))
    calls.clear()
    score_cells(proxy, cells, cache=path)
    assert calls == []
    # another seed is another table in the same file
    other = score_cells(get_proxy("naswot", random_state=1, **kw), cells[:1], cache=path)
    assert other[0] != full[0]
    meta = get_proxy("naswot", **kw).metadata
    assert len(ScoreCache(path).read(meta)) == len({c.hash for c in cells})


def test_corrupt_cache_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "zc.h5"
    path.write_bytes(b"garbage")
    with pytest.raises(FormatError):
        ScoreCache(path).read(get_proxy("params").metadata)
