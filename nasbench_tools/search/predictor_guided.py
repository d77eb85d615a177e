"""Predictor-guided search: fit on what was evaluated, evaluate the predicted top k.

One loop covers the ReNAS search (a ranking predictor) and GBDT-NAS (a gradient-boosted
tree regressor): evaluate ``n_init`` random cells; then, round after round, fit a fresh
predictor on every evaluated cell, predict a candidate pool (the whole space, or
``pool_size`` random cells), drop the cells already evaluated and ask for the ``top_k``
best predicted ones.

GBDT-NAS's search-space pruning (GBDT-NAS-3S) is offered as ``prune_features``: after each
fit, the binary encoding features whose presence lowers the mean prediction over the pool
the most are found, and candidates that carry any of the ``prune_features`` worst ones
are left out of that round. The original ranks features with SHAP values of the tree
model; this module uses them when the predictor offers ``shap_values`` and otherwise a
model-agnostic contrast of mean predictions (for any predictor with ``predict``).
``predictors.gbdt.GBDTPredictor`` offers ``shap_values``.

Where candidates come from and how they are scored are registries, so that one loop also
serves BANANAS and the neural predictor of Wen et al.:

* :data:`CANDIDATES`: ``"pool"`` (the whole space or ``pool_size`` random cells, above)
  or ``"mutation"`` (BANANAS: ``n_candidates`` mutations of the ``n_mutate`` best
  evaluated cells, each 1 to ``max_mutations`` mutation steps away, topped up with
  random cells when fewer than ``top_k`` new ones come out);
* :data:`ACQUISITIONS`: ``"mean"`` (the prediction) or ``"its"`` (independent Thompson
  sampling, BANANAS: one draw per candidate from a normal distribution with the mean and
  the standard deviation of the ensemble members' predictions; needs a predictor with
  ``predict_ensemble(X) -> (members, n)``, e.g. ``predictors.bananas.BANANASPredictor``).

:class:`BANANASSearch` (``algo="bananas"``) and :class:`NeuralPredictorSearch`
(``algo="gcn"``) are this loop with the papers' choices.

Examples
--------
>>> from sklearn.linear_model import Ridge
>>> from nasbench_tools.spaces import get_space
>>> s = PredictorGuidedSearch(get_space("nb201"), Ridge(), encoding="adjacency_onehot",
...                           n_init=5, top_k=3, pool_size=200, seed=0)
>>> for i in range(6):
...     c = s.ask(); s.tell(c, float(c.ops.count("nor_conv_3x3")))
>>> len(s.history)
6
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.search.base import (
    PoolProposals,
    Proposals,
    Searcher,
    SeedLike,
    proposals_for,
)

__all__ = [
    "ACQUISITIONS",
    "CANDIDATES",
    "BANANASSearch",
    "GBDTNASSearch",
    "NeuralPredictorSearch",
    "PredictorGuidedSearch",
    "ReNASSearch",
    "its_acquisition",
    "mean_acquisition",
]


def _fresh(predictor: Any) -> Any:
    """A new unfitted predictor: call a factory, or clone an estimator."""
    if callable(predictor) and not hasattr(predictor, "fit"):
        return predictor()
    try:
        from sklearn.base import clone

        return clone(predictor)
    except (TypeError, ImportError):
        return copy.deepcopy(predictor)


def mean_acquisition(model: Any, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The predicted value of each candidate (larger = better).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> m = LinearRegression().fit(np.eye(2), [0.0, 1.0])
    >>> mean_acquisition(m, np.eye(2), np.random.default_rng(0)).round(3).tolist()
    [0.0, 1.0]
    """
    return np.asarray(model.predict(x), dtype=np.float64)


