"""A train function for ``TrainerEvaluator``: cell -> metrics of a real training.

The searchers' ``TrainerEvaluator`` (in ``nasbench_tools.search``) only needs a callable
``train(cell, seed) -> metrics``; :class:`TrainFunction` is that callable, configured once
with a dataset, a recipe and the seeds to average
(``TrainerEvaluator(make_train_fn("digits", "quick-cpu"))``).

Examples
--------
>>> from nasbench_tools.spaces.nb201 import Cell
>>> fn = make_train_fn("digits", "quick-cpu", seeds=(0,), epochs=1)
>>> m = fn(Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"))
>>> sorted(m)[:4], m["epochs"]
(['epochs', 'params', 'test_accuracy', 'test_loss'], 1.0)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.trainer.datasets import load_dataset
from nasbench_tools.trainer.loop import train_cell
from nasbench_tools.trainer.multiarch import train_cells_multiarch
from nasbench_tools.trainer.packed import train_cell_seeds
from nasbench_tools.trainer.recipes import Recipe, get_recipe
from nasbench_tools.trainer.results import KERNELS

__all__ = ["TrainFunction", "make_train_fn"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainFunction:
    """Callable ``cell -> metrics``: trains the cell once per seed and averages.

    Parameters
    ----------
    dataset : str
        Registered dataset name.
    recipe : Recipe
    seeds : tuple of int
    data_root : str, optional
    threads : int, default 1
        ``torch.set_num_threads`` during the call.
    kernel : str, default "single"
        ``"packed"`` trains all seeds of a call together (``trainer.packed``; faster for
        several seeds on small inputs, same statistics, other float rounding);
        ``"multiarch"`` does the same with ``trainer.multiarch`` (one cell, its seeds).

    Returns (of a call)
    -------------------
    dict of str to float
        The final-epoch store metrics (``val_accuracy``, ``test_accuracy``, losses, times)
        averaged over seeds, plus ``params`` and ``epochs``. ``train_time`` is the total
        training time over all seeds and ``train_seconds`` adds the evaluations: the cost a
        searcher pays (``TrainerEvaluator``'s default ``cost_key``).
    """

    dataset: str
    recipe: Recipe
    seeds: tuple[int, ...] = (0,)
    data_root: str | None = None
    threads: int = 1
    kernel: str = "single"

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise OutOfDomainError(f"unknown training kernel {self.kernel!r}; allowed: "
                                   f"{allowed(KERNELS)}")

    def __call__(self, cell: Any, seed: int = 0) -> dict[str, float]:
        """Train ``cell`` with seeds ``seed + s`` for each configured ``s``; average.

        This is the ``train(cell, seed)`` signature that ``TrainerEvaluator`` calls.
        """
        data = load_dataset(self.dataset, self.data_root)
        old = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            seeds = [int(seed) + s for s in self.seeds]
            if self.kernel == "packed":
                results = train_cell_seeds(cell, data, self.recipe, seeds=seeds)
            elif self.kernel == "multiarch":
                results = train_cells_multiarch([(cell, s) for s in seeds], data, self.recipe)
            else:
                results = [train_cell(cell, data, self.recipe, seed=s) for s in seeds]
            finals = [r.final for r in results]
            params = results[0].params
        finally:
            torch.set_num_threads(old)
        out = {k: float(np.mean([f[k] for f in finals])) for k in finals[0]}
        out["train_time"] = float(sum(f["train_time"] for f in finals))
        out["train_seconds"] = out["train_time"] + float(
            sum(f["val_time"] + f["test_time"] for f in finals))
        out["params"] = float(params)
        out["epochs"] = float(self.recipe.epochs)
        return out


def make_train_fn(dataset: str = "digits", preset: str | Recipe = "quick-cpu", *,
                  seeds: Sequence[int] = (0,), data_root: str | Path | None = None,
                  threads: int = 1, kernel: str = "single",
                  **recipe_overrides: Any) -> TrainFunction:
    """Build a :class:`TrainFunction` from a dataset name and a recipe preset.

    Parameters
    ----------
    dataset : str, default "digits"
    preset : str or Recipe, default "quick-cpu"
    seeds : sequence of int, default (0,)
    data_root : path, optional
    threads : int, default 1
    kernel : str, default "single"
        ``"single"``, ``"packed"`` or ``"multiarch"`` (see :class:`TrainFunction`).
    **recipe_overrides
        Recipe field changes (``epochs=2``, ``lr=0.05``, ...).

    Examples
    --------
    >>> make_train_fn("digits", "quick-cpu", seeds=(0, 1), epochs=2).recipe.epochs
    2
    >>> make_train_fn(seeds=(0, 1), kernel="packed").kernel
    'packed'
    >>> make_train_fn(seeds=())
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: seeds must be a non-empty list of integers; got []
    """
    if len(seeds) == 0:
        raise OutOfDomainError(f"seeds must be a non-empty list of integers; got {list(seeds)}")
    load_dataset(dataset, data_root)  # fail early on a bad name or path
    return TrainFunction(dataset, get_recipe(preset, **recipe_overrides),
                         tuple(int(s) for s in seeds),
                         None if data_root is None else str(data_root), threads, kernel)
