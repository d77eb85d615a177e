"""NAS-Bench-101 networks (the official ``model_builder`` rebuilt in PyTorch).

Skeleton: stem Conv3x3(3->128)-BN-ReLU; 3 stacks of 3 modules (cells); a 2x2 max-pool
(stride 2) before stacks 2 and 3, where the channel count doubles; global average pooling;
a dense layer. Inside a module with ``c_in`` input and ``c_out`` output channels:

* vertex channels follow the official ``compute_vertex_channels``: the vertices feeding the
  output split ``c_out`` evenly (the first ``c_out % k`` get one more), the others take the
  maximum of their successors;
* a vertex sums its inputs: earlier vertices truncated to its width (the first channels),
  and the cell input through a 1x1 Conv-BN-ReLU projection when connected to it;
* ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` are Conv (no bias)-BN-ReLU, ``maxpool3x3`` is
  a 3x3 max-pool with stride 1 and ``same`` padding;
* the output concatenates the vertices feeding it; when the input feeds the output too, its
  1x1 projection to ``c_out`` is added.

Batch normalisation: TensorFlow momentum 0.997 and epsilon 1e-5, i.e. PyTorch
``momentum=0.003``, ``eps=1e-5``.

Examples
--------
>>> import numpy as np, torch
>>> m = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
>>> net = nb101_network(m, ["input", "conv3x3-bn-relu", "output"], C=8, N=1)
>>> tuple(net(torch.zeros(2, 3, 32, 32)).shape)
(2, 10)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = [
    "BN_EPS",
    "BN_MOMENTUM",
    "VERTEX_OPS",
    "ConvBnRelu",
    "NB101Cell",
    "NB101Network",
    "compute_vertex_channels",
    "nb101_network",
]

#: PyTorch momentum equivalent to TensorFlow's ``momentum=0.997``.
BN_MOMENTUM = 1.0 - 0.997
#: Batch-norm epsilon of the official code.
BN_EPS = 1e-5


class ConvBnRelu(nn.Module):
    """Conv (no bias, ``same`` padding) -> BatchNorm -> ReLU, as ``conv_bn_relu``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))  # type: ignore[no-any-return]


#: Vertex label -> factory ``(channels) -> nn.Module`` (input and output widths are equal).
VERTEX_OPS: dict[str, Callable[[int], nn.Module]] = {
    "conv3x3-bn-relu": lambda c: ConvBnRelu(c, c, 3),
    "conv1x1-bn-relu": lambda c: ConvBnRelu(c, c, 1),
    "maxpool3x3": lambda c: nn.MaxPool2d(3, stride=1, padding=1),
}


