"""Vocabulary of the NATS-Bench size search space (SSS).

A cell is a channel configuration: the output width of each of the 5 layers of the
network (cell, reduction block, cell, reduction block, cell), each from :data:`CHANNELS`.
The official index is the base-8 number of the width positions, last layer fastest.

Examples
--------
>>> NUM_CELLS, CHANNELS[-1], GENOTYPE.count("nor_conv_3x3")
(32768, 64, 5)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ALL_WIDTH_INDICES",
    "CHANNELS",
    "CHANNEL_INDEX",
    "GENOTYPE",
    "NUM_CELLS",
    "NUM_CHOICES",
    "NUM_LAYERS",
    "PLACE_VALUES",
    "REDUCTIONS",
]

#: Allowed widths of every layer.
CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
#: Width -> position in :data:`CHANNELS`.
CHANNEL_INDEX: dict[int, int] = {c: i for i, c in enumerate(CHANNELS)}
NUM_CHOICES = len(CHANNELS)
NUM_LAYERS = 5
NUM_CELLS = NUM_CHOICES**NUM_LAYERS
#: Which of the 5 layers are residual reduction blocks (N = 1 cell per stage).
REDUCTIONS: tuple[bool, ...] = (False, True, False, True, False)
#: The topology every size-space network uses (``get_net_config`` of the official API).
GENOTYPE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)

#: Base-8 place values, first layer most significant.
PLACE_VALUES: np.ndarray = NUM_CHOICES ** np.arange(NUM_LAYERS - 1, -1, -1, dtype=np.int64)
PLACE_VALUES.setflags(write=False)

#: Width positions of every cell, row ``i`` = official index ``i``; read-only.
ALL_WIDTH_INDICES: np.ndarray = (
    (np.arange(NUM_CELLS, dtype=np.int64)[:, None] // PLACE_VALUES) % NUM_CHOICES
).astype(np.int8)
ALL_WIDTH_INDICES.setflags(write=False)
