"""The training loop: per-epoch metrics, deterministic for a seed, checkpoints and resume.

Determinism: the weights are initialised after ``torch.manual_seed(seed)``; the order of the
training images in epoch ``e`` comes from ``numpy.random.default_rng([seed, e])`` and the
augmentation of epoch ``e`` from a local ``torch.Generator`` seeded from ``(seed, e)``. So an
epoch depends only on the state at its start, which a checkpoint holds (model, optimiser,
scheduler, records, torch RNG state): a run interrupted after any epoch and resumed gives
bit-identical metrics to an uninterrupted run (on the same machine and torch build).

Examples
--------
>>> import torch
>>> from nasbench_tools.trainer.datasets import load_dataset
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> torch.set_num_threads(1)
>>> data = load_dataset("digits")
>>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 64, 10))
>>> result = train_model(net, data, get_recipe("quick-cpu", epochs=2), seed=0)
>>> [r.epoch for r in result.records], result.final["val_accuracy"] > 50
([1, 2], True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.io import atomic_path
from nasbench_tools.trainer.datasets import ImageData, Split, load_dataset
from nasbench_tools.trainer.recipes import Recipe, get_recipe, make_optimizer, make_scheduler

__all__ = [
    "EpochRecord",
    "TrainResult",
    "build_cell_network",
    "evaluate",
    "recalibrate_bn",
    "train_cell",
    "train_model",
]

log = logging.getLogger(__name__)

#: Version of the checkpoint layout.
CHECKPOINT_VERSION = 1


@dataclass
class EpochRecord:
    """Metrics after one epoch (names from ``nasbench_tools.store.table.METRICS``).

    Accuracies are in percent, losses are mean cross-entropy, times are seconds; the times are
    cumulative up to this epoch (``train_time``) or of this epoch's evaluation
    (``val_time``, ``test_time``). ``train_*`` are running averages over the epoch's steps.
    """

    epoch: int
    lr: float
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    test_loss: float
    test_accuracy: float
    train_time: float
    val_time: float
    test_time: float

    def metrics(self) -> dict[str, float]:
        """The store metrics of this epoch (everything except ``epoch`` and ``lr``)."""
        d = asdict(self)
        d.pop("epoch")
        d.pop("lr")
        return d


@dataclass
class TrainResult:
    """Outcome of one training run.

    Attributes
    ----------
    records : list of EpochRecord
        One per epoch, in order.
    params : int
        Trainable parameters of the network.
    resumed_from : int
        Epochs that were loaded from a checkpoint instead of trained now (0 for a fresh run).
    """

    records: list[EpochRecord]
    params: int
    resumed_from: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> dict[str, float]:
        """Metrics of the last epoch."""
        return self.records[-1].metrics()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"records": [asdict(r) for r in self.records], "params": self.params,
                "info": self.info}


def _epoch_seed(seed: int, epoch: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


def _augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with zero padding ``pad`` and random horizontal flip (vectorised)."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None].expand(n, x.shape[1], h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :].expand(n, x.shape[1], h, w)
    out = out.gather(3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int = 1000) -> tuple[float, float, float]:
    """Mean loss, accuracy (percent) and wall time of ``model`` on ``split`` in eval mode.

    Examples
    --------
    >>> from nasbench_tools.trainer.datasets import load_dataset
    >>> data = load_dataset("digits")
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 64, 10))
    >>> loss, acc, seconds = evaluate(net, data.test)
    >>> 0 <= acc <= 100
    True
    """
    t0 = time.perf_counter()
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.int64)
    for i in range(0, len(split), batch_size):
        x, y = split.x[i : i + batch_size], split.y[i : i + batch_size]
        out = model(x)
        loss_sum += nn.functional.cross_entropy(out, y, reduction="sum").double()
        correct += (out.argmax(1) == y).sum()
    n = max(1, len(split))
    return float(loss_sum) / n, 100.0 * float(correct) / n, time.perf_counter() - t0


@torch.no_grad()
def recalibrate_bn(model: nn.Module, split: Split, batch_size: int = 1000) -> None:
    """Set every BatchNorm's running statistics to their exact average over ``split``.

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    >>> x = torch.randn(50, 3, 4, 4) * 3 + 1
    >>> recalibrate_bn(net, Split(x, torch.zeros(50, dtype=torch.long)), batch_size=10)
    >>> h = net[0](x)
    >>> torch.allclose(net[1].running_mean, h.mean((0, 2, 3)), atol=1e-5)
    True
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average = exact mean over the batches
    was_training = model.training
    model.train()
    for i in range(0, len(split), batch_size):
        model(split.x[i : i + batch_size])
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    model.train(was_training)


