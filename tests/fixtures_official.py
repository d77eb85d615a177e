"""Writers of small files in the official benchmark layouts, for tests and benchmarks.

Everything here is written from the published format descriptions (TFRecord framing,
``model_metrics.proto``, the NATS-Bench fast-mode directory, the ``ArchResults`` /
``ResultsCount`` state dicts); nothing is copied from the official code. The CRC32C used for
the test files is a plain bit-by-bit implementation, independent of the table-driven one in
the converter, so a bug in either shows up as a checksum error.
"""

from __future__ import annotations

import base64
import bz2
import csv
import json
import pickle
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------- CRC32C


def crc32c_bitwise(data: bytes) -> int:
    """CRC32C, one bit at a time (slow, obviously correct).

    >>> hex(crc32c_bitwise(b"123456789"))
    '0xe3069283'
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    """TFRecord CRC mask."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord_frame(data: bytes, crc: Callable[[bytes], int] = crc32c_bitwise) -> bytes:
    """Frame one record: length, masked CRC of the length, data, masked CRC of the data."""
    head = struct.pack("<Q", len(data))
    return (head + struct.pack("<I", masked(crc(head))) + data
            + struct.pack("<I", masked(crc(data))))


# ----------------------------------------------------------------------------- protobuf


def _varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64  # int32/int64 negatives are 10-byte varints
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _double(num: int, v: float) -> bytes:
    return _varint(num << 3 | 1) + struct.pack("<d", v)


def _bytes(num: int, v: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(v)) + v


@dataclass
class Evaluation:
    """One ``EvaluationData`` (accuracies as fractions, as in the official file)."""

    current_epoch: float
    training_time: float
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float
    checkpoint_path: str = ""


def encode_model_metrics(evals: Sequence[Evaluation], trainable_parameters: int,
                         total_time: float) -> bytes:
    """Serialize a ``ModelMetrics`` message (proto2 field numbers of the official proto)."""
    out = bytearray()
    for e in evals:
        msg = (_double(1, e.current_epoch) + _double(2, e.training_time)
               + _double(3, e.train_accuracy) + _double(4, e.validation_accuracy)
               + _double(5, e.test_accuracy))
        if e.checkpoint_path:
            msg += _bytes(6, e.checkpoint_path.encode())
        out += _bytes(1, msg)
    out += _varint(2 << 3 | 0) + _varint(trainable_parameters)
    out += _double(3, total_time)
    return bytes(out)


def nb101_record(module_hash: str, epochs: int, matrix: np.ndarray, ops: Sequence[str],
                 evals: Sequence[Evaluation], trainable_parameters: int,
                 total_time: float = 0.0) -> bytes:
    """One NAS-Bench-101 record: the JSON list the official file stores."""
    m = np.asarray(matrix, dtype=np.int64)
    adj = "".join(str(int(x)) for x in m.ravel())
    raw = base64.b64encode(encode_model_metrics(evals, trainable_parameters, total_time))
    return json.dumps([module_hash, int(epochs), adj, ",".join(ops), raw.decode()]).encode()


def write_tfrecord(path: Path, records: Iterable[bytes],
                   crc: Callable[[bytes], int] = crc32c_bitwise) -> Path:
    """Write framed records to ``path``."""
    with path.open("wb") as fh:
        for r in records:
            fh.write(tfrecord_frame(r, crc))
    return path


@dataclass
class OfficialRow:
    """One row of ``nb101_official_records_20arch.csv``."""

    module_hash: str
    matrix: np.ndarray
    ops: list[str]
    params: int
    epochs: int
    repeat: int
    halfway: Evaluation
    final: Evaluation


def read_official_nb101_csv(path: Path) -> list[OfficialRow]:
    """Parse the 20 official NAS-Bench-101 cells x 3 repeats of the shared data."""
    rows = []
    with path.open() as fh:
        for r in csv.DictReader(fh):
            ep = int(r["epochs"])

            def ev(kind: str, epoch: float, r: Mapping[str, str] = r) -> Evaluation:
                return Evaluation(epoch, float(r[f"{kind}_training_time"]),
                                  float(r[f"{kind}_train_accuracy"]),
                                  float(r[f"{kind}_validation_accuracy"]),
                                  float(r[f"{kind}_test_accuracy"]))

            rows.append(OfficialRow(
                module_hash=r["nb101_hash"], matrix=np.array(json.loads(r["matrix"])),
                ops=list(json.loads(r["ops"])), params=int(r["trainable_parameters"]),
                epochs=ep, repeat=int(r["repeat"]), halfway=ev("halfway", ep / 2),
                final=ev("final", float(ep)),
            ))
    return rows


def official_rows_to_records(rows: Sequence[OfficialRow]) -> list[bytes]:
    """Records in the official layout for the CSV rows (initial evaluation at epoch 0)."""
    out = []
    for r in rows:
        init = Evaluation(0.0, 0.0, 0.1, 0.1, 0.1)
        out.append(nb101_record(r.module_hash, r.epochs, r.matrix, r.ops,
                                [init, r.halfway, r.final], r.params,
                                total_time=r.final.training_time * 1.1))
    return out


# ----------------------------------------------------------------------------- NATS / NB201


