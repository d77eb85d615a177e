"""Smoke tests of ``nbt convert``, ``nbt info`` and ``nbt query``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.store import load_benchmark

A0 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
A1 = "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture
def csvs(tmp_path: Path) -> list[Path]:
    a = tmp_path / "naswot.csv"
    a.write_text("nb201_index,arch_str,cifar10_test_acc,cifar10_valid_xvalid_acc,"
                 "cifar10_valid_oritest_acc,params_m,naswot_score\n"
                 f"0,{A0},90.5,88.0,87.0,0.5,-300\n1,{A1},91.25,89.0,88.0,0.7,-200\n")
    b = tmp_path / "hp12.csv"
    b.write_text("nb201_index,arch_str,cifar10_test_acc,cifar10_valid_xvalid_acc,cifar100_xtest_acc,"
                 "cifar100_xvalid_acc,imagenet16_120_xtest_acc,imagenet16_120_xvalid_acc\n"
                 f"1,{A1},80,79,50,49,20,19\n")
    return [a, b]


def test_convert_info_query(csvs: list[Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.h5"
    assert main(["convert", *map(str, csvs), "-o", str(out), "-q"]) == 0
    assert "2 cells" in capsys.readouterr().out
    bench = load_benchmark(out)
    assert bench.info().command == f"nbt convert {csvs[0]} {csvs[1]} -o {out}"

    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "space: nb201" in text and "budget 12: epochs 12" in text and "sha256=" in text
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_cells"] == 2 and [d["name"] for d in info["datasets"]] == ["cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"]

    assert main(["query", str(out), "1", "--dataset", "cifar10", "--metric", "test_accuracy",
                 "--epoch", "12"]) == 0
    assert capsys.readouterr().out.strip() == "80.0"
    assert main(["query", str(out), A1, "--dataset", "cifar10-valid"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "val_accuracy\t89.0" in lines and "test_accuracy\t88.0" in lines
    assert main(["query", str(out), "0", "--dataset", "cifar10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["values"] == {"test_accuracy": 90.5}


def test_errors_exit_2_with_a_message(csvs: list[Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.h5"
    main(["convert", str(csvs[0]), "-o", str(out), "-q"])
    capsys.readouterr()
    assert main(["query", str(out), "7", "--dataset", "cifar10"]) == 2
    assert "official index 7 is not in this nb201 store" in capsys.readouterr().err
    assert main(["query", str(out), "0", "--dataset", "cifar10", "--seed", "random"]) == 2
    assert "published means only" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "none.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err
    junk = tmp_path / "junk.txt"
    junk.write_text("x")
    assert main(["convert", str(junk), "-o", str(tmp_path / "j.h5"), "-q"]) == 2
    assert "no format nbt can convert" in capsys.readouterr().err
    assert not (tmp_path / "j.h5").exists()


def test_convert_with_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "t.csv"
    src.write_text("i,k,acc\n0,aaa,93.5\n")
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({
        "name": "r", "space": "nb101", "index_column": "i", "key_column": "k",
        "values": [{"column": "acc", "dataset": "cifar10", "metric": "test_accuracy",
                    "fidelity": [108, 108], "seed": "unknown"}]}))
    out = tmp_path / "s.h5"
    assert main(["convert", str(src), "--format", "csv", "--recipe", str(recipe), "-o",
                 str(out), "-q"]) == 0
    assert load_benchmark(out).lookup("aaa", "test_accuracy") == 93.5
    assert "--recipe" in load_benchmark(out).info().command
