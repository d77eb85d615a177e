"""Minibatch sources for the zero-cost proxies: real images, never random noise.

* :class:`DigitsSource` (the default): the 1,797 8x8 handwritten digits shipped with
  scikit-learn (``sklearn.datasets.load_digits``), bilinearly resized to the dataset's
  resolution (32x32, or 16x16 for ImageNet16-120), replicated to 3 channels and
  standardised (zero mean, unit variance over the whole set). Labels are the digits 0-9.
* :class:`CifarSource`: a CIFAR-10 / CIFAR-100 directory in the official "python" layout
  (``data_batch_1`` ... ``data_batch_5`` / ``train``: pickles with ``data`` uint8 (N, 3072)
  and ``labels`` / ``fine_labels``), normalised with NAS-Bench-201's per-channel mean / std.
* :class:`ImageNet16Source`: ImageNet16-120 as NAS-Bench-201 distributes it
  (``train_data_batch_1`` ... ``train_data_batch_10``: ``data`` uint8 (N, 768), 1-based
  ``labels``); only the first 120 classes are kept, labels become 0-based.

Pickles are read with an allow-list unpickler (numpy arrays only,
:func:`~nasbench_tools.store.converters.safe_pickle.load_data_batch`); anything else raises
:class:`~nasbench_tools.errors.UnsafePickleError` before any code runs.

Examples
--------
>>> import numpy as np
>>> src = make_source(None, "cifar10")
>>> x, y = src.minibatch(8, np.random.default_rng(0))
>>> tuple(x.shape), int(y.max()) < 10
((8, 3, 32, 32), True)
>>> src.description
'digits: sklearn load_digits 8x8 -> 32x32 bilinear, 3 channels, standardised'
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nasbench_tools.errors import FormatError, OutOfDomainError, allowed
from nasbench_tools.networks import dataset_spec
from nasbench_tools.store.converters.safe_pickle import load_data_batch

__all__ = [
    "SOURCES",
    "CifarSource",
    "DataSource",
    "DigitsSource",
    "ImageNet16Source",
    "make_source",
    "safe_load_pickle",
]

logger = logging.getLogger(__name__)

# Per-channel mean / std (0-255 scale) used by NAS-Bench-201's data pipeline.
_NORMALISATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
    "cifar10-valid": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
    "cifar100": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
    "ImageNet16-120": ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09)),
}

#: Load a data pickle, allowing numpy arrays only (``latin1`` for Python 2 pickles):
#: :func:`nasbench_tools.store.converters.safe_pickle.load_data_batch`, under its old name.
safe_load_pickle = load_data_batch


def _get(d: dict[Any, Any], *keys: str) -> Any:
    for k in keys:
        for kk in (k, k.encode()):
            if kk in d:
                return d[kk]
    raise FormatError(f"batch has none of the keys {allowed(keys)}; found {allowed(list(d)[:8])}")


class DataSource(ABC):
    """A provider of one real minibatch ``(x, y)`` for a dataset."""

    #: Short name used in cache keys.
    name: str = ""

    @property
    @abstractmethod
    def description(self) -> str:
        """Human-readable statement of which data is used (recorded with every score)."""

    @abstractmethod
    def minibatch(
        self, batch_size: int, rng: np.random.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``batch_size`` distinct images: float32 ``(B, 3, R, R)`` and int64 labels."""


def _check_batch(batch_size: int, available: int) -> None:
    if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= available:
        raise OutOfDomainError(
            f"batch_size must be an integer in 1..{available} for this data source, got {batch_size!r}"
        )


