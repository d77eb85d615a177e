"""Analytic parameter and FLOP counts of the networks NAS-Bench-201 and NATS-Bench trained.

No torch: the counts follow from the network definition.

Macro skeleton (``TinyNetwork`` of the official code; shared by the NATS-Bench size space,
see :mod:`nasbench_tools.spaces.nats_sss`)::

    stem: conv3x3(3 -> c0, no bias) + BN
    stage 1: N cells (c -> c)
    residual reduction block (c -> 2c, stride 2)
    stage 2: N cells
    residual reduction block (stride 2)
    stage 3: N cells
    BN + ReLU, global average pool, linear classifier (with bias)

NAS-Bench-201 uses N = 5 and channels 16/32/64. A *cell* ``InferCell(C_in, C_out)`` has one
module per edge; edges leaving node 0 map ``C_in -> C_out``, the others ``C_out -> C_out``.
Edge modules:

* ``nor_conv_kxk``: ReLU, conv k x k (no bias), BN (affine): ``k*k*C_in*C_out + 2*C_out``
  parameters;
* ``avg_pool_3x3``: no parameters when ``C_in == C_out``; otherwise a ReLU-conv1x1-BN
  projection first;
* ``skip_connect``: identity when ``C_in == C_out``; otherwise a 1x1 conv + BN
  ("factorized reduce" at stride 1);
* ``none``: zero, nothing.

The residual reduction block (ResNet basic block): ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN,
shortcut avg-pool 2x2 then conv1x1 (no bias, no BN).

FLOPs follow the official ``get_model_infos`` convention: only convolution and linear layers
count, as multiply-accumulates per image (``k*k*C_in*C_out*H_out*W_out`` for a conv without
bias, ``in*out + out`` for the classifier); BN, ReLU and pooling count zero. Result in
millions (1e6).

Examples
--------
>>> from nasbench_tools.spaces.nb201.constants import op_indices_to_codes
>>> import numpy as np
>>> code = op_indices_to_codes(np.array([0, 0, 0, 0, 0, 0]))
>>> int(params_of_codes(np.array([code]))[0]), float(flops_of_codes(np.array([code]))[0])
(73306, 7.78305)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces._common import check_numbers
from nasbench_tools.spaces.nb201.constants import (
    ALL_OP_INDICES,
    EDGES,
    NUM_CELLS,
    OPS,
)

__all__ = [
    "DATASETS",
    "NB201_CHANNELS",
    "NB201_N",
    "OP_COSTS",
    "DatasetSpec",
    "dataset_spec",
    "edge_costs",
    "flops_of_codes",
    "layer_costs",
    "nb201_layout",
    "network_costs",
    "params_of_codes",
]

Array = np.ndarray
#: (C_in, C_out, H*W of the output) -> (parameters, multiply-accumulates) of one edge module.
CostFn = Callable[[Array, Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class DatasetSpec:
    """Input resolution and number of classes of one benchmark dataset."""

    num_classes: int
    resolution: int


#: The four datasets of NAS-Bench-201 / NATS-Bench.
DATASETS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec(10, 32),
    "cifar10-valid": DatasetSpec(10, 32),
    "cifar100": DatasetSpec(100, 32),
    "ImageNet16-120": DatasetSpec(120, 16),
}

NB201_N = 5
NB201_CHANNELS: tuple[int, int, int] = (16, 32, 64)


def dataset_spec(dataset: str) -> DatasetSpec:
    """Look up a dataset, raising :class:`OutOfDomainError` naming the allowed ones.

    Examples
    --------
    >>> dataset_spec("ImageNet16-120").resolution
    16
    """
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise OutOfDomainError(
            f"unknown dataset {dataset!r}; allowed: {allowed(DATASETS)}"
        ) from None


def _conv_bn(k: int) -> CostFn:
    def cost(cin: Array, cout: Array, hw: Array) -> tuple[Array, Array]:
        weights = k * k * cin * cout
        return weights + 2 * cout, weights * hw

    return cost


def _projected(identity_cost: CostFn) -> CostFn:
    """Free when channels match; a 1x1 conv + BN projection otherwise."""

    def cost(cin: Array, cout: Array, hw: Array) -> tuple[Array, Array]:
        differ = cin != cout
        p, f = identity_cost(cin, cout, hw)
        return np.where(differ, cin * cout + 2 * cout, p), np.where(differ, cin * cout * hw, f)

    return cost


def _free(cin: Array, cout: Array, hw: Array) -> tuple[Array, Array]:
    zero = np.zeros(np.broadcast_shapes(np.shape(cin), np.shape(cout), np.shape(hw)), np.int64)
    return zero, zero


#: Edge module costs by op name.
OP_COSTS: dict[str, CostFn] = {
    "none": _free,
    "skip_connect": _projected(_free),
    "nor_conv_1x1": _conv_bn(1),
    "nor_conv_3x3": _conv_bn(3),
    "avg_pool_3x3": _projected(_free),
}


def _cell_costs(op_indices: Array, cin: Array, cout: Array, hw: Array) -> tuple[Array, Array]:
    """Costs of one InferCell for many cells; ``op_indices`` has shape (..., 6)."""
    params: Array = np.zeros((), np.int64)
    flops: Array = np.zeros((), np.int64)
    for k, (src, _dst) in enumerate(EDGES):
        c_from = cin if src == 0 else cout
        col = op_indices[..., k]
        for i, op in enumerate(OPS):
            p, f = OP_COSTS[op](c_from, cout, hw)
            params = params + np.where(col == i, p, 0)
            flops = flops + np.where(col == i, f, 0)
    return params, flops


def _resblock_costs(cin: Array, cout: Array, hw_out: Array) -> tuple[Array, Array]:
    """ResNet basic block with stride 2 and an avg-pool + conv1x1 shortcut."""
    weights = 9 * cin * cout + 9 * cout * cout + cin * cout
    return weights + 4 * cout, weights * hw_out


def layer_costs(
    op_indices: Array,
    channels: Sequence[Array | int],
    reductions: Sequence[bool],
    dataset: str,
) -> list[tuple[str, Array, Array]]:
    """Per-layer parameters and MACs of the TinyNetwork skeleton, vectorised.

    Parameters
    ----------
    op_indices : numpy.ndarray
        Op indices of the cell(s), shape ``(..., 6)`` (broadcast against the channels).
    channels : sequence of int or arrays
        Output channels of each layer (cells and reduction blocks), e.g. 17 values for
        NAS-Bench-201 (``[16]*5 + [32] + [32]*5 + [64] + [64]*5``) or 5 for the size space.
    reductions : sequence of bool
        True for the residual reduction blocks.
    dataset : str
        A key of :data:`DATASETS`.

    Returns
    -------
    list of (str, numpy.ndarray, numpy.ndarray)
        ``("stem", p, f)``, then ``("cell", p, f)`` or ``("reduction", p, f)`` per layer,
        then ``("head", p, f)`` (last BN and classifier); ``int64`` parameters and MACs.

    Examples
    --------
    >>> [name for name, _, _ in layer_costs(np.zeros(6, int), [8, 16, 16], [False, True, False], "cifar10")]
    ['stem', 'cell', 'reduction', 'cell', 'head']
    """
    spec = dataset_spec(dataset)
    if len(channels) != len(reductions):
        raise OutOfDomainError(
            f"network_costs: {len(channels)} channel values but {len(reductions)} reduction flags"
        )
    ops = np.asarray(op_indices, dtype=np.int64)
    side = spec.resolution
    c_prev = np.asarray(channels[0], dtype=np.int64)
    out: list[tuple[str, Array, Array]] = [
        ("stem", 27 * c_prev + 2 * c_prev, 27 * c_prev * side * side)
    ]
    for c, reduce in zip(channels, reductions):
        c_cur = np.asarray(c, dtype=np.int64)
        if reduce:
            side //= 2
            p, f = _resblock_costs(c_prev, c_cur, np.asarray(side * side, dtype=np.int64))
            out.append(("reduction", p, f))
        else:
            p, f = _cell_costs(ops, c_prev, c_cur, np.asarray(side * side, dtype=np.int64))
            out.append(("cell", p, f))
        c_prev = c_cur
    head = c_prev * spec.num_classes + spec.num_classes
    out.append(("head", head + 2 * c_prev, head))
    return out


def network_costs(
    op_indices: Array,
    channels: Sequence[Array | int],
    reductions: Sequence[bool],
    dataset: str,
) -> tuple[Array, Array]:
    """Total parameters and MACs of the TinyNetwork skeleton (see :func:`layer_costs`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``int64`` parameters and MACs (not millions).

    Examples
    --------
    >>> p, f = network_costs(np.array([3, 3, 3, 1, 3, 3]), [8] * 5, [False, True] * 2 + [False], "cifar10")
    >>> int(p), int(f)
    (11714, 4481114)
    """
    layers = layer_costs(op_indices, channels, reductions, dataset)
    params: Array = sum((p for _, p, _ in layers), np.zeros((), np.int64))
    flops: Array = sum((f for _, _, f in layers), np.zeros((), np.int64))
    return params, flops


def nb201_layout() -> tuple[list[int], list[bool]]:
    """Channels and reduction flags of the 17 layers of the NAS-Bench-201 network.

    Examples
    --------
    >>> channels, reductions = nb201_layout()
    >>> len(channels), channels[5], reductions[5]
    (17, 32, True)
    """
    channels: list[int] = []
    reductions: list[bool] = []
    for stage, c in enumerate(NB201_CHANNELS):
        if stage:
            channels.append(c)
            reductions.append(True)
        channels.extend([c] * NB201_N)
        reductions.extend([False] * NB201_N)
    return channels, reductions


def _check(codes: Array) -> Array:
    return check_numbers(codes, NUM_CELLS, "cell code", "cell codes")


@functools.cache
def _all_costs(dataset: str) -> tuple[Array, Array]:
    """Parameters (int64) and MFLOPs (float64) of all 15,625 cells; cached per dataset."""
    channels, reductions = nb201_layout()
    p, f = network_costs(ALL_OP_INDICES, channels, reductions, dataset)
    params = np.asarray(p, dtype=np.int64)
    mflops = np.asarray(f, dtype=np.float64) / 1e6
    params.setflags(write=False)
    mflops.setflags(write=False)
    return params, mflops


def params_of_codes(codes: Array, dataset: str = "cifar10") -> Array:
    """Trainable parameters of the NAS-Bench-201 network of each cell code.

    Parameters
    ----------
    codes : array-like of int
        ``Cell.code`` values.
    dataset : str, default "cifar10"
        Sets the classifier width.

    Returns
    -------
    numpy.ndarray
        ``int64`` counts, same shape as ``codes``.

    Examples
    --------
    >>> int(params_of_codes(np.array([15624]), "cifar100")[0]) > 0
    True
    """
    arr = _check(codes)
    dataset_spec(dataset)
    return _all_costs(dataset)[0][arr]


def flops_of_codes(codes: Array, dataset: str = "cifar10") -> Array:
    """FLOPs (millions of multiply-accumulates, official convention) of each cell code.

    Examples
    --------
    >>> float(flops_of_codes(np.array([0]), "ImageNet16-120")[0])
    1.9534
    """
    arr = _check(codes)
    dataset_spec(dataset)
    return _all_costs(dataset)[1][arr]


def edge_costs(op_index: int, c_in: int, c_out: int, hw: int) -> tuple[int, int]:
    """Parameters and MACs of one edge module.

    Parameters
    ----------
    op_index : int
        Position in ``OPS``.
    c_in, c_out : int
        Channels.
    hw : int
        Output height times width.

    Examples
    --------
    >>> edge_costs(3, 16, 16, 1024)
    (2336, 2359296)
    """
    if not 0 <= op_index < len(OPS):
        raise OutOfDomainError(f"op index {op_index} out of range; allowed: 0..{len(OPS) - 1}")
    p, f = OP_COSTS[OPS[op_index]](np.asarray(c_in), np.asarray(c_out), np.asarray(hw))
    return int(p), int(f)
