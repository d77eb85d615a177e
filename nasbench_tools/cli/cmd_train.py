"""``nbt train SPACE CELL --dataset NAME --preset NAME``: train one cell, print its epochs.

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> register(sub)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nasbench_tools.cli.argtypes import positive_float, positive_int, seed

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command."""
    from nasbench_tools.trainer.datasets import DATASETS
    from nasbench_tools.trainer.recipes import PRESETS

    p = subparsers.add_parser(
        "train", help="train one cell for real and print its per-epoch metrics",
        description="Train one cell with a named recipe preset; print per-epoch metrics.",
    )
    p.add_argument("space", help="search space: nb201, nats_sss or nb101")
    p.add_argument("cell", help="cell string (e.g. '|nor_conv_3x3~0|+|...|') or hash")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--preset", default="quick-cpu", help=f"one of {', '.join(PRESETS)}")
    p.add_argument("--data-root", default=None, help="directory of a disk dataset (CIFAR...)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--epochs", type=positive_int, default=None, help="override the preset's epochs")
    p.add_argument("--lr", type=positive_float, default=None, help="override the learning rate")
    p.add_argument("--batch-size", type=positive_int, default=None, help="override the batch size")
    p.add_argument("--checkpoint", default=None, help="checkpoint file: resume if it exists")
    p.add_argument("--threads", type=positive_int, default=1, help="torch threads (default 1)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and print; returns the exit code."""
    import torch

    from nasbench_tools.spaces import get_space
    from nasbench_tools.trainer.loop import train_cell
    from nasbench_tools.trainer.recipes import get_recipe

    torch.set_num_threads(max(1, args.threads))
    cell = get_space(args.space).parse(args.cell)
    recipe = get_recipe(args.preset, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size)
    out = sys.stdout
    if not args.json:
        out.write(f"cell    {cell.to_string()}\nrecipe  {recipe.name}: {recipe.optimizer} "
                  f"lr {recipe.lr} wd {recipe.weight_decay} batch {recipe.batch_size} "
                  f"epochs {recipe.epochs} network {recipe.network or 'default'}\n")
        out.write(f"{'epoch':>5} {'lr':>8} {'train_acc':>9} {'train_loss':>10} "
                  f"{'val_acc':>8} {'val_loss':>8} {'test_acc':>8} {'time_s':>7}\n")

    def show(rec: Any) -> None:
        if not args.json:
            out.write(f"{rec.epoch:>5} {rec.lr:>8.4f} {rec.train_accuracy:>9.2f} "
                      f"{rec.train_loss:>10.4f} {rec.val_accuracy:>8.2f} {rec.val_loss:>8.4f} "
                      f"{rec.test_accuracy:>8.2f} {rec.train_time:>7.1f}\n")
            out.flush()

    result = train_cell(cell, args.dataset, recipe, seed=args.seed, data_root=args.data_root,
                        checkpoint=args.checkpoint, callbacks=[show])
    if args.json:
        out.write(json.dumps(result.to_dict(), indent=1) + "\n")
    else:
        if result.resumed_from:
            out.write(f"(epochs 1..{result.resumed_from} were loaded from {args.checkpoint})\n")
        out.write(f"params  {result.params}\n")
    return 0