def its_acquisition(model: Any, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Independent Thompson sampling over an ensemble (BANANAS).

    One draw per candidate from ``N(mean, std)`` of the members' predictions
    (``model.predict_ensemble(x)``, shape ``(members, n)``; ``std`` with ``ddof=1``).

    Examples
    --------
    >>> class Two:
    ...     def predict_ensemble(self, x):
    ...         return np.stack([x[:, 0], x[:, 0] + 2.0])
    >>> v = its_acquisition(Two(), np.array([[0.0], [10.0]]), np.random.default_rng(0))
    >>> bool(v[1] > v[0])
    True
    """
    fn = getattr(model, "predict_ensemble", None)
    if not callable(fn):
        raise OutOfDomainError(
            f"acquisition 'its' needs a predictor with predict_ensemble (an ensemble, e.g. "
            f"BANANASPredictor); {type(model).__name__} has none"
        )
    preds = np.asarray(fn(x), dtype=np.float64)
    mean = preds.mean(axis=0)
    std = preds.std(axis=0, ddof=1) if preds.shape[0] > 1 else np.zeros_like(mean)
    return np.asarray(rng.normal(mean, std), dtype=np.float64)


#: Acquisition name -> ``fn(model, X, rng) -> scores`` (larger = evaluate first).
ACQUISITIONS: dict[str, Callable[[Any, np.ndarray, np.random.Generator], np.ndarray]] = {
    "mean": mean_acquisition,
    "its": its_acquisition,
}


class PredictorGuidedSearch(Searcher):
    """Iterated fit / rank / evaluate-top-k search.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    predictor : estimator or callable
        A scikit-learn style regressor or ranker (``fit(X, y)``, ``predict(X)``, e.g.
        ``predictors.gbdt.GBDTPredictor()`` or ``predictors.renas.ReNASPredictor()``); it is
        cloned for every fit. A zero-argument factory also works. When it has a
        ``random_state`` parameter, each fit gets one drawn from the searcher's generator.
    encoding : str, default "gbdt"
        Encoding kind passed to ``space.encode``.
    n_init : int, default 20
        Random cells evaluated before the first fit.
    top_k : int, default 10
        Cells evaluated per round.
    pool_size : int or None, default None
        ``None`` ranks the whole space (``space.all_cells()``, or every cell of a
        :class:`~nasbench_tools.search.base.PoolProposals` given as ``proposals``); an int
        ranks that many random cells per round.
    prune_features : int, default 0
        GBDT-NAS-3S style pruning: features excluded per round (0 = off).
    shap_sample : int, default 256
        Pool cells on which SHAP values are computed for the pruning.
    candidates : {"pool", "mutation"}, default "pool"
        Key of :data:`CANDIDATES`.
    acquisition : {"mean", "its"}, default "mean"
        Key of :data:`ACQUISITIONS`.
    n_candidates : int, default 100
        Candidates per round of ``candidates="mutation"``.
    n_mutate : int, default 2
        Best evaluated cells mutated (``candidates="mutation"``).
    max_mutations : int, default 1
        Mutation steps per candidate are drawn from ``1 .. max_mutations``.
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel for random cells.
    """

    algo = "predictor"

    def __init__(
        self,
        space: Any,
        predictor: Any,
        *,
        encoding: str = "gbdt",
        n_init: int = 20,
        top_k: int = 10,
        pool_size: int | None = None,
        prune_features: int = 0,
        shap_sample: int = 256,
        candidates: str = "pool",
        acquisition: str = "mean",
        n_candidates: int = 100,
        n_mutate: int = 2,
        max_mutations: int = 1,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        if candidates not in CANDIDATES:
            raise OutOfDomainError(
                f"unknown candidates {candidates!r}; allowed: {allowed(CANDIDATES)}"
            )
        if acquisition not in ACQUISITIONS:
            raise OutOfDomainError(
                f"unknown acquisition {acquisition!r}; allowed: {allowed(ACQUISITIONS)}"
            )
        if min(n_candidates, n_mutate, max_mutations) < 1 or (
            candidates == "mutation" and n_candidates < top_k
        ):
            raise OutOfDomainError(
                f"need n_candidates >= top_k, n_mutate >= 1, max_mutations >= 1; got "
                f"{n_candidates}, {n_mutate}, {max_mutations} (top_k {top_k})"
            )
        if n_init < 1 or top_k < 1 or prune_features < 0:
            raise OutOfDomainError(
                f"need n_init >= 1, top_k >= 1, prune_features >= 0; got {n_init}, {top_k}, "
                f"{prune_features}"
            )
        if pool_size is not None and pool_size < top_k:
            raise OutOfDomainError(f"pool_size ({pool_size}) must be >= top_k ({top_k}) or None")
        self.predictor = predictor
        self.encoding = encoding
        self.n_init = int(n_init)
        self.top_k = int(top_k)
        self.pool_size = pool_size
        self.prune_features = int(prune_features)
        self.shap_sample = int(shap_sample)
        self.candidates = candidates
        self.acquisition = acquisition
        self.n_candidates = int(n_candidates)
        self.n_mutate = int(n_mutate)
        self.max_mutations = int(max_mutations)
        self.proposals = proposals if proposals is not None else proposals_for(space)
        self._space_cache: tuple[list[Any], np.ndarray] | None = None
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        self.history: list[tuple[Any, float]] = []
        self._seen: set[Any] = set()
        self._queue: list[Any] = []
        self.rounds = 0

    # ------------------------------------------------------------------ helpers
    def _whole_space(self) -> tuple[list[Any], np.ndarray]:
        if self._space_cache is None:
            pool = self.proposals.cells if isinstance(self.proposals, PoolProposals) else None
            cells = list(self.space.all_cells()) if pool is None else list(pool)
            self._space_cache = (cells, np.asarray(self.space.encode(cells, self.encoding)))
        return self._space_cache

    def _pool(self) -> tuple[list[Any], np.ndarray]:
        if self.pool_size is None:
            cells, x = self._whole_space()
            keep = np.fromiter((c not in self._seen for c in cells), dtype=bool, count=len(cells))
            idx = np.flatnonzero(keep)
            return [cells[i] for i in idx], x[idx]
        cells = []
        picked: set[Any] = set()
        tries = 0
        while len(cells) < self.pool_size and tries < 20 * self.pool_size:
            tries += 1
            c = self.proposals.sample(self.rng)
            if c not in self._seen and c not in picked:
                picked.add(c)
                cells.append(c)
        x = np.asarray(self.space.encode(cells, self.encoding)) if cells else np.empty((0, 0))
        return cells, x

    def _mutation_pool(self) -> tuple[list[Any], np.ndarray]:
        """BANANAS candidates: mutations of the best evaluated cells, new cells only."""
        best = [c for c, _ in sorted(self.history, key=lambda cv: -cv[1])[: self.n_mutate]]
        cells: list[Any] = []
        picked: set[Any] = set()
        for i in range(20 * self.n_candidates):
            if len(cells) >= self.n_candidates:
                break
            c = best[i % len(best)]
            for _ in range(int(self.rng.integers(1, self.max_mutations + 1))):
                c = self.proposals.mutate(c, self.rng)
            if c not in self._seen and c not in picked:
                picked.add(c)
                cells.append(c)
        tries = 0
        while len(cells) < self.top_k and tries < 100 * self.top_k:
            tries += 1
            c = self.proposals.sample(self.rng)
            if c not in self._seen and c not in picked:
                picked.add(c)
                cells.append(c)
        x = np.asarray(self.space.encode(cells, self.encoding)) if cells else np.empty((0, 0))
        return cells, x

    def _fit(self) -> Any:
        model = _fresh(self.predictor)
        params = model.get_params() if hasattr(model, "get_params") else {}
        if "random_state" in params:
            model.set_params(random_state=int(self.rng.integers(2**31 - 1)))
        cells = [c for c, _ in self.history]
        x = np.asarray(self.space.encode(cells, self.encoding), dtype=np.float64)
        y = np.array([v for _, v in self.history], dtype=np.float64)
        model.fit(x.reshape(len(cells), -1), y)
        return model

    def _pruned(self, model: Any, x: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Mask of the candidates kept after pruning the most harmful features.

        With a ``shap_values`` method (``predictors.gbdt.GBDTPredictor``) a feature's effect
        is its mean SHAP value over the candidates that carry it, as in GBDT-NAS-3S;
        otherwise the difference of mean predictions with and without it.
        """
        flat = x.reshape(len(x), -1)
        binary = np.all((flat == 0) | (flat == 1), axis=0)
        shap = None
        if hasattr(model, "shap_values"):
            # SHAP values of a random subset of the pool (they are costly on whole spaces)
            sub = np.arange(len(flat))
            if len(sub) > self.shap_sample:
                sub = np.sort(self.rng.choice(len(flat), self.shap_sample, replace=False))
            flat, pred = flat[sub], pred[sub]
            shap = np.asarray(model.shap_values(flat), dtype=np.float64)
        effects = np.full(flat.shape[1], np.inf)
        for j in np.flatnonzero(binary):
            on = flat[:, j] == 1
            if 0 < on.sum() < len(on):
                if shap is not None:
                    effects[j] = shap[on, j].mean()
                else:
                    effects[j] = pred[on].mean() - pred[~on].mean()
        worst = np.argsort(effects, kind="stable")[: self.prune_features]
        worst = worst[np.isfinite(effects[worst]) & (effects[worst] < 0)]
        full = x.reshape(len(x), -1)
        keep = ~np.any(full[:, worst] == 1, axis=1) if len(worst) else np.ones(len(x), bool)
        return keep if keep.sum() >= self.top_k else np.ones(len(x), bool)

    def _next_round(self) -> None:
        if len(self.history) < self.n_init:
            need = self.n_init - len(self.history)
            picked: list[Any] = []
            tries = 0
            while len(picked) < need and tries < 100 * need:
                tries += 1
                c = self.proposals.sample(self.rng)
                if c not in self._seen and c not in picked:
                    picked.append(c)
            self._queue = picked
        else:
            cells, x = CANDIDATES[self.candidates](self)
            if not cells:
                self.done = True
                return
            model = self._fit()
            flat = x.reshape(len(cells), -1)
            pred = np.asarray(ACQUISITIONS[self.acquisition](model, flat, self.rng), np.float64)
            keep = self._pruned(model, x, pred) if self.prune_features else np.ones(len(cells), bool)
            idx = np.flatnonzero(keep)
            order = idx[np.argsort(-pred[idx], kind="stable")[: self.top_k]]
            self._queue = [cells[i] for i in order]
            self.rounds += 1
        if not self._queue:
            self.done = True

    # ------------------------------------------------------------------ ask/tell
    def ask(self) -> Any:
        """The next cell of the current batch; a new batch is planned when it runs out."""
        while not self._queue and not self.done:
            self._next_round()
        if not self._queue:
            # Nothing left to propose: repeat the best cell (served from the runner's cache).
            self.done = True
            return max(self.history, key=lambda cv: cv[1])[0]
        return self._queue[0]

    def tell(self, cell: Any, value: float) -> None:
        """Record an evaluated cell."""
        if self._queue and self._queue[0] == cell:
            self._queue.pop(0)
        if cell not in self._seen:
            self._seen.add(cell)
            self.history.append((cell, float(value)))

    def describe(self) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "predictor": type(self.predictor).__name__
            if hasattr(self.predictor, "fit")
            else getattr(self.predictor, "__name__", "factory"),
            "encoding": self.encoding,
            "n_init": self.n_init,
            "top_k": self.top_k,
            "pool_size": self.pool_size,
            "prune_features": self.prune_features,
            "candidates": self.candidates,
            "acquisition": self.acquisition,
            "n_candidates": self.n_candidates,
            "n_mutate": self.n_mutate,
            "max_mutations": self.max_mutations,
        }


