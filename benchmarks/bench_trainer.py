"""Training throughput: our loop and our seed-packed kernel against a plain PyTorch loop.

Both loops train the same NAS-Bench-201 network (fresh, same seed) with the same SGD
(Nesterov) + cosine recipe on the same real images (scikit-learn digits, repeated to 3
channels; also resized to 32x32 for a CIFAR-sized input). The plain loop is the textbook
one: ``TensorDataset`` + ``DataLoader(shuffle=True)`` + ``zero_grad/backward/step``. The two are
run alternately, several rounds, and the median images per second is reported. The packed
kernel (``trainer.packed``) trains ``S`` seeds of the same network at once; its images per
second count every seed's images (``S`` trainings' worth of work in its wall time).

A second table counts whole *trainings per second* on the embedded recipe (the recipe of
the shipped benchmark: digits 8x8, network C=8 N=1 with dead edges pruned, batch 64, 2
epochs, validation and test evaluated after each epoch, network construction included), on
the same cells for every kernel (the first cells of the stratified build order, so every
parameter-count stratum is in): the plain PyTorch loop one training at a time, our single
kernel, the seed-packed kernel (all seeds of a cell at once) and the multi-architecture
kernel (``trainer.multiarch``: K cells x S seeds at once) for several K x S. The kernels run
in turn within each round, and the median over rounds is reported.

A third table (``--section roofline``) puts the measured rates next to the arithmetic: the
floating-point operations of one training (``FlopCounterMode``), the machine's dense matrix
product rate and the rate of grouped convolutions at the pack's shapes, so that the ceiling
of any kernel built from these convolutions is a figure, not a guess.

Run: ``.venv/bin/python benchmarks/bench_trainer.py`` (writes ``benchmarks/results/trainer.md``;
``--section trainings`` for the second table only, ``--configs 16x1 16x2`` for the
multi-architecture packs; ``--reference-kernel FILE[:LABEL]`` also times the
``train_cells_multiarch`` of another version of ``multiarch.py``, e.g. one extracted with
``git show REV:nasbench_tools/trainer/multiarch.py``, in the same rounds, so that a change of the
kernel is measured side by side with the kernel it replaces).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from _common import best_of
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nasbench_tools.io import atomic_write_text
from nasbench_tools.networks import build_network
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.trainer.datasets import ImageData, Split, load_dataset
from nasbench_tools.trainer.loop import train_cell, train_model
from nasbench_tools.trainer.recipes import Recipe, get_recipe, make_scheduler

log = logging.getLogger("bench_trainer")

CELL = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
OUT = Path(__file__).resolve().parent / "results" / "trainer.md"


def _resized(data: ImageData, side: int, n: int | None = None) -> ImageData:
    """Images resized to ``side`` x ``side`` (the first ``n`` of each split, to keep it short)."""
    def r(s: Split) -> Split:
        return Split(nn.functional.interpolate(s.x[:n], size=(side, side), mode="bilinear"),
                     s.y[:n])

    return ImageData(f"{data.name}{side}", r(data.train), r(data.valid), r(data.test),
                     data.num_classes)


def plain_loop(data: ImageData, batch: int, epochs: int, C: int, N: int) -> float:
    """Textbook PyTorch training; returns images per second (training only)."""
    torch.manual_seed(0)
    net = build_network(CELL, "cifar10", num_classes=10, C=C, N=N)
    recipe = get_recipe("quick-cpu", batch_size=batch, epochs=epochs)
    loader = DataLoader(TensorDataset(data.train.x, data.train.y), batch_size=batch,
                        shuffle=True)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = make_scheduler(opt, recipe, len(loader))
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    seen = 0
    for _ in range(epochs):
        net.train()
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(y)
    return seen / (time.perf_counter() - t0)


def our_loop(data: ImageData, batch: int, epochs: int, C: int, N: int) -> float:
    """``trainer.loop.train_model``; images per second over its recorded train time."""
    torch.manual_seed(0)
    net = build_network(CELL, "cifar10", num_classes=10, C=C, N=N)
    recipe = get_recipe("quick-cpu", batch_size=batch, epochs=epochs, network={"C": C, "N": N})
    res = train_model(net, data, recipe, seed=0)
    return len(data.train) * epochs / res.records[-1].train_time


def packed_loop(data: ImageData, batch: int, epochs: int, C: int, N: int, seeds: int) -> float:
    """``trainer.packed.train_models_packed`` over ``seeds`` seeds; images per second, all seeds."""
    from nasbench_tools.trainer.packed import train_models_packed

    nets = []
    for s in range(seeds):
        torch.manual_seed(s)
        nets.append(build_network(CELL, "cifar10", num_classes=10, C=C, N=N))
    recipe = get_recipe("quick-cpu", batch_size=batch, epochs=epochs, network={"C": C, "N": N})
    res = train_models_packed(nets, data, recipe, seeds=range(seeds))
    # records hold each seed's share of the packed wall time
    return len(data.train) * epochs / res[0].records[-1].train_time


def _eval_plain(net: nn.Module, split: Split) -> float:
    net.eval()
    with torch.no_grad():
        return float(nn.functional.cross_entropy(net(split.x), split.y))


def plain_trainings(cells: list[Any], data: ImageData, recipe: Recipe) -> float:
    """Textbook loop, one training after the other (build, train, evaluate every epoch)."""
    t0 = time.perf_counter()
    for cell in cells:
        torch.manual_seed(0)
        net = build_network(cell, "cifar10", num_classes=10, **recipe.network)
        loader = DataLoader(TensorDataset(data.train.x, data.train.y),
                            batch_size=recipe.batch_size, shuffle=True)
        opt = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                              nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
        sched = make_scheduler(opt, recipe, len(loader))
        for _ in range(recipe.epochs):
            net.train()
            for x, y in loader:
                opt.zero_grad()
                nn.functional.cross_entropy(net(x), y).backward()
                opt.step()
                sched.step()
            _eval_plain(net, data.valid)
            _eval_plain(net, data.test)
    return len(cells) / (time.perf_counter() - t0)


def single_trainings(cells: list[Any], data: ImageData, recipe: Recipe) -> float:
    """``trainer.loop.train_cell`` (the ``single`` kernel), one training after the other."""
    t0 = time.perf_counter()
    for cell in cells:
        train_cell(cell, data, recipe, seed=0)
    return len(cells) / (time.perf_counter() - t0)


def packed_trainings(cells: list[Any], data: ImageData, recipe: Recipe, seeds: int) -> float:
    """``trainer.packed.train_cell_seeds``: each cell's ``seeds`` seeds at once."""
    from nasbench_tools.trainer.packed import train_cell_seeds

    t0 = time.perf_counter()
    for cell in cells:
        train_cell_seeds(cell, data, recipe, seeds=range(seeds))
    return len(cells) * seeds / (time.perf_counter() - t0)


