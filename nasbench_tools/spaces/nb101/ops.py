"""Vocabulary of the NAS-Bench-101 space: op labels, limits, text tokens.

Every number here is a fact of the official benchmark (``google-research/nasbench``,
``nasbench/lib/config.py`` and ``api.py``): at most 7 vertices and 9 edges per cell, three
inner operations, whose position in :data:`OPS` is also the integer label the official
module hash uses (``input`` is -1, ``output`` is -2).

Examples
--------
>>> OPS[0], OP_CODE["maxpool3x3"], MAX_VERTICES, MAX_EDGES
('conv3x3-bn-relu', 2, 7, 9)
"""

from __future__ import annotations

__all__ = [
    "DATASETS",
    "INPUT",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OPS",
    "OP_CODE",
    "OP_TOKEN",
    "OUTPUT",
    "TOKEN_OP",
]

INPUT = "input"
OUTPUT = "output"

#: Inner operations in the official ``available_ops`` order; the index is the hash label.
OPS: tuple[str, str, str] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")

#: Op label -> integer code (its index in :data:`OPS`).
OP_CODE: dict[str, int] = {op: i for i, op in enumerate(OPS)}

#: Short tokens used by ``Cell.to_string``.
OP_TOKEN: dict[str, str] = {
    "conv3x3-bn-relu": "c3",
    "conv1x1-bn-relu": "c1",
    "maxpool3x3": "mp",
}

#: Token (short or full label) -> op label, accepted by ``Cell.from_string``.
TOKEN_OP: dict[str, str] = {**{t: op for op, t in OP_TOKEN.items()}, **{op: op for op in OPS}}

#: Largest number of vertices (input and output included) of a pruned cell.
MAX_VERTICES = 7
#: Largest number of edges of a pruned cell.
MAX_EDGES = 9

#: Dataset -> (number of classes, input image side in pixels) for the cost model.
DATASETS: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar10-valid": (10, 32),
    "cifar100": (100, 32),
    "ImageNet16-120": (120, 16),
}
