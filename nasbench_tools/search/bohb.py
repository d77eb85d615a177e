"""BOHB (Falkner et al., 2018) as an ask/tell searcher, through ``hpbandster`` (optional).

BOHB is Hyperband whose new configurations come from a tree-Parzen-like kernel density
model fitted on the best configurations of the largest fidelity with enough results. Rather
than re-implement it, this wraps the original implementation, ``hpbandster``: its BOHB
configuration generator (the KDE model), its ``SuccessiveHalving`` iterations and the
bracket schedule of its ``BOHB`` master (``get_next_iteration``). Only the Pyro
name-server / worker layer is left out: the searcher hands each scheduled
``(configuration, budget)`` to the caller through :meth:`BOHBSearch.ask` and gives the result
back to hpbandster in :meth:`BOHBSearch.tell`, so the project's runner does the budget
accounting (simulated seconds) and the repeat cache.

The configuration space is the NAS-Bench-201 one: one categorical hyper-parameter per
position of the cell code (NB201: the six edges, five operations each). Budgets are
training epochs, the *fidelities* of the store: by default 12 and 200 (the two NB201
training schedules the shared tables record), with ``eta = 3``. The NB201 BOHB script used
``eta=3, min_budget=12, max_budget=200`` and the KDE settings ``min_bandwidth=0.3,
num_samples=64, random_fraction=0.33, bandwidth_factor=3`` (the defaults here).

Each ask sets :attr:`BOHBSearch.fidelity`; the runner then queries the evaluator's
``evaluate_at(cell, fidelity)`` (value: validation accuracy after that many epochs; cost: that
training's time). Requires ``hpbandster`` and ``ConfigSpace`` (``pip install
'nasbench-tools[search]'``); without them, constructing :class:`BOHBSearch` raises
:class:`~nasbench_tools.errors.OutOfDomainError` saying so.

hpbandster draws from numpy's *global* generator. To keep runs reproducible and independent
of each other, the searcher swaps in its own ``numpy.random.RandomState`` around every call
into hpbandster and restores the caller's global state afterwards.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = BOHBSearch(get_space("nb201"), seed=0)      # doctest: +SKIP
>>> c = s.ask(); s.fidelity                         # doctest: +SKIP
12
>>> s.tell(c, 85.0)                                 # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import types
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.base import Searcher, SeedLike, code_layout

__all__ = ["BOHBSearch", "bohb_available"]

log = logging.getLogger(__name__)

_INSTALL = "BOHBSearch needs hpbandster and ConfigSpace: pip install 'nasbench-tools[search]'"


def bohb_available() -> bool:
    """Whether ``hpbandster`` and ``ConfigSpace`` can be imported.

    Examples
    --------
    >>> isinstance(bohb_available(), bool)
    True
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ConfigSpace  # noqa: F401
            import hpbandster.optimizers.bohb  # noqa: F401
    except ImportError:
        return False
    return True


