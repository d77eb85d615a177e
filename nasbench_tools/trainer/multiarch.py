"""The multi-architecture kernel: ``P`` networks of *different* cells (and seeds) trained at once.

Every network of a pack is first built on its own, exactly as
:func:`~nasbench_tools.trainer.loop.train_cell` builds it (``torch.manual_seed(seed)``, then
the network of its cell), so its initial weights are those of a separate training whatever
the other members are. The ``P`` networks are then merged into one *grouped* network whose
activations hold the channels of all networks side by side, ``(batch, P * C, H, W)``, block
``p`` belonging to network ``p`` (and its batch to network ``p``'s own images):

* a convolution becomes one grouped convolution (``groups = P``) whose weight is the
  concatenation of the members' weights; a BatchNorm one BatchNorm over ``P * C`` channels
  (its statistics are per channel, hence per network); ReLU and pooling act per channel;
  the classifier is one batched matrix product;
* an NB201 cell is computed *gathered*, not masked, one source node at a time: the channel
  blocks of every ``(member, edge)`` pair leaving the node are gathered (``index_select``),
  each operation runs once as one grouped module over the blocks that apply it, and each
  result is added in place (``index_add_``) into its member's block of the destination node;
  the edges into a node arrive in increasing source order (the architecture-string order),
  so a node is the same sum in the same order as in the member's own network; ``none``
  (and, with ``prune=True``, every dead edge) does nothing, ``skip_connect`` adds the
  gathered input. No member computes or stores an operation it does not have, and no
  parameter is shared or created beyond the members' own.

Each member keeps its own data order, augmentation stream (from its own seed) and loss (the
pack's loss is the sum of the members' mean losses, so each member's gradient is its own);
SGD / RMSProp and weight decay act element by element. The kernel is therefore the same
computation as separate trainings in another floating-point order (tested equal to rounding:
``tests/test_trainer_multiarch.py``), like the seed-packed kernel, and is part of each
training's job key (``multiarch``).

NB101 networks are packed when their cells have the same pruned adjacency matrix (so the
same vertex channel split); the vertex operations may differ (gathered per vertex like the
NB201 edges). See ``docs/trainer.md``.

Examples
--------
>>> import torch
>>> from nasbench_tools.spaces.nb201 import Cell
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> torch.set_num_threads(1)
>>> a = Cell.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|")
>>> b = Cell.from_string("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
>>> res = train_cells_multiarch([(a, 0), (b, 0), (b, 1)], "digits", get_recipe("quick-cpu", epochs=1))
>>> [(r.info["cell"] == c.to_string(), r.info["seed"]) for r, c in zip(res, (a, b, b))]
[(True, 0), (True, 0), (True, 1)]
"""

from __future__ import annotations

import copy
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.networks.nb101 import ConvBnRelu, NB101Cell, NB101Network
from nasbench_tools.networks.nb201 import EDGES, TinyCellNetwork, TopologyCell, live_edges
from nasbench_tools.networks.ops import Pooling, ReLUConvBN, ResNetBasicBlock
from nasbench_tools.trainer.datasets import ImageData, Split, load_dataset
from nasbench_tools.trainer.loop import (
    EpochRecord,
    TrainResult,
    _augment,
    _epoch_seed,
    _evaluate_members,
    _optimisation,
    _resume,
    _save_checkpoint,
    build_cell_network,
    recalibrate_bn,
)
from nasbench_tools.trainer.recipes import Recipe, get_recipe

__all__ = [
    "BoxAvgPool3x3",
    "GroupedLinear",
    "MultiArchModel",
    "group_modules",
    "train_cells_multiarch",
    "train_models_multiarch",
]

log = logging.getLogger(__name__)

#: Name of this kernel in job keys, results and store provenance.
KERNEL = "multiarch"
#: Nodes of an NB201 cell (input, two inner nodes, output).
_NB201_NODES = 4
#: Images per forward pass of an evaluation (see ``_evaluate``).
EVAL_CHUNK = 100
#: Largest image (pixels) that a pack's BatchNorm normalises channel-major in training.
SMALL_BN_PIXELS = 4


class GroupedLinear(nn.Module):
    """``P`` linear layers applied to ``(batch, P, in)``; returns ``(P, batch, out)``.

    Examples
    --------
    >>> lins = [nn.Linear(3, 2) for _ in range(4)]
    >>> g = GroupedLinear(lins)
    >>> x = torch.randn(5, 4, 3)
    >>> torch.allclose(g(x)[2], lins[2](x[:, 2]), atol=1e-6)
    True
    """

    def __init__(self, linears: Sequence[nn.Linear]) -> None:
        super().__init__()
        if any(lin.bias is None for lin in linears):
            raise OutOfDomainError("GroupedLinear needs linear layers with a bias")
        self.weight = nn.Parameter(torch.stack([lin.weight.detach() for lin in linears]))
        self.bias = nn.Parameter(torch.stack([lin.bias.detach() for lin in linears]))  # type: ignore[union-attr]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (P, batch, in) @ (P, in, out) + (P, 1, out)
        return torch.baddbmm(self.bias[:, None, :], x.transpose(0, 1), self.weight.transpose(1, 2))