class DigitsSource(DataSource):
    """scikit-learn's digits, resized to ``resolution``, 3 channels, standardised."""

    name = "digits"

    def __init__(self, resolution: int = 32) -> None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images.astype(np.float32))[:, None]
        images = F.interpolate(
            images, size=(resolution, resolution), mode="bilinear", align_corners=False
        )
        images = (images - images.mean()) / images.std()
        self.images = images.expand(-1, 3, -1, -1).contiguous()
        self.labels = torch.from_numpy(digits.target.astype(np.int64))
        self.resolution = resolution

    @property
    def description(self) -> str:
        r = self.resolution
        return f"digits: sklearn load_digits 8x8 -> {r}x{r} bilinear, 3 channels, standardised"

    def minibatch(
        self, batch_size: int, rng: np.random.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_batch(batch_size, len(self.labels))
        idx = torch.from_numpy(rng.choice(len(self.labels), size=batch_size, replace=False))
        return self.images[idx].clone(), self.labels[idx].clone()


class _ArraySource(DataSource):
    """Images held as uint8 ``(N, 3, R, R)`` plus labels, normalised per channel."""

    def __init__(self, data: np.ndarray, labels: np.ndarray, dataset: str, what: str) -> None:
        mean, std = _NORMALISATION[dataset]
        self.data, self.labels = data, labels.astype(np.int64)
        self._mean = torch.tensor(mean).view(1, 3, 1, 1) / 255.0
        self._std = torch.tensor(std).view(1, 3, 1, 1) / 255.0
        self._what = what

    @property
    def description(self) -> str:
        return self._what

    def minibatch(
        self, batch_size: int, rng: np.random.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_batch(batch_size, len(self.labels))
        idx = rng.choice(len(self.labels), size=batch_size, replace=False)
        x = torch.from_numpy(self.data[idx].astype(np.float32) / 255.0)
        return (x - self._mean) / self._std, torch.from_numpy(self.labels[idx])


def _require_dir(path: str | os.PathLike[str], dataset: str, expected: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise OutOfDomainError(
            f"data directory for {dataset!r} not found: {str(p)!r}; pass an existing directory "
            f"holding {expected}, or data=None / 'digits' for the built-in digits"
        )
    return p


class CifarSource(_ArraySource):
    """A CIFAR-10 / CIFAR-100 directory in the official python-pickle layout (training split)."""

    def __init__(self, path: str | os.PathLike[str], dataset: str = "cifar10") -> None:
        hundred = dataset == "cifar100"
        names = ["train"] if hundred else [f"data_batch_{i}" for i in range(1, 6)]
        root = _require_dir(path, dataset, allowed(names))
        files = [root / n for n in names if (root / n).is_file()]
        if not files:
            raise FormatError(f"{root}: none of the {dataset} batch files {allowed(names)} exists")
        datas, labels = [], []
        for f in files:
            batch = load_data_batch(f)
            datas.append(np.asarray(_get(batch, "data"), dtype=np.uint8))
            labels.append(np.asarray(_get(batch, "fine_labels" if hundred else "labels")))
        data = np.concatenate(datas)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise FormatError(
                f"{root}: expected rows of 3072 bytes (3x32x32), got shape {data.shape}"
            )
        self.name = dataset
        super().__init__(
            data.reshape(-1, 3, 32, 32),
            np.concatenate(labels),
            dataset,
            f"{dataset}: {len(data)} training images from {root}",
        )


class ImageNet16Source(_ArraySource):
    """ImageNet16-120 in NAS-Bench-201's layout (``train_data_batch_*``, 1-based labels)."""

    name = "ImageNet16-120"

    def __init__(
        self, path: str | os.PathLike[str], dataset: str = "ImageNet16-120", num_classes: int = 120
    ) -> None:
        names = [f"train_data_batch_{i}" for i in range(1, 11)]
        root = _require_dir(path, dataset, "train_data_batch_1 ... train_data_batch_10")
        files = [root / n for n in names if (root / n).is_file()]
        if not files:
            raise FormatError(f"{root}: none of the ImageNet16 files {allowed(names)} exists")
        datas, labels = [], []
        for f in files:
            batch = load_data_batch(f)
            d = np.asarray(_get(batch, "data"), dtype=np.uint8)
            lab = np.asarray(_get(batch, "labels"), dtype=np.int64)
            keep = (lab >= 1) & (lab <= num_classes)
            datas.append(d[keep])
            labels.append(lab[keep] - 1)
        data = np.concatenate(datas)
        if data.ndim != 2 or data.shape[1] != 3 * 16 * 16:
            raise FormatError(
                f"{root}: expected rows of 768 bytes (3x16x16), got shape {data.shape}"
            )
        super().__init__(
            data.reshape(-1, 3, 16, 16),
            np.concatenate(labels),
            dataset,
            f"{dataset}: {len(data)} training images (classes 1-{num_classes}) from {root}",
        )


#: Dataset name -> reader of a user's directory.
SOURCES: dict[str, Callable[[str | os.PathLike[str], str], DataSource]] = {
    "cifar10": CifarSource,
    "cifar10-valid": CifarSource,
    "cifar100": CifarSource,
    "ImageNet16-120": ImageNet16Source,
}


def make_source(
    data: DataSource | str | os.PathLike[str] | None, dataset: str = "cifar10"
) -> DataSource:
    """Resolve the ``data`` argument of a scorer into a :class:`DataSource`.

    Parameters
    ----------
    data : DataSource, path, "digits" or None
        ``None`` / ``"digits"``: scikit-learn digits at the dataset's resolution; a path: the
        user's copy of ``dataset`` in its official layout; a :class:`DataSource`: used as is.
    dataset : str
        Benchmark dataset (sets resolution and the reader).

    Returns
    -------
    DataSource

    Raises
    ------
    OutOfDomainError
        Unknown dataset or a path that does not exist.
    FormatError
        The directory does not hold the expected files.

    Examples
    --------
    >>> make_source("digits", "ImageNet16-120").resolution
    16
    """
    spec = dataset_spec(dataset)
    if isinstance(data, DataSource):
        return data
    if data is None or (isinstance(data, str) and data == "digits"):
        return DigitsSource(spec.resolution)
    return SOURCES[dataset](data, dataset)
