"""The NATS-Bench size-space cell: five layer widths.

Examples
--------
>>> cell = Cell.from_string("8:8:40:32:40")
>>> cell.index, Cell.from_index(284) == cell
(284, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nats_sss import costs, encodings
from nasbench_tools.spaces.nats_sss.constants import (
    CHANNEL_INDEX,
    CHANNELS,
    GENOTYPE,
    NUM_CELLS,
    NUM_CHOICES,
    NUM_LAYERS,
    REDUCTIONS,
)

__all__ = ["Cell"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One NATS-Bench size-space configuration.

    Parameters
    ----------
    channels : sequence of int
        Five widths, each from :data:`CHANNELS` (8, 16, ..., 64): the outputs of the layers
        cell, reduction, cell, reduction, cell.

    Raises
    ------
    OutOfDomainError
        Wrong length or a width outside :data:`CHANNELS`.

    Examples
    --------
    >>> Cell((8, 16, 24, 32, 64)).to_string()
    '8:16:24:32:64'
    """

    channels: tuple[int, ...]

    def __post_init__(self) -> None:
        chans = self.channels
        if isinstance(chans, (str, bytes)) or not isinstance(chans, Iterable):
            raise OutOfDomainError(
                f"Cell(channels) needs a sequence of {NUM_LAYERS} widths, got {chans!r}; "
                f"use Cell.from_string for '8:16:24:32:64'"
            )
        chans = tuple(chans)
        if len(chans) != NUM_LAYERS:
            raise OutOfDomainError(
                f"a size-space cell has exactly {NUM_LAYERS} widths, got {len(chans)}: {chans!r}"
            )
        clean = []
        for layer, c in enumerate(chans):
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or int(c) not in CHANNEL_INDEX:
                raise OutOfDomainError(
                    f"width {c!r} of layer {layer} is not allowed; allowed: {allowed(CHANNELS)}"
                )
            clean.append(int(c))
        object.__setattr__(self, "channels", tuple(clean))

    @classmethod
    def from_string(cls, text: str) -> Cell:
        """Parse ``"c0:c1:c2:c3:c4"``.

        Examples
        --------
        >>> Cell.from_string("64:64:64:64:64").index
        32767
        """
        if not isinstance(text, str):
            raise OutOfDomainError(
                f"a size-space string must be a str like '8:16:24:32:64', got {text!r}"
            )
        parts = text.split(":")
        if len(parts) != NUM_LAYERS or not all(p.isdigit() and p.isascii() for p in parts):
            raise OutOfDomainError(
                f"size-space string {text!r} must be {NUM_LAYERS} widths separated by ':', "
                f"each from {allowed(CHANNELS)}, e.g. '8:16:24:32:64'"
            )
        return cls(tuple(int(p) for p in parts))

    @classmethod
    def from_index(cls, index: int) -> Cell:
        """The cell with official index ``index`` (0..32767, last layer fastest).

        Examples
        --------
        >>> Cell.from_index(11).to_string()
        '8:8:8:16:32'
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise OutOfDomainError(f"a size-space index must be an int in 0..{NUM_CELLS - 1}, got {index!r}")
        if not 0 <= int(index) < NUM_CELLS:
            raise OutOfDomainError(
                f"size-space index {index} is out of range; allowed: 0..{NUM_CELLS - 1}"
            )
        rest = int(index)
        digits = []
        for _ in range(NUM_LAYERS):
            rest, d = divmod(rest, NUM_CHOICES)
            digits.append(CHANNELS[d])
        return cls(tuple(reversed(digits)))

    def to_string(self) -> str:
        """``"c0:c1:c2:c3:c4"``, the official form.

        Examples
        --------
        >>> Cell.from_index(0).to_string()
        '8:8:8:8:8'
        """
        return ":".join(str(c) for c in self.channels)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"Cell.from_string({self.to_string()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cell, (self.channels,))

    @property
    def index(self) -> int:
        """Official index: base-8 number of the width positions, last layer fastest.

        Examples
        --------
        >>> Cell.from_string("8:8:8:8:16").index
        1
        """
        value = 0
        for c in self.channels:
            value = value * NUM_CHOICES + CHANNEL_INDEX[c]
        return value

    def width_indices(self) -> tuple[int, ...]:
        """Positions of the widths in :data:`CHANNELS`.

        Examples
        --------
        >>> Cell.from_string("8:16:24:32:64").width_indices()
        (0, 1, 2, 3, 7)
        """
        return tuple(CHANNEL_INDEX[c] for c in self.channels)

    @property
    def hash(self) -> str:
        """md5 hex of :meth:`to_string` (no two configurations are equivalent).

        Examples
        --------
        >>> len(Cell.from_index(0).hash)
        32
        """
        return hashlib.md5(self.to_string().encode("ascii")).hexdigest()

    def encode(self, kind: str) -> np.ndarray:
        """One cell as an array; see :mod:`nasbench_tools.spaces.nats_sss.encodings`.

        Examples
        --------
        >>> Cell.from_index(0).encode("path").shape
        (256,)
        """
        return encodings.encode_indices(np.array([self.index]), kind)[0]

    def to_graph(self) -> nx.DiGraph:
        """The macro chain: stem, 5 layers, head; node attributes ``op`` and ``channels``.

        Examples
        --------
        >>> g = Cell.from_string("8:16:24:32:64").to_graph()
        >>> [g.nodes[n]["op"] for n in g.nodes][:3], g.nodes[2]["channels"]
        (['stem', 'cell', 'reduction'], 16)
        """
        g = nx.DiGraph()
        g.add_node(0, op="stem", channels=self.channels[0])
        for layer, (c, red) in enumerate(zip(self.channels, REDUCTIONS), start=1):
            g.add_node(layer, op="reduction" if red else "cell", channels=c,
                       genotype=None if red else GENOTYPE)
            g.add_edge(layer - 1, layer)
        g.add_node(NUM_LAYERS + 1, op="head", channels=self.channels[-1])
        g.add_edge(NUM_LAYERS, NUM_LAYERS + 1)
        return g

    def num_params(self, dataset: str = "cifar10") -> int:
        """Trainable parameters of the size-space network.

        Examples
        --------
        >>> Cell.from_index(284).num_params("cifar10")
        144834
        """
        return int(costs.params_of_indices(np.array([self.index]), dataset)[0])

    def flops(self, dataset: str = "cifar10") -> float:
        """MFLOPs in the official convention.

        Examples
        --------
        >>> Cell.from_index(284).flops("ImageNet16-120")
        5.461816
        """
        return float(costs.flops_of_indices(np.array([self.index]), dataset)[0])
