"""NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021).

Definition: push one minibatch of ``B`` images through the untrained network (BN in
training mode); every ReLU module ``r`` turns each image ``i`` into a binary code
``c_i^r`` (which of its ``N_r`` input units are positive). The kernel is

    K_ij = sum_r ( N_r - Hamming(c_i^r, c_j^r) ) = sum_r ( c_i.c_j + (1-c_i).(1-c_j) )

and the score is ``log|det K|`` (``slogdet(K)[1]``).

How this implementation saves work without changing the value:

* one Gram product per *distinct* ReLU input: with ``s_i = |c_i|_1``,
  ``N - Hamming(c_i, c_j) = N - s_i - s_j + 2 c_i.c_j``, so ``C C^T`` alone gives the kernel
  (the published code does two products, ``C C^T`` and ``(1-C)(1-C)^T``); and when ``m``
  ReLU modules read the same tensor (in NAS-Bench-201 every ``nor_conv`` edge leaving a
  node starts with a ReLU of that node), the product is computed once and counted ``m``
  times;
* 0/1 codes multiply exactly in float32 (partial sums stay below 2^24), the kernel is
  accumulated in float64;
* convolutions that read the same node with the same kernel size are fused into one
  convolution (weights concatenated; BN statistics are per channel, so this is exact), and
  the shared ReLU is applied once;
* networks are built without dead edges (``prune=True``): an edge that cannot reach the
  output does not influence the network function, and it is not counted (see the notes in
  ``docs/zero-cost.md``); the classifier (no ReLU) is not run;
* ``torch.inference_mode``; isomorphic cells are scored once (base class).

:func:`naswot_reference` is the straightforward algorithm (hooks on every ReLU, two kernel
products, full forward), kept for tests and the benchmark.

Examples
--------
>>> import torch
>>> from nasbench_tools.networks.nb201 import nb201_network
>>> torch.manual_seed(0) and None
>>> net = nb201_network(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3",
...                      "nor_conv_3x3", "none"), C=4, N=1, prune=True).train()
>>> x = torch.randn(16, 3, 32, 32)
>>> with torch.inference_mode():
...     fast, ref = naswot_score(net, x), naswot_reference(net, x)
>>> abs(fast - ref) < 1e-6 * abs(ref)
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_tools.networks.nb201 import TinyCellNetwork, TopologyCell
from nasbench_tools.networks.ops import Pooling, ReLUConvBN
from predictors.zerocost.base import ZeroCostProxy, removing

__all__ = [
    "NASWOT",
    "ReluKernel",
    "logdet",
    "naswot_definition",
    "naswot_kernel",
    "naswot_reference",
    "naswot_score",
]


_INT8_GRAM = hasattr(torch, "_int_mm")


def _gram(flat: torch.Tensor) -> torch.Tensor:
    """``C C^T`` (float64) of the 0/1 codes ``C = flat > 0``, computed exactly.

    The codes are written in one pass as int8 and multiplied with int32 accumulation
    (``torch._int_mm``, 2-3x faster than float32 on CPUs with int8 dot-product units);
    float32 (exact for 0/1 while a row has fewer than 2^24 units) is the fallback.
    """
    global _INT8_GRAM
    if _INT8_GRAM:
        codes8 = torch.empty(flat.shape, dtype=torch.int8)
        torch.gt(flat, 0, out=codes8)
        try:
            return torch._int_mm(codes8, codes8.T).to(torch.float64)
        except RuntimeError:  # build without the int8 kernel: use float32 from now on
            _INT8_GRAM = False
    codes = torch.empty(flat.shape, dtype=torch.float32)
    torch.gt(flat, 0, out=codes)
    return (codes @ codes.T).to(torch.float64)


class ReluKernel:
    """Accumulator of the NASWOT kernel from binary ReLU codes.

    Examples
    --------
    >>> acc = ReluKernel(2)
    >>> acc.add(torch.tensor([[1.0, -1.0, 2.0], [1.0, 1.0, -3.0]]))
    >>> acc.kernel().tolist()   # N=3; Hamming(c0, c1) = 2
    [[3.0, 1.0], [1.0, 3.0]]
    """

    def __init__(self, batch: int) -> None:
        self.gram = torch.zeros(batch, batch, dtype=torch.float64)
        self.rowsum = torch.zeros(batch, dtype=torch.float64)
        self.units = 0.0
        self.products = 0

    def add(self, t: torch.Tensor, multiplicity: int = 1) -> None:
        """Add ``multiplicity`` ReLU modules that all read tensor ``t`` (batch first)."""
        if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
            t = t.permute(0, 2, 3, 1)  # a view: unit order does not matter, no copy needed
        flat = t.reshape(t.shape[0], -1)
        g = _gram(flat)
        self.products += 1
        self.gram += multiplicity * g
        self.rowsum += multiplicity * g.diagonal()
        self.units += multiplicity * flat.shape[1]

    def kernel(self) -> torch.Tensor:
        """``K = sum_m m (N - s_i - s_j + 2 G_ij)`` as float64."""
        return self.units - self.rowsum[:, None] - self.rowsum[None, :] + 2.0 * self.gram


def logdet(k: np.ndarray | torch.Tensor) -> float:
    """``slogdet(K)[1]``; ``-inf`` for a singular kernel (e.g. a cell with no input-output path).

    Examples
    --------
    >>> logdet(np.eye(3) * 2.0)
    2.0794415416798357
    >>> logdet(np.ones((2, 2)))
    -inf
    """
    arr = k.detach().cpu().numpy() if isinstance(k, torch.Tensor) else np.asarray(k)
    sign, value = np.linalg.slogdet(arr.astype(np.float64))
    return float(value) if sign != 0 else float("-inf")


def _relus(net: nn.Module) -> list[nn.ReLU]:
    return [m for m in net.modules() if isinstance(m, nn.ReLU)]


@contextlib.contextmanager
def _relu_hooks(net: nn.Module, acc: ReluKernel) -> Iterator[None]:
    """Add every ReLU module that actually runs to ``acc`` (one product each)."""

    def hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        acc.add(inputs[0])

    with removing(m.register_forward_pre_hook(hook) for m in _relus(net)):
        yield


def _fused_relu_convs(x: torch.Tensor, group: list[ReLUConvBN]) -> list[torch.Tensor]:
    """ReLU once, then all convolutions of one kernel size as one conv + one batch norm."""
    r = F.relu(x)
    if len(group) == 1:
        op = group[0]
        return [op.bn(op.conv(r))]
    conv0 = group[0].conv
    weight = torch.cat([g.conv.weight for g in group])
    if x.is_contiguous(memory_format=torch.channels_last):
        weight = weight.contiguous(memory_format=torch.channels_last)
    y = F.conv2d(r, weight, None, conv0.stride, conv0.padding)
    gamma = torch.cat([g.bn.weight for g in group])
    beta = torch.cat([g.bn.bias for g in group])
    y = F.batch_norm(y, None, None, gamma, beta, training=True, eps=group[0].bn.eps)
    return list(torch.split(y, [g.conv.out_channels for g in group], dim=1))


_POOL_CACHE: dict[tuple[int, int, int, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}


def _box_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 / stride 1 / pad 1 average pool with ``count_include_pad=False``, as a depthwise conv.

    Equal to ``AvgPool2d(3, 1, 1, count_include_pad=False)`` up to float rounding (sum of the
    valid neighbours times ``1/count``); about 2x faster on CPU.
    """
    _, c, h, w = x.shape
    key = (c, h, w, x.dtype)
    if key not in _POOL_CACHE:
        kernel = torch.ones(c, 1, 3, 3, dtype=x.dtype).contiguous(memory_format=torch.channels_last)
        counts = F.conv2d(torch.ones(1, 1, h, w, dtype=x.dtype), torch.ones(1, 1, 3, 3, dtype=x.dtype), padding=1)
        _POOL_CACHE[key] = (kernel, 1.0 / counts)
    kernel, inv = _POOL_CACHE[key]
    return F.conv2d(x, kernel, None, 1, 1, 1, c).mul_(inv)


