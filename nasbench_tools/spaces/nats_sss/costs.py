"""Analytic parameters and FLOPs of the NATS-Bench size-space networks.

The network is the NAS-Bench-201 skeleton (see :mod:`nasbench_tools.spaces.nb201.costs`)
with one cell per stage and free widths: stem conv to ``c0``, cell ``c0 -> c0``, reduction
``c0 -> c1``, cell ``c1 -> c2``, reduction ``c2 -> c3``, cell ``c3 -> c4``, BN, classifier.
Every cell uses the fixed topology :data:`~nasbench_tools.spaces.nats_sss.constants.GENOTYPE`;
a cell whose input and output widths differ gets ``C_in -> C_out`` modules on the edges
leaving node 0 (its ``skip_connect`` becomes a 1x1 conv + BN).

Examples
--------
>>> int(params_of_indices(np.array([0]))[0]), float(flops_of_indices(np.array([0]))[0])
(11714, 4.481114)
"""

from __future__ import annotations

import functools

import numpy as np

from nasbench_tools.spaces._common import check_numbers
from nasbench_tools.spaces.nats_sss.constants import (
    ALL_WIDTH_INDICES,
    CHANNELS,
    GENOTYPE,
    NUM_CELLS,
    NUM_LAYERS,
    REDUCTIONS,
)
from nasbench_tools.spaces.nb201.cell import Cell as TopologyCell
from nasbench_tools.spaces.nb201.costs import dataset_spec, layer_costs

__all__ = ["flops_of_indices", "layer_costs_of_indices", "params_of_indices"]

_GENOTYPE_OPS = np.array(TopologyCell.from_string(GENOTYPE).op_indices(), dtype=np.int64)
_WIDTHS = np.asarray(CHANNELS, dtype=np.int64)


def _check(indices: np.ndarray) -> np.ndarray:
    return check_numbers(indices, NUM_CELLS, "size-space index", "size-space indices")


def layer_costs_of_indices(
    indices: np.ndarray, dataset: str = "cifar10"
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per-layer ``(name, params, MACs)`` of many size-space cells (see ``layer_costs``).

    Examples
    --------
    >>> [name for name, _, _ in layer_costs_of_indices(np.array([0]))]
    ['stem', 'cell', 'reduction', 'cell', 'reduction', 'cell', 'head']
    """
    arr = _check(indices)
    widths = _WIDTHS[ALL_WIDTH_INDICES[arr]]
    channels = [widths[..., k] for k in range(NUM_LAYERS)]
    return layer_costs(_GENOTYPE_OPS, channels, REDUCTIONS, dataset)


@functools.cache
def _all_costs(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    layers = layer_costs_of_indices(np.arange(NUM_CELLS), dataset)
    params = np.sum([p for _, p, _ in layers], axis=0).astype(np.int64)
    mflops = np.sum([f for _, _, f in layers], axis=0).astype(np.float64) / 1e6
    params.setflags(write=False)
    mflops.setflags(write=False)
    return params, mflops


def params_of_indices(indices: np.ndarray, dataset: str = "cifar10") -> np.ndarray:
    """Trainable parameters of each size-space network (by official index).

    Examples
    --------
    >>> int(params_of_indices(np.array([284]), "cifar100")[0])
    148524
    """
    arr = _check(indices)
    dataset_spec(dataset)
    return _all_costs(dataset)[0][arr]


def flops_of_indices(indices: np.ndarray, dataset: str = "cifar10") -> np.ndarray:
    """MFLOPs (official convention: conv and linear MACs) of each size-space network.

    Examples
    --------
    >>> float(flops_of_indices(np.array([11]), "ImageNet16-120")[0])
    1.71404
    """
    arr = _check(indices)
    dataset_spec(dataset)
    return _all_costs(dataset)[1][arr]
