"""GBDT-NAS-S3: prune a search space with first- and second-order SHAP values.

Luo et al. (GBDT-NAS, arXiv:2007.04785, ``imagenet/search_gbdtnas3s.py`` of
renqianluo/GBDT-NAS) fit the GBDT predictor on binary architecture features, compute
TreeSHAP values and remove what hurts:

* **first order**: for every binary feature ``f``, the mean SHAP value of ``f`` over the
  architectures where ``f = 1``; features sorted ascending, the ones with a negative mean
  are pruned, at most ``prune_num`` (20 in their scripts) per round;
* **second order**: for every pair ``(f, g)``, the mean SHAP *interaction* value over the
  architectures in each of the groups ``(1, 1)``, ``(1, 0)``, ``(0, 1)``, ``(0, 0)``; pairs
  sorted by their smallest group mean, negative groups pruned.

What this module does (and where it differs):

* :func:`first_order_effects` / :func:`second_order_effects` compute those group means with
  XGBoost's native TreeSHAP (:meth:`GBDTPredictor.shap_values` and
  :meth:`~predictors.gbdt.GBDTPredictor.shap_interactions`; the interaction effect of a pair
  is ``phi[f, g] + phi[g, f]``). Features are compared with ``value`` (default 1: "this op
  is on this edge", "this connection exists").
* :func:`prune_rules` turns them into *forbidden patterns*: a pattern is a tuple of
  ``(feature_index, value)`` conditions and a cell is excluded when it matches **all** of
  them. First order gives one-condition patterns ``((f, 1),)``: "never put this op on this
  edge". Second order gives two-condition patterns ``((f, 1), (g, 1))``: "not both"; the
  original code instead pruned each of ``f`` and ``g`` on its own, which we find too
  aggressive for cells with few choices (pass ``pairs="separate"`` for that behaviour).
  A rule needs ``min_support`` training cells in its group.
* :class:`PrunedSpace` wraps the base space: ``contains(cell)`` checks the patterns on
  ``space.encode([cell], encoding)``; ``sample(rng, n)`` is rejection sampling from the
  base space's own sampler; ``mutate`` and ``neighbours`` stay inside. Everything else
  (``parse``, ``encode``, ``name`` ...) is the base space's.

How features map to the cell (see :func:`feature_names`):

* NB201, ``adjacency_onehot`` (30): index ``5 * e + o`` = edge ``e`` (string order
  ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``) carries ``OPS[o]`` (none, skip_connect,
  nor_conv_1x1, nor_conv_3x3, avg_pool_3x3). Forbidding ``(5e + o, 1)`` removes op ``o``
  from edge ``e``.
* NB101, ``gbdt`` (45): for each column ``j = 1..6`` of the end-padded 7x7 matrix, ``j``
  features "edge ``i -> j``" (``i = 0..j-1``), then four "vertex ``j`` is conv1x1 /
  conv3x3 / maxpool3x3 / output". Forbidding ``(f, 1)`` on an edge feature removes that
  connection; on an op feature that op at that vertex.

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.spaces import get_space
>>> space = get_space("nb201")
>>> pruned = PrunedSpace(space, [((5 * 0 + 0, 1),)], encoding="adjacency_onehot")
>>> cells = pruned.sample(np.random.default_rng(0), 50)
>>> all(c.ops[0] != "none" for c in cells)
True
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = [
    "FirstOrderEffect",
    "PrunedSpace",
    "SecondOrderEffect",
    "feature_names",
    "first_order_effects",
    "gbdt_nas_s3",
    "prune_rules",
    "second_order_effects",
]

log = logging.getLogger(__name__)

Pattern = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class FirstOrderEffect:
    """Mean SHAP value of ``feature`` over the cells where it equals ``value``."""

    feature: int
    value: float
    mean_shap: float
    support: int


@dataclass(frozen=True)
class SecondOrderEffect:
    """Mean SHAP interaction of two features over the cells in one value group."""

    feature_a: int
    value_a: float
    feature_b: int
    value_b: float
    mean_interaction: float
    support: int


def first_order_effects(
    model: Any, X: np.ndarray, *, values: Sequence[float] = (1.0,)
) -> list[FirstOrderEffect]:
    """Mean first-order SHAP value of each feature where it takes each of ``values``.

    Parameters
    ----------
    model : GBDTPredictor
        Fitted; must offer ``shap_values(X)``.
    X : ndarray, shape (n, d)
        Cells to explain (usually the training cells).
    values : sequence of float
        Feature values that define the groups (1 = "present" for binary encodings).

    Returns
    -------
    list of FirstOrderEffect
        Sorted by ``mean_shap`` ascending (most harmful first); groups without cells omitted.

    Examples
    --------
    >>> import numpy as np
    >>> from predictors.gbdt import GBDTPredictor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(300, 4)).astype(float)
    >>> m = GBDTPredictor(random_state=0).fit(X, -2 * X[:, 2] + X[:, 0])
    >>> first_order_effects(m, X)[0].feature
    2
    """
    X = np.asarray(X, dtype=np.float64)
    phi = model.shap_values(X)
    out = []
    for f in range(X.shape[1]):
        for v in values:
            mask = X[:, f] == v
            if mask.any():
                out.append(
                    FirstOrderEffect(f, float(v), float(phi[mask, f].mean()), int(mask.sum()))
                )
    return sorted(out, key=lambda e: (e.mean_shap, e.feature))


def second_order_effects(
    model: Any,
    X: np.ndarray,
    *,
    groups: Sequence[tuple[float, float]] = ((1.0, 1.0),),
    features: Sequence[int] | None = None,
) -> list[SecondOrderEffect]:
    """Mean SHAP interaction ``phi[f, g] + phi[g, f]`` of feature pairs, per value group.

    Parameters
    ----------
    model : GBDTPredictor
        Fitted; must offer ``shap_interactions(X)``.
    X : ndarray, shape (n, d)
    groups : sequence of (value_a, value_b)
        Which groups to report; GBDT-NAS looks at all four of ``{0, 1}^2``.
    features : sequence of int, optional
        Restrict to pairs among these features (all by default).

    Returns
    -------
    list of SecondOrderEffect
        Sorted by ``mean_interaction`` ascending.

    Examples
    --------
    >>> import numpy as np
    >>> from predictors.gbdt import GBDTPredictor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(400, 3)).astype(float)
    >>> m = GBDTPredictor(random_state=0).fit(X, -3 * X[:, 0] * X[:, 1])
    >>> e = second_order_effects(m, X)[0]
    >>> (e.feature_a, e.feature_b)
    (0, 1)
    """
    X = np.asarray(X, dtype=np.float64)
    inter = model.shap_interactions(X)
    feats = list(range(X.shape[1])) if features is None else [int(f) for f in features]
    out = []
    for ia, a in enumerate(feats):
        for b in feats[ia + 1 :]:
            pair = inter[:, a, b] + inter[:, b, a]
            for va, vb in groups:
                mask = (X[:, a] == va) & (X[:, b] == vb)
                if mask.any():
                    out.append(
                        SecondOrderEffect(
                            a, float(va), b, float(vb), float(pair[mask].mean()), int(mask.sum())
                        )
                    )
    return sorted(out, key=lambda e: (e.mean_interaction, e.feature_a, e.feature_b))


def prune_rules(
    model: Any,
    X: np.ndarray,
    *,
    order: int = 1,
    max_rules: int = 20,
    threshold: float = 0.0,
    min_support: int = 5,
    pairs: str = "joint",
) -> list[Pattern]:
    """Forbidden patterns from the SHAP effects (GBDT-NAS-S3's pruning rule).

    Parameters
    ----------
    model : GBDTPredictor
        Fitted on ``X``.
    X : ndarray, shape (n, d)
        Binary (0/1) features of the training cells.
    order : {1, 2}
        First-order effects only, or second-order interactions.
    max_rules : int
        At most this many new patterns (GBDT-NAS ``prune_num`` = 20).
    threshold : float
        Prune effects below this mean (0: every harmful one, as GBDT-NAS).
    min_support : int
        Cells needed in a group for its mean to count.
    pairs : {"joint", "separate"}
        Second order: forbid the combination (default) or each feature on its own
        (the original code's behaviour).

    Returns
    -------
    list of tuple of (int, float)
        Patterns for :class:`PrunedSpace`, most harmful first.

    Examples
    --------
    >>> import numpy as np
    >>> from predictors.gbdt import GBDTPredictor
    >>> rng = np.random.default_rng(1)
    >>> X = rng.integers(0, 2, size=(300, 5)).astype(float)
    >>> m = GBDTPredictor(random_state=0).fit(X, X[:, 0] - 3 * X[:, 4])
    >>> prune_rules(m, X, max_rules=1)
    [((4, 1.0),)]
    """
    if order not in (1, 2):
        raise OutOfDomainError(f"order must be 1 or 2; got {order!r}")
    if pairs not in ("joint", "separate"):
        raise OutOfDomainError(f"pairs must be 'joint' or 'separate'; got {pairs!r}")
    rules: list[Pattern] = []
    if order == 1:
        for e in first_order_effects(model, X):
            if len(rules) >= max_rules or e.mean_shap >= threshold:
                break
            if e.support >= min_support:
                rules.append(((e.feature, e.value),))
        return rules
    for p in second_order_effects(model, X):
        if len(rules) >= max_rules or p.mean_interaction >= threshold:
            break
        if p.support < min_support:
            continue
        new: list[Pattern] = (
            [((p.feature_a, p.value_a), (p.feature_b, p.value_b))]
            if pairs == "joint"
            else [((p.feature_a, p.value_a),), ((p.feature_b, p.value_b),)]
        )
        rules.extend(r for r in new if r not in rules)
    return rules[:max_rules]


class PrunedSpace:
    """A search space minus the cells that match a forbidden pattern.

    Parameters
    ----------
    space : SearchSpace
        The base space (``sample``, ``encode``, ``mutate``, ``neighbours``).
    forbidden : iterable of patterns
        Each pattern is a tuple of ``(feature_index, value)`` conditions on
        ``space.encode(cells, encoding)`` flattened; a cell is excluded when it meets all the
        conditions of one pattern. A bare ``(feature_index, value)`` pair is accepted as a
        one-condition pattern.
    encoding : str
        Encoding kind the feature indices refer to.
    max_tries : int
        Rejection-sampling attempts per requested cell before giving up.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.spaces import get_space
    >>> s = PrunedSpace(get_space("nb201"), [(3, 1)], encoding="adjacency_onehot")
    >>> s.forbidden
    (((3, 1.0),),)
    >>> s.contains(s.sample(np.random.default_rng(1)))
    True
    """

    def __init__(
        self,
        space: Any,
        forbidden: Iterable[Any],
        *,
        encoding: str = "gbdt",
        max_tries: int = 1000,
    ) -> None:
        if encoding not in getattr(space, "encodings", (encoding,)):
            raise OutOfDomainError(
                f"unknown encoding {encoding!r} for space {getattr(space, 'name', space)!r}; "
                f"allowed: {allowed(space.encodings)}"
            )
        self.space = space
        self.encoding = encoding
        self.max_tries = int(max_tries)
        patterns: list[Pattern] = []
        for item in forbidden:
            items = tuple(item)
            if len(items) == 2 and not isinstance(items[0], (tuple, list)):
                items = (items,)
            pattern = tuple((int(f), float(v)) for f, v in items)
            if not pattern:
                raise OutOfDomainError(
                    "a forbidden pattern needs at least one (feature, value) condition"
                )
            patterns.append(pattern)
        self.forbidden: tuple[Pattern, ...] = tuple(patterns)

    def __getattr__(self, name: str) -> Any:
        if name == "space":  # not yet set (e.g. during unpickling)
            raise AttributeError(name)
        return getattr(self.space, name)

    def __repr__(self) -> str:
        return f"<PrunedSpace of {getattr(self.space, 'name', self.space)}: {len(self.forbidden)} patterns>"

    def contains_many(self, cells: Sequence[Any]) -> np.ndarray:
        """Boolean mask: which ``cells`` match no forbidden pattern.

        Examples
        --------
        >>> from nasbench_tools.spaces import get_space
        >>> sp = get_space("nb201")
        >>> PrunedSpace(sp, [(0, 1)], encoding="adjacency_onehot").contains_many(sp.all_cells()[:2]).tolist()
        [False, False]
        """
        cells = list(cells)
        if not cells:
            return np.zeros(0, dtype=bool)
        X = np.asarray(self.space.encode(cells, self.encoding), dtype=np.float64).reshape(
            len(cells), -1
        )
        ok = np.ones(len(cells), dtype=bool)
        for pattern in self.forbidden:
            for f, _ in pattern:
                if not 0 <= f < X.shape[1]:
                    raise OutOfDomainError(
                        f"feature index {f} out of range for encoding {self.encoding!r}; allowed: 0 .. {X.shape[1] - 1}"
                    )
            hit = np.ones(len(cells), dtype=bool)
            for f, v in pattern:
                hit &= X[:, f] == v
            ok &= ~hit
        return ok

    def contains(self, cell: Any) -> bool:
        """Whether ``cell`` matches no forbidden pattern."""
        return bool(self.contains_many([cell])[0])

    def filter(self, cells: Sequence[Any]) -> list[Any]:
        """The allowed ``cells``, in order."""
        cells = list(cells)
        return [c for c, keep in zip(cells, self.contains_many(cells)) if keep]

    def sample(self, rng: np.random.Generator, n: int | None = None) -> Any:
        """Uniform sample of the pruned space by rejection from ``space.sample``.

        Raises
        ------
        OutOfDomainError
            When ``max_tries`` draws per cell found too few allowed cells (the patterns
            exclude (almost) everything).
        """
        want = 1 if n is None else int(n)
        got: list[Any] = []
        tries = 0
        while len(got) < want:
            batch = max(16, 2 * (want - len(got)))
            got.extend(self.filter(self.space.sample(rng, batch)))
            tries += batch
            if len(got) < want and tries > self.max_tries * want:
                raise OutOfDomainError(
                    f"rejection sampling found {len(got)} allowed cells in {tries} draws; the "
                    f"{len(self.forbidden)} forbidden patterns exclude (almost) every cell"
                )
        return got[0] if n is None else got[:want]

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        """The base space's mutation, repeated until the result is allowed."""
        for _ in range(self.max_tries):
            child = self.space.mutate(cell, rng)
            if self.contains(child):
                return child
        raise OutOfDomainError(f"no allowed mutation of {cell!r} found in {self.max_tries} tries")

    def neighbours(self, cell: Any) -> list[Any]:
        """The base space's neighbours that are allowed."""
        return self.filter(self.space.neighbours(cell))


def feature_names(space: str, encoding: str) -> list[str]:
    """Readable names of the features of an encoding, for reports of pruning rules.

    Examples
    --------
    >>> feature_names("nb201", "adjacency_onehot")[17]
    'edge 3<-0 = nor_conv_1x1'
    >>> feature_names("nb101", "gbdt")[:2]
    ['edge 0->1', 'vertex 1 = conv1x1']
    """
    key = (space, encoding)
    if key == ("nb201", "adjacency_onehot"):
        from nasbench_tools.spaces.nb201.constants import EDGES, OPS

        return [f"edge {d}<-{s} = {op}" for s, d in EDGES for op in OPS]
    if key == ("nb101", "gbdt"):
        names: list[str] = []
        for j in range(1, 7):
            names += [f"edge {i}->{j}" for i in range(j)]
            names += [f"vertex {j} = {k}" for k in ("conv1x1", "conv3x3", "maxpool3x3", "output")]
        return names
    raise OutOfDomainError(
        f"no feature names for {key!r}; allowed: ('nb201', 'adjacency_onehot') or ('nb101', 'gbdt')"
    )


def gbdt_nas_s3(
    space: Any,
    cells: Sequence[Any],
    targets: np.ndarray,
    *,
    encoding: str = "gbdt",
    order: int = 1,
    max_rules: int = 20,
    min_support: int = 5,
    pairs: str = "joint",
    random_state: int | None = None,
    model: Any = None,
) -> PrunedSpace:
    """Fit GBDT on ``cells`` and return the space pruned by its SHAP values.

    Parameters
    ----------
    space : SearchSpace
    cells, targets
        Evaluated cells and their accuracies.
    encoding : str
        Binary encoding the rules refer to (NB101: ``"gbdt"``; NB201:
        ``"adjacency_onehot"``).
    order, max_rules, min_support, pairs
        See :func:`prune_rules`.
    random_state : int, optional
        Seed of the GBDT model.
    model : GBDTPredictor, optional
        Unfitted model to use (default GBDT-NAS settings).

    Returns
    -------
    PrunedSpace

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> cells = sp.sample(np.random.default_rng(0), 300)
    >>> y = np.array([-5.0 * (c.ops[5] == "none") + (c.ops[0] == "nor_conv_3x3") for c in cells])
    >>> pruned = gbdt_nas_s3(sp, cells, y, encoding="adjacency_onehot", max_rules=1, random_state=0)
    >>> feature_names("nb201", "adjacency_onehot")[pruned.forbidden[0][0][0]]
    'edge 3<-2 = none'
    """
    from predictors.gbdt import GBDTPredictor

    X = np.asarray(space.encode(list(cells), encoding), dtype=np.float64).reshape(len(cells), -1)
    est = model if model is not None else GBDTPredictor(random_state=random_state)
    est.fit(X, np.asarray(targets, dtype=np.float64))
    rules = prune_rules(
        est, X, order=order, max_rules=max_rules, min_support=min_support, pairs=pairs
    )
    log.info("GBDT-NAS-S3 (order %d) forbids %d patterns", order, len(rules))
    return PrunedSpace(space, rules, encoding=encoding)
