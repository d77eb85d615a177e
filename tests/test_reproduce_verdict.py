"""Verdicts, published records and the relative improvement over random search."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.reproduce import Ours, Published, compare, find, load_published
from nasbench_tools.reproduce.published import read_published_csv
from nasbench_tools.search.metrics import (
    add_relative_improvement,
    baseline_labels,
    relative_improvement,
)

HEADER = "paper,table,space,setting,dataset,metric,mean,std,runs,unit,confirmed,source\n"


@pytest.mark.parametrize(
    ("ours", "pub", "verdict"),
    [
        (93.70 + 0.36, 93.70, "reproduced"),  # exactly one std away
        (93.70 - 0.37, 93.70, "differs"),
        (93.70, 93.70, "reproduced"),
    ],
)
def test_one_published_std_is_the_threshold(ours: float, pub: float, verdict: str) -> None:
    c = compare(Ours(ours, 0.5, 500), Published(pub, 0.36))
    assert c.verdict == verdict
    assert c.diff_in_std == pytest.approx((ours - pub) / 0.36)


def test_no_std_no_number_or_other_protocol_is_not_comparable() -> None:
    assert compare(Ours(1.0, 0.1, 3), Published(1.0, math.nan)).reason == "no published std"
    assert compare(Ours(1.0, 0.1, 3), None).verdict == "not comparable"
    c = compare(Ours(1.0, 0.1, 3), Published(1.0, 0.5), protocol_note="other fidelity")
    assert (c.verdict, c.reason, c.diff) == ("not comparable", "other fidelity", 0.0)
    assert compare(Ours(math.nan, math.nan, 0), Published(1.0, 0.5)).reason == "no result of ours"


def test_correlations_use_the_tolerance() -> None:
    assert compare(Ours(0.60, math.nan, 1), Published(0.574, math.nan),
                   metric="kendall_tau").verdict == "reproduced"
    assert compare(Ours(0.50, math.nan, 1), Published(0.574, math.nan),
                   metric="spearman_rho").verdict == "differs"
    assert compare(Ours(0.50, math.nan, 1), Published(0.574, math.nan), metric="kendall_tau",
                   tolerance=0.1).verdict == "reproduced"


def test_published_records_parse_and_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        HEADER + "P,t,nb201,rs,cifar10,test_accuracy,93.7,,,%,no,Table 1\n")
    recs = load_published(tmp_path)
    assert len(recs) == 1 and math.isnan(recs[0].std) and recs[0].runs == 0
    assert find(recs, "t", "rs", "cifar10", "test_accuracy") is recs[0]
    assert find(recs, "t", "rea", "cifar10", "test_accuracy") is None
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "P,t,nb201,rs,cifar10,test_accuracy,93.7,0.3,500,%,yes,\n")
    with pytest.raises(FormatError, match=r"bad.csv:2: column 'source' is empty"):
        read_published_csv(bad)
    bad.write_text(HEADER + "P,t,nb201,rs,cifar10,test_accuracy,abc,0.3,500,%,yes,s\n")
    with pytest.raises(FormatError, match=r"bad.csv:2: column 'mean' is not a number"):
        read_published_csv(bad)
    bad.write_text("paper,table\n")
    with pytest.raises(FormatError, match=r"bad.csv:1: header"):
        read_published_csv(bad)
    bad.write_text(HEADER + "P,t,nb201,rs,cifar10,test_accuracy,93.7,0.3,500,%,maybe,s\n")
    with pytest.raises(FormatError, match="yes or no"):
        read_published_csv(bad)
    bad.unlink()
    (tmp_path / "b.csv").write_text(
        HEADER + "P,t,nb201,rs,cifar10,test_accuracy,93.8,0.3,500,%,yes,x\n")
    with pytest.raises(OutOfDomainError, match="2 published records"):
        find(load_published(tmp_path), "t", "rs", "cifar10", "test_accuracy")


def test_missing_published_dir_gives_no_records(tmp_path: Path) -> None:
    assert load_published(tmp_path / "absent") == []


def test_relative_improvement_formula() -> None:
    assert relative_improvement(94.0, 94.0) == 0.0
    assert relative_improvement(94.0, 93.0) == pytest.approx(100 * 1.0 / 93.0)
    assert relative_improvement(92.0, 93.0) < 0
    with pytest.raises(OutOfDomainError):
        relative_improvement(1.0, 0.0)


def test_ri_columns_use_the_same_budget_and_seed_count() -> None:
    cfg = {"evaluator": {"p": 1}, "budget": {"queries": 100}, "base_seed": 0}
    configs = {
        "rs": {**cfg, "searcher": {"algo": "rs"}},
        "rea": {**cfg, "searcher": {"algo": "rea"}},
        "rea-long": {**cfg, "budget": {"queries": 200}, "searcher": {"algo": "rea"}},
    }
    base = baseline_labels(configs)
    assert base == {"rs": "rs", "rea": "rs"}
    frame = pd.DataFrame({"algo": ["rs"] * 3 + ["rea"] * 2, "run": [0, 1, 2, 0, 1],
                          "test_accuracy": [90.0, 92.0, 100.0, 93.0, 93.0]})
    summary = pd.DataFrame({"algo": ["rea"], "runs": [2], "test_accuracy_mean": [93.0]})
    out = add_relative_improvement(summary, frame, base)
    # the baseline's first 2 runs only (same seeds): mean 91
    assert out["ri_test_accuracy"].iloc[0] == pytest.approx(100 * 2.0 / 91.0)