def compute_vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of a module, by the official rule.

    Parameters
    ----------
    c_in, c_out : int
        Module input and output channels.
    matrix : numpy.ndarray
        Pruned upper-triangular adjacency matrix (vertex 0 input, last vertex output).

    Returns
    -------
    list of int
        One entry per vertex; ``[0] = c_in`` and ``[-1] = c_out``.

    Examples
    --------
    >>> m = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    >>> compute_vertex_channels(128, 128, m)
    [128, 64, 64, 128]
    >>> compute_vertex_channels(128, 129, m)
    [128, 65, 64, 129]
    """
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    channels = [0] * n
    channels[0], channels[n - 1] = c_in, c_out
    if n == 2:
        return channels
    in_degree = matrix[1:].sum(axis=0)
    k = int(in_degree[n - 1])
    if k == 0:
        raise OutOfDomainError(
            "no interior vertex feeds the output of this module; prune the spec first"
        )
    base, extra = divmod(c_out, k)
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            channels[v] = base + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    if any(c <= 0 for c in channels[1 : n - 1]):
        raise OutOfDomainError(
            f"vertex without channels ({channels!r}); the spec must be pruned (every vertex on "
            "a path from input to output)"
        )
    return channels


class NB101Cell(nn.Module):
    """One NAS-Bench-101 module.

    Parameters
    ----------
    matrix : numpy.ndarray
        Pruned adjacency matrix, ``n x n`` upper triangular.
    ops : sequence of str
        Vertex labels, ``input`` first and ``output`` last.
    c_in, c_out : int
        Module input and output channels.
    """

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.ops = tuple(ops)
        n = self.matrix.shape[0]
        if self.matrix.shape != (n, n) or len(self.ops) != n or n < 2:
            raise OutOfDomainError(
                f"matrix of shape {self.matrix.shape} does not match {len(self.ops)} ops"
            )
        for op in self.ops[1:-1]:
            if op not in VERTEX_OPS:
                raise OutOfDomainError(f"unknown vertex op {op!r}; allowed: {allowed(VERTEX_OPS)}")
        self.channels = compute_vertex_channels(c_in, c_out, self.matrix)
        self.vertex_ops = nn.ModuleList()
        self.input_proj = nn.ModuleDict()
        for t in range(1, n - 1):
            self.vertex_ops.append(VERTEX_OPS[self.ops[t]](self.channels[t]))
            if self.matrix[0, t]:
                self.input_proj[str(t)] = ConvBnRelu(c_in, self.channels[t], 1)
        if self.matrix[0, n - 1]:
            self.input_proj[str(n - 1)] = ConvBnRelu(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.matrix.shape[0]
        tensors: list[torch.Tensor] = [x]
        concat: list[torch.Tensor] = []
        for t in range(1, n - 1):
            width = self.channels[t]
            parts = [tensors[s][:, :width] for s in range(1, t) if self.matrix[s, t]]
            if self.matrix[0, t]:
                parts.append(self.input_proj[str(t)](x))
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            value = self.vertex_ops[t - 1](total)
            tensors.append(value)
            if self.matrix[t, n - 1]:
                concat.append(value)
        if not concat:
            return self.input_proj[str(n - 1)](x)  # type: ignore[no-any-return]
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.matrix[0, n - 1]:
            out = out + self.input_proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network: stem, ``num_stacks`` stacks of ``N`` modules, classifier.

    Parameters
    ----------
    matrix, ops
        The (pruned) cell spec.
    C : int, default 128
        Stem channels (and first stack's module channels).
    N : int, default 3
        Modules per stack.
    num_stacks : int, default 3
        Stacks; channels double (and a 2x2 max-pool halves the resolution) between stacks.
    num_classes : int, default 10
        Dense-layer outputs.
    """

    def __init__(
        self,
        matrix: np.ndarray,
        ops: Sequence[str],
        C: int = 128,
        N: int = 3,
        num_stacks: int = 3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if min(C, N, num_stacks, num_classes) <= 0:
            raise OutOfDomainError(
                f"C, N, num_stacks and num_classes must be positive, got {(C, N, num_stacks, num_classes)!r}"
            )
        self.stem = ConvBnRelu(3, C, 3)
        layers: list[nn.Module] = []
        c_prev = c = C
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                c *= 2
            for _ in range(N):
                layers.append(NB101Cell(matrix, ops, c_prev, c))
                c_prev = c
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_prev, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map before global pooling."""
        return self.layers(self.stem(x))  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))  # type: ignore[no-any-return]


def nb101_network(
    matrix: np.ndarray | Sequence[Sequence[int]],
    ops: Sequence[str],
    *,
    C: int = 128,
    N: int = 3,
    num_stacks: int = 3,
    num_classes: int = 10,
    **unused: Any,
) -> NB101Network:
    """The NAS-Bench-101 network of a pruned cell spec.

    Parameters
    ----------
    matrix : array-like
        Pruned adjacency matrix (``Cell.matrix``).
    ops : sequence of str
        Vertex labels (``Cell.ops``).
    C, N, num_stacks, num_classes : int
        See :class:`NB101Network`; the official values are 128, 3, 3, 10.

    Returns
    -------
    NB101Network

    Examples
    --------
    >>> m = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    >>> net = nb101_network(m, ["input", "maxpool3x3", "output"])
    >>> sum(p.numel() for p in net.parameters()) > 0
    True
    """
    if unused:
        raise OutOfDomainError(
            f"unknown override(s) {sorted(unused)!r} for NAS-Bench-101 networks; "
            f"allowed: {allowed(['C', 'N', 'num_stacks', 'num_classes'])}"
        )
    return NB101Network(np.asarray(matrix), ops, C=C, N=N, num_stacks=num_stacks, num_classes=num_classes)
