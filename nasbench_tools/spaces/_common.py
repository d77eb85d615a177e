"""Helpers shared by the spaces whose cells are numbers in a mixed radix.

NB201 (6 edges x 5 ops) and the NATS-Bench size space (5 layers x 8 widths) both number
their cells as the digits of one integer, one digit per position, ``PLACE_VALUES[p]``
being the weight of position ``p``. Checking such numbers, changing one digit (mutation)
and listing all one-digit changes (neighbourhood) is the same arithmetic for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed


def check_numbers(values: Any, n_cells: int, singular: str, plural: str) -> np.ndarray:
    """Return ``values`` as an ``int64`` array, raising unless all lie in ``0..n_cells-1``.

    ``singular`` / ``plural`` name the numbers in the error message
    (e.g. ``"NAS-Bench-201 code"`` / ``"NAS-Bench-201 codes"``).

    Examples
    --------
    >>> check_numbers([0, 4], 5, "code", "codes").tolist()
    [0, 4]
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise OutOfDomainError(
            f"{plural} must be integers in 0..{n_cells - 1}, got dtype {arr.dtype}"
        )
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n_cells):
        bad = int(arr[(arr < 0) | (arr >= n_cells)].ravel()[0])
        raise OutOfDomainError(
            f"{singular} {bad} is out of range; allowed: 0..{n_cells - 1}"
        )
    return arr


def change_digit(numbers: Any, place: Any, shift: Any, base: int) -> Any:
    """``numbers`` with the digit of weight ``place`` raised by ``shift`` (modulo ``base``).

    Works on Python ints (the scalar fast paths) and on numpy arrays alike.

    Examples
    --------
    >>> change_digit(7, 5, 3, 5)  # digits (1, 2) -> (4, 2)
    22
    """
    digit = (numbers // place) % base
    return numbers + ((digit + shift) % base - digit) * place


def mutate_numbers(
    arr: np.ndarray, positions: np.ndarray, rng: np.random.Generator,
    place_values: np.ndarray, base: int,
) -> np.ndarray:
    """Give position ``positions[i]`` of ``arr[i]`` a uniformly chosen different digit.

    Draws the shifts from ``rng`` after the caller drew ``positions``; the scalar fast
    paths of the spaces draw the same two numbers in the same order.

    Examples
    --------
    >>> kids = mutate_numbers(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64),
    ...                       np.random.default_rng(0), np.array([1, 5]), 5)
    >>> bool(((kids > 0) & (kids < 5)).all())
    True
    """
    shifts = rng.integers(1, base, size=arr.shape)
    return change_digit(arr, place_values[positions], shifts, base)


def neighbour_numbers(arr: np.ndarray, place_values: np.ndarray, base: int) -> np.ndarray:
    """All one-digit changes of each number: shape ``arr.shape + (positions * (base-1),)``.

    Position by position in ``place_values`` order, and for each position the other
    digits ascending.

    Examples
    --------
    >>> neighbour_numbers(np.int64(0), np.array([1, 3]), 3).tolist()
    [1, 2, 3, 6]
    """
    n_pos = len(place_values)
    place = np.repeat(place_values, base - 1)
    shift = np.tile(np.arange(1, base), n_pos)
    digit = (arr[..., None] // place) % base
    others = np.sort(((digit + shift) % base).reshape(*arr.shape, n_pos, base - 1), axis=-1)
    return arr[..., None] + (others.reshape(*arr.shape, n_pos * (base - 1)) - digit) * place


def encode_numbers(
    values: Any, kind: str, encoders: Mapping[str, Callable[..., np.ndarray]], space: str,
    n_cells: int, plural: str, range_name: str,
) -> tuple[Callable[..., np.ndarray], np.ndarray]:
    """Check an ``encode_*`` call; return the encoder of ``kind`` and the ``int64`` numbers.

    ``plural`` names the numbers in the shape error, ``range_name`` in the range error.

    Examples
    --------
    >>> fn, arr = encode_numbers([1], "id", {"id": lambda a: a}, "demo", 5, "codes", "codes")
    >>> fn(arr).tolist()
    [1]
    """
    if kind not in encoders:
        raise OutOfDomainError(
            f"unknown encoding {kind!r} for space {space!r}; allowed: {allowed(encoders)}"
        )
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise OutOfDomainError(
            f"{plural} must be a 1-d integer array, got shape {arr.shape} dtype {arr.dtype}"
        )
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n_cells):
        raise OutOfDomainError(f"{range_name} must lie in 0..{n_cells - 1}")
    return encoders[kind], arr
