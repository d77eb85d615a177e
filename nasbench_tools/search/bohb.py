"""BOHB (Falkner et al., 2018) as an ask/tell searcher, through ``hpbandster`` (optional).

BOHB is Hyperband whose new configurations come from a tree-Parzen-like kernel density
model fitted on the best configurations of the largest budget with enough results. Rather
than re-implement it, this wraps the original implementation, ``hpbandster``: its BOHB
configuration generator (the KDE model), its ``SuccessiveHalving`` iterations, the bracket
schedule of its ``BOHB`` master (``get_next_iteration``) and, for the final pick, its
``Result.get_incumbent_id``. Only the Pyro name-server / worker layer is left out: the
searcher hands each scheduled ``(configuration, budget)`` to the caller through
:meth:`BOHBSearch.ask` and gives the result back to hpbandster in :meth:`BOHBSearch.tell`
(register the result with the iteration, then with the model, as hpbandster's master does
with one worker), so the project's runner does the budget accounting (simulated seconds).

The configuration space is the NAS-Bench-201 one: one categorical hyper-parameter per
position of the cell code (NB201: the six edges, five operations each).

What the budget means (``budget_use``, :data:`BUDGET_USES`):

* ``"epochs"`` (the default; fidelity-aware, our extension): the budgets are training epochs,
  the *fidelities* of the store (by default 12 and 200, the two NB201 training schedules the
  shared tables record; the rungs are exactly ``fidelities``). Each ask sets
  :attr:`BOHBSearch.fidelity`; the runner queries ``evaluate_at(cell, fidelity)`` (value:
  validation accuracy after that many epochs; cost: that training's time) and keys its
  repeat cache by ``(cell, fidelity)``. The pick is the runner's: the best value seen.
* ``"schedule"`` (the NAS-Bench-201 script's protocol): the budgets only shape
  hpbandster's brackets; every query, whatever its budget, is the evaluator's single search
  fidelity (``evaluate``: NB201, the 12-epoch validation accuracy, charged its 12-epoch
  time). The rungs are hpbandster's geometric budgets between ``min(fidelities)`` and
  ``max(fidelities)``: with ``(12, 200)`` and ``eta = 3``, 22.2, 66.7 and 200, so iteration 0
  evaluates 9 configurations at 22.2, the best 3 at 66.7, the best 1 at 200; iteration 1,
  3 at 66.7 then 1 at 200; iteration 2, 3 at 200; and again. A promoted configuration is
  evaluated again at every rung, and every evaluation is charged (``repeats = "charge"``: the
  runner's repeat cache answers it without a second look-up, but counts and charges it as a
  query, as the script's worker does). The pick is hpbandster's incumbent
  (:meth:`BOHBSearch.incumbent`): the lowest loss among the configurations with a result at
  the largest budget. ``max_iterations`` caps the number of Hyperband iterations (the
  script's ``n_iters``).

:data:`BOHB_PRESETS` holds ``"nb201-script"``: the settings of NAS-Bench-201's BOHB script
(``schedule``, ``min_budget=12, max_budget=200, eta=3``, ``num_samples=4``,
``random_fraction=0``, ``bandwidth_factor=3``, ``min_bandwidth=0.3``, 50 iterations).

Requires ``hpbandster`` and ``ConfigSpace`` (``pip install 'nasbench-tools[search]'``);
without them, constructing :class:`BOHBSearch` raises
:class:`~nasbench_tools.errors.OutOfDomainError` saying so.

hpbandster draws from numpy's *global* generator. To keep runs reproducible and independent
of each other, the searcher swaps in its own ``numpy.random.RandomState`` around every call
into hpbandster and restores the caller's global state afterwards.

Examples
--------
>>> schedule_budgets(12, 200, 3).round(1).tolist()
[22.2, 66.7, 200.0]
>>> from nasbench_tools.spaces import get_space
>>> s = BOHBSearch(get_space("nb201"), seed=0)      # doctest: +SKIP
>>> c = s.ask(); s.fidelity                         # doctest: +SKIP
12
>>> s.tell(c, 85.0)                                 # doctest: +SKIP
>>> s = BOHBSearch(get_space("nb201"), **BOHB_PRESETS["nb201-script"])  # doctest: +SKIP
>>> c = s.ask(); round(s.budget, 1)                 # doctest: +SKIP
22.2
"""

from __future__ import annotations

import contextlib
import logging
import types
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.search.base import Searcher, SeedLike, code_layout

__all__ = ["BOHB_PRESETS", "BUDGET_USES", "BOHBSearch", "bohb_available", "schedule_budgets"]

log = logging.getLogger(__name__)

_INSTALL = "BOHBSearch needs hpbandster and ConfigSpace: pip install 'nasbench-tools[search]'"

#: What a budget means: ``epochs`` = the training epochs of the query (fidelity-aware),
#: ``schedule`` = only the bracket schedule; every query is the evaluator's search fidelity.
BUDGET_USES: tuple[str, ...] = ("epochs", "schedule")