def results_count(name: str, seed: int, epochs: int, *, rng: np.random.Generator,
                  splits: Sequence[str], params: float, flop: float,
                  latency: float | None) -> dict[str, Any]:
    """A ``ResultsCount`` state dict with plausible made-up curves (for layout tests)."""
    acc = np.sort(rng.uniform(10, 90, epochs))
    loss = np.sort(rng.uniform(0.1, 2.5, epochs))[::-1]
    t = float(rng.uniform(3, 9))
    ev_acc: dict[str, float] = {}
    ev_loss: dict[str, float] = {}
    ev_time: dict[str, float] = {}
    for s in splits:
        a = np.sort(rng.uniform(10, 90, epochs))
        for e in range(epochs):
            ev_acc[f"{s}@{e}"] = float(a[e])
            ev_loss[f"{s}@{e}"] = float(loss[e] + 0.1)
            ev_time[f"{s}@{e}"] = float(t / 5)
    return {
        "name": name, "seed": f"{seed:04d}", "epochs": epochs,
        "train_acc1es": {e: float(acc[e]) for e in range(epochs)},
        "train_acc5es": None,
        "train_losses": {e: float(loss[e]) for e in range(epochs)},
        "train_times": OrderedDict((e, t) for e in range(epochs)),
        "arch_config": {}, "params": np.float64(params), "flop": float(flop),
        "latency": None if latency is None else [np.float64(latency)],
        "eval_names": list(splits), "eval_acc1es": ev_acc, "eval_losses": ev_loss,
        "eval_times": ev_time, "net_state_dict": None,
    }


#: Official evaluation splits per dataset.
SPLITS_OF = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
             "cifar100": ("x-valid", "x-test", "ori-test"),
             "ImageNet16-120": ("x-valid", "x-test", "ori-test")}


def arch_results(index: int, arch_str: str, epochs: int, seeds: Sequence[int], *,
                 rng: np.random.Generator) -> dict[str, Any]:
    """An ``ArchResults`` state dict over the four datasets."""
    all_results: dict[tuple[str, int], Any] = {}
    dataset_seed: dict[str, list[int]] = {}
    for d, splits in SPLITS_OF.items():
        dataset_seed[d] = list(seeds)
        for s in seeds:
            all_results[(d, s)] = results_count(d, s, epochs, rng=rng, splits=splits,
                                                params=0.1 + index / 100, flop=10.0 + index,
                                                latency=0.01)
    return {"arch_index": index, "arch_str": arch_str, "all_results": all_results,
            "dataset_seed": dataset_seed, "clear_net_done": True}


def write_pbz2(path: Path, obj: Any) -> Path:
    """A bz2-compressed pickle, as NATS-Bench writes them."""
    path.write_bytes(bz2.compress(pickle.dumps(obj, protocol=4)))
    return path


def write_nats_fast_dir(root: Path, meta_archs: Sequence[str],
                        cells: Mapping[int, Mapping[str, Any]]) -> Path:
    """A fast-mode directory: ``meta.pickle.pbz2`` plus one ``NNNNNN.pickle.pbz2`` per cell."""
    root.mkdir(parents=True, exist_ok=True)
    write_pbz2(root / "meta.pickle.pbz2", {"meta_archs": list(meta_archs),
                                           "total_archs": len(meta_archs), "arch2infos": None,
                                           "evaluated_indexes": set()})
    for idx, hp_records in cells.items():
        write_pbz2(root / f"{idx:06d}.pickle.pbz2", OrderedDict(hp_records))
    return root


def sss_strings() -> list[str]:
    """The 32,768 size-space strings in official order (last layer fastest)."""
    ch = (8, 16, 24, 32, 40, 48, 56, 64)
    return [":".join(str(ch[(i // 8 ** (4 - k)) % 8]) for k in range(5)) for i in range(8 ** 5)]


# ----------------------------------------------------------------------------- official API


def official_remap(dataset: str, on_set: str) -> tuple[str, str]:
    """``find_best``'s dataset/set remapping, as our (dataset, metric)."""
    if dataset == "cifar10" and on_set == "valid":
        return "cifar10-valid", "val_accuracy"
    simple = {"train": "train", "valid": "val", "x-valid": "val"}
    if on_set in simple:
        return dataset, f"{simple[on_set]}_accuracy"
    if on_set == "ori-test":
        return dataset, ("test_accuracy" if dataset in ("cifar10", "cifar10-valid")
                         else "ori_test_accuracy")
    return dataset, "test_accuracy"


def official_find_best(table: Any, args: Mapping[str, Any],
                       limits: Mapping[str, str]) -> tuple[int, float]:
    """``find_best`` of the official APIs over a converted table: (official index, score).

    The score is the mean over trials at fidelity ``(hp, hp)`` (-inf without any trial);
    ``limits`` maps the API's cost-limit argument (``"FLOP_max"``, ``"flop_max"``, ...) to
    the cost column it bounds.
    """
    b = int(args["hp"])
    dataset, metric = official_remap(args["dataset"], args["metric_on_set"])
    d = table.datasets[dataset]
    vals = d.values[:, :, d.fidelities.index((b, b)), d.metrics.index(metric)]
    score = np.array([np.nanmean(v) if np.isfinite(v).any() else -np.inf
                      for v in vals.astype(np.float64)])
    for key, col in limits.items():
        if args.get(key) is not None:
            score[d.costs[col] > args[key]] = -np.inf
    best = int(np.argmax(score))
    return int(table.indices[best]), float(score[best])
