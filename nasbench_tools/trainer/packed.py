"""Seed-packed training: all seeds of one cell trained together, in one vectorised pass.

A tabular benchmark trains every cell with several seeds (the embedded one with 16). The
benchmark networks on small images are tiny, so a single training spends most of its time
in per-operation overhead, not arithmetic. :func:`train_cell_seeds` therefore stacks the
weights of the ``S`` networks (one per seed, each initialised exactly as
:func:`~nasbench_tools.trainer.loop.train_cell` initialises it) and runs them as one
``torch.func.vmap`` of the network over the seed axis: every convolution becomes one grouped
convolution over the ``S`` seeds, every BatchNorm one BatchNorm over ``S`` times the
channels (its statistics stay per seed, since they are per channel).

What each seed sees is what it sees in :func:`~nasbench_tools.trainer.loop.train_cell`: the
same initial weights, the same image order per epoch (``default_rng([seed, epoch])``), the
same augmentation stream, its own loss (the packed loss is the *sum* of the per-seed mean
losses, so each seed's gradient is its own), and the optimiser and schedule act element by
element. The runs are therefore the same computation in another floating-point order: after
one step the weights agree to about 1e-6, and over a training they drift apart the way two
runs on different hardware do (a seed's final accuracy can differ by an image or two). A
benchmark is built with one kernel throughout, and the kernel is part of each training's
identity (``Job.kernel``), so the two are never mixed silently.

Examples
--------
>>> import torch
>>> from nasbench_tools.spaces.nb201 import Cell
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> torch.set_num_threads(1)
>>> cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|")
>>> results = train_cell_seeds(cell, "digits", get_recipe("quick-cpu", epochs=1), seeds=(0, 1))
>>> [r.info["seed"] for r in results], [len(r.records) for r in results]
([0, 1], [1, 1])
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from nasbench_tools.errors import OutOfDomainError
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
)
from nasbench_tools.trainer.recipes import Recipe, get_recipe

__all__ = ["PackedModel", "train_cell_seeds", "train_models_packed"]

log = logging.getLogger(__name__)

#: Name of this kernel in job keys, results and store provenance.
KERNEL = "packed"


class PackedModel:
    """``S`` networks of one architecture as stacked tensors, run with ``vmap``.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Identically structured networks (e.g. one cell built with different seeds).

    Attributes
    ----------
    params, buffers : dict of str to torch.Tensor
        Stacked along a new first axis of length ``S``; ``params`` are leaves that
        require gradients.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> nets = [nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)) for _ in range(2)]
    >>> packed = PackedModel(nets)
    >>> x = torch.randn(2, 5, 4)  # a different batch per network
    >>> out = packed(x)
    >>> torch.allclose(out[1], nets[1](x[1]), atol=1e-6)
    True
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        if not models:
            raise OutOfDomainError("PackedModel needs at least one network")
        params, buffers = stack_module_state(list(models))
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.detach().clone() for k, v in buffers.items()}
        # A weightless copy supplies the structure; functional_call swaps the tensors in.
        self._base = copy.deepcopy(models[0]).to("meta")
        self.size = len(models)

    def _call(self, p: dict[str, torch.Tensor], b: dict[str, torch.Tensor],
              x: torch.Tensor) -> torch.Tensor:
        return functional_call(self._base, (p, b), (x,))  # type: ignore[no-any-return]

    def __call__(self, x: torch.Tensor, *, shared: bool = False) -> torch.Tensor:
        """Outputs of every network: ``x`` is ``(S, batch, ...)``, or ``(batch, ...)`` fed to
        all networks when ``shared``; the result has a leading seed axis."""
        in_dims = (0, 0, None if shared else 0)
        return vmap(self._call, in_dims=in_dims)(self.params, self.buffers, x)  # type: ignore[no-any-return]

    def train(self, mode: bool = True) -> PackedModel:
        """Training (batch statistics, running averages updated) or evaluation mode."""
        self._base.train(mode)
        return self

    def eval(self) -> PackedModel:
        """Evaluation mode (running statistics)."""
        return self.train(False)

    def parameters(self) -> list[torch.Tensor]:
        """The stacked parameters (what the optimiser updates)."""
        return list(self.params.values())

    def state_dict(self) -> dict[str, dict[str, torch.Tensor]]:
        """Stacked parameters and buffers (for checkpoints)."""
        return {"params": {k: v.detach() for k, v in self.params.items()},
                "buffers": dict(self.buffers)}

    def load_state_dict(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        """Restore :meth:`state_dict` in place (the optimiser keeps its references)."""
        with torch.no_grad():
            for k, v in state["params"].items():
                self.params[k].copy_(v)
            for k, v in state["buffers"].items():
                self.buffers[k].copy_(v)

    def unpack(self, index: int) -> dict[str, torch.Tensor]:
        """The state dict of network ``index`` (loadable into one of the input networks).

        Examples
        --------
        >>> nets = [nn.Linear(2, 2) for _ in range(3)]
        >>> sd = PackedModel(nets).unpack(2)
        >>> torch.equal(sd["weight"], nets[2].weight)
        True
        """
        out = {k: v[index].detach().clone() for k, v in self.params.items()}
        out.update({k: v[index].clone() for k, v in self.buffers.items()})
        return out


@torch.no_grad()
def _evaluate(model: PackedModel, split: Split, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Per-network mean loss and accuracy (percent) on ``split``; wall seconds."""
    model.eval()
    return _evaluate_members(lambda x: model(x, shared=True), model.size, split, batch_size)


@torch.no_grad()
def _recalibrate_bn(model: PackedModel, split: Split, batch_size: int) -> None:
    """Precise BN for every packed network (see ``loop.recalibrate_bn``)."""
    bns = [(name, m) for name, m in model._base.named_modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for _, m in bns]
    for name, _ in bns:
        prefix = f"{name}." if name else ""
        model.buffers[prefix + "running_mean"].zero_()
        model.buffers[prefix + "running_var"].fill_(1.0)
        model.buffers[prefix + "num_batches_tracked"].zero_()
    model.train()
    # momentum=None (torch's cumulative average) reads a tensor as a Python number, which
    # vmap forbids; momentum 1/k before the k-th batch is the same running mean.
    for k, i in enumerate(range(0, len(split), batch_size), start=1):
        for _, m in bns:
            m.momentum = 1.0 / k
        model(split.x[i : i + batch_size], shared=True)
    for (_, m), mom in zip(bns, momenta):
        m.momentum = mom


def train_models_packed(
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
    """Train ``models[i]`` with seed ``seeds[i]``, all at once; one result per seed.

    The packed counterpart of :func:`~nasbench_tools.trainer.loop.train_model` (same
    arguments, same records, same checkpoint semantics); ``callbacks`` receive
    ``(seed, record)``. ``train_time``, ``val_time`` and ``test_time`` of a record are the
    packed wall times divided by the number of seeds (each seed's share).

    Returns
    -------
    list of TrainResult
        In the order of ``seeds``; ``info`` holds the seed, the kernel and the pack size.

    Examples
    --------
    >>> from nasbench_tools.trainer.datasets import load_dataset
    >>> data = load_dataset("digits")
    >>> nets = []
    >>> for s in (0, 1):
    ...     _ = torch.manual_seed(s)
    ...     nets.append(nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10)))
    >>> res = train_models_packed(nets, data, get_recipe("quick-cpu", epochs=1), seeds=[0, 1])
    >>> [r.final["val_accuracy"] > 50 for r in res]
    [True, True]
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) != len(models) or len(set(seeds)) != len(seeds):
        raise OutOfDomainError(
            f"train_models_packed needs one distinct seed per model; got {len(models)} models "
            f"and seeds {seeds}"
        )
    S = len(seeds)
    ident = {"recipe": recipe.to_dict(), "seeds": seeds, "dataset": data.name,
             "kernel": KERNEL, **(identity or {})}
    n_params = sum(p.numel() for p in models[0].parameters() if p.requires_grad)
    model = PackedModel(models)
    train = data.train
    n = len(train)
    opt, sched = _optimisation(model.parameters(), recipe, n)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    saved = _resume(ckpt, ident, model, opt, sched)
    records: list[list[EpochRecord]] = (
        [[EpochRecord(**r) for r in per_seed] for per_seed in saved] if saved is not None
        else [[] for _ in seeds]
    )
    resumed_from = len(records[0])
    train_time = records[0][-1].train_time * S if records[0] else 0.0
    for epoch in range(resumed_from + 1, recipe.epochs + 1):
        lr = float(opt.param_groups[0]["lr"])
        orders = torch.stack([torch.from_numpy(np.random.default_rng([s, epoch]).permutation(n))
                              for s in seeds])
        gens = [torch.Generator().manual_seed(_epoch_seed(s, epoch, 1)) for s in seeds]
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros(S, dtype=torch.float64)
        correct = torch.zeros(S, dtype=torch.int64)
        for i in range(0, n, recipe.batch_size):
            idx = orders[:, i : i + recipe.batch_size]  # (S, batch): each seed its own images
            x, y = train.x[idx], train.y[idx]
            if recipe.augment:
                x = torch.stack([_augment(x[j], gens[j]) for j in range(S)])
            out = model(x)
            per_seed = nn.functional.cross_entropy(
                out.flatten(0, 1), y.flatten(), reduction="none"
            ).view(S, -1).mean(1)
            opt.zero_grad(set_to_none=True)
            # The sum keeps the seeds independent: d(sum)/d(params of seed s) = d(loss_s)/d(...).
            per_seed.sum().backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                loss_sum += per_seed.detach().double() * idx.shape[1]
                correct += (out.argmax(-1) == y).sum(1)
        train_time += time.perf_counter() - t0
        if recipe.bn_recalibrate:
            _recalibrate_bn(model, train, eval_batch_size)
        val_loss, val_acc, val_time = _evaluate(model, data.valid, eval_batch_size)
        test_loss, test_acc, test_time = _evaluate(model, data.test, eval_batch_size)
        for j in range(S):
            rec = EpochRecord(
                epoch=epoch, lr=lr, train_loss=float(loss_sum[j]) / n,
                train_accuracy=100.0 * float(correct[j]) / n, val_loss=float(val_loss[j]),
                val_accuracy=float(val_acc[j]), test_loss=float(test_loss[j]),
                test_accuracy=float(test_acc[j]), train_time=train_time / S,
                val_time=val_time / S, test_time=test_time / S,
            )
            records[j].append(rec)
        log.info("epoch %d/%d (%d seeds packed): val %.2f-%.2f%% | %.1fs", epoch, recipe.epochs,
                 S, float(val_acc.min()), float(val_acc.max()), train_time)
        if ckpt is not None:
            _save_checkpoint(ckpt, ident, model, opt, sched,
                             [[asdict(r) for r in per_seed] for per_seed in records])
        for j, s in enumerate(seeds):
            for cb in callbacks:
                cb(s, records[j][-1])
    return [
        TrainResult(records[j], n_params, resumed_from,
                    {"identity": ident, "seed": s, "kernel": KERNEL, "pack": S})
        for j, s in enumerate(seeds)
    ]


