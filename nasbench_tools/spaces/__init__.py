"""Search spaces: immutable cells, official hashes and indices, encodings, analytic costs.

The ground floor: pure Python and numpy (networkx only for ``to_graph``). It imports nothing
else of the project.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> get_space("nats_sss").size()
32768
"""

from __future__ import annotations

import importlib

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.base import CellLike, SearchSpace

__all__ = ["REGISTRY", "CellLike", "SearchSpace", "get_space"]

#: Registry name -> module that defines ``Cell`` and ``SPACE``. Imported lazily.
REGISTRY: dict[str, str] = {
    "nb101": "nasbench_tools.spaces.nb101",
    "nb201": "nasbench_tools.spaces.nb201",
    "nats_sss": "nasbench_tools.spaces.nats_sss",
}

# Accepted spellings users type, mapped to registry names.
ALIASES: dict[str, str] = {
    "nasbench101": "nb101",
    "nas-bench-101": "nb101",
    "nasbench201": "nb201",
    "nas-bench-201": "nb201",
    "nats_tss": "nb201",
    "nats-tss": "nb201",
    "tss": "nb201",
    "nats-sss": "nats_sss",
    "sss": "nats_sss",
}


def get_space(name: str) -> SearchSpace:  # type: ignore[type-arg]
    """Return the search space registered under ``name``.

    Parameters
    ----------
    name : str
        ``"nb101"``, ``"nb201"`` (also the NATS-Bench topology space) or ``"nats_sss"``;
        common spellings such as ``"nasbench201"`` or ``"tss"`` are accepted.

    Returns
    -------
    SearchSpace
        The space singleton.

    Raises
    ------
    OutOfDomainError
        For an unknown name; the message lists the registered ones.

    Examples
    --------
    >>> get_space("tss").name
    'nb201'
    """
    key = ALIASES.get(name.lower(), name.lower()) if isinstance(name, str) else name
    if key not in REGISTRY:
        raise OutOfDomainError(
            f"unknown search space {name!r}; allowed: {allowed(REGISTRY)}"
        )
    module = importlib.import_module(REGISTRY[key])
    return module.SPACE  # type: ignore[no-any-return]
