"""Promise: a bad command-line value gives one error line naming what is allowed, exit 2.

A table of bad invocations over every ``nbt`` sub-command (unknown algorithm / dataset /
preset / proxy / format, negative budgets and counts, seeds out of range, a store of the
wrong space for the command, missing or non-store files). Each must exit with code 2 and
print exactly one line on stderr (no traceback, no usage dump) that names the offending
value or the allowed ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures_predictors import tiny_target_store

from nasbench_tools.cli.main import main

NB201_CELL = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from nasbench_tools.store import DatasetTable, TableData, write_store

    d = tmp_path_factory.mktemp("stores")
    sss_keys = ["8:8:8:8:8", "16:8:8:8:8", "24:8:8:8:8"]
    ds = DatasetTable("cifar10", (0,), ((90, 90),), ("val_accuracy",),
                      np.array([50.0, 60.0, 70.0]).reshape(3, 1, 1, 1),
                      features={"zc_naswot": np.array([1.0, 2.0, 3.0])})
    sss = write_store(TableData("nats_sss", sss_keys, np.arange(3), {"cifar10": ds}),
                      d / "sss.h5", command="test")
    junk = d / "junk.h5"
    junk.write_bytes(b"this is not a store\n")
    nb201 = tiny_target_store(d / "nb201.h5")
    return {"nb201": nb201, "sss": sss, "junk": junk, "missing": d / "nope.h5",
            "dir": d}


# (id, argv with {nb201}/{sss}/{junk}/{missing}/{dir}/{out} placeholders, expected in the line)
CASES: list[tuple[str, list[str], list[str]]] = [
    # search
    ("search unknown algo", ["search", "--bench", "{nb201}", "--algo", "sa",
                             "--budget-queries", "5"], ["'sa'", "'rea'"]),
    ("search negative queries", ["search", "--bench", "{nb201}", "--algo", "rs",
                                 "--budget-queries", "-5"], ["-5"]),
    ("search negative seconds", ["search", "--bench", "{nb201}", "--algo", "rs",
                                 "--budget-seconds", "-1"], ["-1"]),
    ("search no budget", ["search", "--bench", "{nb201}", "--algo", "rs"], ["budget"]),
    ("search zero runs", ["search", "--bench", "{nb201}", "--algo", "rs", "--runs", "0",
                          "--budget-queries", "5"], ["--runs"]),
    ("search negative seed", ["search", "--bench", "{nb201}", "--algo", "rs", "--seed", "-3",
                              "--budget-queries", "5"], ["-3"]),
    ("search huge seed", ["search", "--bench", "{nb201}", "--algo", "rs", "--seed", str(2**70),
                          "--budget-queries", "5"], ["seed"]),
    ("search wrong space", ["search", "--bench", "{sss}", "--algo", "rs",
                            "--budget-queries", "5"], ["nats_sss", "nb201"]),
    ("search unknown protocol", ["search", "--bench", "{nb201}", "--algo", "rs",
                                 "--protocol", "imagenet", "--budget-queries", "5"],
     ["'imagenet'", "nb201-cifar10"]),
    ("search missing store", ["search", "--bench", "{missing}", "--algo", "rs",
                              "--budget-queries", "5"], ["nope.h5"]),
    ("search junk store", ["search", "--bench", "{junk}", "--algo", "rs",
                           "--budget-queries", "5"], ["junk.h5"]),
    ("search zero workers", ["search", "--bench", "{nb201}", "--algo", "rs", "--workers", "0",
                             "--budget-queries", "5"], ["--workers"]),
    ("search unknown bohb preset", ["search", "--bench", "{nb201}", "--algo", "bohb",
                                    "--bohb-preset", "nope", "--budget-queries", "5"],
     ["'nope'", "nb201-script"]),
    ("search bad bohb budget use", ["search", "--bench", "{nb201}", "--algo", "bohb",
                                    "--budget-use", "sideways", "--budget-queries", "5"],
     ["'sideways'", "schedule"]),
    ("search bad population", ["search", "--bench", "{nb201}", "--algo", "rea",
                               "--population-size", "0", "--budget-queries", "5"],
     ["population"]),
    # convert
    ("convert missing source", ["convert", "{missing}", "-o", "{out}"], ["nope.h5"]),
    ("convert unknown format", ["convert", "{junk}", "-o", "{out}", "--format", "xls"],
     ["'xls'", "csv"]),
    ("convert undetectable", ["convert", "{junk}", "-o", "{out}"], ["junk.h5", "csv"]),
    ("convert output is a dir", ["convert", "{nb201}", "-o", "{dir}"], ["stores"]),
    ("convert missing recipe", ["convert", "{junk}", "-o", "{out}", "--recipe",
                                "{missing}"], ["nope.h5"]),
    # info / query
    ("info missing", ["info", "{missing}"], ["nope.h5"]),
    ("info junk", ["info", "{junk}"], ["junk.h5"]),
    ("info directory", ["info", "{dir}"], ["directory"]),
    ("info --with a missing store", ["info", "{nb201}", "--with", "{missing}"], ["nope.h5"]),
    ("info --with a store of another space", ["info", "{nb201}", "--with", "{sss}"],
     ["'nats_sss' store", "'nb201'"]),
    ("query unknown cell", ["query", "{nb201}", "|bad|"], ["|bad|"]),
    ("query cell of another space", ["query", "{nb201}", "8:8:8:8:8"], ["8:8:8:8:8"]),
    ("query unknown dataset", ["query", "{nb201}", "0", "--dataset", "mnist"],
     ["'mnist'", "'cifar10-valid'"]),
    ("query unknown metric", ["query", "{nb201}", "0", "--metric", "speed"],
     ["'speed'", "val_accuracy"]),
    ("query bad seed", ["query", "{nb201}", "0", "--seed", "often"], ["often", "mean"]),
    ("query seed not held", ["query", "{nb201}", "0", "--seed", "77"], ["77"]),
    ("query negative epoch", ["query", "{nb201}", "0", "--epoch", "-2"], ["-2"]),
    # train
    ("train unknown space", ["train", "nb301", NB201_CELL], ["'nb301'", "nb201"]),
    ("train unknown dataset", ["train", "nb201", NB201_CELL, "--dataset", "svhn"],
     ["'svhn'", "cifar10"]),
    ("train unknown preset", ["train", "nb201", NB201_CELL, "--preset", "fast"],
     ["'fast'", "quick-cpu"]),
    ("train negative epochs", ["train", "nb201", NB201_CELL, "--dataset", "digits",
                               "--epochs", "-1"], ["-1"]),
    ("train negative lr", ["train", "nb201", NB201_CELL, "--dataset", "digits", "--lr", "-0.1"],
     ["-0.1"]),
    ("train negative seed", ["train", "nb201", NB201_CELL, "--dataset", "digits",
                             "--seed", "-1"], ["-1"]),
    ("train bad cell", ["train", "nb201", "|bad|", "--dataset", "digits"], ["|bad|"]),
    ("train cell of another space", ["train", "nb201", "8:8:8:8:8", "--dataset", "digits"],
     ["8:8:8:8:8"]),
    ("train zero threads", ["train", "nb201", NB201_CELL, "--dataset", "digits",
                            "--threads", "0"], ["--threads"]),
    ("train disk dataset without root", ["train", "nb201", NB201_CELL, "--dataset", "cifar10"],
     ["data_batch_1"]),
    ("train missing data root", ["train", "nb201", NB201_CELL, "--dataset", "cifar10",
                                 "--data-root", "{missing}"], ["nope.h5"]),
    # build-bench
    ("build-bench unknown space", ["build-bench", "nb999", "-o", "{out}"], ["'nb999'", "nb201"]),
    ("build-bench unknown dataset", ["build-bench", "nb201", "--dataset", "svhn", "-o", "{out}"],
     ["'svhn'", "digits"]),
    ("build-bench unknown preset", ["build-bench", "nb201", "--preset", "x", "-o", "{out}"],
     ["'x'", "embedded"]),
    ("build-bench zero cells", ["build-bench", "nb201", "--cells", "0", "-o", "{out}"], ["0"]),
    ("build-bench negative seeds", ["build-bench", "nb201", "--seeds", "-1", "-o", "{out}"],
     ["-1"]),
    ("build-bench repeated seeds", ["build-bench", "nb201", "--seeds", "1", "1", "-o", "{out}"],
     ["[1, 1]"]),
    ("build-bench reversed seed range", ["build-bench", "nb201", "--seeds", "5..2", "-o", "{out}"],
     ["'5..2'", "A <= B"]),
    ("build-bench huge seed range", ["build-bench", "nb201", "--seeds", "0..999999",
                                     "-o", "{out}"], ["'0..999999'", "100000"]),
    ("build-bench overlapping seed ranges", ["build-bench", "nb201", "--seeds", "0..2", "2",
                                             "-o", "{out}"], ["[0, 1, 2, 2]"]),
    ("build-bench unknown executor", ["build-bench", "nb201", "--executor", "slurm",
                                      "-o", "{out}"], ["'slurm'", "serial"]),
    ("build-bench negative epochs", ["build-bench", "nb201", "--epochs", "-3", "-o", "{out}"],
     ["-3"]),
    ("build-bench zero workers", ["build-bench", "nb201", "--workers", "0", "-o", "{out}"],
     ["--workers"]),
    ("build-bench output of another space", ["build-bench", "nb201", "--preset", "quick-cpu",
                                             "--epochs", "1", "--cells", "1", "-o", "{sss}"],
     ["nats_sss"]),
    # zc-score
    ("zc-score unknown space", ["zc-score", "nb999", "-o", "{out}"], ["'nb999'", "nb201"]),
    ("zc-score unknown proxy", ["zc-score", "nb201", "--proxy", "magic", "-o", "{out}"],
     ["'magic'", "naswot"]),
    ("zc-score bad cells", ["zc-score", "nb201", "--cells", "-4", "-o", "{out}"], ["-4"]),
    ("zc-score too many cells", ["zc-score", "nb201", "--cells", "99999", "-o", "{out}"],
     ["99999", "15625"]),
    ("zc-score zero batch", ["zc-score", "nb201", "--batch-size", "0", "--cells", "1",
                             "-o", "{out}"], ["batch"]),
    ("zc-score negative seed", ["zc-score", "nb201", "--seed", "-1", "--cells", "1",
                                "-o", "{out}"], ["-1"]),
    ("zc-score zero flush", ["zc-score", "nb201", "--flush-every", "0", "--cells", "1",
                             "-o", "{out}"], ["flush"]),
    ("zc-score index of another space", ["zc-score", "nb201", "--cells", "1", "--index-from",
                                         "{sss}", "-o", "{out}"], ["nats_sss"]),
    ("zc-score unknown dataset", ["zc-score", "nb201", "--dataset", "svhn", "--cells", "1",
                                  "-o", "{out}"], ["'svhn'"]),
    # eval-predictor / demo
    ("eval-predictor no bench", ["eval-predictor"], ["--bench"]),
    ("eval-predictor unknown predictor", ["eval-predictor", "--bench", "{nb201}",
                                          "--predictors", "oracle", "-q"], ["'oracle'", "gbdt"]),
    ("eval-predictor negative sizes", ["eval-predictor", "--bench", "{nb201}",
                                       "--train-sizes", "-5", "-q"], ["-5"]),
    ("eval-predictor zero seeds", ["eval-predictor", "--bench", "{nb201}", "--seeds", "0",
                                   "-q"], ["--seeds"]),
    ("eval-predictor features of another space", ["eval-predictor", "--bench", "{nb201}",
                                                  "--features-from", "{sss}", "-q"],
     ["nats_sss"]),
    ("eval-predictor unknown metric", ["eval-predictor", "--bench", "{nb201}", "--metric",
                                       "speed", "-q"], ["'speed'"]),
    ("demo missing store", ["demo", "--store", "{missing}"], ["nope.h5"]),
    ("demo negative runs", ["demo", "--runs", "-1"], ["-1"]),
    ("demo zero queries", ["demo", "--queries", "0"], ["--queries"]),
    # the top level
    ("unknown command", ["frobnicate"], ["'frobnicate'", "search"]),
    # reproduce
    ("reproduce unknown table", ["reproduce", "nb999-search", "--bench", "{nb201}"],
     ["'nb999-search'", "nb201-search"]),
    ("reproduce negative runs", ["reproduce", "nb201-search", "--bench", "{nb201}",
                                 "--runs", "-2"], ["-2"]),
    ("reproduce missing store", ["reproduce", "nb201-search", "--bench", "{missing}"],
     ["nope.h5"]),
    # fetch
    ("fetch unknown file", ["fetch", "nb999"], ["'nb999'", "nb101-only108"]),
    ("fetch negative retries", ["fetch", "nb101-only108", "--retries", "-1"], ["-1"]),
    ("fetch verify missing file", ["fetch", "nb101-only108", "--verify", "{missing}"],
     ["nope.h5"]),
]


@pytest.mark.parametrize(("name", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_value(stores: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   tally: Any, name: str, argv: list[str], expected: list[str]) -> None:
    fill = {k: str(v) for k, v in stores.items()} | {"out": str(tmp_path / "out.h5")}
    args = [a.format(**fill) for a in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    tally.add(f"nbt {argv[0]}", "bad command-line value",
              "one-line error, exit 2" if code == 2 and len(lines) == 1 else f"exit {code}")
    assert "Traceback" not in err, err
    assert code == 2, f"exit code {code}; stderr: {err}"
    assert len(lines) == 1, f"not one line: {err}"
    line = lines[0]
    assert line.startswith("nbt"), line
    missing = [e for e in expected if e not in line]
    assert not missing, f"{missing} not named in: {line}"
    assert not (tmp_path / "out.h5").exists()
