"""Registry of searchers by name (``nbt search --algo NAME``).

``gbdt-nas`` and ``renas`` are the papers' predictor-guided searches by name (their predictor
and encoding fixed). ``optuna``, ``robot`` and ``bohb`` are listed always; they need the optional ``search`` extra to run
(``optuna``; ``hpbandster`` and ``ConfigSpace``).

Examples
--------
>>> sorted(REGISTRY)
['area', 'bananas', 'bohb', 'gbdt-nas', 'gcn', 'ls', 'naswot', 'optuna', 'predictor', 'rea', 'reinforce', 'renas', 'robot', 'rs']
"""

from __future__ import annotations

from nasbench_tools.search.base import Searcher
from nasbench_tools.search.bohb import BOHBSearch
from nasbench_tools.search.evolution import RegularizedEvolution
from nasbench_tools.search.local_search import LocalSearch
from nasbench_tools.search.naswot import AREA, NASWOTSearch
from nasbench_tools.search.optuna_wrap import OptunaSearch
from nasbench_tools.search.predictor_guided import (
    BANANASSearch,
    GBDTNASSearch,
    NeuralPredictorSearch,
    PredictorGuidedSearch,
    ReNASSearch,
)
from nasbench_tools.search.random_search import RandomSearch
from nasbench_tools.search.reinforce import Reinforce
from nasbench_tools.search.robot import RoBoT

__all__ = ["REGISTRY"]

#: Algorithm name -> searcher class.
REGISTRY: dict[str, type[Searcher]] = {
    cls.algo: cls
    for cls in (
        RandomSearch,
        RegularizedEvolution,
        LocalSearch,
        Reinforce,
        PredictorGuidedSearch,
        GBDTNASSearch,
        ReNASSearch,
        BANANASSearch,
        NeuralPredictorSearch,
        NASWOTSearch,
        AREA,
        OptunaSearch,
        BOHBSearch,
        RoBoT,
    )
}
