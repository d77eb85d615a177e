"""Promise: no reader executes code from a file; a hostile pickle is refused, naming the file.

Each hostile pickle (``os.system``, ``builtins.eval``, a ``builtins.getattr`` chain through
``__import__``, a nested reduce hidden in the arguments of an allowed global) is first
shown to be real: plain ``pickle.loads`` creates the canary file. Then it is planted in
every container the project reads pickles from (NB201 ``.pth`` zip and legacy, NATS
``.pbz2`` meta file, cell file and single file, CIFAR batches): the reader must raise
:class:`~nasbench_tools.errors.UnsafePickleError` naming the file, the canary must not
exist, and a conversion must leave no output.
"""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path
from typing import Any

import pytest

from nasbench_tools.errors import UnsafePickleError

from . import _inputs as inp

PAYLOADS = ["os.system", "builtins.eval", "getattr chain", "nested reduce"]
CONTAINERS = ["nb201-pth-zip", "nb201-pth-legacy", "nats-meta", "nats-cell", "nats-pbz2-file",
              "cifar10-batch"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_real(tmp_path: Path, payload: str) -> None:
    canary = tmp_path / "canary"
    pickle.loads(inp.hostile_pickles(canary)[payload])
    assert canary.exists(), "the hostile pickle would not have done anything"


def _plant(container: str, blob: bytes, tmp: Path, shared: Path) -> tuple[Path, Path, Any]:
    """(input to read, file holding the pickle, reader)."""
    src = tmp / "in"
    src.mkdir()
    read = inp.convert_reader(tmp / "out" / "store.h5", curves=False)
    if container == "nb201-pth-zip":
        p = inp.pickle_in_torch_zip(inp.nb201_pth(src, shared, legacy=False), blob,
                                    src / "NAS-Bench-201-v1_0-e61699.pth")
        return p, p, read
    if container == "nb201-pth-legacy":
        p = inp.pickle_in_torch_legacy(inp.nb201_pth(src, shared, legacy=True), blob,
                                       src / "NAS-Bench-201-v1_0-e61699.pth")
        return p, p, read
    if container in ("nats-meta", "nats-cell"):
        d = inp.nats_fast_dir(src, shared)
        f = d / ("meta.pickle.pbz2" if container == "nats-meta" else "000284.pickle.pbz2")
        f.write_bytes(bz2.compress(blob))
        return d, f, read
    if container == "nats-pbz2-file":
        p = src / "NATS-sss-v1_0-50262.pickle.pbz2"
        p.write_bytes(bz2.compress(blob))
        return p, p, read
    d = inp.cifar10_dir(src)
    (d / "test_batch").write_bytes(blob)
    return d, d / "test_batch", inp.read_cifar10


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("container", CONTAINERS)
def test_hostile_pickle_refused(tmp_path: Path, shared_data: Path, tally: Any,
                                container: str, payload: str) -> None:
    canary = tmp_path / "canary"
    root, holder, read = _plant(container, inp.hostile_pickles(canary)[payload], tmp_path,
                                shared_data)
    with pytest.raises(UnsafePickleError) as err:
        read(root)
    assert holder.name in str(err.value)
    assert not canary.exists(), "a hostile pickle ran"
    out = tmp_path / "out"
    left = [p for p in out.glob("*") if p.suffix != ".lock"] if out.exists() else []
    assert not left, f"a refused input left output: {left}"
    tally.add(f"pickle in {container}", f"hostile pickle ({payload})", "UnsafePickleError")