def _same(mods: Sequence[nn.Module], attrs: Sequence[str]) -> None:
    first = tuple(getattr(mods[0], a) for a in attrs)
    for m in mods[1:]:
        other = tuple(getattr(m, a) for a in attrs)
        if other != first:
            raise OutOfDomainError(f"cannot group {type(m).__name__} modules that differ in "
                                   f"{dict(zip(attrs, other))} vs {dict(zip(attrs, first))}")


def _group_conv(convs: Sequence[nn.Module]) -> nn.Module:
    attrs = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
             "groups", "padding_mode")
    _same(convs, attrs)
    c = convs[0]
    assert isinstance(c, nn.Conv2d)
    has_bias = c.bias is not None
    g = nn.Conv2d(len(convs) * c.in_channels, len(convs) * c.out_channels, c.kernel_size,  # type: ignore[arg-type]
                  stride=c.stride, padding=c.padding, dilation=c.dilation,  # type: ignore[arg-type]
                  groups=len(convs) * c.groups, bias=has_bias)
    with torch.no_grad():
        g.weight.copy_(torch.cat([m.weight for m in convs]))  # type: ignore[misc]
        if has_bias:
            g.bias.copy_(torch.cat([m.bias for m in convs]))  # type: ignore[union-attr, misc]
    return g


class _GroupedBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm over the channels of a pack; tiny images are normalised channel-major.

    In training mode, on images of at most :data:`SMALL_BN_PIXELS` pixels, the batch is
    laid out as ``(1, C, batch * H * W, 1)`` first: the same statistics over the same
    values (another summation order), about twice as fast as torch's NCHW kernel, whose
    inner loop runs over the ``H * W`` pixels of one image.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if not self.training or h * w > SMALL_BN_PIXELS:
            return super().forward(x)
        y = super().forward(x.transpose(0, 1).reshape(1, c, n * h * w, 1))
        return y.view(c, n, h, w).transpose(0, 1).contiguous()


def _group_bn(bns: Sequence[nn.Module]) -> nn.Module:
    _same(bns, ("num_features", "eps", "momentum", "affine", "track_running_stats"))
    b = bns[0]
    assert isinstance(b, nn.BatchNorm2d)
    g = _GroupedBatchNorm2d(len(bns) * b.num_features, eps=b.eps, momentum=b.momentum,
                       affine=b.affine, track_running_stats=b.track_running_stats)
    with torch.no_grad():
        for name, t in g.state_dict().items():
            parts = [m.state_dict()[name] for m in bns]
            t.copy_(parts[0] if t.ndim == 0 else torch.cat(parts))
    return g


def _group_linear(lins: Sequence[nn.Module]) -> nn.Module:
    _same(lins, ("in_features", "out_features"))
    return GroupedLinear(lins)  # type: ignore[arg-type]


