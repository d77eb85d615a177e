"""The base class every zero-cost proxy shares: data, seeding, de-duplication, scoring.

A proxy scores *untrained* networks. For every cell it builds the benchmark's network with
weights drawn from a torch seed derived from ``(random_state, cell hash)`` (inside
``torch.random.fork_rng``, so global torch state is untouched), so a cell's score does not
depend on which other cells are scored with it, in which order, or in which process. Cells of
one isomorphism class (same ``Cell.canonical()`` / ``.hash``) are scored once, on the
canonical representative, and the value is broadcast.

Examples
--------
>>> from predictors.zerocost import get_proxy
>>> from nasbench_tools.spaces.nb201 import Cell
>>> proxy = get_proxy("params", dataset="cifar10")
>>> proxy.score([Cell(("nor_conv_3x3",) * 6)]).tolist()
[1531546.0]
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.networks import build_network, dataset_spec, space_of
from predictors.zerocost.data import DataSource, make_source

__all__ = ["ZeroCostProxy", "canonical_of", "cell_key", "removing"]

logger = logging.getLogger(__name__)

_PRUNABLE = {"nb201", "nats_sss"}


def canonical_of(cell: Any) -> Any:
    """The representative of ``cell``'s isomorphism class (the cell itself without one).

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> canonical_of(Cell(("nor_conv_3x3",) + ("none",) * 5)).ops
    ('none', 'none', 'none', 'none', 'none', 'none')
    """
    canonical = getattr(cell, "canonical", None)
    return canonical() if callable(canonical) else cell


def cell_key(cell: Any) -> str:
    """Stable text key of a cell's isomorphism class: ``"<space>:<hash>"``.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> cell_key(Cell(("none",) * 6)).startswith("nb201:")
    True
    """
    return f"{space_of(cell)}:{cell.hash}"


@contextlib.contextmanager
def removing(handles: Iterable[Any]) -> Iterator[None]:
    """Keep the torch hooks ``handles`` registered inside the block; remove them on exit.

    Examples
    --------
    >>> net = nn.ReLU()
    >>> with removing([net.register_forward_hook(lambda m, i, o: None)]):
    ...     len(net._forward_hooks)
    1
    >>> len(net._forward_hooks)
    0
    """
    registered = list(handles)
    try:
        yield
    finally:
        for h in registered:
            h.remove()


def _seed_of(random_state: int, key: str) -> int:
    digest = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:15], 16)
    return int(
        np.random.SeedSequence([random_state, digest]).generate_state(1, dtype=np.uint64)[0] >> 1
    )


class ZeroCostProxy(ABC):
    """A training-free score of cells, computed on freshly initialised networks.

    Parameters
    ----------
    dataset : str, default "cifar10"
        Sets the network head, the input resolution and (for user data) the reader.
    batch_size : int, default 128
        Images in the one minibatch every cell is scored on.
    data : DataSource, path, "digits" or None
        Where the minibatch comes from; see :func:`predictors.zerocost.data.make_source`.
    random_state : int or numpy.random.Generator, default 0
        Seeds the minibatch draw and (with the cell hash) every network's initialisation.
    network_overrides : dict, optional
        Extra keyword arguments for :func:`nasbench_tools.networks.build_network`
        (e.g. ``{"C": 8, "N": 1}`` for small variants).
    """

    #: Registry name.
    name: ClassVar[str] = ""
    #: Whether the score looks at the minibatch at all.
    uses_data: ClassVar[bool] = True
    #: Whether the score needs autograd (else it runs under ``torch.inference_mode``).
    needs_grad: ClassVar[bool] = True
    #: Whether networks are built without dead edges (only where that cannot change the score).
    prune: ClassVar[bool] = False
    #: Whether isomorphic cells share one score (False for costs of the full network).
    dedupe: ClassVar[bool] = True

    def __init__(
        self,
        dataset: str = "cifar10",
        batch_size: int = 128,
        data: DataSource | str | os.PathLike[str] | None = None,
        random_state: int | np.random.Generator = 0,
        network_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.dataset = dataset_spec(dataset).name
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise OutOfDomainError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        if isinstance(random_state, np.random.Generator):
            random_state = int(random_state.integers(0, 2**31 - 1))
        if not isinstance(random_state, (int, np.integer)) or random_state < 0:
            raise OutOfDomainError(
                f"random_state must be a non-negative integer or a numpy Generator, got {random_state!r}"
            )
        self.random_state = int(random_state)
        self.network_overrides = dict(network_overrides or {})
        self._data = data
        self._source: DataSource | None = None
        self._batch: tuple[torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------------ data
    @property
    def source(self) -> DataSource:
        """The resolved data source (loaded on first use)."""
        if self._source is None:
            self._source = make_source(self._data, self.dataset)
        return self._source

    @property
    def data_description(self) -> str:
        """Which data the scores were computed on (``"none"`` for data-free proxies)."""
        return self.source.description if self.uses_data else "none (data-free)"

    @property
    def data_key(self) -> str:
        """Short data-source name for cache keys."""
        return self.source.name if self.uses_data else "none"

    def minibatch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The one minibatch ``(x, y)`` every cell is scored on (drawn once)."""
        if self._batch is None:
            rng = np.random.default_rng([self.random_state, 1])
            self._batch = self.source.minibatch(self.batch_size, rng)
        return self._batch

    @property
    def metadata(self) -> dict[str, Any]:
        """What identifies these scores: proxy, dataset, data, batch size, seed, overrides."""
        return {
            "proxy": self.name,
            "dataset": self.dataset,
            "data": self.data_key,
            "data_description": self.data_description,
            "batch_size": self.batch_size if self.uses_data else 0,
            "random_state": self.random_state,
            "network_overrides": dict(sorted(self.network_overrides.items())),
        }

    # ------------------------------------------------------------------ networks
    def build(self, cell: Any) -> nn.Module:
        """The cell's network, initialised from the seed of ``(random_state, cell hash)``, in train mode."""
        kwargs = dict(self.network_overrides)
        if self.prune and space_of(cell) in _PRUNABLE:
            kwargs.setdefault("prune", True)
        seed = _seed_of(self.random_state, cell_key(cell))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = build_network(cell, self.dataset, **kwargs)
        return net.train()

    # ------------------------------------------------------------------ scoring
    @abstractmethod
    def score_network(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        """Score one initialised network on the minibatch."""

    def score_cell(self, cell: Any) -> float:
        """Score one cell (its canonical representative is used).

        Examples
        --------
        >>> from predictors.zerocost import get_proxy
        >>> from nasbench_tools.spaces.nats_sss import Cell
        >>> get_proxy("params").score_cell(Cell.from_string("8:8:8:8:8"))
        11714.0
        """
        rep = canonical_of(cell)
        net = self.build(rep)
        x, y = self.minibatch() if self.uses_data else (torch.empty(0), torch.empty(0))
        if self.needs_grad:
            return float(self.score_network(net, x, y))
        with torch.inference_mode():
            return float(self.score_network(net, x, y))

    def key(self, cell: Any) -> str:
        """Cache / de-duplication key: the isomorphism class, or the exact cell without ``dedupe``."""
        if self.dedupe:
            return cell_key(cell)
        return f"{space_of(cell)}:{cell.to_string()}"

    def score(self, cells: Iterable[Any]) -> np.ndarray:
        """Score many cells; each isomorphism class is computed once.

        Parameters
        ----------
        cells : iterable of Cell

        Returns
        -------
        numpy.ndarray
            float64, one score per cell, in order.
        """
        cells = list(cells)
        keys = [self.key(c) for c in cells]
        values: dict[str, float] = {}
        for key, cell in zip(keys, cells):
            if key not in values:
                values[key] = self.score_cell(cell)
        logger.debug("%s: %d cells, %d unique", self.name, len(cells), len(values))
        return np.array([values[k] for k in keys], dtype=np.float64)

    def unique_cells(self, cells: Sequence[Any]) -> dict[str, Any]:
        """``{key: representative}`` of the isomorphism classes present in ``cells``."""
        out: dict[str, Any] = {}
        for c in cells:
            out.setdefault(self.key(c), c)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dataset={self.dataset!r}, batch_size={self.batch_size}, "
            f"data={self.data_key!r}, random_state={self.random_state})"
        )
