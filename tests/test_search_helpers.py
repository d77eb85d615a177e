"""A toy space (64 cells, 3 positions x 4 choices) and a toy store for the search tests.

The toy value of a cell is a fixed random permutation of its code, so searchers have
something to find; the toy cost is ``1 + code % 7`` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.search.base import CodeLayout, register_code_layout
from nasbench_tools.spaces.base import SearchSpace

DIGITS, BASE = 3, 4
SIZE = BASE**DIGITS
PLACE = BASE ** np.arange(DIGITS - 1, -1, -1)


@dataclass(frozen=True)
class ToyCell:
    code: int

    @property
    def hash(self) -> str:
        return f"toy{self.code}"

    def to_string(self) -> str:
        return f"toy:{self.code}"

    def digits(self) -> np.ndarray:
        return (self.code // PLACE) % BASE

    def encode(self, kind: str) -> np.ndarray:
        out = np.zeros((DIGITS, BASE))
        out[np.arange(DIGITS), self.digits()] = 1.0
        return out.ravel()

    def to_graph(self) -> Any:
        raise NotImplementedError

    def num_params(self, dataset: str = "cifar10") -> int:
        return self.code

    def flops(self, dataset: str = "cifar10") -> float:
        return float(self.code)


def _from_code(code: int) -> ToyCell:
    return ToyCell(int(code))


def _to_code(cell: ToyCell) -> int:
    return cell.code


class ToySpace(SearchSpace[ToyCell]):
    name = "toy"
    encodings = ("onehot",)

    def parse(self, value: Any) -> ToyCell:
        if isinstance(value, ToyCell):
            return value
        if isinstance(value, str) and value.startswith("toy:"):
            return ToyCell(int(value[4:]))
        raise OutOfDomainError(f"not a toy cell: {value!r}")

    def size(self) -> int:
        return SIZE

    def all_cells(self) -> Sequence[ToyCell]:
        return [ToyCell(c) for c in range(SIZE)]

    def sample(self, rng: np.random.Generator, n: int | None = None) -> Any:
        if n is None:
            return ToyCell(int(rng.integers(SIZE)))
        return [ToyCell(int(c)) for c in rng.integers(SIZE, size=n)]

    def mutate(self, cell: ToyCell, rng: np.random.Generator) -> ToyCell:
        d = int(rng.integers(DIGITS))
        digits = cell.digits()
        digits[d] = (digits[d] + 1 + rng.integers(BASE - 1)) % BASE
        return ToyCell(int(digits @ PLACE))

    def neighbours(self, cell: ToyCell) -> list[ToyCell]:
        out = []
        for d in range(DIGITS):
            for shift in range(1, BASE):
                digits = cell.digits()
                digits[d] = (digits[d] + shift) % BASE
                out.append(ToyCell(int(digits @ PLACE)))
        return out

    def encode(self, cells: Sequence[ToyCell], kind: str) -> np.ndarray:
        self.check_encoding(kind)
        return np.stack([c.encode(kind) for c in cells])


TOY = ToySpace()
register_code_layout("toy", CodeLayout(DIGITS, BASE, _to_code, _from_code))


class ToyBench:
    """Rows = codes; ``missing`` rows hold NaN."""

    space = "toy"

    def __init__(self, missing: Sequence[int] = ()) -> None:
        rng = np.random.default_rng(1234)
        self.keys = [f"toy:{c}" for c in range(SIZE)]
        self._val = rng.permutation(SIZE).astype(float)
        self._test = self._val + rng.normal(0, 3, SIZE)
        for m in missing:
            self._val[m] = np.nan

    def column(self, metric: str, dataset: str | None = None, epoch: int | None = None) -> np.ndarray:
        if metric == "val_accuracy" and epoch == 12:
            return self._val.copy()
        if metric == "val_accuracy":
            return self._val + 0.5
        if metric == "test_accuracy":
            return self._test.copy()
        if metric == "train_time":
            return 1.0 + np.arange(SIZE) % 7
        raise NotInBenchmarkError(f"toy has no {metric!r}")

    def rows(self, cells: Sequence[Any]) -> np.ndarray:
        return np.array([TOY.parse(c).code for c in cells], dtype=np.int64)


class ToyCost:
    """1 + code % 7 seconds."""

    name = "toy"

    def per_row(self, bench: Any, space: Any) -> np.ndarray:
        return 1.0 + np.arange(SIZE) % 7

    def describe(self) -> dict[str, Any]:
        return {"cost_model": "toy"}


def toy_evaluator(**kwargs: Any) -> Any:
    from nasbench_tools.search.evaluators import TabularEvaluator

    kwargs.setdefault("cost_model", ToyCost())
    return TabularEvaluator(ToyBench(kwargs.pop("missing", ())), space=TOY, **kwargs)


class ToyScorer:
    """Score = the toy validation value plus noise fixed per cell."""

    def __init__(self) -> None:
        b = ToyBench()
        self.values = b._val + np.random.default_rng(7).normal(0, 5, SIZE)

    def score(self, cells: Sequence[ToyCell]) -> np.ndarray:
        return self.values[[c.code for c in cells]]


def test_toy_space_is_consistent() -> None:
    rng = np.random.default_rng(0)
    cell = TOY.sample(rng)
    assert TOY.mutate(cell, rng) != cell
    assert len(set(TOY.neighbours(cell))) == DIGITS * (BASE - 1)
    assert cell not in TOY.neighbours(cell)