#: Named settings. ``nb201-script``: NAS-Bench-201's ``exps/algos/BOHB.py`` with the
#: arguments of ``scripts-search/algos/BOHB.sh`` (``BOHB(eta=3, min_budget=12,
#: max_budget=200, ...)``, ``--n_iters 50 --num_samples 4 --random_fraction 0.0
#: --bandwidth_factor 3``, ``min_bandwidth`` default 0.3; its worker ignores the budget).
BOHB_PRESETS: dict[str, dict[str, Any]] = {
    "nb201-script": {
        "budget_use": "schedule",
        "fidelities": (12, 200),
        "eta": 3,
        "num_samples": 4,
        "random_fraction": 0.0,
        "bandwidth_factor": 3.0,
        "min_bandwidth": 0.3,
        "max_iterations": 50,
    },
}


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


def schedule_budgets(min_budget: float, max_budget: float, eta: int) -> np.ndarray:
    """The successive-halving budgets hpbandster's BOHB master derives from its arguments.

    ``max_budget * eta**-k`` for ``k = K-1 .. 0`` with ``K = 1 + floor(log_eta(max/min))``
    (hpbandster's ``max_SH_iter``); the smallest is at least ``min_budget``.

    Examples
    --------
    >>> schedule_budgets(12, 200, 3).round(2).tolist()
    [22.22, 66.67, 200.0]
    >>> schedule_budgets(1, 27, 3).tolist()
    [1.0, 3.0, 9.0, 27.0]
    """
    n = -int(np.log(min_budget / max_budget) / np.log(eta)) + 1
    return float(max_budget) * np.power(float(eta), -np.linspace(n - 1, 0, n))


