"""The contract every search space implements.

A space is a module-level singleton (``nb101.SPACE``, ``nb201.SPACE``, ``nats_sss.SPACE``)
of a :class:`SearchSpace` subclass, plus an immutable ``Cell`` value type. Higher floors
(store, predictors, searchers) only talk to this interface, so a new space plugs in by
implementing it and adding one line to :data:`nasbench_tools.spaces.REGISTRY`.

All randomness comes from a ``numpy.random.Generator`` passed by the caller; nothing here
touches global random state, torch, h5py or the file system (except ``data/`` files that
the project itself ships, read by ``all_cells``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed


@runtime_checkable
class CellLike(Protocol):
    """What every cell value type offers.

    Cells are immutable and hashable. How ``==`` and ``.hash`` treat isomorphic cells
    (cells that compute the same function) differs by space:

    - ``nb101``: ``==`` compares ``.hash`` (the official module hash), so isomorphic
      cells compare equal and share ``.hash``.
    - ``nb201``: ``==`` is exact (same op on every edge); isomorphic cells compare
      unequal but share ``.hash`` (the hash of their canonical form). Compare
      ``.hash`` (or use ``Cell.is_isomorphic``) to identify them.
    - ``nats_sss``: no two cells are equivalent; ``==`` is exact and ``.hash`` is unique.
    """

    @property
    def hash(self) -> str:
        """Stable identifier of the cell's isomorphism class (shared by isomorphic cells).

        NB101: the official md5 module hash; NB201: md5 of the canonical string.
        """
        ...

    def to_string(self) -> str:
        """A text form that :meth:`SearchSpace.parse` / ``Cell.from_string`` reads back."""
        ...

    def encode(self, kind: str) -> np.ndarray:
        """One cell as a numpy array; see :attr:`SearchSpace.encodings`."""
        ...

    def to_graph(self) -> Any:
        """A ``networkx.DiGraph`` with an ``op`` attribute on every node."""
        ...

    def num_params(self, dataset: str = "cifar10") -> int:
        """Trainable parameters of the network the benchmark trained."""
        ...

    def flops(self, dataset: str = "cifar10") -> float:
        """FLOPs in millions, in the benchmark's own convention."""
        ...


C = TypeVar("C", bound=CellLike)


class SearchSpace(ABC, Generic[C]):
    """Operations over one search space: parse, enumerate, sample, mutate, encode.

    Subclasses implement the abstract methods; the rest is derived here.
    """

    #: Short registry name, e.g. ``"nb201"``.
    name: str = ""
    #: Encoding kinds accepted by :meth:`encode` and ``Cell.encode``.
    encodings: tuple[str, ...] = ()
    #: Datasets for analytic costs.
    datasets: tuple[str, ...] = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")

    @abstractmethod
    def parse(self, value: Any) -> C:
        """Turn a cell, string, official index or hash into a cell; raise OutOfDomainError."""

    @abstractmethod
    def size(self) -> int:
        """Number of cells the benchmark enumerates (unique cells for NB101)."""

    @abstractmethod
    def all_cells(self) -> Sequence[C]:
        """Every cell of the space, each once, in the official order where one exists."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int | None = None) -> Any:
        """Uniform random cell (``n=None``) or a list of ``n`` cells."""

    @abstractmethod
    def mutate(self, cell: C, rng: np.random.Generator) -> C:
        """One mutation as used by regularized evolution on this space; never returns ``cell``."""

    @abstractmethod
    def neighbours(self, cell: C) -> list[C]:
        """The one-step neighbourhood used by local search (no duplicates, not ``cell``)."""

    @abstractmethod
    def encode(self, cells: Sequence[C], kind: str) -> np.ndarray:
        """Encode many cells at once into one array of shape ``(len(cells), ...)``."""

    # ------------------------------------------------------------------ derived
    def check_encoding(self, kind: str) -> None:
        """Raise :class:`OutOfDomainError` unless ``kind`` is a known encoding."""
        if kind not in self.encodings:
            raise OutOfDomainError(
                f"unknown encoding {kind!r} for space {self.name!r}; "
                f"allowed: {allowed(self.encodings)}"
            )

    def check_dataset(self, dataset: str) -> None:
        """Raise :class:`OutOfDomainError` unless ``dataset`` is known to the cost model."""
        if dataset not in self.datasets:
            raise OutOfDomainError(
                f"unknown dataset {dataset!r}; allowed: {allowed(self.datasets)}"
            )

    def __iter__(self) -> Iterator[C]:
        return iter(self.all_cells())

    def __len__(self) -> int:
        return self.size()

    def __repr__(self) -> str:
        return f"<SearchSpace {self.name}: {self.size()} cells>"