def _load_kernel(path: str) -> Any:
    """``train_cells_multiarch`` of the ``multiarch.py`` at ``path`` (another version)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_multiarch", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load a kernel from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_cells_multiarch


def multiarch_trainings(cells: list[Any], data: ImageData, recipe: Recipe, K: int,
                        S: int, kernel: Any = None) -> float:
    """``trainer.multiarch.train_cells_multiarch`` (or ``kernel``): packs of ``K`` cells x ``S`` seeds."""
    from nasbench_tools.trainer.multiarch import train_cells_multiarch

    if kernel is not None:
        train_cells_multiarch = kernel
    t0 = time.perf_counter()
    for i in range(0, len(cells), K):
        train_cells_multiarch([(c, s) for c in cells[i : i + K] for s in range(S)], data,
                              recipe)
    return len(cells) * S / (time.perf_counter() - t0)


def trainings_table(args: argparse.Namespace) -> list[str]:
    """Trainings per second of every kernel on the embedded recipe, side by side."""
    from nasbench_tools.trainer.build_bench import stratified_cells

    data = load_dataset("digits")
    recipe = get_recipe("embedded")
    cells = stratified_cells("nb201", args.cells)
    configs = [tuple(int(v) for v in c.split("x")) for c in args.configs]
    references = []
    for ref in args.reference_kernel:
        path, _, label = ref.partition(":")
        references.append((f"({label or Path(path).stem})", _load_kernel(path)))
    runs: dict[str, list[float]] = {}
    load = [os.getloadavg()[0]]
    for r in range(args.rounds):
        kernels: list[tuple[str, Any]] = [
            ("plain PyTorch loop", lambda: plain_trainings(cells, data, recipe)),
            ("single (`train_cell`)", lambda: single_trainings(cells, data, recipe)),
            (f"packed, S={args.packed_seeds}",
             lambda: packed_trainings(cells, data, recipe, args.packed_seeds)),
        ]
        for K, S in configs:
            kernels.append((f"multiarch, K={K} x S={S}",
                            lambda K=K, S=S: multiarch_trainings(cells, data, recipe, K, S)))
        for label, kernel in references:
            for K, S in configs:
                kernels.append((f"multiarch {label}, K={K} x S={S}",
                                lambda K=K, S=S, kernel=kernel: multiarch_trainings(
                                    cells, data, recipe, K, S, kernel)))
        for name, fn in kernels:
            runs.setdefault(name, []).append(fn())
            log.info("round %d: %s %.2f trainings/s", r + 1, name, runs[name][-1])
        load.append(os.getloadavg()[0])
    plain = statistics.median(runs["plain PyTorch loop"])
    rows = [f"| {name} | {statistics.median(v):.2f} | {statistics.median(v) / plain:.2f} | "
            + ", ".join(f"{x:.2f}" for x in v) + " |" for name, v in runs.items()]
    return [
        "## Trainings per second on the embedded recipe",
        "",
        f"The first {len(cells)} cells of the stratified build order (all parameter-count",
        "strata), embedded recipe (digits 8x8, C=8 N=1 pruned, batch 64, 2 epochs, val + test",
        "after each epoch; network construction included), 1 torch thread. Every kernel",
        f"trains the same {len(cells)} cells (x S seeds); median of {args.rounds} rounds in",
        "which the kernels run in turn. Ratio: to the plain loop of the same run.",
        "",
        "| kernel | trainings/s | / plain | per round |",
        "| --- | ---: | ---: | --- |",
        *rows,
        "",
        "Load average (1 min) on this 2-core machine, sampled before the first and after each",
        "round: " + ", ".join(f"{x:.1f}" for x in load) + " (other engineers' jobs were",
        "running; the ratios are what compare, not the absolute figures).",
        "",
    ]


#: Grouped convolutions of a pack, fwd + bwd: (label, images, groups, channels/group, side).
#: The three stages of the embedded network (C=8 at 8x8, 16 at 4x4, 32 at 2x2) with the
#: group counts of a K=16 pack (about 16 to 48 (member, edge) pairs per operation) and of
#: K=16 x S=4 (64 to 192).
PACK_CONVS = [(f"{c} ch/group, {h}x{h}, {g} groups", 64, g, c, h)
              for c, h in ((8, 8), (16, 4), (32, 2)) for g in (16, 48, 192)]


def _best_ms(fn: Any, reps: int = 10, rounds: int = 3) -> float:
    """Best-of-``rounds`` mean milliseconds of ``fn`` over ``reps`` calls (one warm-up first)."""
    fn()
    return best_of(lambda: [fn() for _ in range(reps)], rounds) / reps * 1e3


def training_flops(cells: list[Any], data: ImageData, recipe: Recipe) -> dict[str, float]:
    """Floating-point operations of one training (mean over ``cells``), by kind.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` over the plain loop (forward,
    backward, the evaluations after every epoch); every kernel computes the same networks
    on the same images, so this is the arithmetic of one training for all of them.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        plain_trainings(cells, data, recipe)
    counts = {str(k).removeprefix("aten."): v / len(cells)
              for k, v in counter.get_flop_counts()["Global"].items()}
    counts["total"] = counter.get_total_flops() / len(cells)
    return counts


def conv_rates() -> list[tuple[str, float]]:
    """GFLOP/s of grouped 3x3 convolutions (forward + backward) at the pack's shapes."""
    out = []
    for label, n, g, c, h in PACK_CONVS:
        x = torch.randn(n, g * c, h, h, requires_grad=True)
        w = torch.randn(g * c, c, 3, 3, requires_grad=True)
        grad = torch.ones(n, g * c, h, h)

        def step(x: torch.Tensor = x, w: torch.Tensor = w, g: int = g,
                 grad: torch.Tensor = grad) -> None:
            nn.functional.conv2d(x, w, padding=1, groups=g).backward(grad)

        flops = 3 * 2 * n * g * c * c * 9 * h * h  # forward, input and weight gradients
        out.append((label, flops / _best_ms(step) / 1e6))
    return out


def sgemm_rate(size: int = 1024) -> float:
    """GFLOP/s of a dense float32 matrix product (the machine's practical peak)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size ** 3 / _best_ms(lambda: a @ b) / 1e6


def roofline_table(args: argparse.Namespace) -> list[str]:
    """How far the kernels are from what the arithmetic allows (the bound on the 5x goal)."""
    from nasbench_tools.trainer.build_bench import stratified_cells

    data = load_dataset("digits")
    recipe = get_recipe("embedded")
    cells = stratified_cells("nb201", args.cells)
    flops = training_flops(cells, data, recipe)
    gemm = sgemm_rate()
    convs = conv_rates()
    K, S = (int(v) for v in args.roofline_config.split("x"))
    plain, multi = [], []
    for _ in range(args.rounds):
        plain.append(plain_trainings(cells, data, recipe))
        multi.append(multiarch_trainings(cells, data, recipe, K, S))
    p, m = statistics.median(plain), statistics.median(multi)
    total = flops["total"]
    conv_median = statistics.median(r for _, r in convs)
    conv_best = max(r for _, r in convs)
    bound_median = conv_median * 1e9 / total
    bound_best = conv_best * 1e9 / total
    # each stage's 3x3 convolutions do the same arithmetic (C^2 * 9 * H^2 is equal for
    # C, H = 8, 8 / 16, 4 / 32, 2), so the best group count of every stage combines
    # harmonically into the rate of a kernel that always picked the best one
    stage_best: dict[tuple[int, int], float] = {}
    for (_, _, _, c, h), (_, rate) in zip(PACK_CONVS, convs):
        stage_best[c, h] = max(rate, stage_best.get((c, h), 0.0))
    conv_stage = len(stage_best) / sum(1 / r for r in stage_best.values())
    bound_stage = conv_stage * 1e9 / total
    rows = [f"| {label} | {rate:.1f} |" for label, rate in convs]
    return [
        "## Roofline: the arithmetic of a training against the machine",
        "",
        f"One training on the embedded recipe (the first {len(cells)} cells of the stratified",
        "order, mean) does "
        + f"**{total / 1e9:.2f} GFLOP** ("
        + ", ".join(f"{k} {v / 1e9:.2f}" for k, v in flops.items() if k != "total")
        + "; counted by torch's `FlopCounterMode` over the plain loop, evaluations included;",
        "every kernel computes the same networks on the same images). 1 torch thread.",
        "",
        "| what | GFLOP/s | trainings/s | / plain |",
        "| --- | ---: | ---: | ---: |",
        f"| dense float32 matrix product 1024x1024 (practical peak of one core) | {gemm:.1f} "
        f"| {gemm * 1e9 / total:.2f} | {gemm * 1e9 / total / p:.1f} |",
        f"| grouped 3x3 convolutions at the pack's shapes, best (table below) | {conv_best:.1f} "
        f"| {bound_best:.2f} | {bound_best / p:.1f} |",
        f"| grouped 3x3 convolutions, best group count of each stage (harmonic over stages) "
        f"| {conv_stage:.1f} | {bound_stage:.2f} | {bound_stage / p:.1f} |",
        f"| grouped 3x3 convolutions at the pack's shapes, median | {conv_median:.1f} "
        f"| {bound_median:.2f} | {bound_median / p:.1f} |",
        f"| multiarch kernel, K={K} x S={S} (measured, median of {args.rounds}) "
        f"| {m * total / 1e9:.1f} | {m:.2f} | {m / p:.2f} |",
        f"| plain PyTorch loop (measured, median of {args.rounds}) | {p * total / 1e9:.1f} "
        f"| {p:.2f} | 1.00 |",
        "",
        "The convolution rows are ceilings: a kernel whose every operation ran at that rate",
        "(convolutions are all of the counted arithmetic; BatchNorm, ReLU, pooling, the",
        "gathers and the optimiser are free in this bound) would reach that many trainings/s.",
        "",
        "| grouped convolution, forward + backward, batch 64 | GFLOP/s |",
        "| --- | ---: |",
        *rows,
        "",
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--section", choices=["all", "images", "trainings", "roofline"],
                   default="all", help="which table(s) to measure (default: all)")
    p.add_argument("--roofline-config", default="16x4",
                   help="the multi-architecture pack (KxS) of the roofline table")
    p.add_argument("--cells", type=int, default=16,
                   help="cells of the trainings table (first of the stratified order)")
    p.add_argument("--configs", nargs="+", default=["16x1", "8x2", "16x2", "16x4"],
                   help="multi-architecture packs, KxS (K cells x S seeds)")
    p.add_argument("--packed-seeds", type=int, default=4, help="S of the packed kernel")
    p.add_argument("--reference-kernel", nargs="*", default=[], metavar="FILE[:LABEL]",
                   help="other versions of multiarch.py to time in the same rounds")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    trainings = trainings_table(args) if args.section in ("all", "trainings") else []
    trainings += roofline_table(args) if args.section in ("all", "roofline") else []
    if args.section in ("trainings", "roofline"):
        atomic_write_text(args.out, "\n".join([
            "# Trainer throughput: whole trainings per second of every kernel", "",
            *trainings,
            f"Machine: {platform.machine()} {platform.system()}, torch {torch.__version__}.",
            "",
            "Command: `.venv/bin/python benchmarks/bench_trainer.py " + " ".join(sys.argv[1:])
            + "`", ""]))
        log.info("wrote %s", args.out)
        return
    digits = load_dataset("digits")
    cases = [  # the first is the recipe of the shipped embedded benchmark (16 seeds)
        ("digits 8x8, C=8 N=1", digits, 64, 8, 1, 16),
        ("digits 8x8, C=8 N=1", digits, 256, 8, 1, 16),
        ("digits resized 32x32 (first 400 images), C=16 N=1", _resized(digits, 32, 400), 64, 16,
         1, 4),
    ]
    rows = []
    for label, data, batch, C, N, S in cases:
        ours, plain, packed = [], [], []
        for _ in range(args.rounds):
            ours.append(our_loop(data, batch, args.epochs, C, N))
            plain.append(plain_loop(data, batch, args.epochs, C, N))
            packed.append(packed_loop(data, batch, args.epochs, C, N, S))
        o, q, k = statistics.median(ours), statistics.median(plain), statistics.median(packed)
        log.info("%s batch %d: ours %.0f img/s, plain %.0f img/s, packed x%d %.0f img/s",
                 label, batch, o, q, S, k)
        rows.append(f"| {label} | {batch} | {o:,.0f} | {q:,.0f} | {o / q:.2f} | {S} | {k:,.0f} "
                    f"| {k / q:.2f} |")
    text = "\n".join([
        "# Trainer throughput: our loop and the seed-packed kernel vs a plain PyTorch loop",
        "",
        "Same NAS-Bench-201 network (cell `" + CELL.to_string() + "`), same seed, SGD with",
        "Nesterov momentum + cosine schedule, real scikit-learn digits (1,000 training images,",
        "grey repeated to 3 channels). Images per second of training (evaluation excluded),",
        f"median of {args.rounds} alternating rounds of {args.epochs} epochs, 1 torch thread.",
        "Ratio > 1: ours is faster. `packed`: `trainer.packed` training S seeds of the network",
        "at once (what `nbt build-bench --kernel packed` runs per cell); its images per second",
        "count the images of all S trainings.",
        "",
        "| case | batch | ours (img/s) | plain (img/s) | ours / plain | S | packed (img/s) "
        "| packed / plain |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"Machine: {platform.machine()} {platform.system()}, torch {torch.__version__}; the",
        "2 cores were shared with other jobs while this ran, so absolute figures are noisy;",
        "the two loops were interleaved so that they saw the same load.",
        "",
        "",
        *trainings,
        "Command: `.venv/bin/python benchmarks/bench_trainer.py " + " ".join(sys.argv[1:])
        + "`",
        "",
    ])
    atomic_write_text(args.out, text)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
