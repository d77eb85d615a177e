"""NAS-Bench-201 / NATS-Bench topology space (15,625 cells).

Examples
--------
>>> from nasbench_tools.spaces.nb201 import Cell, SPACE
>>> cell = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
>>> cell.naslib_indices()
(2, 2, 0, 4, 2, 0)
>>> SPACE.size()
15625
"""

from __future__ import annotations

from nasbench_tools.spaces.nb201.cell import Cell
from nasbench_tools.spaces.nb201.constants import EDGES, NASLIB_OPS, NUM_CELLS, OPS
from nasbench_tools.spaces.nb201.index import IndexTable
from nasbench_tools.spaces.nb201.space import (
    EDGE_SCHEMES,
    SPACE,
    NB201Space,
    check_codes,
    mutate_codes,
    neighbour_codes,
)

__all__ = [
    "EDGES",
    "EDGE_SCHEMES",
    "NASLIB_OPS",
    "NUM_CELLS",
    "OPS",
    "SPACE",
    "Cell",
    "IndexTable",
    "NB201Space",
    "check_codes",
    "mutate_codes",
    "neighbour_codes",
]
