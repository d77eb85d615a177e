"""Discrete searchers (ask/tell), evaluators and the run protocol.

Examples
--------
>>> from nasbench_tools.search import Budget, RegularizedEvolution, TrainerEvaluator, run_search
>>> from nasbench_tools.spaces import get_space
>>> ev = TrainerEvaluator(lambda c, s: {"val_accuracy": float(c.ops.count("nor_conv_3x3"))})
>>> res = run_search(RegularizedEvolution(get_space("nb201")), ev, Budget(queries=30), seed=0)
>>> res.queries
30
"""

from __future__ import annotations

from nasbench_tools.search.base import Searcher, as_generator, proposals_for
from nasbench_tools.search.cost_models import (
    COST_MODELS,
    ConstantCost,
    CostModel,
    FlopsCost,
    RecordedCost,
    get_cost_model,
)
from nasbench_tools.search.evaluators import (
    PROTOCOLS,
    Evaluation,
    Evaluator,
    TabularEvaluator,
    TrainerEvaluator,
)
from nasbench_tools.search.evolution import RegularizedEvolution
from nasbench_tools.search.local_search import LocalSearch
from nasbench_tools.search.naswot import AREA, ArrayScorer, NASWOTSearch
from nasbench_tools.search.optuna_wrap import OptunaSearch
from nasbench_tools.search.predictor_guided import (
    BANANASSearch,
    GBDTNASSearch,
    NeuralPredictorSearch,
    PredictorGuidedSearch,
    ReNASSearch,
)
from nasbench_tools.search.random_search import RandomSearch
from nasbench_tools.search.registry import REGISTRY
from nasbench_tools.search.reinforce import Reinforce
from nasbench_tools.search.results import ResultsDB, RunResult, summary_table, write_outputs
from nasbench_tools.search.runner import Budget, SearcherSpec, run_many, run_search

__all__ = [
    "AREA",
    "COST_MODELS",
    "PROTOCOLS",
    "REGISTRY",
    "ArrayScorer",
    "BANANASSearch",
    "Budget",
    "ConstantCost",
    "CostModel",
    "Evaluation",
    "Evaluator",
    "FlopsCost",
    "GBDTNASSearch",
    "LocalSearch",
    "NASWOTSearch",
    "NeuralPredictorSearch",
    "OptunaSearch",
    "PredictorGuidedSearch",
    "RandomSearch",
    "ReNASSearch",
    "RecordedCost",
    "RegularizedEvolution",
    "Reinforce",
    "ResultsDB",
    "RunResult",
    "Searcher",
    "SearcherSpec",
    "TabularEvaluator",
    "TrainerEvaluator",
    "as_generator",
    "get_cost_model",
    "proposals_for",
    "run_many",
    "run_search",
    "summary_table",
    "write_outputs",
]
