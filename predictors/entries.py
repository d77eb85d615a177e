"""Named-entry tables: the add / get rules every registry of :mod:`predictors` follows.

The predictor registry (:data:`predictors.registry.PREDICTORS`) and the feature-set
registry (:data:`predictors.features.FEATURE_SETS`) are plain dicts filled and read
through these two functions, so a taken name is refused and an unknown one is reported
with the allowed names. They live in a module of their own, below both registries, so
neither registry imports the other to use them. Also importable from
:mod:`predictors.registry`.

Examples
--------
>>> table: dict[str, int] = {}
>>> add_entry(table, "a", 1, what="thing", replace=False), get_entry(table, "a", what="thing")
(1, 1)
"""

from __future__ import annotations

from typing import TypeVar

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = ["add_entry", "get_entry"]

_T = TypeVar("_T")


def add_entry(table: dict[str, _T], name: str, entry: _T, *, what: str, replace: bool) -> _T:
    """Put ``entry`` in ``table`` under ``name``; refuse a taken name unless ``replace``.

    Examples
    --------
    >>> add_entry({}, "a", 1, what="thing", replace=False)
    1
    """
    if name in table and not replace:
        raise OutOfDomainError(f"{what} {name!r} is already registered")
    table[name] = entry
    return entry


def get_entry(table: dict[str, _T], name: str, *, what: str) -> _T:
    """``table[name]``, or an error naming the registered ``what``s.

    Examples
    --------
    >>> get_entry({"a": 1}, "b", what="thing")
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: unknown thing 'b'; allowed: 'a'
    """
    try:
        return table[name]
    except KeyError:
        raise OutOfDomainError(
            f"unknown {what} {name!r}; allowed: {allowed(table, limit=40)}"
        ) from None
