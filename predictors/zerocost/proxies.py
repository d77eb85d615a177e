"""The gradient- and cost-based zero-cost proxies, as NAS-Bench-Suite-Zero / NASLib define them.

All gradient proxies use a freshly initialised network in training mode (BN with batch
statistics), the scorer's minibatch, the cross-entropy loss and sum a per-layer quantity over
every ``Conv2d`` and ``Linear`` weight ``W`` (``g = dL/dW``):

* ``synflow``: BN disabled (identity), all parameters replaced by their absolute values,
  float64, input a single all-ones image, ``R = sum(network output)``;
  score ``sum |W * dR/dW|``. Data-free.
* ``snip``: ``sum |W * g|`` (the gradient of the loss w.r.t. a multiplicative mask of ones).
* ``grad_norm``: ``sum_layers ||g||_2`` (Frobenius norm of each layer's weight gradient).
* ``fisher``: for each layer output ``a`` (per channel ``k``):
  ``F_k = 0.5 * mean_n (sum_spatial a * dL/da)^2``; as in NASLib every channel value is
  counted once per weight of that output channel: ``score = sum_layers sum_k F_k * prod(W.shape[1:])``.
* ``jacob_cov``: ``J = d(sum of logits)/dx`` per image, ``S = corrcoef(J)`` over the batch,
  score ``-sum_i (log(l_i + 1e-5) + 1/(l_i + 1e-5))`` over the eigenvalues ``l_i`` of ``S``;
  NaN when the correlation is undefined (constant Jacobians, e.g. cells with no
  input-output path), as in NASLib.
* ``params``: parameter count of the benchmark's network (``Cell.num_params``).
* ``flops``: FLOPs in millions (``Cell.flops``, the benchmark's convention).

Networks are built without dead edges: such edges receive zero input or zero gradient, so
they add exactly zero to every gradient proxy (``params``/``flops`` use the full network).

Examples
--------
>>> from nasbench_tools.spaces.nb201 import Cell
>>> cell = Cell(("nor_conv_3x3",) * 6)
>>> s = SynFlow(network_overrides={"C": 4, "N": 1}).score([cell])
>>> bool(s[0] > 0)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_tools.errors import OutOfDomainError
from predictors.zerocost.base import ZeroCostProxy, removing

__all__ = ["Fisher", "Flops", "GradNorm", "JacobCov", "Params", "Snip", "SynFlow", "weight_layers"]


def weight_layers(net: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    """The ``Conv2d`` and ``Linear`` modules of ``net``, in module order.

    Examples
    --------
    >>> len(weight_layers(nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Linear(2, 2))))
    2
    """
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _loss_backward(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    net.zero_grad(set_to_none=True)
    logits = net(x)
    F.cross_entropy(logits, y % logits.shape[1]).backward()


def _saliency(w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``sum |W * g|`` of one layer (SNIP; SynFlow with ``g = dR/dW``)."""
    return (w * g).abs().sum()


def _sum_over_weights(
    net: nn.Module, per_layer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
) -> float:
    """Sum ``per_layer(W, dW)`` over the weight layers that received a gradient."""
    total = 0.0
    for layer in weight_layers(net):
        if layer.weight.grad is not None:
            total += float(per_layer(layer.weight.detach(), layer.weight.grad))
    return total


def _disable_batchnorm(net: nn.Module) -> None:
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())


class SynFlow(ZeroCostProxy):
    """Synaptic flow (Tanaka et al. 2020) at initialisation; ignores the data values."""

    name = "synflow"
    uses_data = False
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        _disable_batchnorm(net)
        net.double()
        with torch.no_grad():
            for p in net.parameters():
                p.abs_()
        res = self.network_resolution()
        ones = torch.ones(1, 3, res, res, dtype=torch.float64)
        net.zero_grad(set_to_none=True)
        net(ones).sum().backward()
        return _sum_over_weights(net, _saliency)

    def network_resolution(self) -> int:
        """Input resolution of the dataset."""
        from nasbench_tools.networks import dataset_spec

        return dataset_spec(self.dataset).resolution


class Snip(ZeroCostProxy):
    """SNIP connection sensitivity ``sum |W * dL/dW|`` (Lee et al. 2019)."""

    name = "snip"
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        _loss_backward(net, x, y)
        return _sum_over_weights(net, _saliency)


class GradNorm(ZeroCostProxy):
    """Sum over layers of the Euclidean norm of the weight gradient."""

    name = "grad_norm"
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        _loss_backward(net, x, y)
        return _sum_over_weights(net, lambda w, g: g.norm())


class Fisher(ZeroCostProxy):
    """Fisher information of layer outputs (Theis et al. 2018; Turner et al. 2020)."""

    name = "fisher"
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        layers = weight_layers(net)
        acts: dict[int, torch.Tensor] = {}
        fisher: dict[int, torch.Tensor] = {}

        def make_hooks(idx: int) -> Any:
            def grad_hook(grad: torch.Tensor) -> None:
                act = acts.pop(idx).detach()
                g = grad.detach()
                g_nk = (act * g).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * g
                del_k = 0.5 * g_nk.pow(2).mean(0)
                fisher[idx] = fisher[idx] + del_k if idx in fisher else del_k

            def fwd_hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
                if output.requires_grad:
                    acts[idx] = output
                    output.register_hook(grad_hook)

            return fwd_hook

        with removing(layer.register_forward_hook(make_hooks(i)) for i, layer in enumerate(layers)):
            _loss_backward(net, x, y)
        total = 0.0
        for i, layer in enumerate(layers):
            if i in fisher:
                per_weight = int(np.prod(layer.weight.shape[1:]))
                total += float(fisher[i].abs().sum()) * per_weight
        return total


class JacobCov(ZeroCostProxy):
    """Correlation of input Jacobians over the minibatch (Mellor et al., v1)."""

    name = "jacob_cov"
    prune = True

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        x = x.clone().requires_grad_(True)
        net.zero_grad(set_to_none=True)
        out = net(x)
        if not out.requires_grad:  # pruned network of a cell with no input-output path
            return float("nan")
        out.backward(torch.ones_like(out))
        if x.grad is None:
            return float("nan")
        jac = x.grad.reshape(x.shape[0], -1).double().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(jac)
        if not np.all(np.isfinite(corr)):
            return float("nan")
        eig = np.linalg.eigvalsh(corr)
        k = 1e-5
        return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


class Params(ZeroCostProxy):
    """Parameter count of the benchmark's network (analytic, from the space)."""

    name = "params"
    uses_data = False
    needs_grad = False
    dedupe = False  # dead edges still carry parameters in the benchmark's network

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        return float(sum(p.numel() for p in net.parameters()))

    def score_cell(self, cell: Any) -> float:
        if self.network_overrides:
            return self.score_network(
                self.build(cell), torch.empty(0), torch.empty(0)
            )
        return float(cell.num_params(self.dataset))


class Flops(ZeroCostProxy):
    """FLOPs (millions) of the benchmark's network (analytic, from the space)."""

    name = "flops"
    uses_data = False
    needs_grad = False
    dedupe = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.network_overrides:
            raise OutOfDomainError(
                "the flops proxy is analytic for the benchmark's own networks; "
                f"network_overrides {self.network_overrides!r} are not supported (allowed: none)"
            )

    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        raise OutOfDomainError("flops is computed from the cell (Cell.flops), not from a network")

    def score_cell(self, cell: Any) -> float:
        return float(cell.flops(self.dataset))
