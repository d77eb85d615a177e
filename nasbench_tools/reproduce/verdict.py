"""Verdicts: a published mean +- std against ours.

``reproduced``
    ``|ours - published| <= 1`` published std; for correlations (Kendall tau, Spearman)
    without a published std, ``|diff| <=`` :data:`CORRELATION_TOLERANCE`.
``differs``
    Further apart than that.
``not comparable``
    No published number, no published std (and not a correlation), or a protocol that
    differs from the paper's (the reason is given).

Examples
--------
>>> v = compare(Ours(93.72, 0.36, 500), Published(93.70, 0.36, "yes"))
>>> v.verdict, round(v.diff_in_std, 3)
('reproduced', 0.056)
>>> compare(Ours(0.61, 0.0, 1), Published(0.52, float("nan"), "yes"), metric="kendall_tau").verdict
'differs'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CORRELATION_METRICS",
    "CORRELATION_TOLERANCE",
    "NOT_COMPARABLE",
    "Comparison",
    "Ours",
    "Published",
    "compare",
]

#: Metrics compared with an absolute tolerance when no std is published.
CORRELATION_METRICS: tuple[str, ...] = ("kendall_tau", "spearman_rho", "spearman", "pearson")
#: Absolute tolerance for correlations (no published std).
CORRELATION_TOLERANCE = 0.05
NOT_COMPARABLE = "not comparable"


@dataclass(frozen=True)
class Ours:
    """Our mean, std (ddof=1; 0 for a single number) and number of runs."""

    mean: float
    std: float
    runs: int


@dataclass(frozen=True)
class Published:
    """A published mean and std (NaN when not published) and whether it was confirmed."""

    mean: float
    std: float
    confirmed: str = "yes"


@dataclass(frozen=True)
class Comparison:
    """The verdict of one row, with the difference and the reason."""

    verdict: str
    diff: float
    diff_in_std: float
    reason: str


def compare(
    ours: Ours,
    published: Published | None,
    *,
    metric: str = "",
    protocol_note: str = "",
    tolerance: float | None = None,
) -> Comparison:
    """Compare ``ours`` with ``published``.

    Parameters
    ----------
    ours : Ours
    published : Published or None
        None: the paper has no such number.
    metric : str
        Correlations (:data:`CORRELATION_METRICS`) without a std use ``tolerance``.
    protocol_note : str
        Non-empty when our protocol differs from the paper's: the verdict is then
        "not comparable" and the note is the reason (the difference is still shown).
    tolerance : float, optional
        Absolute tolerance instead of the published std (default for correlations:
        :data:`CORRELATION_TOLERANCE`).

    Examples
    --------
    >>> compare(Ours(1.0, 0.1, 5), None).reason
    'no published number'
    >>> compare(Ours(93.0, 0.1, 5), Published(93.9, 0.3)).verdict
    'differs'
    >>> compare(Ours(93.0, 0.1, 5), Published(93.1, 0.3), protocol_note="other data").verdict
    'not comparable'
    """
    if published is None or math.isnan(ours.mean):
        reason = "no published number" if published is None else "no result of ours"
        return Comparison(NOT_COMPARABLE, math.nan, math.nan, reason)
    diff = ours.mean - published.mean
    has_std = not math.isnan(published.std) and published.std > 0
    in_std = diff / published.std if has_std else math.nan
    if protocol_note:
        return Comparison(NOT_COMPARABLE, diff, in_std, protocol_note)
    if tolerance is None and not has_std and metric in CORRELATION_METRICS:
        tolerance = CORRELATION_TOLERANCE
    if tolerance is not None:
        ok = abs(diff) <= tolerance
        rule = f"|diff| {'<=' if ok else '>'} tolerance {tolerance:g}"
        return Comparison("reproduced" if ok else "differs", diff, in_std, rule)
    if not has_std:
        return Comparison(NOT_COMPARABLE, diff, in_std, "no published std")
    ok = abs(in_std) <= 1.0
    rule = "within 1 published std" if ok else "more than 1 published std apart"
    return Comparison("reproduced" if ok else "differs", diff, in_std, rule)