class BoxAvgPool3x3(nn.Module):
    """``AvgPool2d(3, stride=1, padding=1, count_include_pad=False)`` as a depthwise convolution.

    The same average (the 3x3 sum over the valid pixels, times the reciprocal of their
    count), in another floating-point order; on a CPU, oneDNN's depthwise convolution over
    the wide tensors of a pack is several times faster than the pooling kernel.

    Examples
    --------
    >>> x = torch.randn(2, 5, 6, 6)
    >>> ref = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(x)
    >>> torch.allclose(BoxAvgPool3x3()(x), ref, atol=1e-6)
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[Any, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, c, h, w = x.shape
        key = (c, h, w, x.dtype)
        if key not in self._cache:
            ones = torch.ones(1, 1, h, w, dtype=x.dtype)
            count = nn.functional.conv2d(ones, torch.ones(1, 1, 3, 3, dtype=x.dtype), padding=1)
            self._cache[key] = (torch.ones(c, 1, 3, 3, dtype=x.dtype), 1.0 / count)
        weight, inv = self._cache[key]
        return nn.functional.conv2d(x, weight, padding=1, groups=c) * inv


def _group_avgpool(pools: Sequence[nn.Module]) -> nn.Module:
    p = pools[0]
    assert isinstance(p, nn.AvgPool2d)
    if (p.kernel_size, p.stride, p.padding, p.count_include_pad, p.ceil_mode) in (
            (3, 1, 1, False, False), ((3, 3), (1, 1), (1, 1), False, False)):
        return BoxAvgPool3x3()
    return copy.deepcopy(p)


#: Leaf module type -> builder of its grouped counterpart over ``P`` members.
_LEAVES: dict[type, Callable[[Sequence[nn.Module]], nn.Module]] = {
    nn.Conv2d: _group_conv,
    nn.BatchNorm2d: _group_bn,
    nn.Linear: _group_linear,
}
#: Parameter-free modules with a faster grouped form (no ``_members``: nothing to unpack).
_FAST: dict[type, Callable[[Sequence[nn.Module]], nn.Module]] = {nn.AvgPool2d: _group_avgpool}
#: Parameter-free modules that act per channel (shared as they are).
_PER_CHANNEL = (nn.ReLU, nn.AvgPool2d, nn.MaxPool2d, nn.Identity, nn.AdaptiveAvgPool2d)
#: Containers whose forward only chains / adds channel-wise results of their children.
_CONTAINERS = (nn.Sequential, nn.ModuleList, ReLUConvBN, ResNetBasicBlock, ConvBnRelu, Pooling)


def group_modules(mods: Sequence[nn.Module], names: Sequence[str] | None = None,
                  members: Sequence[int] | None = None) -> nn.Module:
    """One module computing ``P`` identically shaped modules on channel-concatenated input.

    Input and output are ``(batch, P * C, ...)`` with block ``p`` of the channels belonging
    to ``mods[p]``. Grouped leaves remember their members (``_members``: ``(p, name)``) so
    that :meth:`MultiArchModel.unpack` can rebuild each member's state dict.

    Parameters
    ----------
    mods : sequence of torch.nn.Module
        Modules of one type and shape (convolutions, BatchNorms, linears, parameter-free
        per-channel modules and containers of them).
    names : sequence of str, optional
        Each member's module path in its own network (default ``""``).
    members : sequence of int, optional
        Each module's network index in the pack (default ``0 .. P-1``).

    Raises
    ------
    OutOfDomainError
        Modules of different types or shapes, or a module type that cannot be grouped.

    Examples
    --------
    >>> convs = [nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3)) for _ in range(2)]
    >>> g = group_modules(convs)
    >>> x = torch.randn(2, 4, 2, 5, 5)  # (P, batch, C, H, W)
    >>> out = g(torch.cat([x[0], x[1]], 1))  # channels of member 0, then of member 1
    >>> torch.allclose(out[:, 3:], convs[1](x[1]), atol=1e-5)
    True
    """
    names = list(names) if names is not None else [""] * len(mods)
    index = list(members) if members is not None else list(range(len(mods)))
    t = type(mods[0])
    if any(type(m) is not t for m in mods):
        raise OutOfDomainError(f"cannot group modules of different types "
                               f"{sorted({type(m).__name__ for m in mods})}")
    if t in _LEAVES:
        out = _LEAVES[t](mods)
        out._members = list(zip(index, names))  # type: ignore[assignment]
        return out
    if t in _FAST:
        return _FAST[t](mods)
    if isinstance(mods[0], _PER_CHANNEL):
        return copy.deepcopy(mods[0])
    if isinstance(mods[0], _CONTAINERS):
        out = copy.deepcopy(mods[0])
        for child, _ in mods[0].named_children():
            setattr(out, child, group_modules([getattr(m, child) for m in mods],
                                              [f"{n}.{child}" if n else child for n in names],
                                              index))
        return out
    raise OutOfDomainError(f"cannot group a {t.__name__}; allowed: "
                           f"{allowed(sorted(c.__name__ for c in (*_LEAVES, *_PER_CHANNEL, *_CONTAINERS)))}")


def _block_index(members: Sequence[int], width: int) -> torch.Tensor:
    """Channel indices of the blocks of ``members`` (each ``width`` channels wide)."""
    return (torch.tensor(list(members))[:, None] * width + torch.arange(width)[None, :]).flatten()


class _GroupedOpSet(nn.Module):
    """The members of a pack split by the operation they apply at one place of the cell.

    ``groups`` holds, per operation, the members (``idx``: their channel indices in the
    pack, or all members) and the grouped module (``None`` for parameter-free identity).
    """

    def __init__(self, P: int, width: int,
                 by_op: dict[str, tuple[list[int], list[nn.Module], list[str]]]) -> None:
        super().__init__()
        self.mods = nn.ModuleDict()
        self.plan: list[tuple[str, list[int]]] = []
        for op, (members, mods, names) in sorted(by_op.items()):
            if op == "none":
                continue
            self.plan.append((op, members))
            if op != "skip_connect":
                self.mods[op] = group_modules(mods, names, members)
            full = members == list(range(P))
            self.register_buffer(f"idx_{op}", None if full else _block_index(members, width),
                                 persistent=False)

    def forward_into(self, x: torch.Tensor, acc: torch.Tensor | None) -> torch.Tensor | None:
        """Add every group's output on ``x`` into ``acc`` (``None``: zeros)."""
        owned = False  # a zero tensor made here takes the groups' outputs in place
        for op, _ in self.plan:
            idx = getattr(self, f"idx_{op}")
            inp = x if idx is None else x.index_select(1, idx)
            y = inp if op == "skip_connect" else self.mods[op](inp)
            if idx is None:
                acc = y if acc is None else acc + y
            elif owned:
                assert acc is not None
                acc.index_add_(1, idx, y)
            else:
                if acc is None:
                    acc, owned = x.new_zeros(x.shape[0], x.shape[1], *y.shape[2:]), True
                    acc.index_add_(1, idx, y)
                else:
                    acc = acc.index_add(1, idx, y)
        return acc


