"""Array encodings of NATS-Bench size-space cells (vectorised over official indices).

The size space has no topology to encode (every network uses the same cell), only the
five layer widths, so each NAS-Bench-101/201 encoding gets an analogue:

``adjacency_onehot`` (40,)
    Width of each of the 5 layers as a one-hot over :data:`CHANNELS` (5 x 8, flattened).
``path`` (256,)
    The network is one chain, so the BANANAS "paths" become the 4 consecutive layer pairs:
    feature ``64*l + 8*a + b`` is 1 when layer ``l`` has width ``CHANNELS[a]`` and layer
    ``l+1`` width ``CHANNELS[b]`` (the pair fixes the shape of the weights between them).
``gbdt`` (5,)
    The widths as ordered numbers ``c / 64`` (trees split on thresholds, so an ordinal
    feature per layer is the natural analogue of GBDT-NAS's categorical sequence).
``renas`` (3, 5, 5)
    ReNAS-style matrices over the 5 layers: channel 0 the chain adjacency with self-loops
    (``A + I``), channel 1 that matrix with row ``l`` scaled by layer ``l``'s MFLOPs and
    channel 2 scaled by its parameters in millions (CIFAR-10 network).

Examples
--------
>>> encode_indices(np.array([0, 1]), "adjacency_onehot").shape
(2, 40)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nasbench_tools.spaces._common import encode_numbers
from nasbench_tools.spaces.nats_sss.constants import (
    ALL_WIDTH_INDICES,
    CHANNELS,
    NUM_CELLS,
    NUM_CHOICES,
    NUM_LAYERS,
)
from nasbench_tools.spaces.nats_sss.costs import layer_costs_of_indices

__all__ = ["ENCODINGS", "ENCODING_SHAPES", "encode_indices"]


def _onehot(widx: np.ndarray) -> np.ndarray:
    out = np.zeros((len(widx), NUM_LAYERS, NUM_CHOICES), dtype=np.float32)
    rows = np.arange(len(widx))[:, None]
    out[rows, np.arange(NUM_LAYERS), widx] = 1.0
    return out.reshape(len(widx), -1)


def _path(widx: np.ndarray) -> np.ndarray:
    n = len(widx)
    out = np.zeros((n, (NUM_LAYERS - 1) * NUM_CHOICES**2), dtype=np.float32)
    feature = (
        np.arange(NUM_LAYERS - 1) * NUM_CHOICES**2
        + widx[:, :-1].astype(np.int64) * NUM_CHOICES
        + widx[:, 1:]
    )
    out[np.arange(n)[:, None], feature] = 1.0
    return out


def _gbdt(widx: np.ndarray) -> np.ndarray:
    return (np.asarray(CHANNELS, dtype=np.float32)[widx] / CHANNELS[-1]).astype(np.float32)


_CHAIN = (np.eye(NUM_LAYERS) + np.eye(NUM_LAYERS, k=1)).astype(np.float32)


def _renas(indices: np.ndarray) -> np.ndarray:
    layers = [(p, f) for name, p, f in layer_costs_of_indices(indices) if name not in ("stem", "head")]
    params = np.stack([np.broadcast_to(p, indices.shape) for p, _ in layers], axis=-1) / 1e6
    mflops = np.stack([np.broadcast_to(f, indices.shape) for _, f in layers], axis=-1) / 1e6
    out = np.empty((len(indices), 3, NUM_LAYERS, NUM_LAYERS), dtype=np.float32)
    out[:, 0] = _CHAIN
    out[:, 1] = _CHAIN * mflops[:, :, None]
    out[:, 2] = _CHAIN * params[:, :, None]
    return out


#: kind -> function of (width indices (n, 5), official indices (n,)).
_ENCODERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "adjacency_onehot": lambda w, i: _onehot(w),
    "path": lambda w, i: _path(w),
    "gbdt": lambda w, i: _gbdt(w),
    "renas": lambda w, i: _renas(i),
}
ENCODINGS: tuple[str, ...] = tuple(_ENCODERS)
#: Shape of one encoded cell, per kind.
ENCODING_SHAPES: dict[str, tuple[int, ...]] = {
    "adjacency_onehot": (NUM_LAYERS * NUM_CHOICES,),
    "path": ((NUM_LAYERS - 1) * NUM_CHOICES**2,),
    "gbdt": (NUM_LAYERS,),
    "renas": (3, NUM_LAYERS, NUM_LAYERS),
}


def encode_indices(indices: np.ndarray, kind: str) -> np.ndarray:
    """Encode size-space cells given by official index.

    Parameters
    ----------
    indices : array-like of int
        Official indices (1-d).
    kind : str
        One of :data:`ENCODINGS`.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of shape ``(len(indices),) + ENCODING_SHAPES[kind]``.

    Examples
    --------
    >>> encode_indices(np.array([284]), "gbdt").tolist()
    [[0.125, 0.125, 0.625, 0.5, 0.625]]
    """
    encoder, arr = encode_numbers(
        indices, kind, _ENCODERS, "nats_sss", NUM_CELLS, "size-space indices", "size-space indices"
    )
    return encoder(ALL_WIDTH_INDICES[arr], arr)
