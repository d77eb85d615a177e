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

__all__ = [
    "MAX_SEED",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
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
