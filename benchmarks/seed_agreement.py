"""Do two sets of seeds of one store agree alike? A check before merging a store grown by seeds.

A store grown by seeds (``docs/trainer.md``, "Growing a store by seeds") holds its first
seeds in one file and the new ones in a side file. Before the two are merged, this script
asks whether the new seeds behave like independent draws of the same noise:

* the mean Kendall tau between two single seeds, within the first set, within the second
  set and across the two (all pairs, on the cells complete in both files);
* the split-half tau (``k`` vs ``k``) of the first set's seeds on the cells the side file
  already holds and on the rest, so a side file that covers only part of the space shows
  whether its cells are easier to rank than the others.

Independent seeds of unequal noise put the cross-set figure between the two within-set
figures; new seeds that share something beyond the cell (a data order, an initialisation)
raise the second within-set figure and leave the cross-set figure at the first.

After the merge the same check runs on the merged store alone: ``--first-seeds N`` takes
its first ``N`` seeds (in the store's order) as the first set and the rest as the second.

Run from the project root, before the merge (store and side file)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seed_agreement.py STORE.h5 GROW.h5 \\
        --out R.md

or after it (the merged store, whose first 12 seeds are the original ones; this wrote the
committed results of the whole-space NB201 store)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seed_agreement.py \\
        data/embedded_nb201_digits_all.h5 --first-seeds 12 \\
        --out benchmarks/results/seed_agreement_nb201.md
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_note, markdown_table, utc_stamp, write_results


@dataclass(frozen=True)
class Agreement:
    """Pairwise single-seed Kendall tau within and across two seed sets."""

    within_first: float
    within_second: float
    across: float
    per_seed: np.ndarray    # each seed's mean tau to all other seeds, first set then second


def pairwise_agreement(first: np.ndarray, second: np.ndarray) -> Agreement:
    """Mean Kendall tau between single seeds, within and across two ``(cells, seeds)`` sets.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=(300, 1))
    >>> a = truth + rng.normal(size=(300, 4))
    >>> shared = rng.normal(size=(300, 1))          # a common term the second set shares
    >>> b = truth + shared + rng.normal(size=(300, 4))
    >>> g = pairwise_agreement(a, b)
    >>> g.within_second > g.across + 0.1
    True
    """
    v = np.concatenate([first, second], axis=1)
    n, m = v.shape[1], first.shape[1]
    if m < 2 or n - m < 2:
        raise ValueError(f"need at least 2 seeds in each set; got {m} and {n - m}")
    tau = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i + 1, n):
            tau[i, j] = tau[j, i] = kendalltau(v[:, i], v[:, j])[0]
    a, b = np.arange(m), np.arange(m, n)
    return Agreement(within_first=float(np.nanmean(tau[np.ix_(a, a)])),
                     within_second=float(np.nanmean(tau[np.ix_(b, b)])),
                     across=float(np.nanmean(tau[np.ix_(a, b)])),
                     per_seed=np.nanmean(tau, axis=1))


def main(argv: list[str] | None = None) -> int:
    """Write the agreement report of ``STORE`` and its side file ``OTHER`` (or its own halves)."""
    from nasbench_tools.store import load_benchmark
    from nasbench_tools.store.noise import joined_seed_columns, split_half_tau

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", type=Path)
    p.add_argument("other", type=Path, nargs="?",
                   help="the side file with the other seeds (or give --first-seeds)")
    p.add_argument("--first-seeds", type=int, metavar="N",
                   help="one store only: its first N seeds are the first set, the rest the "
                        "second (a store after the merge)")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--metric", default="val_accuracy")
    p.add_argument("--budget", type=int, default=2)
    p.add_argument("--epoch", type=int, default=2)
    p.add_argument("--k", type=int, default=6, help="seeds per half of the split-half tau")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    if (args.other is None) == (args.first_seeds is None):
        p.error("give either a side file OTHER (before the merge) or --first-seeds N "
                "(one merged store), not both and not neither")
    first = load_benchmark(args.store)
    if args.other is not None:
        second = load_benchmark(args.other)
        seeds, v = joined_seed_columns(first, [second], args.metric, args.dataset,
                                       args.budget, args.epoch)
        # the first store's seeds come first in the join (the join refuses a seed in both)
        n1 = len(seeds) - len(set(seeds) & set(second.seeds(args.dataset)))
        where, rest, first_set = "in both files", "the side file", "the first file"
    else:
        seeds, v = joined_seed_columns(first, [], args.metric, args.dataset, args.budget,
                                       args.epoch)
        n1 = args.first_seeds
        if not 2 <= n1 <= len(seeds) - 2:
            p.error(f"--first-seeds must leave at least 2 seeds in each set: the store has "
                    f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), so 2..{len(seeds) - 2}; "
                    f"got {n1}")
        where, rest, first_set = "in both seed sets", "the second seed set", "the first set"
    s1, s2 = seeds[:n1], seeds[n1:]
    v1, v2 = v[:, :n1], v[:, n1:]
    ok1 = ~np.isnan(v1).any(axis=1)
    done = ok1 & ~np.isnan(v2).any(axis=1)
    g = pairwise_agreement(v1[done], v2[done])

    def sh(mask: np.ndarray) -> str:
        if mask.sum() < 2:
            return "-"
        return f"{split_half_tau(v1[mask], np.random.default_rng(0), repeats=30, k=args.k):.3f}"

    lines = [
        f"# Seed agreement: `{args.store}` (seeds {s1[0]}-{s1[-1]}) and "
        + (f"`{args.other}` (seeds {s2[0]}-{s2[-1]})" if args.other is not None
           else f"its seeds {s2[0]}-{s2[-1]}"),
        "",
        f"{utc_stamp()}; {args.metric} of {args.dataset!r} at epoch {args.epoch} of "
        f"{args.budget}; {int(done.sum())} of {len(first)} cells complete {where}. "
        + machine_note(),
        "",
        "Mean Kendall tau between two single seeds (all pairs):",
        "",
        *markdown_table(["pairs", "mean tau"], [
            [f"within seeds {s1[0]}-{s1[-1]}", f"{g.within_first:.4f}"],
            [f"within seeds {s2[0]}-{s2[-1]}", f"{g.within_second:.4f}"],
            ["across the two sets", f"{g.across:.4f}"],
        ], right=[1]),
        "",
        f"Each seed's mean tau to the others ranges from {g.per_seed.min():.3f} to "
        f"{g.per_seed.max():.3f} (seeds {s1[0]}-{s1[-1]}: "
        f"{g.per_seed[:len(s1)].min():.3f}-{g.per_seed[:len(s1)].max():.3f}; seeds "
        f"{s2[0]}-{s2[-1]}: {g.per_seed[len(s1):].min():.3f}-{g.per_seed[len(s1):].max():.3f}).",
        "",
        f"Split-half tau, {args.k} vs {args.k} of seeds {s1[0]}-{s1[-1]} only (30 random splits):",
        "",
        *markdown_table(["cells", "count", "split-half tau"], [
            [f"all complete in {first_set}", int(ok1.sum()), sh(ok1)],
            [f"also in {rest}", int(done.sum()), sh(done)],
            [f"not yet in {rest}", int((ok1 & ~done).sum()), sh(ok1 & ~done)],
        ], right=[1, 2]),
        "",
        "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seed_agreement.py "
        + " ".join(sys.argv[1:] if argv is None else argv) + "`",
        "",
    ]
    write_results(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
