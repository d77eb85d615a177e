"""PyTorch networks built from cells, exactly as the benchmarks built them (imports torch).

:func:`build_network` dispatches on the cell's search space through :data:`BUILDERS`:

* ``nb201`` (NAS-Bench-201 / NATS-Bench topology space): :func:`nb201.nb201_network`
  from ``Cell.ops``; overrides ``C`` (16), ``N`` (5), ``num_classes``, ``prune``;
* ``nats_sss`` (NATS-Bench size space): :func:`nats_sss.nats_sss_network` from
  ``Cell.channels``; overrides ``num_classes``, ``prune``;
* ``nb101``: :func:`nb101.nb101_network` from ``Cell.matrix`` / ``Cell.ops``; overrides
  ``C`` (128), ``N`` (3), ``num_stacks`` (3), ``num_classes``.

The number of classes comes from the dataset (:data:`DATASETS`) unless overridden.

Examples
--------
>>> from nasbench_tools.networks import dataset_spec
>>> dataset_spec("ImageNet16-120")
DatasetSpec(name='ImageNet16-120', num_classes=120, resolution=16)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.networks.nats_sss import nats_sss_network
from nasbench_tools.networks.nb101 import nb101_network
from nasbench_tools.networks.nb201 import nb201_network
from nasbench_tools.spaces.nb201 import costs as nb201_costs

__all__ = [
    "BUILDERS",
    "DATASETS",
    "DatasetSpec",
    "build_network",
    "dataset_spec",
    "nats_sss_network",
    "nb101_network",
    "nb201_network",
    "space_of",
]


@dataclass(frozen=True)
class DatasetSpec:
    """Classes and input resolution of a benchmark dataset."""

    name: str
    num_classes: int
    resolution: int


#: Benchmark datasets by name (the NAS-Bench-201 / NATS-Bench table of the spaces floor).
DATASETS: dict[str, DatasetSpec] = {
    name: DatasetSpec(name, spec.num_classes, spec.resolution)
    for name, spec in nb201_costs.DATASETS.items()
}


def dataset_spec(dataset: str) -> DatasetSpec:
    """Return the :class:`DatasetSpec` of ``dataset``.

    Raises
    ------
    OutOfDomainError
        For an unknown dataset name.

    Examples
    --------
    >>> dataset_spec("cifar100").num_classes
    100
    """
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise OutOfDomainError(
            f"unknown dataset {dataset!r}; allowed: {allowed(DATASETS)}"
        ) from None


def _build_nb201(cell: Any, **kw: Any) -> nn.Module:
    return nb201_network(cell.ops, **kw)


def _build_nats_sss(cell: Any, **kw: Any) -> nn.Module:
    return nats_sss_network(cell.channels, **kw)


def _build_nb101(cell: Any, **kw: Any) -> nn.Module:
    return nb101_network(cell.matrix, cell.ops, **kw)


#: Space name -> builder ``(cell, **kwargs) -> nn.Module``.
BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "nb201": _build_nb201,
    "nats_sss": _build_nats_sss,
    "nb101": _build_nb101,
}


def space_of(cell: Any) -> str:
    """Name of the search space a cell object belongs to (from its class's module).

    Raises
    ------
    OutOfDomainError
        When the object is not a cell of a registered space.

    Examples
    --------
    >>> space_of(object())
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: ...
    """
    module = type(cell).__module__
    for name in BUILDERS:
        prefix = f"nasbench_tools.spaces.{name}"
        if module == prefix or module.startswith(prefix + "."):
            return name
    raise OutOfDomainError(
        f"cannot build a network for a {type(cell).__name__!r} object from {module!r}; "
        f"allowed: cells of the spaces {allowed(BUILDERS)}"
    )


def build_network(cell: Any, dataset: str = "cifar10", **overrides: Any) -> nn.Module:
    """Build the benchmark's network of ``cell`` for ``dataset``.

    Parameters
    ----------
    cell : Cell
        A cell of ``nasbench_tools.spaces.nb101``, ``nb201`` or ``nats_sss``.
    dataset : str, default "cifar10"
        Sets the number of classes (and the expected input resolution).
    **overrides
        Space-specific size overrides (``C``, ``N``, ``num_classes``, ``prune``, ...); see
        the module docstring. Unknown keys raise :class:`OutOfDomainError`.

    Returns
    -------
    torch.nn.Module
        A freshly initialised network whose ``forward`` returns logits.

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> cell = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> net = build_network(cell, "cifar100")
    >>> sum(p.numel() for p in net.parameters()) == cell.num_params("cifar100")
    True
    """
    spec = dataset_spec(dataset)
    kwargs = {"num_classes": spec.num_classes, **overrides}
    return BUILDERS[space_of(cell)](cell, **kwargs)
