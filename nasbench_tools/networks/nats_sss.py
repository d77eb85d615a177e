"""NATS-Bench size-space networks.

The size space fixes the cell topology to
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|``
(as ``get_net_config`` of the official API reports it) and the skeleton to ``N=1`` cell per stage,
i.e. 5 layers: cell, reduction block, cell, reduction block, cell (``DynamicShapeTinyNet``,
``infer.shape.tiny`` in the official code). The 5 numbers of a size-space cell
(``"8:16:24:32:64"``) are the output channels of these 5 layers in order; the first one is
also the stem width. Edges leaving a cell's input node map the previous layer's channels to
the layer's own (``skip_connect`` becomes Conv1x1 + BN when they differ).

Examples
--------
>>> net = nats_sss_network((8, 8, 8, 8, 8))
>>> sum(p.numel() for p in net.parameters())
11714
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.networks.nb201 import TinyCellNetwork

__all__ = ["SSS_GENOTYPE", "SSS_OPS", "nats_sss_network"]

#: The fixed topology of the size space, as an architecture string.
SSS_GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#: The same as a 6-tuple in architecture-string order.
SSS_OPS: tuple[str, ...] = (
    "nor_conv_3x3",
    "nor_conv_3x3",
    "nor_conv_3x3",
    "skip_connect",
    "nor_conv_3x3",
    "nor_conv_3x3",
)


def nats_sss_network(
    channels: Sequence[int],
    *,
    num_classes: int = 10,
    prune: bool = False,
    **unused: Any,
) -> TinyCellNetwork:
    """The NATS-Bench size-space network for 5 per-layer channel counts.

    Parameters
    ----------
    channels : sequence of int
        ``Cell.channels``: output channels of the 5 layers (cell, reduction, cell,
        reduction, cell); the first is also the stem width.
    num_classes : int, default 10
        Classifier outputs.
    prune : bool, default False
        Accepted for symmetry with the other spaces (the fixed cell has no dead edge).

    Returns
    -------
    TinyCellNetwork

    Examples
    --------
    >>> import torch
    >>> net = nats_sss_network((8, 16, 24, 32, 64), num_classes=120)
    >>> tuple(net(torch.zeros(2, 3, 16, 16)).shape)
    (2, 120)
    """
    if unused:
        raise OutOfDomainError(
            f"unknown override(s) {sorted(unused)!r} for NATS-Bench size-space networks; "
            f"allowed: {allowed(['num_classes', 'prune'])}"
        )
    channels = tuple(int(c) for c in channels)
    if len(channels) != 5:
        raise OutOfDomainError(
            f"a size-space cell has 5 channel counts, got {len(channels)}: {channels!r}"
        )
    return TinyCellNetwork(channels, SSS_OPS, num_classes, prune=prune)
