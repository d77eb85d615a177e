"""Speed / memory benchmark of the NAS-Bench-101 TFRecord converter (SYNTHETIC data).

Generates a TFRecord file in the official layout with as many cells as the real release
(423,624 cells x 3 repeats = 1,270,872 records at the 108-epoch budget, halfway + final
evaluations; record size close to the real ``nasbench_only108.tfrecord``, about 390 bytes),
filled with RANDOM PLAUSIBLE VALUES (it measures speed, not benchmark numbers), into /tmp,
then times its conversion into an HDF5 store (``StoreWriter``) in a fresh process and
reports the peak resident memory of that process.

Usage::

    nice .venv/bin/python benchmarks/bench_convert_nb101.py [--cells 423624] [--keep]

Results go to ``benchmarks/results/convert_nb101.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import platform
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("bench_convert_nb101")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "convert_nb101.md"
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")


def _eval_msg(epoch: float, t: float, tr: float, va: float, te: float) -> bytes:
    return b"".join(bytes([num << 3 | 1]) + struct.pack("<d", v)
                    for num, v in ((1, epoch), (2, t), (3, tr), (4, va), (5, te)))


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def generate(path: Path, cells: int, seed: int = 0) -> int:
    """Write ``cells`` x 3 synthetic records in the official layout; return bytes written."""
    from nasbench_tools.store.converters.nb101_tfrecord import _crc_batch_numpy, _mask_array

    rng = np.random.default_rng(seed)
    tri = np.triu_indices(7, 1)
    batch = 8192
    with path.open("wb") as fh:
        for start in range(0, cells, batch // 3):
            n = min(batch // 3, cells - start)
            datas = []
            hashes = rng.integers(0, 2**63, size=(n, 2))
            for i in range(n):
                m = np.zeros((7, 7), dtype=np.int64)
                m[tri] = rng.random(21) < 0.3
                adj = "".join("1" if x else "0" for x in m.ravel())
                ops = ",".join(["input", *(OPS[k] for k in rng.integers(0, 3, 5)), "output"])
                h = f"{int(hashes[i, 0]):016x}{int(hashes[i, 1]):016x}"
                params = int(rng.integers(200_000, 30_000_000))
                for _ in range(3):
                    acc = rng.uniform(0.5, 0.95, 3)
                    tt = float(rng.uniform(500, 5000))
                    msg = bytearray()
                    for ev in (_eval_msg(0, 0, 0.1, 0.1, 0.1),
                               _eval_msg(54, tt / 2, *(acc - 0.1)),
                               _eval_msg(108, tt, *acc)):
                        msg += b"\x0a" + _varint(len(ev)) + ev
                    msg += b"\x10" + _varint(params) + b"\x19" + struct.pack("<d", tt * 1.1)
                    datas.append(json.dumps(
                        [h, 108, adj, ops, base64.b64encode(bytes(msg)).decode()]).encode())
            heads = [struct.pack("<Q", len(d)) for d in datas]
            hc = _mask_array(_crc_batch_numpy(heads))
            dc = _mask_array(_crc_batch_numpy(datas))
            for head, d, a, b in zip(heads, datas, hc, dc):
                fh.write(head + struct.pack("<I", int(a)) + d + struct.pack("<I", int(b)))
    return path.stat().st_size


def convert_child(src: Path, out: Path) -> dict[str, Any]:
    """Convert ``src`` into a store at ``out`` (run in a fresh process); report figures."""
    from nasbench_tools.store import StoreWriter
    from nasbench_tools.store.converters import nb101_tfrecord

    t0 = time.perf_counter()
    with StoreWriter(out, command="bench_convert_nb101") as w:
        n = nb101_tfrecord.convert_streaming(src, w, progress=False)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = ru.ru_maxrss
    return {"cells": n, "seconds": wall, "cpu_seconds": ru.ru_utime + ru.ru_stime,
            "peak_rss_mb": peak_kb / 1024,
            "store_mb": out.stat().st_size / 2**20,
            "crc_backend": nb101_tfrecord._BACKEND_NAME}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=423_624)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "nbt_bench101")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse a kept synthetic file of the same size instead of regenerating")
    ap.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true", help="do not update the results file")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.child:
        print(json.dumps(convert_child(*args.child)))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = args.workdir / "synthetic_nasbench_only108.tfrecord"
    out = args.workdir / "synthetic_nb101.h5"
    t0 = time.perf_counter()
    marker = src.with_suffix(".cells")
    if args.reuse and src.is_file() and marker.is_file() and \
            marker.read_text().strip() == str(args.cells):
        size = src.stat().st_size
        gen_s = float("nan")
        log.info("reusing %s (%.1f MB)", src, size / 2**20)
    else:
        size = generate(src, args.cells)
        marker.write_text(str(args.cells))
        gen_s = time.perf_counter() - t0
        log.info("generated %s: %.1f MB in %.1f s", src, size / 2**20, gen_s)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, __file__, "--child", str(src), str(out)],
                         check=True, capture_output=True, text=True, env=env)
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    log.info("converted %d cells in %.1f s wall (%.1f s CPU), peak RSS %.0f MB", fig["cells"],
             fig["seconds"], fig["cpu_seconds"], fig["peak_rss_mb"])
    if not args.no_write:
        from nasbench_tools.io import atomic_write_text

        text = f"""# NAS-Bench-101 TFRecord conversion (synthetic data)

`nice .venv/bin/python benchmarks/bench_convert_nb101.py --cells {args.cells}`

**Synthetic**: the TFRecord file is generated by the benchmark in the official layout
(JSON records, base64 `ModelMetrics` protobuf, masked CRC32C framing), with random plausible
values; it measures speed and memory only. Conversion runs in a fresh process straight into
an HDF5 store (`nb101_tfrecord.convert_streaming` + `StoreWriter`), CRCs checked.

| figure | value |
| --- | --- |
| cells x repeats | {fig['cells']:,} x 3 = {3 * fig['cells']:,} records |
| TFRecord size | {size / 2**20:.1f} MB |
| conversion wall time | {fig['seconds']:.1f} s (goal <= 180 s) |
| conversion CPU time (user + system) | {fig['cpu_seconds']:.1f} s |
| load average at the end (2 shared cores) | {os.getloadavg()[0]:.1f} |
| peak RSS of the converting process | {fig['peak_rss_mb']:.0f} MB (goal <= 2048 MB) |
| store size | {fig['store_mb']:.1f} MB |
| CRC32C backend | {fig['crc_backend']} |
| generation time (not part of the goal) | {gen_s:.1f} s |
| machine | {platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs), Python {platform.python_version()}, numpy {np.__version__} |
| date | {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} |
"""
        atomic_write_text(args.out, text)
        log.info("wrote %s", args.out)
    if not args.keep:
        for p in (src, out, marker):
            p.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