def _load_checkpoint(path: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise FormatError(f"checkpoint {path} cannot be read ({exc}); delete it to restart") from exc
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise FormatError(f"checkpoint {path} is not a version-{CHECKPOINT_VERSION} trainer "
                          "checkpoint; delete it to restart")
    if state.get("identity") != identity:
        raise OutOfDomainError(
            f"checkpoint {path} belongs to another run ({state.get('identity')}); this run is "
            f"{identity}. Use the same recipe, seed and dataset, or another checkpoint path"
        )
    return state


def train_model(
    model: nn.Module,
    data: ImageData,
    recipe: Recipe,
    *,
    seed: int,
    checkpoint: str | Path | None = None,
    callbacks: Sequence[Callable[[EpochRecord], None]] = (),
    identity: dict[str, Any] | None = None,
    eval_batch_size: int = 1000,
) -> TrainResult:
    """Train ``model`` on ``data`` with ``recipe``; evaluate valid and test after each epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Freshly initialised (seed torch before building it, as :func:`train_cell` does).
    data : ImageData
        Train / valid / test splits.
    recipe : Recipe
        Optimiser, schedule, batch size, epochs, augmentation.
    seed : int
        Fixes the data order and augmentation of every epoch.
    checkpoint : path, optional
        Written atomically after every epoch; if it exists, training resumes from it (it must
        belong to the same recipe, seed, dataset and ``identity``).
    callbacks : sequence of callables
        Called with each :class:`EpochRecord` after its checkpoint is written (raising from a
        callback interrupts the run cleanly).
    identity : dict, optional
        Extra JSON facts that a checkpoint must match (e.g. the cell string).
    eval_batch_size : int, default 1000

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from nasbench_tools.trainer.datasets import load_dataset
    >>> data = load_dataset("digits")
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 64, 10))
    >>> res = train_model(net, data, get_recipe("quick-cpu", epochs=1), seed=1)
    >>> len(res.records), res.params
    (1, 1930)
    """
    ident = {"recipe": recipe.to_dict(), "seed": int(seed), "dataset": data.name,
             **(identity or {})}
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    train = data.train
    n = len(train)
    opt, sched = _optimisation(model.parameters(), recipe, n)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    saved = _resume(ckpt, ident, model, opt, sched)
    records = [EpochRecord(**r) for r in saved] if saved is not None else []
    resumed_from = len(records)
    train_time = records[-1].train_time if records else 0.0
    for epoch in range(len(records) + 1, recipe.epochs + 1):
        lr = float(opt.param_groups[0]["lr"])
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(n))
        gen = torch.Generator().manual_seed(_epoch_seed(seed, epoch, 1))
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, recipe.batch_size):
            idx = order[i : i + recipe.batch_size]
            x, y = train.x[idx], train.y[idx]
            if recipe.augment:
                x = _augment(x, gen)
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                loss_sum += loss.detach().double() * len(idx)
                correct += (out.argmax(1) == y).sum()
        train_time += time.perf_counter() - t0
        if recipe.bn_recalibrate:
            recalibrate_bn(model, train, eval_batch_size)
        val_loss, val_acc, val_time = evaluate(model, data.valid, eval_batch_size)
        test_loss, test_acc, test_time = evaluate(model, data.test, eval_batch_size)
        rec = EpochRecord(
            epoch=epoch, lr=lr, train_loss=float(loss_sum) / n,
            train_accuracy=100.0 * float(correct) / n, val_loss=val_loss, val_accuracy=val_acc,
            test_loss=test_loss, test_accuracy=test_acc, train_time=train_time,
            val_time=val_time, test_time=test_time,
        )
        records.append(rec)
        log.info("epoch %d/%d: train %.2f%% loss %.4f | val %.2f%% | test %.2f%% | %.1fs",
                 epoch, recipe.epochs, rec.train_accuracy, rec.train_loss, val_acc, test_acc,
                 train_time)
        if ckpt is not None:
            _save_checkpoint(ckpt, ident, model, opt, sched, [asdict(r) for r in records])
        for cb in callbacks:
            cb(rec)
    return TrainResult(records, params, resumed_from, {"identity": ident})