class BOHBSearch(Searcher):
    """hpbandster's BOHB over the digits of the cell code, with epoch fidelities.

    Parameters
    ----------
    space : SearchSpace
        A space with a code layout (``nb201``, ``nats_sss``).
    fidelities : sequence of int, default (12, 200)
        Training epochs of the successive-halving rungs, increasing (the budgets).
    eta : int, default 3
        Successive-halving reduction factor.
    min_bandwidth, num_samples, random_fraction, bandwidth_factor, top_n_percent
        hpbandster's BOHB model settings (defaults: the NB201 script's 0.3, 64, 0.33, 3,
        and hpbandster's 15).
    seed : int, SeedSequence or Generator, default 0
        The configuration space's and hpbandster's seeds are drawn from this generator at
        every (re)start.

    Attributes
    ----------
    fidelity : int
        Epochs of the query of the last :meth:`ask`.
    """

    algo = "bohb"
    multi_fidelity = True
    _np_state: Any

    def __init__(
        self,
        space: Any,
        *,
        fidelities: Sequence[int] = (12, 200),
        eta: int = 3,
        min_bandwidth: float = 0.3,
        num_samples: int = 64,
        random_fraction: float = 0.33,
        bandwidth_factor: float = 3.0,
        top_n_percent: int = 15,
        seed: SeedLike = 0,
    ) -> None:
        if not bohb_available():
            raise OutOfDomainError(_INSTALL)
        fids = [int(f) for f in fidelities]
        if not fids or any(f < 1 for f in fids) or fids != sorted(set(fids)):
            raise OutOfDomainError(
                f"fidelities must be increasing positive epoch counts, got {list(fidelities)}"
            )
        if eta < 2:
            raise OutOfDomainError(f"eta must be >= 2, got {eta}")
        self.layout = code_layout(space.name)
        self.fidelities = fids
        self.eta = int(eta)
        self.settings = {
            "min_bandwidth": float(min_bandwidth),
            "num_samples": int(num_samples),
            "random_fraction": float(random_fraction),
            "bandwidth_factor": float(bandwidth_factor),
            "top_n_percent": int(top_n_percent),
        }
        self.fidelity = fids[0]
        super().__init__(space, seed=seed)

    # ------------------------------------------------------------------ hpbandster state
    @contextlib.contextmanager
    def _own_numpy_global(self) -> Iterator[None]:
        """Run hpbandster code with this searcher's global-numpy state, quietly."""
        caller = np.random.get_state()  # noqa: NPY002 (hpbandster uses the legacy global)
        np.random.set_state(self._np_state)  # noqa: NPY002
        # hpbandster's KDE generator logs every sampled vector and both KDEs at WARNING
        # (hundreds of thousands of lines in a 500-run table); only its errors are news.
        hp_log = logging.getLogger("hpbandster")
        level = hp_log.level
        hp_log.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels on 1-level KDE dims
                yield
        finally:
            hp_log.setLevel(level)
            self._np_state = np.random.get_state()  # noqa: NPY002
            np.random.set_state(caller)  # noqa: NPY002

    def _start(self) -> None:
        import ConfigSpace
        from hpbandster.optimizers.config_generators.bohb import BOHB as KDEGenerator

        cs_seed, np_seed = (int(v) for v in self.rng.integers(2**31 - 1, size=2))
        cs = ConfigSpace.ConfigurationSpace(seed=cs_seed)
        choices = list(range(self.layout.base))
        for i in range(self.layout.digits):
            cs.add(ConfigSpace.CategoricalHyperparameter(f"d{i}", choices))
        self._np_state = np.random.RandomState(np_seed).get_state()
        with self._own_numpy_global():
            self._generator = KDEGenerator(cs, **self.settings)
        # the attributes hpbandster's BOHB master reads in get_next_iteration
        self._schedule = types.SimpleNamespace(
            max_SH_iter=len(self.fidelities),
            eta=self.eta,
            budgets=np.array(self.fidelities, dtype=np.float64),
            config_generator=self._generator,
        )
        self._iteration: Any = None
        self._n_iterations = 0
        self._job: Any = None
        self._code = 0

    def _next_run(self) -> tuple[Any, dict[str, Any], float]:
        from hpbandster.optimizers.bohb import BOHB as Master

        for _ in range(10_000):
            if self._iteration is None or self._iteration.is_finished:
                self._iteration = Master.get_next_iteration(self._schedule, self._n_iterations)
                self._n_iterations += 1
            nxt = self._iteration.get_next_run()
            if nxt is not None:
                return nxt  # type: ignore[no-any-return]
            if not self._iteration.is_finished:
                raise OutOfDomainError("BOHBSearch.ask called before tell() of the last cell")
        raise OutOfDomainError("hpbandster scheduled no run in 10000 iterations")

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Any:
        """The next ``(cell, fidelity)`` BOHB schedules; the fidelity is in :attr:`fidelity`."""
        from hpbandster.core.dispatcher import Job

        if self._job is not None:
            raise OutOfDomainError("BOHBSearch.ask called before tell() of the last cell")
        with self._own_numpy_global():
            config_id, config, budget = self._next_run()
        self._job = Job(config_id, config=config, budget=budget)
        digits = np.array([int(config[f"d{i}"]) for i in range(self.layout.digits)])
        self._code = int(digits @ self.layout.place_values)
        self.fidelity = round(float(budget))
        return self.layout.from_code(self._code)

    def tell(self, cell: Any, value: float) -> None:
        """Report the value at the asked fidelity (hpbandster minimises ``-value``)."""
        if self._job is None or self.layout.to_code(cell) != self._code:
            raise OutOfDomainError("BOHBSearch.tell expects the cell of the last ask()")
        job, self._job = self._job, None
        job.result = {"loss": -float(value), "info": {}}
        with self._own_numpy_global():
            self._iteration.register_result(job)
            self._generator.new_result(job)

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "fidelities": list(self.fidelities), "eta": self.eta,
                **self.settings}
