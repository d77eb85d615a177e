"""``nbt info STORE``: spaces, datasets, metrics, fidelities, seeds, counts, provenance.

``--noise`` adds the seed-noise report of :func:`nasbench_tools.store.noise.noise_curves`:
the split-half Kendall tau of the mean over ``k`` seeds against ``k`` other seeds for every
``k``, and the projected number of seeds for ``--target``. ``--with OTHER ...`` joins the
seeds of other stores of the same cells to the report (a build grown by seeds into a second
file, ``docs/trainer.md``); it implies ``--noise``.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> a = p.parse_args(["info", "s.h5", "--json", "--noise", "--target", "0.8"])
>>> (a.json, a.noise, a.target, a.metric)
(True, True, 0.8, 'val_accuracy')
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from nasbench_tools.cli.argtypes import positive_int, probability


def run(args: argparse.Namespace) -> int:
    """Print the store summary (text or JSON), with the seed-noise report if asked."""
    from nasbench_tools.store import load_benchmark
    from nasbench_tools.store.noise import noise_curves

    bench = load_benchmark(args.store)
    info = bench.info()
    others = [load_benchmark(p) for p in args.join or ()]
    curves = (noise_curves(bench, args.metric, target=args.target, repeats=args.repeats,
                           others=others)
              if args.noise or others else None)
    if args.json:
        doc: dict[str, Any] = dataclasses.asdict(info)
        if curves is not None:
            doc["noise"] = [dataclasses.asdict(c) for c in curves]
            doc["noise_with"] = list(args.join or [])
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        return 0
    sys.stdout.write(info.render() + "\n")
    if curves is not None:
        title = " + ".join([args.store, *args.join]) if args.join else ""
        sys.stdout.write(f"seed noise{' of ' + title if title else ''}:\n"
                         + "\n".join(c.render() for c in curves) + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``info`` sub-command."""
    p = subparsers.add_parser("info", help="describe a store: datasets, metrics, provenance")
    p.add_argument("store", help="store file (.h5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--noise", action="store_true",
                   help="seed noise: split-half Kendall tau for k vs k seeds, every k, and the "
                        "projected seeds for --target")
    p.add_argument("--metric", default="val_accuracy",
                   help="metric of the noise report (default val_accuracy)")
    p.add_argument("--target", type=probability, default=0.75,
                   help="goal split-half tau of the projection (default 0.75)")
    p.add_argument("--with", dest="join", nargs="+", metavar="STORE", default=None,
                   help="other stores holding other seeds of the same cells (matched by key), "
                        "joined for the noise report (implies --noise); it covers the cells "
                        "that have every seed")
    p.add_argument("--repeats", type=positive_int, default=30,
                   help="random splits per k (default 30)")
    p.set_defaults(func=run)
