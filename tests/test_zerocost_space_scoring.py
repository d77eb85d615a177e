"""``predictors.zerocost.score_space``: the whole-space scoring API behind ``nbt zc-score``.

The ``params`` proxy builds each network and counts its parameters (no data), so these tests
exercise the whole path (selection, class order, cache, indices, store) in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.store import load_benchmark
from predictors.zerocost import PROXIES, SpaceScores, get_proxy, score_space
from predictors.zerocost.cache import ScoreCache
from predictors.zerocost.space_scoring import ReferenceTaus, reference_taus, select_cells


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``params`` network actually scored (cell strings), in order."""
    calls: list[str] = []
    cls = PROXIES["params"]
    original = cls.score_cell

    def score_cell(self: object, cell: Cell) -> float:
        calls.append(cell.to_string())
        return original(self, cell)  # type: ignore[arg-type]

    monkeypatch.setattr(cls, "score_cell", score_cell)
    return calls


def test_store_resume_and_value_object(tmp_path: Path, counted: list[str]) -> None:
    out = tmp_path / "zc.h5"
    first = score_space("nb201", "params", cells=3, store=out)
    assert isinstance(first, SpaceScores) and first.store == out
    assert first.cache == tmp_path / "zc.h5.cache.h5" and first.cache.exists()
    assert first.computed == first.classes_total == len(counted)

    counted.clear()
    res = score_space("nb201", "params", cells=6, store=out, flush_every=1)
    assert res.cached_before == first.classes_total  # cells=3 is a prefix of cells=6
    assert res.computed == len(counted) == res.classes_total - first.classes_total
    assert res.complete and res.cells_total == 6 and res.cells_scored == 6
    assert res.compute_total["cells_computed"] == res.classes_total

    bench = load_benchmark(out)
    assert tuple(bench.keys) == res.keys and bench.indices.tolist() == res.indices.tolist()
    assert np.array_equal(bench.feature("zc_params"), res.scores)
    assert bench.info().provenance["zero_cost"] == res.provenance()
    assert bench.info().command.startswith("predictors.zerocost.score_space('nb201', 'params'")
    # keys and indices describe the same cells: the six of the seeded order
    chosen = {c.to_string() for c in select_cells(get_space("nb201"), 6, 0)}
    assert set(res.keys) == chosen
    assert [Cell.from_string(k).code for k in res.keys] == res.indices.tolist()
    # the value is the proxy's own, per cell
    proxy = get_proxy("params")
    assert res.scores.tolist() == [proxy.score_cell(Cell.from_string(k)) for k in res.keys]

    counted.clear()
    again = score_space("nb201", "params", cells=6, store=out)
    assert counted == [] and again.computed == 0 and np.array_equal(again.scores, res.scores)


def test_resume_false_refuses_a_cache_that_holds_the_scores(tmp_path: Path) -> None:
    cache = tmp_path / "c.h5"
    score_space("nb201", "params", cells=2, cache=cache)
    with pytest.raises(OutOfDomainError, match="resume=True"):
        score_space("nb201", "params", cells=2, cache=cache, resume=False)
    # another space or other proxy settings are not "these scores"
    assert score_space("nats_sss", "params", cells=1, cache=cache, resume=False).complete
    assert score_space("nb201", get_proxy("params", random_state=5), cells=1, cache=cache,
                       resume=False).complete
    assert len(ScoreCache(cache).read(get_proxy("params").metadata)) == 3


def test_stop_early_gives_a_partial_result_with_nan(tmp_path: Path) -> None:
    polls: list[int] = []

    def after_one() -> bool:
        polls.append(1)
        return len(polls) > 1  # polled before the first score, then after each

    res = score_space("nb201", "params", cells=5, should_stop=after_one, seed=2)
    assert res.cache is None and res.store is None
    assert not res.complete and res.computed == 1 and res.classes_scored == 1
    assert res.cells_scored == int(np.isfinite(res.scores).sum()) >= 1
    assert int(np.isnan(res.scores).sum()) == 5 - res.cells_scored
    assert res.compute_total["cells_computed"] == 1  # no cache: this call's counters


def test_indices_of_each_space(tmp_path: Path) -> None:
    n = get_space("nb201").size()
    index_csv = tmp_path / "index.csv"
    rows = [f"{i},{Cell.from_code(n - 1 - i).to_string()}" for i in range(n)]
    index_csv.write_text("nb201_index,arch_str\n" + "\n".join(rows) + "\n")
    res = score_space("nb201", "params", cells=3, index_from=index_csv)
    assert [n - 1 - Cell.from_string(k).code for k in res.keys] == res.indices.tolist()
    assert res.index_note.startswith("official NB201 index")
    assert res.indices.tolist() == sorted(res.indices.tolist())

    sss = score_space("nats_sss", "params", cells=2)
    assert sss.index_note == "official NATS-SSS index"
    nb101 = score_space("nb101", "params", cells=2)
    assert nb101.index_note == "position in nb101 SPACE.all_cells()"
    with pytest.raises(OutOfDomainError, match="nb201 only"):
        score_space("nb101", "params", cells=2, index_from=index_csv)


def test_reference_taus_are_typed_and_recorded(tmp_path: Path) -> None:
    res = score_space("nb201", "params", cells=4)
    ref = tmp_path / "ref.csv"
    order = np.argsort(res.scores, kind="stable")
    acc = np.empty(4)
    acc[order] = np.arange(4)
    ref.write_text("arch_str,acc,theirs\n" + "".join(
        f"{k},{a},{-a}\n" for k, a in zip(res.keys, acc)))
    with_ref = score_space("nb201", "params", cells=4, reference=ref, reference_targets=["acc"],
                           reference_compare="theirs")
    taus = with_ref.reference
    assert isinstance(taus, ReferenceTaus) and taus.file == str(ref)
    assert taus["acc"].n_cells == 4 and taus["acc"].compare is not None
    assert taus["acc"].compare.tau_compare == -1.0
    assert with_ref.provenance()["reference"] == taus.to_dict()
    assert taus.to_dict()["acc"]["compare"]["column"] == "theirs"
    with pytest.raises(OutOfDomainError, match="targets are"):
        taus["nope"]
    with pytest.raises(FormatError, match="no columns"):
        reference_taus(res.keys, res.scores, ref, ["missing"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cells": 0}, "cells must be"),
        ({"cells": "6"}, "cells must be"),
        ({"cells": True}, "cells must be"),
        ({"cells": 10**6}, "exceeds"),
        ({"workers": 0}, "workers must be"),
        ({"flush_every": 0}, "flush_every must be"),
        ({"threads": 0}, "threads must be"),
        ({"threads": 2, "workers": 2}, "workers=1"),
        ({"proxy": "nope"}, "unknown zero-cost proxy"),
        ({"space": "nb999"}, "nb999"),
    ],
)
def test_bad_arguments_name_what_is_wrong(tmp_path: Path, kwargs: dict[str, object],
                                          match: str) -> None:
    call: dict[str, object] = {"space": "nb201", "proxy": "params", "cells": 1,
                               "store": tmp_path / "x.h5"}
    with pytest.raises(OutOfDomainError, match=match):
        score_space(**{**call, **kwargs})  # type: ignore[arg-type]
    assert not (tmp_path / "x.h5").exists()


def test_threads_are_restored() -> None:
    import torch

    before = torch.get_num_threads()
    assert score_space("nb201", "params", cells=1, threads=2).complete
    assert torch.get_num_threads() == before