def _is_plain_pool(layer: nn.Module) -> bool:
    return (
        isinstance(layer, Pooling)
        and layer.preprocess is None
        and layer.op.kernel_size == 3
        and layer.op.stride in (1, (1, 1))
        and layer.op.padding in (1, (1, 1))
        and not layer.op.count_include_pad
    )


def _topology_cell(cell: TopologyCell, x: torch.Tensor, acc: ReluKernel) -> torch.Tensor:
    nodes: list[torch.Tensor | None] = [x, None, None, None]
    owned = [False] * 4  # may the node tensor be updated in place (not aliased elsewhere)?
    by_src: dict[int, list[tuple[int, nn.Module]]] = {}
    for (dst, src, op), layer in zip(cell.edges, cell.layers):
        if op != "none":  # zeros: nothing to add, no ReLU
            by_src.setdefault(src, []).append((dst, layer))
    for j in range(3):
        outs = by_src.get(j)
        if not outs:
            continue
        v = nodes[j]
        if v is None:  # only `none` edges enter this node (full, unpruned networks)
            n, _, h, w = x.shape
            v = x.new_zeros(n, cell.out_dim, h, w)
            if x.is_contiguous(memory_format=torch.channels_last):
                v = v.contiguous(memory_format=torch.channels_last)
        results: list[tuple[int, torch.Tensor, bool]] = []
        groups: dict[tuple[Any, ...], list[tuple[int, ReLUConvBN]]] = {}
        for dst, layer in outs:
            if isinstance(layer, ReLUConvBN) and layer.training:
                key = (layer.conv.kernel_size, layer.conv.stride, layer.conv.padding)
                groups.setdefault(key, []).append((dst, layer))
            elif _is_plain_pool(layer) and v.is_contiguous(memory_format=torch.channels_last):
                results.append((dst, _box_pool(v), True))
            else:
                y = layer(v)
                results.append((dst, y, y is not v))
        n_relu = sum(len(g) for g in groups.values())
        if n_relu:
            acc.add(v, n_relu)
        for group in groups.values():
            outs_g = _fused_relu_convs(v, [op for _, op in group])
            # split views of one fused output share storage: only the first may be owned
            results.extend((dst, y, len(outs_g) == 1) for (dst, _), y in zip(group, outs_g))
        for dst, y, own in results:
            prev = nodes[dst]
            if prev is None:
                nodes[dst], owned[dst] = y, own
            elif owned[dst]:
                prev.add_(y)
            else:
                nodes[dst], owned[dst] = prev + y, True
    out = nodes[3]
    if out is None:
        n, _, h, w = x.shape
        return x.new_zeros(n, cell.out_dim, h, w)
    return out


