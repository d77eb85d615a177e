"""NAS-Bench-201 (= NATS-Bench topology space) networks, and the shared cell skeleton.

The macro skeleton (``TinyNetwork`` in the official code): a stem (Conv3x3 3->C, no bias, +
BN), three stages of ``N`` cells with ``C``, ``2C`` and ``4C`` channels, a ResNet basic block
(stride 2) between stages, then BN + ReLU, global average pooling and a linear classifier.
The official benchmark uses ``C=16``, ``N=5``. Each cell is a 4-node DAG whose 6 edges carry
one operation each, in the order of the architecture string:
(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2); a node is the sum of its incoming edges.

Module names follow the official ones (``stem``, ``cells.<i>.layers.<k>``, ``lastact``,
``classifier``), so an official state dict of a full network loads as is. The forward pass
returns the logits only (the official one returns ``(features, logits)``).

The forward pass skips ``none`` edges (they add zeros). With ``prune=True`` the network omits every edge that cannot influence the output: ``none``
edges, edges leaving a node that no path from the input reaches, and edges entering a node
that reaches no output. At initialisation (BN in training mode) such edges contribute exact
zeros, so the pruned network computes the same function with less work (but has fewer
parameters than the benchmark's network).

Examples
--------
>>> import torch
>>> net = nb201_network(("nor_conv_3x3",) * 6, C=4, N=1, num_classes=3)
>>> tuple(net(torch.zeros(2, 3, 32, 32)).shape)
(2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.networks.ops import OP_FACTORIES, ResNetBasicBlock, make_op

__all__ = [
    "EDGES",
    "OPS",
    "TinyCellNetwork",
    "TopologyCell",
    "live_edges",
    "nb201_network",
    "stage_channels",
]

#: Operation vocabulary of the topology space.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: ``(destination, source)`` node of each of the 6 edges, in architecture-string order.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_NUM_NODES = 4


def _check_ops(ops: Sequence[str]) -> tuple[str, ...]:
    ops = tuple(ops)
    if len(ops) != len(EDGES):
        raise OutOfDomainError(
            f"a topology cell needs {len(EDGES)} operations (one per edge), got {len(ops)}"
        )
    for op in ops:
        if op not in OP_FACTORIES:
            raise OutOfDomainError(f"unknown operation {op!r}; allowed: {allowed(OPS)}")
    return ops


def live_edges(ops: Sequence[str]) -> tuple[bool, ...]:
    """Which edges can influence the cell output.

    An edge is live when its operation is not ``none``, its source node is reached from the
    input by a path of non-``none`` edges, and its destination is the output or reaches it.

    Parameters
    ----------
    ops : sequence of str
        The 6 operations in architecture-string order.

    Returns
    -------
    tuple of bool
        One flag per edge, in the same order.

    Examples
    --------
    >>> live_edges(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"))
    (False, False, False, True, False, False)
    """
    ops = _check_ops(ops)
    real = [op != "none" for op in ops]
    reached = [True] + [False] * (_NUM_NODES - 1)
    for (dst, src), ok in zip(EDGES, real):  # edges are topologically ordered by dst
        if ok and reached[src]:
            reached[dst] = True
    reaches = [False] * (_NUM_NODES - 1) + [True]
    for (dst, src), ok in sorted(zip(EDGES, real), key=lambda e: -e[0][1]):
        if ok and reaches[dst]:
            reaches[src] = True
    return tuple(ok and reached[src] and reaches[dst] for (dst, src), ok in zip(EDGES, real))


class TopologyCell(nn.Module):
    """One NAS-Bench-201 cell (``InferCell``): 4 nodes, 6 operation edges.

    Parameters
    ----------
    ops : sequence of str
        The 6 operations in architecture-string order.
    c_in, c_out : int
        Channels of the cell input and of every inner node. Edges leaving node 0 map
        ``c_in -> c_out``; all other edges ``c_out -> c_out``.
    prune : bool, default False
        Omit edges that cannot influence the output (see :func:`live_edges`).

    Attributes
    ----------
    layers : torch.nn.ModuleList
        The operations kept, in edge order.
    edges : list of tuple
        ``(dst, src, op_name)`` of each entry of ``layers``.
    """

    def __init__(self, ops: Sequence[str], c_in: int, c_out: int, prune: bool = False) -> None:
        super().__init__()
        self.ops = _check_ops(ops)
        self.in_dim, self.out_dim = c_in, c_out
        keep = live_edges(self.ops) if prune else (True,) * len(EDGES)
        self.layers = nn.ModuleList()
        self.edges: list[tuple[int, int, str]] = []
        for (dst, src), op, k in zip(EDGES, self.ops, keep):
            if not k:
                continue
            cin = c_in if src == 0 else c_out
            self.layers.append(make_op(op, cin, c_out, 1))
            self.edges.append((dst, src, op))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ``none`` edges are skipped (they add zeros); a node that only receives ``none``
        # edges is materialised as zeros when an operation reads it, because e.g. a
        # ReLU-Conv-BN of zeros is not zero in eval mode.
        n, _, h, w = x.shape
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for (dst, src, op), layer in zip(self.edges, self.layers):
            if op == "none":
                continue
            inp = nodes[src]
            if inp is None:
                inp = x.new_zeros(n, self.out_dim, h, w)
            y = layer(inp)
            prev = nodes[dst]
            nodes[dst] = y if prev is None else prev + y
        out = nodes[-1]
        if out is None:
            return x.new_zeros(n, self.out_dim, h, w)
        return out


def stage_channels(C: int, N: int) -> list[int]:
    """Per-layer channels of the NAS-Bench-201 skeleton: ``[C]*N + [2C] + [2C]*N + [4C] + [4C]*N``.

    Examples
    --------
    >>> stage_channels(16, 1)
    [16, 32, 32, 64, 64]
    """
    return [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N


class TinyCellNetwork(nn.Module):
    """The cell-based skeleton shared by NAS-Bench-201 and the NATS-Bench size space.

    Parameters
    ----------
    channels : sequence of int
        Output channels of every layer; ``len(channels) = 3N + 2``: ``N`` cells, a reduction
        block, ``N`` cells, a reduction block, ``N`` cells. ``channels[0]`` is also the stem
        width.
    ops : sequence of str
        The 6 operations of the cell used in every non-reduction layer.
    num_classes : int
        Classifier outputs.
    prune : bool, default False
        Build only the live edges of each cell.
    """

    def __init__(
        self,
        channels: Sequence[int],
        ops: Sequence[str],
        num_classes: int,
        prune: bool = False,
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if len(channels) % 3 != 2 or any(c <= 0 for c in channels):
            raise OutOfDomainError(
                f"channels must be 3N+2 positive integers, got {channels!r}"
            )
        if num_classes <= 0:
            raise OutOfDomainError(f"num_classes must be a positive integer, got {num_classes!r}")
        n = len(channels) // 3
        self.channels = tuple(channels)
        self.ops = _check_ops(ops)
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels[0], kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels[0]),
        )
        reductions = [False] * n + [True] + [False] * n + [True] + [False] * n
        self.cells = nn.ModuleList()
        c_prev = channels[0]
        for c_curr, reduction in zip(channels, reductions):
            cell: nn.Module
            if reduction:
                cell = ResNetBasicBlock(c_prev, c_curr, 2)
            else:
                cell = TopologyCell(self.ops, c_prev, c_curr, prune=prune)
            self.cells.append(cell)
            c_prev = c_curr
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything up to and including the final BN + ReLU."""
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.lastact(x)  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.features(x)).flatten(1)
        return self.classifier(out)  # type: ignore[no-any-return]


def nb201_network(
    ops: Sequence[str],
    *,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    prune: bool = False,
    **unused: Any,
) -> TinyCellNetwork:
    """The NAS-Bench-201 network of a cell given by its 6 operations.

    Parameters
    ----------
    ops : sequence of str
        Operations in architecture-string order (``Cell.ops``).
    C : int, default 16
        Channels of the first stage.
    N : int, default 5
        Cells per stage.
    num_classes : int, default 10
        Classifier outputs.
    prune : bool, default False
        Omit edges that cannot influence the output (fewer parameters, same function at
        initialisation).

    Returns
    -------
    TinyCellNetwork

    Examples
    --------
    >>> net = nb201_network(("nor_conv_3x3",) * 6)
    >>> sum(p.numel() for p in net.parameters())
    1531546
    """
    if unused:
        raise OutOfDomainError(
            f"unknown override(s) {sorted(unused)!r} for NAS-Bench-201 networks; "
            f"allowed: {allowed(['C', 'N', 'num_classes', 'prune'])}"
        )
    return TinyCellNetwork(stage_channels(C, N), ops, num_classes, prune=prune)
