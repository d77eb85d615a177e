"""NB101 analytic costs against the official parameter counts and NASLib's FLOPs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces.nb101 import SPACE, Cell, network_costs
from nasbench_tools.spaces.nb101.costs import vertex_channels


def _rows(shared: Path, name: str) -> list[dict[str, str]]:
    with open(shared / "nb101" / name, newline="") as fh:
        return list(csv.DictReader(fh))


def test_params_equal_official_trainable_parameters(shared_data: Path) -> None:
    rows = _rows(shared_data, "nb101_official_records_20arch.csv")
    seen = set()
    for r in rows:
        cell = Cell(json.loads(r["matrix"]), json.loads(r["ops"]))
        assert cell.num_params("cifar10") == int(r["trainable_parameters"]), cell
        seen.add(int(r["trainable_parameters"]))
    assert len(seen) > 10  # the records are not all the same network


def test_params_and_flops_match_naslib_columns(shared_data: Path) -> None:
    rows = _rows(shared_data, "nb101_zc_proxies_sample500.csv")
    cells = [Cell(json.loads(r["matrix"]), json.loads(r["ops"])) for r in rows]
    nv, bits, code = SPACE.packed(cells)
    params, naslib = network_costs(nv, bits, code, "cifar10", convention="naslib")
    _, macs = network_costs(nv, bits, code, "cifar10")
    want_flops = np.array([float(r["flops"]) for r in rows])
    want_params = np.array([float(r["params"]) for r in rows])
    np.testing.assert_allclose(naslib, want_flops, rtol=0, atol=1e-6)
    np.testing.assert_allclose(params / 1e6, want_params, rtol=0, atol=1e-6)
    # multiply-adds alone are smaller: NASLib also counts element-wise work
    assert (macs < want_flops).all()
    assert cells[0].flops(convention="naslib") == pytest.approx(want_flops[0], abs=1e-6)


def test_input_output_only_cell() -> None:
    c = Cell.from_string("|01.00")
    stem = 3 * 3 * 3 * 128 + 2 * 128
    proj = [128 * 128 + 256] * 3 + [128 * 256 + 512] + [256 * 256 + 512] * 2
    proj += [256 * 512 + 1024] + [512 * 512 + 1024] * 2
    assert c.num_params() == stem + sum(proj) + 512 * 10 + 10
    macs = 27 * 128 * 32 * 32 + 3 * 128 * 128 * 32 * 32
    macs += (128 * 256 + 2 * 256 * 256) * 16 * 16 + (256 * 512 + 2 * 512 * 512) * 8 * 8
    macs += 512 * 10
    assert c.flops() == pytest.approx(macs / 1e6)


def test_datasets_change_classes_and_resolution() -> None:
    c = Cell.from_string("c3,mp|0110.0001.0001.0000")
    base = c.num_params("cifar10")
    assert c.num_params("cifar10-valid") == base
    assert c.num_params("cifar100") == base + 90 * 513
    assert c.num_params("ImageNet16-120") == base + 110 * 513
    f10 = c.flops("cifar10")
    f16 = c.flops("ImageNet16-120")
    # every spatial term shrinks 4x with 16x16 inputs; the dense layer grows with classes
    assert f16 == pytest.approx((f10 - 512 * 10 / 1e6) / 4 + 512 * 120 / 1e6)


def test_vertex_channels_follow_official_split() -> None:
    m = np.zeros((1, 7, 7), dtype=np.uint8)
    m[0, 0, [1, 2, 3]] = 1
    m[0, [1, 2, 3], 6] = 1
    assert vertex_channels(m, 128, 128)[0].tolist() == [128, 43, 43, 42, 0, 0, 128]
    # vertex 1 feeds only vertices 2 and 3: it takes the larger of their channels
    m = np.zeros((1, 7, 7), dtype=np.uint8)
    m[0, 0, 1] = m[0, 1, 2] = m[0, 1, 3] = m[0, 2, 6] = m[0, 3, 6] = m[0, 0, 6] = 1
    assert vertex_channels(m, 64, 127)[0].tolist() == [64, 64, 64, 63, 0, 0, 127]


def test_cost_errors() -> None:
    c = Cell.from_string("c3|010.001.000")
    with pytest.raises(OutOfDomainError, match="cifar100"):
        c.num_params("mnist")
    with pytest.raises(OutOfDomainError, match="macs"):
        c.flops(convention="thop")
