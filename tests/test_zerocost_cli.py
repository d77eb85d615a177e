"""``nbt zc-score``: a handful of NB201 cells, resume, partial runs, store output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nb201 import Cell
from nasbench_tools.store import load_benchmark
from predictors.zerocost import NASWOT, get_proxy
from predictors.zerocost.cache import ScoreCache

BASE = ["zc-score", "nb201", "--proxy", "naswot", "--batch-size", "16", "-q"]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every NASWOT network actually scored (cell strings), in order."""
    calls: list[str] = []
    original = NASWOT.score_cell

    def score_cell(self: NASWOT, cell: Any) -> float:
        calls.append(cell.to_string())
        return original(self, cell)

    monkeypatch.setattr(NASWOT, "score_cell", score_cell)
    return calls


def _meta() -> dict[str, Any]:
    return get_proxy("naswot", batch_size=16).metadata


def test_score_resume_and_store(tmp_path: Path, counted: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    out, cache = tmp_path / "zc.h5", tmp_path / "cache.h5"
    args = [*BASE, "-o", str(out), "--cache", str(cache)]

    assert main([*args, "--cells", "3"]) == 0
    assert "3/3 cells scored" in capsys.readouterr().out
    first = list(counted)
    assert len(first) == 3  # three random cells, no isomorphic pair among them
    assert len(ScoreCache(cache).read(_meta())) == 3

    counted.clear()
    assert main([*args, "--cells", "6", "--flush-every", "2"]) == 0
    assert "complete" in capsys.readouterr().out
    assert len(counted) == 3 and not set(counted) & set(first)  # the first three came from the cache
    assert ScoreCache(cache).timing(_meta(), "nb201")["cells_computed"] == 6

    bench = load_benchmark(out)
    assert len(bench) == 6 and bench.datasets == ("cifar10",) and bench.metrics("cifar10") == ()
    zc = bench.feature("zc_naswot")
    assert zc.shape == (6,) and np.isfinite(zc).all()
    cells = [Cell.from_string(k) for k in bench.keys]
    assert bench.indices.tolist() == [c.code for c in cells]  # no --index-from: codes
    assert bench.indices.tolist() == sorted(bench.indices.tolist())
    # The same values as the library on the same cells.
    import torch

    proxy = get_proxy("naswot", batch_size=16)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CLI scored with 1 thread; float order depends on it
    try:
        assert zc[0] == pytest.approx(proxy.score_cell(cells[0]), rel=1e-12)
    finally:
        torch.set_num_threads(threads)
    info = bench.info().provenance["zero_cost"]
    assert info["complete"] and info["cells_scored"] == 6 and "Cell.code" in info["index"]
    assert info["data"] == "digits" and info["this_run"]["computed"] == 3
    assert bench.info().command.startswith("nbt zc-score nb201 -o ")

    counted.clear()  # a third run computes nothing
    assert main([*args, "--cells", "6"]) == 0
    assert counted == []


def test_partial_run_official_index_and_reference(tmp_path: Path, counted: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # An index table with reversed codes (official index = 15624 - code).
    space = get_space("nb201")
    n = space.size()
    index_csv = tmp_path / "index.csv"
    rows = [f"{i},{Cell.from_code(n - 1 - i).to_string()}" for i in range(n)]
    index_csv.write_text("nb201_index,arch_str\n" + "\n".join(rows) + "\n")
    out = tmp_path / "zc.h5"
    args = [*BASE, "-o", str(out), "--index-from", str(index_csv)]
    assert main([*args, "--cells", "2"]) == 0
    assert len(counted) == 2
    # A time limit of 0 computes nothing more: the two cached scores, NaN for the rest.
    assert main([*args, "--cells", "4", "--time-limit", "0"]) == 0
    assert "PARTIAL" in capsys.readouterr().out
    assert len(counted) == 2
    bench = load_benchmark(out)
    zc = bench.feature("zc_naswot", dataset="cifar10")
    assert len(bench) == 4 and int(np.isfinite(zc).sum()) == 2 and int(np.isnan(zc).sum()) == 2
    assert [n - 1 - Cell.from_string(k).code for k in bench.keys] == bench.indices.tolist()
    assert not bench.info().provenance["zero_cost"]["complete"]

    # Resume the partial run to completion and record taus against a reference table.
    keys = bench.keys
    ref = tmp_path / "ref.csv"
    ref.write_text("arch_str,acc,theirs\n" + "".join(
        f"{k},{i},{-i}\n" for i, k in enumerate(keys)))
    assert main([*args, "--cells", "4", "--reference", str(ref), "--reference-targets", "acc",
                 "--reference-compare", "theirs"]) == 0
    assert len(counted) == 4
    prov = load_benchmark(out).info().provenance["zero_cost"]
    assert prov["complete"] and prov["cells_scored"] == 4
    assert prov["reference"]["acc"]["n_cells"] == 4
    assert prov["reference"]["acc"]["compare"]["tau_compare"] == -1.0
    json.dumps(prov)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(OutOfDomainError, match="--cells"):
        from nasbench_tools.cli.cmd_zc_score import parse_cells

        parse_cells("0")
    assert main([*BASE, "--cells", "lots", "-o", str(tmp_path / "x.h5")]) != 0
    assert main([*BASE, "--proxy", "nope", "--cells", "1", "-o", str(tmp_path / "x.h5")]) != 0
    for bad in (["--threads", "0"], ["--threads", "2", "--workers", "2"]):
        assert main([*BASE, *bad, "--cells", "1", "-o", str(tmp_path / "x.h5")]) != 0
    assert not (tmp_path / "x.h5").exists()


def test_threads_option_scores_and_restores_the_thread_count(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    out = tmp_path / "t.h5"
    assert main([*BASE, "--cells", "2", "--threads", "2", "-q", "-o", str(out)]) == 0
    assert torch.get_num_threads() == before
    assert np.isfinite(load_benchmark(out).feature("zc_naswot")).sum() >= 1


def test_cells_from_scores_exactly_the_listed_cells(tmp_path: Path) -> None:
    space = get_space("nb201")
    cells = [space.all_cells()[i] for i in (7, 300, 12000)]
    listing = tmp_path / "pool.csv"
    listing.write_text("x,arch_str\n" + "".join(f"{i},{c.to_string()}\n" for i, c in
                                                enumerate(cells + cells[:1])))
    out = tmp_path / "pool.h5"
    assert main(["zc-score", "nb201", "--proxy", "params", "--cells-from", str(listing),
                 "-o", str(out), "-q"]) == 0
    bench = load_benchmark(out)
    assert sorted(bench.keys) == sorted(c.to_string() for c in cells)
    assert np.isfinite(bench.feature("zc_params")).all()
    plain = tmp_path / "pool.txt"
    plain.write_text("# two cells\n" + cells[1].to_string() + "\n" + cells[2].to_string() + "\n")
    out2 = tmp_path / "pool2.h5"
    assert main(["zc-score", "nb201", "--proxy", "flops", "--cells-from", str(plain),
                 "-o", str(out2), "-q"]) == 0
    assert sorted(load_benchmark(out2).keys) == sorted(c.to_string() for c in cells[1:])
