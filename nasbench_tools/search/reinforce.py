"""REINFORCE with an exponential-moving-average baseline (the NAS-Bench-201 baseline).

The policy holds one softmax distribution per position of the cell code (NB201: one over
five operations for each of the six edges), initialised with logits ``1e-3 * N(0, 1)``.
Each step samples a cell, receives its value as reward, updates the baseline (an
exponential moving average with momentum 0.9, bias-corrected) and takes one Adam step on
``-log p(cell) * (reward - baseline)``. Written in numpy: the gradient of a categorical
log-probability is ``onehot - softmax``.

The default learning rate is NATS-Bench's 0.01. The NAS-Bench-201 instructions run this
baseline with 0.5 (``REINFORCE.sh 0.5``); with Adam at 0.5 the policy collapses within a few
steps, and on the shared NB201 tables (500 runs, 100 queries) it gives 93.18 +- 0.81 CIFAR-10
test against the published 93.85 +- 0.37, while 0.01 gives 93.78 +- 0.32
(``benchmarks/results/search.md``).

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = Reinforce(get_space("nb201"), learning_rate=0.5, seed=0)
>>> for _ in range(20):
...     c = s.ask(); s.tell(c, 100.0 if c.ops[0] == "nor_conv_3x3" else 0.0)
>>> int(np.argmax(s.probabilities()[0]))  # nor_conv_3x3 is op 3
3
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.base import Searcher, SeedLike, code_layout

__all__ = ["Reinforce"]


class Reinforce(Searcher):
    """REINFORCE policy-gradient search over the digits of the cell code.

    Parameters
    ----------
    space : SearchSpace
        A space with a code layout (``nb201``, ``nats_sss``).
    learning_rate : float, default 0.01
        Adam step size (NATS-Bench: 0.01; the NAS-Bench-201 script passes 0.5).
    ema_momentum : float, default 0.9
        Momentum of the reward baseline.
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    """

    algo = "reinforce"
    #: Every sample is charged, as in NAS-Bench-201 (each one is a training); with free
    #: repeats a converged policy would re-propose its cell for ever.
    repeats = "charge"

    def __init__(
        self,
        space: Any,
        *,
        learning_rate: float = 0.01,
        ema_momentum: float = 0.9,
        seed: SeedLike = 0,
    ) -> None:
        if learning_rate <= 0 or not 0.0 <= ema_momentum < 1.0:
            raise OutOfDomainError(
                f"need learning_rate > 0 and 0 <= ema_momentum < 1, got {learning_rate} "
                f"and {ema_momentum}"
            )
        self.layout = code_layout(space.name)
        self.learning_rate = float(learning_rate)
        self.ema_momentum = float(ema_momentum)
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        shape = (self.layout.digits, self.layout.base)
        self.logits = 1e-3 * self.rng.standard_normal(shape)
        self._m = np.zeros(shape)
        self._v = np.zeros(shape)
        self._t = 0
        self._num = 0.0
        self._den = 0.0
        self._last: tuple[int, np.ndarray] | None = None

    def probabilities(self) -> np.ndarray:
        """Current policy, shape ``(digits, base)``; rows sum to one."""
        z = self.logits - self.logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    @property
    def baseline(self) -> float:
        """The bias-corrected moving average of the rewards seen so far (0 before any)."""
        return self._num / self._den if self._den > 0 else 0.0

    def ask(self) -> Any:
        """Sample one cell from the policy (one uniform draw per digit)."""
        p = self.probabilities()
        u = self.rng.random(self.layout.digits)
        cdf = np.cumsum(p, axis=1)
        digits = np.minimum((cdf < u[:, None]).sum(axis=1), self.layout.base - 1)
        code = int(digits @ self.layout.place_values)
        self._last = (code, digits)
        return self.layout.from_code(code)

    def tell(self, cell: Any, value: float) -> None:
        """One policy-gradient step with reward ``value``."""
        code = self.layout.to_code(cell)
        if self._last is not None and self._last[0] == code:
            digits = self._last[1]
        else:
            digits = (code // self.layout.place_values) % self.layout.base
        mom = self.ema_momentum
        self._num = mom * self._num + (1 - mom) * float(value)
        self._den = mom * self._den + (1 - mom)
        advantage = float(value) - self.baseline
        onehot = np.zeros_like(self.logits)
        onehot[np.arange(self.layout.digits), digits] = 1.0
        grad = -advantage * (onehot - self.probabilities())
        self._t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        self._m = b1 * self._m + (1 - b1) * grad
        self._v = b2 * self._v + (1 - b2) * grad**2
        m_hat = self._m / (1 - b1**self._t)
        v_hat = self._v / (1 - b2**self._t)
        self.logits = self.logits - self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)

    def describe(self) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "learning_rate": self.learning_rate,
            "ema_momentum": self.ema_momentum,
        }