def _optimisation(params: Any, recipe: Recipe, n_train: int) -> tuple[torch.optim.Optimizer, Any]:
    """The recipe's optimiser and per-step schedule for ``n_train`` training images."""
    opt = make_optimizer(params, recipe)
    return opt, make_scheduler(opt, recipe, -(-n_train // recipe.batch_size))


def _resume(ckpt: Path | None, ident: dict[str, Any], model: Any,
            opt: torch.optim.Optimizer, sched: Any) -> Any:
    """Load a checkpoint of run ``ident`` into model, optimiser, scheduler and torch's RNG.

    Returns the saved records (JSON form), or None when there is no checkpoint to resume.
    """
    state = _load_checkpoint(ckpt, ident) if ckpt is not None else None
    if state is None:
        return None
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:  # missing / unexpected keys or shapes
        raise FormatError(f"checkpoint {ckpt} does not fit this network (written by another "
                          f"version of the kernel?): {str(exc)[:200]}; delete it to restart") from exc
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    log.info("resumed %s", ckpt)
    return state["records"]


@torch.no_grad()
def _evaluate_members(forward: Callable[[torch.Tensor], torch.Tensor], size: int, split: Split,
                      batch_size: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Per-member mean loss and accuracy (percent) of ``size`` networks trained together.

    ``forward(x)`` gives every member's logits, shape ``(size, batch, classes)``: the
    seed-packed and the multi-architecture kernels share this; wall seconds last.
    """
    t0 = time.perf_counter()
    loss_sum = torch.zeros(size, dtype=torch.float64)
    correct = torch.zeros(size, dtype=torch.int64)
    for i in range(0, len(split), batch_size):
        x, y = split.x[i : i + batch_size], split.y[i : i + batch_size]
        out = forward(x)
        ce = nn.functional.cross_entropy(out.flatten(0, 1), y.repeat(size), reduction="none")
        loss_sum += ce.view(size, -1).sum(1).double()
        correct += (out.argmax(-1) == y).sum(1)
    n = max(1, len(split))
    return loss_sum / n, 100.0 * correct.double() / n, time.perf_counter() - t0


def _save_checkpoint(path: Path, ident: dict[str, Any], model: Any,
                     opt: torch.optim.Optimizer, sched: Any, records: Any) -> None:
    """Write model, optimiser, scheduler, RNG and ``records`` (JSON form) atomically."""
    state = {
        "version": CHECKPOINT_VERSION,
        "identity": ident,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "records": records,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def build_cell_network(cell: Any, data: ImageData, recipe: Recipe, seed: int) -> nn.Module:
    """Seed torch and build the benchmark network of ``cell`` sized by ``recipe.network``.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> from nasbench_tools.trainer.datasets import load_dataset
    >>> cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|")
    >>> net = build_cell_network(cell, load_dataset("digits"), get_recipe("quick-cpu"), seed=0)
    >>> net(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
    """
    from nasbench_tools.networks import build_network

    torch.manual_seed(seed)
    bench_dataset = data.name if data.name in _BENCH_DATASETS else "cifar10"
    overrides = {"num_classes": data.num_classes, **recipe.network}
    return build_network(cell, dataset=bench_dataset, **overrides)


_BENCH_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")


def train_cell(
    cell: Any,
    dataset: str | ImageData,
    recipe: str | Recipe = "quick-cpu",
    *,
    seed: int = 0,
    data_root: str | Path | None = None,
    checkpoint: str | Path | None = None,
    callbacks: Sequence[Callable[[EpochRecord], None]] = (),
) -> TrainResult:
    """Build the network of ``cell``, train it and return its per-epoch metrics.

    Parameters
    ----------
    cell : Cell
        A cell of a registered space (``to_string()`` is recorded in checkpoints).
    dataset : str or ImageData
        A registered dataset name (see ``trainer.datasets.DATASETS``) or loaded data.
    recipe : str or Recipe, default "quick-cpu"
        A preset name or a recipe.
    seed : int, default 0
        Weights, data order and augmentation all follow from it.
    data_root : path, optional
        Directory of a disk dataset.
    checkpoint : path, optional
        Resumable checkpoint (see :func:`train_model`).
    callbacks : sequence of callables
        Per-epoch callbacks.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> cell = Cell.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|")
    >>> recipe = get_recipe("quick-cpu", epochs=1)
    >>> a = train_cell(cell, "digits", recipe, seed=3).final
    >>> b = train_cell(cell, "digits", recipe, seed=3).final
    >>> a["val_accuracy"] == b["val_accuracy"] and a["train_loss"] == b["train_loss"]
    True
    """
    data = dataset if isinstance(dataset, ImageData) else load_dataset(dataset, data_root)
    rec = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    net = build_cell_network(cell, data, rec, seed)
    result = train_model(net, data, rec, seed=seed, checkpoint=checkpoint,
                         callbacks=callbacks, identity={"cell": cell.to_string()})
    result.info["cell"] = cell.to_string()
    return result
