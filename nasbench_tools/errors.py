"""One exception tree for the whole project.

Every error raised on purpose by nasbench-tools derives from :class:`NasBenchToolsError`,
so ``except NasBenchToolsError`` catches all of them. The leaves also derive from the
built-in exception a user would naturally expect (``ValueError``, ``KeyError``, ...), so
code written against plain Python keeps working. No function returns a sentinel such as
``-1`` or ``None`` for "not found": it raises one of these, with a message that names what
was wrong and what is allowed.

Examples
--------
>>> from nasbench_tools.errors import OutOfDomainError, NasBenchToolsError
>>> issubclass(OutOfDomainError, ValueError) and issubclass(OutOfDomainError, NasBenchToolsError)
True
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BudgetExhaustedError",
    "BusyError",
    "ChecksumError",
    "DownloadError",
    "FormatError",
    "NasBenchToolsError",
    "NotInBenchmarkError",
    "OutOfDomainError",
    "UnsafePickleError",
    "allowed",
]


class NasBenchToolsError(Exception):
    """Base class of every error raised on purpose by nasbench-tools."""


class OutOfDomainError(NasBenchToolsError, ValueError):
    """A value lies outside the search space or the allowed vocabulary.

    Raised for malformed cells, strings, encodings kinds, dataset names, options.
    """


class NotInBenchmarkError(NasBenchToolsError, KeyError):
    """A valid cell, dataset, metric, epoch or seed that the opened benchmark does not hold."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class FormatError(NasBenchToolsError, ValueError):
    """A file is not in the expected format (truncated, corrupt, wrong version)."""


class ChecksumError(FormatError):
    """A checksum (TFRecord CRC, SHA-256 of a release) does not match."""


class DownloadError(NasBenchToolsError, OSError):
    """A download failed (network, HTTP status) or cannot be done by a script."""


class UnsafePickleError(FormatError):
    """A pickle names a global outside the allow-list; it was refused, nothing ran."""


class BudgetExhaustedError(NasBenchToolsError, RuntimeError):
    """A charged query would exceed the search budget."""


class BusyError(NasBenchToolsError, RuntimeError):
    """Another process is writing the same output (its lock file is held)."""


def allowed(values: Iterable[object], limit: int = 12) -> str:
    """Format the allowed values for an error message, eliding long lists.

    Parameters
    ----------
    values : iterable
        The allowed values.
    limit : int, default 12
        How many to show before eliding.

    Returns
    -------
    str
        For example ``"'a', 'b' or 'c'"``.

    Examples
    --------
    >>> allowed(["cifar10", "cifar100"])
    "'cifar10' or 'cifar100'"
    >>> allowed(range(100), limit=3)
    '0, 1, 2, ... (100 values)'
    """
    vals = list(values)
    shown = [repr(v) for v in vals[:limit]]
    if len(vals) > limit:
        return ", ".join(shown) + f", ... ({len(vals)} values)"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]