class _GroupedTopologyCell(nn.Module):
    """``P`` NB201 cells (any operations) of equal width, computed source node by source node.

    The edges leaving one node are computed together: for each operation, the channel
    blocks of every ``(member, edge)`` pair that applies it from this node are gathered in
    one ``index_select`` (a member's block repeats when several of its edges from the node
    share the operation), the operation runs once as one grouped module over all of them,
    and each block is added in place (``index_add_``) into its member's block of the
    destination node. The three inner nodes live side by side in one zero-initialised
    accumulator ``(batch, 3 * P * C, H, W)``. Sources are visited in order 0, 1, 2, so
    every node is the same sum in the same order as in the member's own network (edges
    into a node in increasing source order, which is the architecture-string order), and a
    node is read only once all its edges are in.
    """

    def __init__(self, cells: Sequence[TopologyCell], names: Sequence[str]) -> None:
        super().__init__()
        c = cells[0].out_dim
        if any(cell.in_dim != c or cell.out_dim != c for cell in cells):
            raise OutOfDomainError("the multiarch kernel needs NB201 cells with equal input and "
                                   f"output widths; got {[(x.in_dim, x.out_dim) for x in cells]}")
        P = len(cells)
        self.width, self.P = c, P
        pc = P * c
        self.mods = nn.ModuleDict()
        #: per source node: (source, [(op, first, last, key)]); the gather index of a source
        #: is buffer ``gather_s<source>``, the scatter index of an operation ``scatter_<key>``
        self.plan: list[tuple[int, list[tuple[str, int, int, str]]]] = []
        block = torch.arange(c)
        for src in range(_NB201_NODES - 1):
            by_op: dict[str, list[tuple[int, int, nn.Module, str]]] = {}
            for p, (cell, name) in enumerate(zip(cells, names)):
                for dst in range(src + 1, _NB201_NODES):
                    op, k = "none", -1
                    mod: nn.Module = nn.Identity()
                    for k, (d, s, o) in enumerate(cell.edges):
                        if (d, s) == (dst, src):
                            op, mod = o, cell.layers[k]
                            break
                    if op == "none":
                        continue
                    if op == "skip_connect" and not isinstance(mod, nn.Identity):
                        raise OutOfDomainError("the multiarch kernel supports identity skips only")
                    by_op.setdefault(op, []).append((dst, p, mod, f"{name}.layers.{k}"))
            if not by_op:
                continue
            gather: list[torch.Tensor] = []
            steps: list[tuple[str, int, int, str]] = []
            offset = 0
            base = 0 if src == 0 else (src - 1) * pc  # where the source node is read
            for op in sorted(by_op):
                entries = sorted(by_op[op], key=lambda e: (e[0], e[1]))
                gather += [base + p * c + block for _, p, _, _ in entries]
                scatter = torch.cat([(dst - 1) * pc + p * c + block for dst, p, _, _ in entries])
                key = f"s{src}_{op}"
                if op != "skip_connect":
                    self.mods[key] = group_modules([e[2] for e in entries], [e[3] for e in entries],
                                                   [e[1] for e in entries])
                self.register_buffer(f"scatter_{key}", scatter, persistent=False)
                steps.append((op, offset, offset + len(entries) * c, key))
                offset += len(entries) * c
            self.register_buffer(f"gather_s{src}", torch.cat(gather), persistent=False)
            self.plan.append((src, steps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, pc, h, w = x.shape
        acc = x.new_zeros(n, 3 * pc, h, w)
        for src, steps in self.plan:
            g = (x if src == 0 else acc).index_select(1, getattr(self, f"gather_s{src}"))
            # one split (its backward is one concatenation), not one slice per operation
            parts = g.split([last - first for _, first, last, _ in steps], 1)
            for (op, _, _, key), part in zip(steps, parts):
                y = part if op == "skip_connect" else self.mods[key](part)
                acc.index_add_(1, getattr(self, f"scatter_{key}"), y)
        return acc[:, 2 * pc:]


class MultiArchModel(nn.Module):
    """``P`` networks of different cells (one space, one skeleton) as one grouped network.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        NB201 ``TinyCellNetwork`` s of equal channels and classes (any cells, pruned or
        not), or NB101 ``NB101Network`` s of cells with one adjacency matrix.

    Calling the model with ``x`` of shape ``(P, batch, C, H, W)`` (each network its own
    batch) or ``(batch, C, H, W)`` (the same batch for all) returns ``(P, batch, classes)``.

    Examples
    --------
    >>> from nasbench_tools.networks.nb201 import nb201_network
    >>> nets = [nb201_network(ops, C=4, N=1) for ops in
    ...         (("nor_conv_3x3",) * 6, ("skip_connect", "none", "avg_pool_3x3") * 2)]
    >>> model = MultiArchModel(nets)
    >>> all(torch.equal(v, nets[0].state_dict()[k]) for k, v in model.unpack(0).items())
    True
    >>> x = torch.randn(2, 3, 3, 8, 8)
    >>> out = model(x)
    >>> torch.allclose(out[1], nets[1](x[1]), atol=1e-5)
    True
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        if not models:
            raise OutOfDomainError("MultiArchModel needs at least one network")
        kinds = {type(m) for m in models}
        if len(kinds) != 1 or next(iter(kinds)) not in _SKELETONS:
            raise OutOfDomainError(
                f"MultiArchModel packs networks of one kind; got "
                f"{sorted(k.__name__ for k in kinds)}; allowed: "
                f"{allowed(sorted(k.__name__ for k in _SKELETONS))}")
        self.size = len(models)
        self._templates = [{k: v.shape for k, v in m.state_dict().items()} for m in models]
        self._unused = [_unused_parameters(m) for m in models]
        self.net = _SKELETONS[type(models[0])](models)

    def frozen_blocks(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(view, value)`` of every member parameter its own network never updates.

        A parameter that does not reach the output of its network (everything before a
        cell without a path from input to output) gets no gradient there, so the
        optimiser leaves it alone (no weight decay, no momentum); in the pack it is a block
        of a tensor that others update, so the trainer writes ``value`` back into ``view``
        after every step.
        """
        out = []
        for mod, p, name, block in self._member_slots():
            for key, t in mod.named_parameters(recurse=False):
                if f"{name}.{key}" in self._unused[p]:
                    view = block(t)
                    out.append((view, view.detach().clone()))
        return out

    def _member_slots(self) -> Iterator[tuple[nn.Module, int, str, Callable[[torch.Tensor], torch.Tensor]]]:
        """Each grouped module's members: ``(module, member index, name, block)``.

        ``block(t)`` is the member's slice of one of the module's tensors (a row of a
        grouped linear layer, the member's channel group otherwise; 0-d tensors are shared).
        """
        for mod in self.net.modules():
            members = getattr(mod, "_members", None)
            if members is None:
                continue
            P = len(members)
            for j, (p, name) in enumerate(members):
                yield mod, p, name, functools.partial(_member_block, mod, P, j)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 5:
            if x.shape[0] != self.size:
                raise OutOfDomainError(f"input has {x.shape[0]} batches for {self.size} networks")
            x = x.transpose(0, 1).reshape(x.shape[1], -1, *x.shape[3:])
        else:
            x = x.repeat(1, self.size, 1, 1)
        return self.net(x)  # type: ignore[no-any-return]

    def unpack(self, index: int) -> dict[str, torch.Tensor]:
        """The state dict of member ``index`` (loadable into its own network)."""
        out: dict[str, torch.Tensor] = {}
        for mod, p, name, block in self._member_slots():
            if p != index:
                continue
            for key, t in mod.state_dict().items():
                out[f"{name}.{key}"] = block(t).detach().clone()
        missing = set(self._templates[index]) - set(out)
        if missing:  # cannot happen for the supported skeletons; guards the mapping
            raise OutOfDomainError(f"unpack lost parameters {sorted(missing)[:3]}")
        return out


def _member_block(mod: nn.Module, size: int, j: int, t: torch.Tensor) -> torch.Tensor:
    """Member ``j`` of ``size``'s block of tensor ``t`` of grouped module ``mod``."""
    if isinstance(mod, GroupedLinear):
        return t[j]
    return t if t.ndim == 0 else t.view(size, -1, *t.shape[1:])[j]


def _unused_parameters(net: nn.Module) -> set[str]:
    """Names of the parameters of ``net`` that get no gradient (do not reach the output)."""
    if isinstance(net, TinyCellNetwork) and all(
            cell.edges and [(d, s) for d, s, _ in cell.edges] ==
            [e for e, live in zip(EDGES, live_edges(cell.ops)) if live]
            for cell in net.cells if isinstance(cell, TopologyCell)):
        # Every cell holds exactly its live edges (pruned, or nothing to prune), and at least
        # one: each parameter lies on a path from the input to the output. No probe needed.
        return set()
    # In eval mode the probe changes no state (no BatchNorm statistics), so it runs on the
    # network itself instead of a deep copy; which parameters reach the output does not
    # depend on the mode.
    was_training = net.training
    net.eval()
    try:
        names, params = zip(*[(k, p) for k, p in net.named_parameters() if p.requires_grad])
        x = torch.zeros(2, 3, 8, 8, dtype=params[0].dtype)
        x[1] = 1.0
        grads = torch.autograd.grad(net(x).sum(), params, allow_unused=True)
    finally:
        net.train(was_training)
    return {k for k, g in zip(names, grads) if g is None}


class _MultiNB201(nn.Module):
    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        tiny = [n for n in nets if isinstance(n, TinyCellNetwork)]
        _same(tiny, ("channels",))
        P = len(tiny)
        self.P = P
        self.stem = group_modules([n.stem for n in tiny], ["stem"] * P)
        self.cells = nn.ModuleList()
        for i, first in enumerate(tiny[0].cells):
            layer = [n.cells[i] for n in tiny]
            names = [f"cells.{i}"] * P
            if isinstance(first, TopologyCell):
                self.cells.append(_GroupedTopologyCell(layer, names))  # type: ignore[arg-type]
            else:
                self.cells.append(group_modules(layer, names))
        self.lastact = group_modules([n.lastact for n in tiny], ["lastact"] * P)
        self.classifier = group_modules([n.classifier for n in tiny], ["classifier"] * P)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The stem convolution (3 input channels per member) runs on channels-last input,
        # about twice as fast in oneDNN as on NCHW (same sums, another rounding order).
        x = self.stem[0](x.contiguous(memory_format=torch.channels_last)).contiguous()  # type: ignore[index]
        x = self.stem[1](x)  # type: ignore[index]
        for cell in self.cells:
            x = cell(x)
        x = self.lastact(x).mean((2, 3))
        return self.classifier(x.view(x.shape[0], self.P, -1))  # type: ignore[no-any-return]


class _GroupedNB101Cell(nn.Module):
    """``P`` NB101 modules with one adjacency matrix (operations may differ per vertex)."""

    def __init__(self, cells: Sequence[NB101Cell], names: Sequence[str]) -> None:
        super().__init__()
        first = cells[0]
        for c in cells[1:]:
            if not np.array_equal(c.matrix, first.matrix) or c.channels != first.channels:
                raise OutOfDomainError("the multiarch kernel packs NB101 cells with one "
                                       "adjacency matrix (and so one channel split) only")
        self.matrix = first.matrix
        self.channels = list(first.channels)
        self.P = len(cells)
        P = self.P
        n = len(self.channels)
        self.input_proj = nn.ModuleDict({
            k: group_modules([c.input_proj[k] for c in cells],
                             [f"{nm}.input_proj.{k}" for nm in names])
            for k in first.input_proj})
        self.vertices = nn.ModuleDict()
        for v in range(1, n - 1):
            by_op: dict[str, tuple[list[int], list[nn.Module], list[str]]] = {}
            for p, (c, nm) in enumerate(zip(cells, names)):
                op = c.ops[v]
                entry = by_op.setdefault(op, ([], [], []))
                entry[0].append(p)
                entry[1].append(c.vertex_ops[v - 1])
                entry[2].append(f"{nm}.vertex_ops.{v - 1}")
            self.vertices[str(v)] = _GroupedOpSet(P, self.channels[v], by_op)

    def _trunc(self, x: torch.Tensor, width: int) -> torch.Tensor:
        b, _, h, w = x.shape
        return x.view(b, self.P, -1, h, w)[:, :, :width].reshape(b, -1, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.channels)
        m = self.matrix
        values: list[torch.Tensor] = [x]
        for t in range(1, n - 1):
            inputs = [self._trunc(values[s], self.channels[t]) for s in range(1, t) if m[s, t]]
            if m[0, t]:
                inputs.append(self.input_proj[str(t)](x))
            total = inputs[0]
            for y in inputs[1:]:
                total = total + y
            out = self.vertices[str(t)].forward_into(total, None)  # type: ignore[operator]
            assert out is not None
            values.append(out)
        b, _, h, w = x.shape
        concat = [values[t].view(b, self.P, -1, h, w) for t in range(1, n - 1) if m[t, n - 1]]
        if not concat:
            return self.input_proj[str(n - 1)](x)  # type: ignore[no-any-return]
        out5 = concat[0] if len(concat) == 1 else torch.cat(concat, dim=2)
        res = out5.reshape(b, -1, h, w)
        if m[0, n - 1]:
            res = res + self.input_proj[str(n - 1)](x)
        return res


class _MultiNB101(nn.Module):
    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        P = len(nets)
        self.P = P
        self.stem = group_modules([n.stem for n in nets], ["stem"] * P)  # type: ignore[misc]
        self.layers = nn.ModuleList()
        for i, first in enumerate(nets[0].layers):  # type: ignore[arg-type]
            layer = [n.layers[i] for n in nets]  # type: ignore[index]
            names = [f"layers.{i}"] * P
            if isinstance(first, NB101Cell):
                self.layers.append(_GroupedNB101Cell(layer, names))  # type: ignore[arg-type]
            else:
                self.layers.append(group_modules(layer, names))  # type: ignore[arg-type]
        self.classifier = group_modules([n.classifier for n in nets], ["classifier"] * P)  # type: ignore[misc]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        x = x.mean((2, 3))
        return self.classifier(x.view(x.shape[0], self.P, -1))  # type: ignore[no-any-return]


#: Network class -> grouped skeleton builder.
_SKELETONS: dict[type, Callable[[Sequence[nn.Module]], nn.Module]] = {
    TinyCellNetwork: _MultiNB201,
    NB101Network: _MultiNB101,
}


@torch.no_grad()
def _evaluate(model: MultiArchModel, split: Split, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Per-network mean loss and accuracy (percent) on ``split``; wall seconds."""
    model.eval()

    def forward(x: torch.Tensor) -> torch.Tensor:
        # Sub-batches keep the pack's wide activations in cache; in eval mode every image is
        # computed on its own, so the logits are those of one big batch up to rounding
        # (oneDNN may pick another algorithm for another batch size; with the embedded
        # recipe's packs they were bit-identical), and the losses are summed over the
        # whole batch as before.
        with torch.inference_mode():
            return torch.cat([model(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)], 1)

    return _evaluate_members(forward, model.size, split, batch_size)


def train_models_multiarch(
    models: Sequence[nn.Module],
    data: ImageData,
    recipe: Recipe,
    *,
    seeds: Sequence[int],
    checkpoint: str | Path | None = None,
    callbacks: Sequence[Callable[[int, EpochRecord], None]] = (),
    identity: dict[str, Any] | None = None,
    eval_batch_size: int = 1000,
) -> list[TrainResult]:
    """Train ``models[p]`` with seed ``seeds[p]``, all at once; one result per model.

    The multi-architecture counterpart of :func:`~nasbench_tools.trainer.loop.train_model`
    (same records, same checkpoint semantics); seeds may repeat (one seed, several cells).
    ``callbacks`` receive ``(member index, record)``. The time fields of a record are the
    pack's wall times divided by the number of members.

    Returns
    -------
    list of TrainResult
        In the order of ``models``; ``info`` holds the seed, the kernel and the pack size.

    Examples
    --------
    >>> from nasbench_tools.networks.nb201 import nb201_network
    >>> from nasbench_tools.trainer.datasets import load_dataset
    >>> nets = []
    >>> for s, ops in ((0, ("nor_conv_1x1",) * 6), (0, ("skip_connect", "avg_pool_3x3") * 3)):
    ...     _ = torch.manual_seed(s)
    ...     nets.append(nb201_network(ops, C=4, N=1))
    >>> res = train_models_multiarch(nets, load_dataset("digits"), get_recipe("quick-cpu", epochs=1), seeds=[0, 0])
    >>> [r.info["pack"] for r in res]
    [2, 2]
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) != len(models):
        raise OutOfDomainError(f"train_models_multiarch needs one seed per model; got "
                               f"{len(models)} models and seeds {seeds}")
    P = len(seeds)
    ident = {"recipe": recipe.to_dict(), "seeds": seeds, "dataset": data.name,
             "kernel": KERNEL, **(identity or {})}
    n_params = [sum(p.numel() for p in m.parameters() if p.requires_grad) for m in models]
    model = MultiArchModel(models)
    train = data.train
    n = len(train)
    opt, sched = _optimisation(model.parameters(), recipe, n)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    saved = _resume(ckpt, ident, model, opt, sched)
    frozen = model.frozen_blocks()
    records: list[list[EpochRecord]] = (
        [[EpochRecord(**r) for r in per] for per in saved] if saved is not None
        else [[] for _ in seeds]
    )
    resumed_from = len(records[0])
    train_time = records[0][-1].train_time * P if records[0] else 0.0
    for epoch in range(resumed_from + 1, recipe.epochs + 1):
        lr = float(opt.param_groups[0]["lr"])
        perms = {s: torch.from_numpy(np.random.default_rng([s, epoch]).permutation(n))
                 for s in set(seeds)}
        orders = torch.stack([perms[s] for s in seeds])
        gens = [torch.Generator().manual_seed(_epoch_seed(s, epoch, 1)) for s in seeds]
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros(P, dtype=torch.float64)
        correct = torch.zeros(P, dtype=torch.int64)
        for i in range(0, n, recipe.batch_size):
            idx = orders[:, i : i + recipe.batch_size]  # (P, batch): each member its images
            x, y = train.x[idx], train.y[idx]
            if recipe.augment:
                x = torch.stack([_augment(x[j], gens[j]) for j in range(P)])
            out = model(x)  # (P, batch, classes)
            per = nn.functional.cross_entropy(
                out.flatten(0, 1), y.flatten(), reduction="none"
            ).view(P, -1).mean(1)
            opt.zero_grad(set_to_none=True)
            per.sum().backward()  # d(sum)/d(member p's weights) = d(loss_p)/d(...)
            opt.step()
            with torch.no_grad():
                for view, value in frozen:
                    view.copy_(value)
            sched.step()
            with torch.no_grad():
                loss_sum += per.detach().double() * idx.shape[1]
                correct += (out.argmax(-1) == y).sum(1)
        train_time += time.perf_counter() - t0
        if recipe.bn_recalibrate:
            recalibrate_bn(model, train, eval_batch_size)
        val_loss, val_acc, val_time = _evaluate(model, data.valid, eval_batch_size)
        test_loss, test_acc, test_time = _evaluate(model, data.test, eval_batch_size)
        for j in range(P):
            records[j].append(EpochRecord(
                epoch=epoch, lr=lr, train_loss=float(loss_sum[j]) / n,
                train_accuracy=100.0 * float(correct[j]) / n, val_loss=float(val_loss[j]),
                val_accuracy=float(val_acc[j]), test_loss=float(test_loss[j]),
                test_accuracy=float(test_acc[j]), train_time=train_time / P,
                val_time=val_time / P, test_time=test_time / P,
            ))
        log.info("epoch %d/%d (%d networks packed): val %.2f-%.2f%% | %.1fs", epoch,
                 recipe.epochs, P, float(val_acc.min()), float(val_acc.max()), train_time)
        if ckpt is not None:
            _save_checkpoint(ckpt, ident, model, opt, sched,
                             [[asdict(r) for r in per_m] for per_m in records])
        for j in range(P):
            for cb in callbacks:
                cb(j, records[j][-1])
    return [
        TrainResult(records[j], n_params[j], resumed_from,
                    {"identity": ident, "seed": s, "kernel": KERNEL, "pack": P})
        for j, s in enumerate(seeds)
    ]


def train_cells_multiarch(
    members: Sequence[tuple[Any, int]],
    dataset: str | ImageData,
    recipe: str | Recipe = "quick-cpu",
    *,
    data_root: str | Path | None = None,
    checkpoint: str | Path | None = None,
    callbacks: Sequence[Callable[[int, EpochRecord], None]] = (),
) -> list[TrainResult]:
    """Train every ``(cell, seed)`` of ``members`` in one multi-architecture pack.

    Each network is built exactly as :func:`~nasbench_tools.trainer.loop.train_cell` builds
    it, then all are trained together (see the module docstring).

    Parameters
    ----------
    members : sequence of (Cell, int)
        Distinct ``(cell, seed)`` pairs; NB201 cells of any operations, or NB101 cells of one
        adjacency matrix.
    dataset : str or ImageData
    recipe : str or Recipe, default "quick-cpu"
    data_root : path, optional
    checkpoint : path, optional
        One resumable checkpoint for the whole pack.
    callbacks : sequence of callables
        Called as ``cb(member index, record)`` after every epoch.

    Returns
    -------
    list of TrainResult
        One per member, in order (``info`` has ``cell`` and ``seed``).

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> c = Cell.from_string("|skip_connect~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_3x3~2|")
    >>> r = train_cells_multiarch([(c, 4)], "digits", get_recipe("quick-cpu", epochs=1))
    >>> r[0].info["seed"], len(r[0].records)
    (4, 1)
    """
    pairs = [(c.to_string(), int(s)) for c, s in members]
    if len(set(pairs)) != len(pairs) or not pairs:
        raise OutOfDomainError(f"members must be distinct (cell, seed) pairs; got {len(pairs)} "
                               f"with {len(pairs) - len(set(pairs))} repeated")
    data = dataset if isinstance(dataset, ImageData) else load_dataset(dataset, data_root)
    rec = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    nets = [build_cell_network(c, data, rec, int(s)) for c, s in members]
    results = train_models_multiarch(nets, data, rec, seeds=[s for _, s in pairs],
                                     checkpoint=checkpoint, callbacks=callbacks,
                                     identity={"members": [list(p) for p in pairs]})
    for r, (cell, _) in zip(results, pairs):
        r.info["cell"] = cell
    return results
