"""Small torch pieces shared by the neural predictors (BANANAS, GCN, pretrained MLP).

torch is imported inside the functions only, so importing this module stays cheap.

Examples
--------
>>> import numpy as np
>>> s = Standardizer.fit(np.array([[1.0, 2.0], [3.0, 2.0]]))
>>> s.transform(np.array([[3.0, 2.0]])).tolist()
[[1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Standardizer", "ensemble_mlp", "torch_local"]


@dataclass(frozen=True)
class Standardizer:
    """Per-column mean and standard deviation (constant columns keep scale 1).

    Examples
    --------
    >>> Standardizer.fit(np.zeros((3, 1))).scale.tolist()
    [1.0]
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, a: np.ndarray) -> Standardizer:
        a = np.asarray(a, dtype=np.float64)
        std = a.std(axis=0)
        return cls(a.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, a: np.ndarray) -> np.ndarray:
        return (np.asarray(a, dtype=np.float64) - self.mean) / self.scale

    def inverse(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64) * self.scale + self.mean


def torch_local(n_threads: int) -> Any:
    """Context: ``n_threads`` torch threads and deterministic kernels, restored afterwards."""
    from predictors.renas import _torch_local

    return _torch_local(n_threads)


def ensemble_mlp(n_members: int, n_in: int, widths: tuple[int, ...], n_out: int = 1) -> Any:
    """``n_members`` independent ReLU MLPs evaluated as one batched module.

    Input ``(members, batch, n_in)``, output ``(members, batch, n_out)``; each member has
    its own weights (``torch.baddbmm`` over the member axis), initialised like
    ``torch.nn.Linear`` (uniform in ``+-1/sqrt(fan_in)``).

    Examples
    --------
    >>> import torch
    >>> net = ensemble_mlp(3, 4, (8, 8))
    >>> tuple(net(torch.zeros(3, 5, 4)).shape)
    (3, 5, 1)
    """
    import torch.nn as nn

    from predictors._torch_modules import EnsembleLinear

    layers: list[nn.Module] = []
    fan_in = int(n_in)
    for w in widths:
        layers += [EnsembleLinear(int(n_members), fan_in, int(w)), nn.ReLU()]
        fan_in = int(w)
    layers.append(EnsembleLinear(int(n_members), fan_in, int(n_out)))
    return nn.Sequential(*layers)


def minibatches(n: int, batch_size: int, gen: Any) -> Iterator[Any]:
    """Index tensors of one shuffled epoch (``torch.randperm`` with ``gen``)."""
    import torch

    perm = torch.randperm(n, generator=gen)
    bs = max(1, min(int(batch_size), n))
    for start in range(0, n, bs):
        yield perm[start : start + bs]
