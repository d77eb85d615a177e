"""nasbench-tools: fast, TensorFlow-free tools for NAS research on tabular benchmarks.

The package is layered (see ``docs/architecture.md``): ``spaces`` (cells, hashes,
encodings, analytic costs) at the bottom, then ``store`` (HDF5 tables and converters of the
official files), ``networks`` (torch modules), ``trainer``, ``search`` and the ``cli``.
Heavy sub-packages are imported lazily, so ``import nasbench_tools`` stays cheap and never
imports torch.

Examples
--------
>>> import nasbench_tools
>>> from nasbench_tools.spaces import nb201
>>> nb201.Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|").ops
('nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_3x3', 'skip_connect')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasbench_tools._version import __version__
from nasbench_tools.errors import (
    BudgetExhaustedError,
    ChecksumError,
    FormatError,
    NasBenchToolsError,
    NotInBenchmarkError,
    OutOfDomainError,
    UnsafePickleError,
)

if TYPE_CHECKING:
    from nasbench_tools.store import Benchmark

__all__ = [
    "BudgetExhaustedError",
    "ChecksumError",
    "FormatError",
    "NasBenchToolsError",
    "NotInBenchmarkError",
    "OutOfDomainError",
    "UnsafePickleError",
    "__version__",
    "load_benchmark",
]


def load_benchmark(path: Any, **kwargs: Any) -> Benchmark:
    """Open a benchmark store (see :func:`nasbench_tools.store.load_benchmark`)."""
    from nasbench_tools.store import load_benchmark as _load

    return _load(path, **kwargs)
