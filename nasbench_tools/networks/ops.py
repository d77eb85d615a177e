"""Building blocks shared by the NAS-Bench-201 / NATS-Bench networks.

The definitions follow the operations of NAS-Bench-201 (``xautodl`` ``cell_operations``):

* ``nor_conv_kxk``: ReLU -> Conv2d(k x k, no bias) -> BatchNorm2d (affine, running stats);
* ``avg_pool_3x3``: AvgPool2d(3, padding 1, ``count_include_pad=False``), preceded by a 1x1
  ReLU-Conv-BN projection when the channel counts differ;
* ``skip_connect``: identity when stride 1 and equal channels, otherwise a factorized
  reduction (stride 1: Conv1x1 + BN without ReLU; stride 2: ReLU, two shifted 1x1 convs,
  concatenation, BN);
* ``none``: zeros of the output shape;
* the ResNet basic block used as reduction cell (two 3x3 ReLU-Conv-BN, residual through
  AvgPool2d(2) + Conv1x1).

Examples
--------
>>> import torch
>>> op = make_op("nor_conv_3x3", 4, 4, 1)
>>> tuple(op(torch.zeros(2, 4, 8, 8)).shape)
(2, 4, 8, 8)
>>> sorted(OP_FACTORIES)
['avg_pool_3x3', 'none', 'nor_conv_1x1', 'nor_conv_3x3', 'skip_connect']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = [
    "OP_FACTORIES",
    "FactorizedReduce",
    "Pooling",
    "ReLUConvBN",
    "ResNetBasicBlock",
    "Zero",
    "make_op",
]


class ReLUConvBN(nn.Module):
    """ReLU, then a bias-free convolution, then an affine BatchNorm.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size, stride, padding : int
        Convolution geometry.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )

    @property
    def conv(self) -> nn.Conv2d:
        """The convolution (shortcut for fused evaluation)."""
        return cast(nn.Conv2d, self.op[1])

    @property
    def bn(self) -> nn.BatchNorm2d:
        """The batch normalisation."""
        return cast(nn.BatchNorm2d, self.op[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)  # type: ignore[no-any-return]


class Pooling(nn.Module):
    """3x3 average pooling, with a 1x1 ReLU-Conv-BN first when channels change."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.preprocess = None if c_in == c_out else ReLUConvBN(c_in, c_out, 1, 1, 0)
        self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)  # type: ignore[no-any-return]


class Zero(nn.Module):
    """The ``none`` operation: zeros with the output's shape."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        return x.new_zeros(n, self.c_out, -(-h // self.stride), -(-w // self.stride))


class FactorizedReduce(nn.Module):
    """``skip_connect`` when it must change the shape.

    Stride 1: Conv1x1 (no bias) + BN, no activation. Stride 2: ReLU, two 1x1 stride-2
    convolutions (the second on the input shifted by one pixel, zero padded), concatenated
    along channels, then BN.
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        if stride == 2:
            halves = (c_out // 2, c_out - c_out // 2)
            self.relu = nn.ReLU(inplace=False)
            self.convs = nn.ModuleList(
                nn.Conv2d(c_in, h, 1, stride=2, padding=0, bias=False) for h in halves
            )
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        elif stride == 1:
            self.conv = nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False)
        else:
            raise OutOfDomainError(f"stride {stride!r} is not supported; allowed: {allowed([1, 2])}")
        self.bn = nn.BatchNorm2d(c_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            shifted = self.pad(x)[:, :, 1:, 1:]
            out = torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)  # type: ignore[no-any-return]


class ResNetBasicBlock(nn.Module):
    """The reduction cell of NAS-Bench-201 / NATS-Bench.

    ``conv_a`` (3x3, stride ``stride``) and ``conv_b`` (3x3) are ReLU-Conv-BN; the residual is
    AvgPool2d(2) + Conv1x1 for stride 2, a 1x1 ReLU-Conv-BN when only the channels change,
    the identity otherwise.
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise OutOfDomainError(f"stride {stride!r} is not supported; allowed: {allowed([1, 2])}")
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, 0)
        else:
            self.downsample = None
        self.out_dim = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + y  # type: ignore[no-any-return]


def _skip(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return FactorizedReduce(c_in, c_out, stride)


#: Operation name -> factory ``(c_in, c_out, stride) -> nn.Module``.
OP_FACTORIES: dict[str, Callable[[int, int, int], nn.Module]] = {
    "none": Zero,
    "skip_connect": _skip,
    "nor_conv_1x1": lambda c_in, c_out, stride: ReLUConvBN(c_in, c_out, 1, stride, 0),
    "nor_conv_3x3": lambda c_in, c_out, stride: ReLUConvBN(c_in, c_out, 3, stride, 1),
    "avg_pool_3x3": Pooling,
}


def make_op(name: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    """Build one NAS-Bench-201 operation.

    Parameters
    ----------
    name : str
        One of :data:`OP_FACTORIES`.
    c_in, c_out, stride : int
        Channels and stride.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    OutOfDomainError
        For an unknown operation name.

    Examples
    --------
    >>> type(make_op("skip_connect", 8, 8, 1)).__name__
    'Identity'
    >>> type(make_op("skip_connect", 8, 16, 1)).__name__
    'FactorizedReduce'
    """
    try:
        factory = OP_FACTORIES[name]
    except KeyError:
        raise OutOfDomainError(
            f"unknown operation {name!r}; allowed: {allowed(OP_FACTORIES)}"
        ) from None
    return factory(c_in, c_out, stride)