#: Candidate source name -> ``fn(searcher) -> (cells, encoded X)``.
CANDIDATES: dict[str, Callable[[PredictorGuidedSearch], tuple[list[Any], np.ndarray]]] = {
    "pool": PredictorGuidedSearch._pool,
    "mutation": PredictorGuidedSearch._mutation_pool,
}


class BANANASSearch(PredictorGuidedSearch):
    """BANANAS (White et al., AAAI 2021): path-encoding MLP ensemble, ITS, mutation.

    Each round fits a fresh ensemble (default ``predictors.bananas.BANANASPredictor()``)
    on every evaluated cell, makes ``n_candidates`` (100) candidates by mutating the
    ``n_mutate`` best cells, and evaluates the ``top_k`` (10) with the largest independent
    Thompson samples. ``n_init`` (10) random cells come first. Defaults follow the
    authors' code (naszilla/bananas: ``num_init=10``, ``k=10``, ``num_ensemble=5``,
    ``explore_type="its"``, ``acq_opt_type="mutation"``, 100 candidates) with NASLib's
    ``num_arches_to_mutate=2``, ``max_mutations=1``.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> from predictors.bananas import BANANASPredictor
    >>> s = BANANASSearch(get_space("nb201"), BANANASPredictor(n_ensemble=2, epochs=5),
    ...                   n_init=4, top_k=2, n_candidates=10, seed=0)
    >>> for i in range(6):
    ...     c = s.ask(); s.tell(c, float(c.ops.count("nor_conv_3x3")))
    >>> len(s.history), s.rounds
    (6, 1)
    """

    algo = "bananas"

    def __init__(
        self,
        space: Any,
        predictor: Any = None,
        *,
        encoding: str = "path",
        n_init: int = 10,
        top_k: int = 10,
        n_candidates: int = 100,
        n_mutate: int = 2,
        max_mutations: int = 1,
        acquisition: str = "its",
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        if predictor is None:
            from predictors.bananas import BANANASPredictor

            predictor = BANANASPredictor()
        super().__init__(
            space,
            predictor,
            encoding=encoding,
            n_init=n_init,
            top_k=top_k,
            candidates="mutation",
            acquisition=acquisition,
            n_candidates=n_candidates,
            n_mutate=n_mutate,
            max_mutations=max_mutations,
            seed=seed,
            proposals=proposals,
        )


class _PaperPredictorSearch(PredictorGuidedSearch):
    """A predictor-guided search named after its paper: default predictor and protocol fixed.

    Subclasses set :attr:`DEFAULT_PREDICTOR` (module and class, imported only when no
    predictor is given) and :attr:`DEFAULTS` (keyword defaults of the paper's protocol);
    every keyword of :class:`PredictorGuidedSearch` can still be passed.
    """

    DEFAULT_PREDICTOR: ClassVar[tuple[str, str]]
    DEFAULTS: ClassVar[dict[str, Any]]

    def __init__(self, space: Any, predictor: Any = None, **kwargs: Any) -> None:
        if predictor is None:
            module, name = self.DEFAULT_PREDICTOR
            predictor = getattr(importlib.import_module(module), name)()
        super().__init__(space, predictor, **{**self.DEFAULTS, **kwargs})


class GBDTNASSearch(_PaperPredictorSearch):
    """GBDT-NAS (Luo et al., 2020): a gradient-boosted tree ranks the space, the best are evaluated.

    ``n_init`` random cells are evaluated, the GBDT (default
    ``predictors.gbdt.GBDTPredictor()``: XGBoost with GBDT-NAS's settings) is fitted on the
    ``gbdt`` encoding (the paper's one-hot of operations and adjacency), every candidate
    (the whole space, or ``pool_size`` random cells) is predicted and the ``top_k`` best are
    evaluated; further rounds refit on everything evaluated. The defaults are the paper's
    NAS-Bench-101 protocol (``n_init=1000`` random cells, then the ``top_k=1000`` best
    predicted: 2,000 queries); ``prune_features > 0`` is GBDT-NAS-3S (SHAP-based
    search-space pruning). The same as ``PredictorGuidedSearch(space, GBDTPredictor(),
    encoding="gbdt", n_init=1000, top_k=1000, ...)``.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> s = GBDTNASSearch(get_space("nb201"), n_init=5, top_k=2, pool_size=50, seed=0)
    >>> for _ in range(7):
    ...     c = s.ask(); s.tell(c, float(c.ops.count("nor_conv_3x3")))
    >>> s.algo, s.encoding, s.rounds
    ('gbdt-nas', 'gbdt', 1)
    """

    algo = "gbdt-nas"
    DEFAULT_PREDICTOR = ("predictors.gbdt", "GBDTPredictor")
    DEFAULTS: ClassVar[dict[str, Any]] = {"encoding": "gbdt", "n_init": 1000, "top_k": 1000}


class ReNASSearch(_PaperPredictorSearch):
    """ReNAS (Xu et al., CVPR 2021): a pairwise-ranking CNN ranks the space, the best are evaluated.

    ``n_init`` random cells are evaluated, the ReNAS predictor (default
    ``predictors.renas.ReNASPredictor()``: the relativistic ranking CNN on the ``renas``
    feature tensor) is fitted on them, every candidate is ranked and the ``top_k`` best are
    evaluated; further rounds refit on everything evaluated. The defaults are the paper's
    NAS-Bench-101 search (``n_init=424`` training cells, 0.1 % of the space, then the
    ``top_k=10`` best ranked). The same as ``PredictorGuidedSearch(space, ReNASPredictor(),
    encoding="renas", n_init=424, top_k=10, ...)``.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> paper = ReNASSearch(get_space("nb101"))  # the paper's protocol: 424 + 10 queries
    >>> paper.encoding, paper.n_init, paper.top_k, type(paper.predictor).__name__
    ('renas', 424, 10, 'ReNASPredictor')
    """

    algo = "renas"
    DEFAULT_PREDICTOR = ("predictors.renas", "ReNASPredictor")
    DEFAULTS: ClassVar[dict[str, Any]] = {"encoding": "renas", "n_init": 424, "top_k": 10}


#: Encoding the GCN reads in each space (``predictors.gcn.LAYOUTS``).
GCN_ENCODINGS: dict[str, str] = {"nb201": "gbdt", "nb101": "adjacency_onehot"}


class NeuralPredictorSearch(PredictorGuidedSearch):
    """Wen et al.'s Neural Predictor search: train on N random cells, evaluate the top K.

    ``n_init`` = N random cells are evaluated, a GCN (default
    ``predictors.gcn.GCNPredictor()``) is fitted on them, the candidate pool (the whole
    space, or ``pool_size`` random cells) is predicted and the ``top_k`` = K best predicted
    cells are evaluated. With a budget of N + K queries this is the paper's protocol; a
    larger budget repeats the fit on everything evaluated and takes the next K.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> from predictors.gcn import GCNPredictor
    >>> s = NeuralPredictorSearch(get_space("nb201"), GCNPredictor(epochs=3), n_init=5,
    ...                           top_k=2, pool_size=50, seed=0)
    >>> s.encoding, [s.tell(c := s.ask(), 1.0) for _ in range(7)][-1], s.rounds
    ('gbdt', None, 1)
    """

    algo = "gcn"

    def __init__(
        self,
        space: Any,
        predictor: Any = None,
        *,
        encoding: str | None = None,
        n_init: int = 100,
        top_k: int = 10,
        pool_size: int | None = None,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        if predictor is None:
            from predictors.gcn import GCNPredictor

            predictor = GCNPredictor()
        if encoding is None:
            encoding = GCN_ENCODINGS.get(getattr(space, "name", ""), "adjacency_onehot")
        super().__init__(
            space,
            predictor,
            encoding=encoding,
            n_init=n_init,
            top_k=top_k,
            pool_size=pool_size,
            seed=seed,
            proposals=proposals,
        )


PredictorFactory = Callable[[], Any]
