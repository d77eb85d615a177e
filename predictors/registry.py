"""Registry of named predictors: what ``--predictors`` and the harness accept.

Three kinds of entries (:class:`PredictorSpec.kind`):

``"trained"``
    A scikit-learn regressor built by ``factory(random_state=..., n_jobs=...)``, fitted on
    ``X`` of a feature set and asked to ``predict``.
``"column"``
    Training-free: rank by one extra column (e.g. the published ``naswot_score`` or the
    parameter count), read like a feature-set extra (:func:`predictors.features.resolve_extra`).
``"scorer"``
    Training-free: a zero-cost scorer of :mod:`predictors.zerocost` with ``score(cells)``;
    it builds and runs networks, so the harness scores a subset of cells.

Examples
--------
>>> spec = get_predictor("gbdt")
>>> spec.kind, type(spec.build(random_state=0)).__name__
('trained', 'GBDTPredictor')
>>> get_predictor("naswot").column
'naswot_score'
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.entries import add_entry, get_entry

__all__ = [
    "KINDS",
    "PREDICTORS",
    "PredictorSpec",
    "get_predictor",
    "register_predictor",
    "zerocost_scorers",
]

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("trained", "column", "scorer")


@dataclass(frozen=True)
class PredictorSpec:
    """One registered predictor.

    Parameters
    ----------
    name : str
    kind : {"trained", "column", "scorer"}
    factory : callable, optional
        ``factory(random_state=int, n_jobs=int) -> estimator`` (trained) or
        ``factory() -> scorer`` (scorer).
    default_features : str
        Feature set used when the requested ones do not fit this predictor.
    features : tuple of str or None
        Feature sets it accepts; ``None`` = any flat feature set (no tensor encodings).
    column : str or None
        Extra column ranked by a ``"column"`` entry.
    sign : float
        +1: larger column = better, -1: smaller = better (``"column"`` entries).
    description : str
    """

    name: str
    kind: str
    factory: Callable[..., Any] | None = None
    default_features: str = "onehot"
    features: tuple[str, ...] | None = None
    column: str | None = None
    sign: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise OutOfDomainError(
                f"unknown predictor kind {self.kind!r}; allowed: {allowed(KINDS)}"
            )
        if self.kind == "column" and not self.column:
            raise OutOfDomainError(f"column predictor {self.name!r} needs a column name")
        if self.kind != "column" and self.factory is None:
            raise OutOfDomainError(f"predictor {self.name!r} of kind {self.kind!r} needs a factory")

    def build(self, *, random_state: int | None = None, n_jobs: int = 1) -> Any:
        """A fresh estimator (trained) or scorer (scorer)."""
        if self.factory is None:
            raise OutOfDomainError(f"predictor {self.name!r} of kind {self.kind!r} builds nothing")
        if self.kind == "scorer":
            return self.factory()
        return self.factory(random_state=random_state, n_jobs=n_jobs)

    def accepts(self, feature_set: str) -> bool:
        """Whether this predictor can use ``feature_set``."""
        from predictors.features import get_feature_set

        if self.kind != "trained":
            return False
        if self.features is not None:
            return feature_set in self.features
        return get_feature_set(feature_set).encoding != "renas"


PREDICTORS: dict[str, PredictorSpec] = {}


def register_predictor(spec: PredictorSpec, *, replace: bool = False) -> PredictorSpec:
    """Add ``spec`` to :data:`PREDICTORS`.

    Examples
    --------
    >>> _ = register_predictor(PredictorSpec("doc-flops", "column", column="flops"), replace=True)
    >>> PREDICTORS["doc-flops"].kind
    'column'
    """
    return add_entry(PREDICTORS, spec.name, spec, what="predictor", replace=replace)


def get_predictor(name: str) -> PredictorSpec:
    """The registered predictor ``name`` (zero-cost scorers are added on first use).

    Examples
    --------
    >>> get_predictor("renas").features
    ('renas',)
    """
    if name not in PREDICTORS:
        zerocost_scorers()
    return get_entry(PREDICTORS, name, what="predictor")


_ZC_REGISTRY_NAMES = ("SCORERS", "REGISTRY", "PROXIES")


def zerocost_scorers() -> dict[str, Any]:
    """The zero-cost registry of :mod:`predictors.zerocost` (empty if it is not there).

    Each entry is registered here as ``"zc_<name>"`` of kind ``"scorer"``.

    Examples
    --------
    >>> isinstance(zerocost_scorers(), dict)
    True
    """
    try:
        module = importlib.import_module("predictors.zerocost")
    except ImportError as exc:
        log.debug("predictors.zerocost not importable: %s", exc)
        return {}
    for attr in _ZC_REGISTRY_NAMES:
        reg = getattr(module, attr, None)
        if isinstance(reg, dict) and reg:
            for key, value in reg.items():
                name = f"zc_{key}"
                if name not in PREDICTORS:
                    factory = (
                        value
                        if callable(value) and isinstance(value, type)
                        else (lambda v=value: v)
                    )
                    PREDICTORS[name] = PredictorSpec(
                        name, "scorer", factory=factory, description=f"zero-cost scorer {key!r}"
                    )
            return dict(reg)
    return {}


def _gbdt(**fixed: Any) -> Callable[..., Any]:
    def factory(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
        from predictors.gbdt import GBDTPredictor

        return GBDTPredictor(random_state=random_state, n_jobs=n_jobs, **fixed)

    return factory


def _renas(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.renas import ReNASPredictor

    return ReNASPredictor(random_state=random_state, n_threads=n_jobs)


def _rf(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.baselines import RandomForestPredictor

    return RandomForestPredictor(random_state=random_state, n_jobs=n_jobs)


def _mlp(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.baselines import MLPPredictor

    return MLPPredictor(random_state=random_state)


def _bananas(**fixed: Any) -> Callable[..., Any]:
    def factory(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
        from predictors.bananas import BANANASPredictor

        return BANANASPredictor(random_state=random_state, n_threads=n_jobs, **fixed)

    return factory


def _gcn(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.gcn import GCNPredictor

    return GCNPredictor(random_state=random_state, n_threads=n_jobs)


def _pretrained(**fixed: Any) -> Callable[..., Any]:
    def factory(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
        from predictors.pretrained import PretrainedMLPPredictor

        return PretrainedMLPPredictor(random_state=random_state, n_threads=n_jobs, **fixed)

    return factory


def _gbdt_fbnet(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.ensemble import AveragePredictor
    from predictors.gbdt import GBDTPredictor
    from predictors.pretrained import PretrainedMLPPredictor

    return AveragePredictor(
        estimators=(
            GBDTPredictor(n_jobs=n_jobs, **GBDT_TUNED),
            PretrainedMLPPredictor(
                pretrain="columns", stat_columns=(-3, -2, -1), stats_as_input=True,
                n_threads=n_jobs,
            ),
        ),
        random_state=random_state,
    )


#: BANANAS reads the path encoding (alone or followed by extra columns).
BANANAS_FEATURES: tuple[str, ...] = (
    "path",
    "path+zc",
    "path+zc_naswot+zc_params+flops",
    "path+jacov+params+flops",
)

#: Feature sets whose last three columns are free statistics (NASWOT, params, FLOPs): the
#: ones the ``fbnet*`` entries accept (they pretrain on / set aside those three columns).
FBNET_FEATURES: tuple[str, ...] = (
    "onehot+zc",
    "path+zc",
    "onehot+graph+zc",
    "onehot+zc_naswot+zc_params+flops",
    "path+zc_naswot+zc_params+flops",
    "onehot+graph+zc_naswot+zc_params+flops",
    "onehot+graph+zc_naswot+log_zc_synflow+zc_params+flops",
    "onehot+jacov+params+flops",
    "path+jacov+params+flops",
)

def _gbdt_rf(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.baselines import RandomForestPredictor
    from predictors.ensemble import AveragePredictor
    from predictors.gbdt import GBDTPredictor

    return AveragePredictor(
        estimators=(GBDTPredictor(n_jobs=n_jobs, **GBDT_TUNED),
                    RandomForestPredictor(n_jobs=n_jobs)),
        random_state=random_state,
    )


def _gbdt_vote(n_vote: int) -> Callable[..., Any]:
    def factory(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
        from predictors.ensemble import RankVotePredictor
        from predictors.gbdt import GBDTPredictor

        return RankVotePredictor(
            estimator=GBDTPredictor(n_jobs=n_jobs, **GBDT_TUNED),
            vote_columns=tuple(range(-n_vote, 0)),
            random_state=random_state,
        )

    return factory


#: Feature sets ending in exactly 3 / 4 / 5 zero-cost columns (proxies, params, FLOPs): the
#: ones ``gbdt_vote3`` / ``gbdt_vote`` / ``gbdt_vote5`` accept (they vote over those columns).
VOTE_FEATURES: dict[int, tuple[str, ...]] = {
    3: (
        "onehot+graph+zc",
        "onehot+graph+zc_naswot+zc_params+flops",
        "onehot+graph+log_zc_synflow+zc_params+flops",
        "onehot+graph+zc_jacob_cov+zc_params+flops",
    ),
    4: (
        "onehot+graph+zc_naswot+log_zc_synflow+zc_params+flops",
        "onehot+graph+zc_naswot+zc_jacob_cov+zc_params+flops",
        "onehot+graph+log_zc_synflow+zc_jacob_cov+zc_params+flops",
        "onehot+zc_naswot+log_zc_synflow+zc_params+flops",
    ),
    5: ("onehot+graph+zc_naswot+log_zc_synflow+zc_jacob_cov+zc_params+flops",),
}

def _robot(*, random_state: int | None = None, n_jobs: int = 1) -> Any:
    from predictors.robot import RoBoTPredictor

    return RoBoTPredictor(random_state=random_state)


def _combined(**kwargs: Any) -> Any:
    from predictors.robot import CombinedScorer

    return CombinedScorer(**kwargs)


#: Tuned XGBoost settings for small training sets (see docs/predictors.md for the search).
GBDT_TUNED: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.03,
}

for _spec in (
    PredictorSpec(
        "gbdt",
        "trained",
        _gbdt(),
        "gbdt",
        description="XGBoost with the GBDT-NAS settings (31 leaves, lr 0.05, 100 trees)",
    ),
    PredictorSpec(
        "gbdt_tuned",
        "trained",
        _gbdt(**GBDT_TUNED),
        "onehot+graph+zc",
        description="GBDT-NAS settings with 300 rounds at lr 0.03",
    ),
    PredictorSpec(
        "gbdt_rank",
        "trained",
        _gbdt(**GBDT_TUNED, objective="rank:pairwise"),
        "onehot+graph+zc",
        description="XGBoost with the pairwise ranking objective",
    ),
    PredictorSpec(
        "renas",
        "trained",
        _renas,
        "renas",
        features=("renas",),
        description="ReNAS CNN on the feature tensor, pairwise logistic loss",
    ),
    PredictorSpec(
        "bananas",
        "trained",
        _bananas(),
        "path",
        features=BANANAS_FEATURES,
        description="BANANAS: ensemble of 5 MLPs (10 x 20, MAE, lr 0.01, 150 epochs)",
    ),
    PredictorSpec(
        "bananas201",
        "trained",
        _bananas(width=200, learning_rate=1e-3, epochs=200),
        "path",
        features=BANANAS_FEATURES,
        description="BANANAS with the authors' NB201 settings (10 x 200, lr 1e-3, 200 epochs)",
    ),
    PredictorSpec(
        "gcn",
        "trained",
        _gcn,
        "gbdt",
        features=("gbdt", "onehot"),
        description="Wen et al.'s GCN on the op DAG (3 x 144, 300 epochs, lr 1e-4)",
    ),
    PredictorSpec(
        "fbnet",
        "trained",
        _pretrained(pretrain="columns", stat_columns=(-3, -2, -1)),
        "onehot+zc",
        features=FBNET_FEATURES,
        description="MLP pretrained on the last 3 columns (free statistics) of every pool "
        "cell, fine-tuned on the rest (FBNetV3)",
    ),
    PredictorSpec(
        "fbnet_nopre",
        "trained",
        _pretrained(stat_columns=(-3, -2, -1)),
        "onehot+zc",
        features=FBNET_FEATURES,
        description="the fbnet network without pretraining (same inputs, trained from scratch)",
    ),
    PredictorSpec(
        "fbnet_in",
        "trained",
        _pretrained(pretrain="columns", stat_columns=(-3, -2, -1), stats_as_input=True),
        "onehot+zc",
        features=FBNET_FEATURES,
        description="fbnet with the statistics also as inputs",
    ),
    PredictorSpec(
        "fbnet_in_nopre",
        "trained",
        _pretrained(stat_columns=(-3, -2, -1), stats_as_input=True),
        "onehot+zc",
        features=FBNET_FEATURES,
        description="fbnet_in without pretraining",
    ),
    PredictorSpec(
        "gbdt_fbnet",
        "trained",
        _gbdt_fbnet,
        "onehot+graph+zc",
        features=FBNET_FEATURES,
        description="average of gbdt_tuned and fbnet_in (standardised predictions)",
    ),
    PredictorSpec(
        "gbdt_rf",
        "trained",
        _gbdt_rf,
        "onehot+graph+zc",
        description="average of gbdt_tuned and rf (standardised predictions, equal weights)",
    ),
    PredictorSpec(
        "gbdt_vote",
        "trained",
        _gbdt_vote(4),
        VOTE_FEATURES[4][0],
        features=VOTE_FEATURES[4],
        description="gbdt_tuned plus one column: the mean training-set rank of the last 4 "
        "(zero-cost) columns",
    ),
    PredictorSpec(
        "gbdt_vote3",
        "trained",
        _gbdt_vote(3),
        VOTE_FEATURES[3][0],
        features=VOTE_FEATURES[3],
        description="gbdt_vote over the last 3 columns",
    ),
    PredictorSpec(
        "gbdt_vote5",
        "trained",
        _gbdt_vote(5),
        VOTE_FEATURES[5][0],
        features=VOTE_FEATURES[5],
        description="gbdt_vote over the last 5 columns",
    ),
    PredictorSpec("rf", "trained", _rf, "onehot", description="random forest, 300 trees"),
    PredictorSpec("mlp", "trained", _mlp, "onehot", description="MLP 64-64, standardised inputs"),
    PredictorSpec(
        "naswot",
        "column",
        column="naswot_score",
        description="published NASWOT (jacov) score, training-free",
    ),
    PredictorSpec(
        "params", "column", column="params", description="parameter count, training-free"
    ),
    PredictorSpec("flops", "column", column="flops", description="FLOPs, training-free"),
    PredictorSpec(
        "robot",
        "trained",
        _robot,
        "zc",
        description="RoBoT: min-max-normalised metric columns, weights in [-1, 1] fitted by "
        "GP-BO (optuna) for Kendall tau on the training cells",
    ),
    PredictorSpec(
        "zc_robot",
        "scorer",
        _combined,
        description="RoBoT's sum of the normalised zero-cost proxies (given weights, default 1)",
    ),
):
    register_predictor(_spec)
