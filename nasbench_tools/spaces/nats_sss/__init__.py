"""NATS-Bench size search space (32,768 channel configurations).

Examples
--------
>>> from nasbench_tools.spaces.nats_sss import Cell, SPACE, CHANNELS
>>> Cell.from_string("8:8:40:32:40").index
284
>>> SPACE.size(), len(CHANNELS)
(32768, 8)
"""

from __future__ import annotations

from nasbench_tools.spaces.nats_sss.cell import Cell
from nasbench_tools.spaces.nats_sss.constants import CHANNELS, GENOTYPE, NUM_CELLS, NUM_LAYERS
from nasbench_tools.spaces.nats_sss.space import (
    SPACE,
    NATSSizeSpace,
    check_indices,
    mutate_indices,
    neighbour_indices,
)

__all__ = [
    "CHANNELS",
    "GENOTYPE",
    "NUM_CELLS",
    "NUM_LAYERS",
    "SPACE",
    "Cell",
    "NATSSizeSpace",
    "check_indices",
    "mutate_indices",
    "neighbour_indices",
]
