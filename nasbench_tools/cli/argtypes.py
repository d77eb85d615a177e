"""Argument types shared by the ``nbt`` sub-commands: range-checked numbers and seeds.

Each type raises ``argparse.ArgumentTypeError`` with a message naming the allowed range, so
a bad value is one line (``nbt search: error: argument --runs: must be a positive integer,
got '0'``) and exit code 2, like every other bad command-line value.

Examples
--------
>>> positive_int("3"), non_negative_float("0.5"), seed("7")
(3, 0.5, 7)
>>> try:
...     seed("-1")
... except argparse.ArgumentTypeError as e:
...     print(e)
must be an integer seed in 0..4294967295, got '-1'
"""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = [
    "MAX_RANGE",
    "MAX_SEED",
    "SeedsAction",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
    "seed_range",
]

#: Seeds go to numpy, torch and ``random``: 32 bits are what all of them take as they are.
MAX_SEED = 2**32 - 1


def _int(value: str, ok: bool, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}") from None
    if not ok or n is None:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}")
    return n


def positive_int(value: str) -> int:
    """An integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    return _int(value, n >= 1, "a positive integer")


def non_negative_int(value: str) -> int:
    """An integer >= 0."""
    try:
        n = int(value)
    except ValueError:
        n = -1
    return _int(value, n >= 0, "a non-negative integer")


def seed(value: str) -> int:
    """An integer seed in ``0 .. MAX_SEED``."""
    try:
        n = int(value)
    except ValueError:
        n = -1
    return _int(value, 0 <= n <= MAX_SEED, f"an integer seed in 0..{MAX_SEED}")


def _float(value: str, lower_ok: float, strict: bool, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < lower_ok or (strict and x == lower_ok):
        raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}")
    return x


def positive_float(value: str) -> float:
    """A finite number > 0."""
    return _float(value, 0.0, True, "a positive number")


def non_negative_float(value: str) -> float:
    """A finite number >= 0."""
    return _float(value, 0.0, False, "a non-negative number")


def probability(value: str) -> float:
    """A number strictly between 0 and 1 (a goal correlation, a fraction).

    Examples
    --------
    >>> probability("0.75")
    0.75
    """
    x = _float(value, 0.0, True, "a number strictly between 0 and 1")
    if x >= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1, got {value!r}")
    return x


#: Most seeds one ``A..B`` range may name (a typo like ``0..1000000`` fails fast).
MAX_RANGE = 100_000


def seed_range(value: str) -> list[int]:
    """A seed, or an inclusive range of seeds ``A..B``, as a list.

    Examples
    --------
    >>> seed_range("3"), seed_range("0..3")
    ([3], [0, 1, 2, 3])
    >>> try:
    ...     seed_range("5..2")
    ... except argparse.ArgumentTypeError as e:
    ...     print(e)
    must be a seed or an inclusive range A..B of seeds with A <= B, got '5..2'
    """
    if ".." not in value:
        return [seed(value)]
    first, _, last = value.partition("..")
    lo, hi = seed(first), seed(last)
    if hi < lo or hi - lo >= MAX_RANGE:
        raise argparse.ArgumentTypeError(
            f"must be a seed or an inclusive range A..B of seeds with A <= B, got {value!r}"
            if hi < lo else f"a seed range may name at most {MAX_RANGE} seeds, got {value!r}")
    return list(range(lo, hi + 1))


class SeedsAction(argparse.Action):
    """``nargs="+"`` of :func:`seed_range` values, flattened into one list of seeds.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> _ = p.add_argument("--seeds", type=seed_range, nargs="+", action=SeedsAction)
    >>> p.parse_args(["--seeds", "0..2", "7"]).seeds
    [0, 1, 2, 7]
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, [s for part in values for s in part])