def naswot_kernel(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The NASWOT kernel ``K`` (float64, ``B x B``) of ``net`` on ``x``, computed fast.

    Cell-based NAS-Bench-201 / NATS networks use the fused walk described in the module
    docstring; any other network gets one product per ReLU module through hooks.

    Examples
    --------
    >>> from nasbench_tools.networks.nats_sss import nats_sss_network
    >>> k = naswot_kernel(nats_sss_network((8, 8, 8, 8, 8)).train(), torch.randn(4, 3, 32, 32))
    >>> tuple(k.shape), bool((k == k.T).all())
    ((4, 4), True)
    """
    acc = ReluKernel(x.shape[0])
    with _relu_hooks(net, acc):
        if isinstance(net, TinyCellNetwork):
            h = net.stem(x)
            for cell in net.cells:
                h = _topology_cell(cell, h, acc) if isinstance(cell, TopologyCell) else cell(h)
            net.lastact(h)
        elif callable(getattr(net, "features", None)):
            getattr(net, "features")(x)  # noqa: B009 (not every Module has it)
        else:
            net(x)
    return acc.kernel()


def naswot_score(net: nn.Module, x: torch.Tensor) -> float:
    """NASWOT score ``slogdet(K)[1]`` of one network on one minibatch (fast path).

    Examples
    --------
    >>> from nasbench_tools.networks.nb101 import nb101_network
    >>> m = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    >>> net = nb101_network(m, ["input", "conv3x3-bn-relu", "output"], C=4, N=1).train()
    >>> bool(np.isfinite(naswot_score(net, torch.randn(8, 3, 32, 32))))
    True
    """
    return logdet(naswot_kernel(net, x))


def naswot_reference(net: nn.Module, x: torch.Tensor) -> float:
    """The straightforward published algorithm: forward hooks on every ReLU, full forward.

    Each hook computes ``C C^T + (1-C)(1-C)^T`` and adds it to a float64 numpy kernel.

    Examples
    --------
    >>> from nasbench_tools.networks.nats_sss import nats_sss_network
    >>> net = nats_sss_network((8, 8, 8, 8, 8)).train()
    >>> bool(np.isfinite(naswot_reference(net, torch.randn(8, 3, 32, 32))))
    True
    """
    batch = x.shape[0]
    kernel = np.zeros((batch, batch))

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        nonlocal kernel
        flat = inputs[0].reshape(batch, -1)
        c = (flat > 0).float()
        kernel = kernel + (c @ c.t()).cpu().numpy() + ((1.0 - c) @ (1.0 - c.t())).cpu().numpy()

    with removing(m.register_forward_hook(hook) for m in _relus(net)):
        net(x)
    return logdet(kernel)


def naswot_definition(net: nn.Module, x: torch.Tensor) -> float:
    """NASWOT straight from the definition: explicit Hamming distances (small inputs only).

    Examples
    --------
    >>> from nasbench_tools.networks.nats_sss import nats_sss_network
    >>> net = nats_sss_network((8, 8, 8, 8, 8)).double().train()
    >>> x = torch.randn(6, 3, 32, 32, dtype=torch.float64)
    >>> a, b = naswot_definition(net, x), naswot_reference(net, x)
    >>> abs(a - b) <= 1e-9 * abs(a)
    True
    """
    codes: list[np.ndarray] = []

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        codes.append((inputs[0].reshape(inputs[0].shape[0], -1) > 0).cpu().numpy())

    with removing(m.register_forward_hook(hook) for m in _relus(net)):
        net(x)
    batch = x.shape[0]
    k = np.zeros((batch, batch), dtype=np.int64)
    for c in codes:
        for i in range(batch):
            hamming = (c != c[i]).sum(axis=1)
            k[i] += c.shape[1] - hamming
    return logdet(k.astype(np.float64))


class NASWOT(ZeroCostProxy):
    """NASWOT score (log-determinant of the ReLU-code kernel) of untrained networks.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> proxy = NASWOT(batch_size=16, network_overrides={"C": 4, "N": 1})
    >>> scores = proxy.score([Cell(("nor_conv_3x3",) * 6), Cell(("none",) * 6)])
    >>> bool(np.isfinite(scores[0])), float(scores[1])
    (True, -inf)
    """

    name = "naswot"
    needs_grad = False
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        # channels-last is 1.5-5x faster for these convolutions and 3x3 pools on CPU
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return naswot_score(net, x.contiguous(memory_format=torch.channels_last))
