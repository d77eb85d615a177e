"""NAS-Bench-101 search space: cells, official hash, pruning, enumeration, encodings, costs.

See ``docs/spaces-nb101.md`` for the text form, the rules and the sources of every fact.

Examples
--------
>>> from nasbench_tools.spaces.nb101 import SPACE, Cell
>>> c = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
>>> c.to_string(), c.num_params() > 0, SPACE.name
('mp|011.001.000', True, 'nb101')
"""

from __future__ import annotations

from nasbench_tools.spaces.nb101.cell import Cell, prune
from nasbench_tools.spaces.nb101.costs import network_costs, vertex_costs
from nasbench_tools.spaces.nb101.encodings import ENCODING_SHAPES, encode_packed
from nasbench_tools.spaces.nb101.hashing import module_hash
from nasbench_tools.spaces.nb101.ops import INPUT, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT
from nasbench_tools.spaces.nb101.space import (
    DATA_FILE,
    SPACE,
    CellSequence,
    NB101Space,
    random_spec,
)

__all__ = [
    "DATA_FILE",
    "ENCODING_SHAPES",
    "INPUT",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OPS",
    "OUTPUT",
    "SPACE",
    "Cell",
    "CellSequence",
    "NB101Space",
    "encode_packed",
    "module_hash",
    "network_costs",
    "prune",
    "random_spec",
    "vertex_costs",
]