class BOHBSearch(Searcher):
    """hpbandster's BOHB over the digits of the cell code.

    Parameters
    ----------
    space : SearchSpace
        A space with a code layout (``nb201``, ``nats_sss``).
    fidelities : sequence of int, default (12, 200)
        Increasing training epochs. ``"epochs"``: the rungs themselves. ``"schedule"``:
        exactly two, hpbandster's ``min_budget`` and ``max_budget`` (the rungs are
        :func:`schedule_budgets` between them).
    eta : int, default 3
        Successive-halving reduction factor.
    budget_use : {"epochs", "schedule"}, default "epochs"
        What a budget means (module notes): the query's training epochs, or only the
        bracket schedule (the NAS-Bench-201 script's protocol).
    max_iterations : int, optional
        Hyperband iterations after which the searcher is :attr:`done` (the script's
        ``n_iters``); default no limit (the budget ends the run).
    min_bandwidth, num_samples, random_fraction, bandwidth_factor, top_n_percent
        hpbandster's BOHB model settings (defaults: the NB201 script's argument defaults
        0.3, 64, 0.33, 3, and hpbandster's 15; its shell script passes 4 and 0 for
        ``num_samples`` and ``random_fraction``, see :data:`BOHB_PRESETS`).
    seed : int, SeedSequence or Generator, default 0
        The configuration space's and hpbandster's seeds are drawn from this generator at
        every (re)start.

    Attributes
    ----------
    budget : float
        hpbandster's budget of the last :meth:`ask`.
    fidelity : int
        ``"epochs"``: epochs of the query of the last :meth:`ask` (read by the runner).
        ``"schedule"``: unused (the smallest fidelity).
    budgets : ndarray
        The successive-halving rungs.
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
        budget_use: str = "epochs",
        max_iterations: int | None = None,
        min_bandwidth: float = 0.3,
        num_samples: int = 64,
        random_fraction: float = 0.33,
        bandwidth_factor: float = 3.0,
        top_n_percent: int = 15,
        seed: SeedLike = 0,
    ) -> None:
        if not bohb_available():
            raise OutOfDomainError(_INSTALL)
        if budget_use not in BUDGET_USES:
            raise OutOfDomainError(
                f"unknown budget_use {budget_use!r}; allowed: {allowed(BUDGET_USES)}"
            )
        fids = [int(f) for f in fidelities]
        if not fids or any(f < 1 for f in fids) or fids != sorted(set(fids)):
            raise OutOfDomainError(
                f"fidelities must be increasing positive epoch counts, got {list(fidelities)}"
            )
        if eta < 2:
            raise OutOfDomainError(f"eta must be >= 2, got {eta}")
        if budget_use == "schedule" and len(fids) != 2:
            raise OutOfDomainError(
                "budget_use='schedule' takes fidelities=(min_budget, max_budget), two values; "
                f"got {list(fidelities)}"
            )
        if max_iterations is not None and max_iterations < 1:
            raise OutOfDomainError(f"max_iterations must be >= 1, got {max_iterations}")
        self.layout = code_layout(space.name)
        self.fidelities = fids
        self.eta = int(eta)
        self.budget_use = budget_use
        self.max_iterations = max_iterations
        self.budgets = (
            schedule_budgets(fids[0], fids[-1], self.eta)
            if budget_use == "schedule"
            else np.array(fids, dtype=np.float64)
        )
        # "schedule": every query is the evaluator's search fidelity, every one is paid
        self.multi_fidelity = budget_use == "epochs"
        self.repeats = "cache" if budget_use == "epochs" else "charge"
        self.settings = {
            "min_bandwidth": float(min_bandwidth),
            "num_samples": int(num_samples),
            "random_fraction": float(random_fraction),
            "bandwidth_factor": float(bandwidth_factor),
            "top_n_percent": int(top_n_percent),
        }
        self.fidelity = fids[0]
        self.budget = float(self.budgets[0])
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
            max_SH_iter=len(self.budgets),
            eta=self.eta,
            budgets=self.budgets.copy(),
            config_generator=self._generator,
        )
        self._iterations: list[Any] = []
        self._job: Any = None
        self._code = 0
        self._incumbent: Any = None
        self._incumbent_stale = False
        # The next run is drawn as soon as the last result is in (hpbandster's master does
        # the same with one worker), so that `done` is known before the next ask.
        with self._own_numpy_global():
            self._pending = self._next_run()
        self.done = self._pending is None

    def _next_run(self) -> tuple[Any, dict[str, Any], float] | None:
        """hpbandster's next ``(config_id, config, budget)``; None once ``max_iterations``
        iterations are finished."""
        from hpbandster.optimizers.bohb import BOHB as Master

        for _ in range(10_000):
            current = self._iterations[-1] if self._iterations else None
            if current is None or current.is_finished:
                if self.max_iterations is not None and len(self._iterations) >= self.max_iterations:
                    return None
                current = Master.get_next_iteration(self._schedule, len(self._iterations))
                self._iterations.append(current)
            nxt = current.get_next_run()
            if nxt is not None:
                return nxt  # type: ignore[no-any-return]
            if not current.is_finished:
                raise OutOfDomainError("BOHBSearch.ask called before tell() of the last cell")
        raise OutOfDomainError("hpbandster scheduled no run in 10000 iterations")

    def _cell_of(self, config: Any) -> tuple[int, Any]:
        digits = np.array([int(config[f"d{i}"]) for i in range(self.layout.digits)])
        code = int(digits @ self.layout.place_values)
        return code, self.layout.from_code(code)

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Any:
        """The next cell BOHB schedules; its budget is in :attr:`budget` (and, with
        ``budget_use="epochs"``, its training epochs in :attr:`fidelity`)."""
        from hpbandster.core.dispatcher import Job

        if self._job is not None:
            raise OutOfDomainError("BOHBSearch.ask called before tell() of the last cell")
        if self._pending is None:
            raise OutOfDomainError(
                f"BOHBSearch is done: its {self.max_iterations} iterations are finished"
            )
        config_id, config, budget = self._pending
        self._pending = None
        self._job = Job(config_id, config=config, budget=budget)
        self._code, cell = self._cell_of(config)
        self.budget = float(budget)
        if self.budget_use == "epochs":
            self.fidelity = round(float(budget))
        return cell

    def tell(self, cell: Any, value: float) -> None:
        """Report the value of the last asked cell (hpbandster minimises ``-value``)."""
        if self._job is None or self.layout.to_code(cell) != self._code:
            raise OutOfDomainError("BOHBSearch.tell expects the cell of the last ask()")
        job, self._job = self._job, None
        job.result = {"loss": -float(value), "info": {}}
        with self._own_numpy_global():
            self._iterations[job.id[0]].register_result(job)  # as hpbandster's master
            self._generator.new_result(job)
            self._pending = self._next_run()
        if float(job.kwargs["budget"]) == float(self.budgets[-1]):
            self._incumbent_stale = True
        self.done = self._pending is None

    def incumbent(self) -> Any | None:
        """``"schedule"``: hpbandster's incumbent, else None (the runner's best value seen).

        The incumbent is ``Result.get_incumbent_id()`` over this run's iterations: the
        configuration with the lowest loss (highest value) among those with a result at the
        largest budget (ties: the earliest configuration id). None until one has such a
        result (then the runner falls back to the best value seen).
        """
        if self.budget_use != "schedule":
            return None
        if self._incumbent_stale:
            from hpbandster.core.result import Result

            config = {"max_budget": float(self.budgets[-1]), "time_ref": 0.0}
            result = Result([it.data for it in self._iterations], config)
            best = result.get_incumbent_id()
            self._incumbent = None if best is None else self._cell_of(result[best].config)[1]
            self._incumbent_stale = False
        return self._incumbent

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "budget_use": self.budget_use,
                "fidelities": list(self.fidelities), "eta": self.eta,
                "budgets": [round(float(b), 4) for b in self.budgets],
                "max_iterations": self.max_iterations, **self.settings}