def train_cell_seeds(
    cell: Any,
    dataset: str | ImageData,
    recipe: str | Recipe = "quick-cpu",
    *,
    seeds: Sequence[int] = (0, 1),
    data_root: str | Path | None = None,
    checkpoint: str | Path | None = None,
    callbacks: Sequence[Callable[[int, EpochRecord], None]] = (),
) -> list[TrainResult]:
    """Train ``cell`` once per seed, all seeds packed into one vectorised training.

    Each seed's network is built exactly as :func:`~nasbench_tools.trainer.loop.train_cell`
    builds it, then all are trained together (see the module docstring for what is and is
    not identical to separate trainings).

    Parameters
    ----------
    cell : Cell
        A cell of a registered space.
    dataset : str or ImageData
        A registered dataset name or loaded data.
    recipe : str or Recipe, default "quick-cpu"
    seeds : sequence of int, default (0, 1)
        Distinct seeds, one network each.
    data_root : path, optional
        Directory of a disk dataset.
    checkpoint : path, optional
        One resumable checkpoint for the whole pack.
    callbacks : sequence of callables
        Called as ``cb(seed, record)`` after every epoch.

    Returns
    -------
    list of TrainResult
        One per seed, in order.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> cell = Cell.from_string("|skip_connect~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_3x3~2|")
    >>> a = train_cell_seeds(cell, "digits", get_recipe("quick-cpu", epochs=1), seeds=(4, 5))
    >>> b = train_cell_seeds(cell, "digits", get_recipe("quick-cpu", epochs=1), seeds=(4, 5))
    >>> [(x.final["val_loss"], x.final["train_loss"]) == (y.final["val_loss"], y.final["train_loss"])
    ...  for x, y in zip(a, b)]  # deterministic
    [True, True]
    """
    data = dataset if isinstance(dataset, ImageData) else load_dataset(dataset, data_root)
    rec = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    nets = [build_cell_network(cell, data, rec, int(s)) for s in seeds]
    results = train_models_packed(nets, data, rec, seeds=seeds, checkpoint=checkpoint,
                                  callbacks=callbacks, identity={"cell": cell.to_string()})
    for r in results:
        r.info["cell"] = cell.to_string()
    return results
