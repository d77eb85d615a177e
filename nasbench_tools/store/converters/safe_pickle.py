"""Allow-list unpickling of the official NAS-Bench-201 / NATS-Bench benchmark files.

The official benchmark files are pickles: NAS-Bench-201 ships ``torch.save`` files (the zip
container of torch >= 1.6 or the older "legacy" stream of several pickles) and NATS-Bench
ships bz2-compressed pickles (``*.pickle.pbz2``). A plain :func:`pickle.load` executes
whatever callable a file names, so opening a file of unknown origin could run arbitrary code;
``torch.load(weights_only=True)`` refuses the numpy scalars these files hold.

:class:`SafeUnpickler` resolves only the globals in :data:`ALLOWED_GLOBALS` (what the official
files provably use: ordered dicts, sets, numpy scalars and their dtypes, and the latin-1
``_codecs.encode`` that protocol-2 pickles use for ``bytes``). Any other global raises
:class:`~nasbench_tools.errors.UnsafePickleError` *before* it is imported or called, so nothing
from the file ever runs. Persistent ids (torch tensor storages) are refused as well: the
benchmark files hold plain Python containers, floats and numpy scalars only.

The same mechanism reads the python batches of image datasets (CIFAR-10 / CIFAR-100 /
ImageNet16): :class:`DataBatchUnpickler` is a :class:`SafeUnpickler` with its own allow-list,
:data:`DATA_BATCH_GLOBALS` (numpy arrays instead of sets), and :func:`load_data_batch` opens
one such file. The trainer's and the zero-cost proxies' dataset readers both use it.

Examples
--------
>>> import pickle, collections
>>> blob = pickle.dumps(collections.OrderedDict(a=1.5), protocol=2)
>>> obj = safe_loads(blob)
>>> type(obj).__name__, dict(obj)
('OrderedDict', {'a': 1.5})
>>> import os
>>> class Evil:
...     def __reduce__(self):
...         return (os.system, ("echo hacked",))
>>> try:
...     safe_loads(pickle.dumps(Evil()))
... except UnsafePickleError as err:
...     print("refused")
refused
"""

from __future__ import annotations

import bz2
import collections
import importlib
import io
import logging
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasbench_tools.errors import ChecksumError, FormatError, UnsafePickleError, allowed

__all__ = [
    "ALLOWED_GLOBALS",
    "DATA_BATCH_GLOBALS",
    "DataBatchUnpickler",
    "SafeUnpickler",
    "is_torch_legacy",
    "is_torch_zip",
    "load_data_batch",
    "load_pbz2",
    "load_torch_file",
    "safe_load",
    "safe_loads",
]

logger = logging.getLogger(__name__)

#: Magic number that opens a legacy (pre-1.6) ``torch.save`` stream.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
#: Protocol version written after the magic number by legacy ``torch.save``.
TORCH_LEGACY_PROTOCOL = 1001


def _numpy_multiarray(name: str) -> Callable[..., Any]:
    """Return ``numpy.<core>.multiarray.<name>`` (the module moved to ``numpy._core`` in 2.0)."""
    for mod in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return getattr(importlib.import_module(mod), name)  # type: ignore[no-any-return]
        except (ImportError, AttributeError):  # pragma: no cover - depends on numpy version
            continue
    raise ImportError(f"numpy multiarray.{name} not found")  # pragma: no cover


def _numpy_scalar() -> Callable[..., Any]:
    """Return numpy's ``multiarray.scalar`` (moved to ``numpy._core`` in numpy 2)."""
    return _numpy_multiarray("scalar")


def _guarded_scalar(dtype: Any, *args: Any) -> Any:
    """Build a numpy scalar from raw bytes, refusing object dtypes (they wrap any object)."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise UnsafePickleError(
            f"numpy scalar of dtype {dtype!r} refused: only plain numeric/bool/str dtypes are "
            "allowed, never object dtypes"
        )
    return _numpy_scalar()(dtype, *args)


def _guarded_dtype(spec: Any, *args: Any) -> np.dtype[Any]:
    """Build a numpy dtype from a short type string such as ``'f8'``; nothing else."""
    if not isinstance(spec, str):
        raise UnsafePickleError(
            f"numpy.dtype({spec!r}) refused: only dtype strings such as 'f8' are allowed"
        )
    return np.dtype(spec)


_LATIN1 = ("latin1", "latin-1", "iso-8859-1", "iso8859-1")


def _guarded_encode(text: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to latin-1 (how protocol-2 pickles spell ``bytes``)."""
    if not isinstance(text, str) or encoding.lower() not in _LATIN1:
        raise UnsafePickleError(
            f"_codecs.encode with encoding {encoding!r} refused; allowed: {allowed(_LATIN1)}"
        )
    return text.encode("latin1", errors)


def _plain_set(*args: Any) -> set[Any]:
    """``set(iterable)`` for the set objects of the official files."""
    return set(*args)


def _ordered_dict(*args: Any) -> collections.OrderedDict[Any, Any]:
    """``collections.OrderedDict`` (its instances are rebuilt with SETITEMS afterwards)."""
    return collections.OrderedDict(*args)


#: ``(module, name)`` -> the callable that stands in for it. Nothing else can be resolved.
ALLOWED_GLOBALS: Mapping[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("numpy.core.multiarray", "scalar"): _guarded_scalar,
    ("numpy._core.multiarray", "scalar"): _guarded_scalar,
    ("numpy", "dtype"): _guarded_dtype,
    ("_codecs", "encode"): _guarded_encode,
    ("builtins", "set"): _plain_set,
    ("__builtin__", "set"): _plain_set,  # protocol-2 spelling of builtins
}


def _reconstruct_ndarray(subtype: Any, *args: Any) -> Any:
    """numpy's ``multiarray._reconstruct`` (an empty array, filled by BUILD), plain arrays only."""
    if subtype is not np.ndarray:
        raise UnsafePickleError(
            f"numpy _reconstruct of {subtype!r} refused: only numpy.ndarray is allowed"
        )
    return _numpy_multiarray("_reconstruct")(subtype, *args)


#: The allow-list of :class:`DataBatchUnpickler`: what a CIFAR / ImageNet16 python batch (a
#: dict of numpy arrays and lists, pickled by Python 2 or 3) names. ``numpy.ndarray`` and
#: ``numpy.dtype`` are the real classes (array state is restored by their ``__setstate__``);
#: numpy scalars refuse object dtypes and ``_codecs.encode`` accepts only latin-1, as in
#: :data:`ALLOWED_GLOBALS`. Nothing else can be resolved.
DATA_BATCH_GLOBALS: Mapping[tuple[str, str], Callable[..., Any]] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "scalar"): _guarded_scalar,
    ("numpy._core.multiarray", "scalar"): _guarded_scalar,
    ("_codecs", "encode"): _guarded_encode,
    ("collections", "OrderedDict"): _ordered_dict,
}


def _allowed_names(globals_: Mapping[tuple[str, str], Any] = ALLOWED_GLOBALS) -> str:
    return allowed(sorted(f"{m}.{n}" for m, n in globals_), limit=len(globals_))


class SafeUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only :data:`ALLOWED_GLOBALS`.

    Subclasses serve other kinds of file by overriding the class attributes
    :attr:`allowed_globals` (the allow-list), :attr:`refusal` (how an
    :class:`~nasbench_tools.errors.UnsafePickleError` introduces the allow-list) and
    :attr:`contents` (what such files hold, for the refusal of persistent ids); see
    :class:`DataBatchUnpickler`. Strings are decoded from latin-1 (Python 2 pickles).

    Parameters
    ----------
    file : binary file object
        The pickle stream.
    source : str, optional
        A name for error messages (usually the file path).

    Examples
    --------
    >>> import io, pickle
    >>> SafeUnpickler(io.BytesIO(pickle.dumps({1, 2}, protocol=2))).load()
    {1, 2}
    """

    #: ``(module, name)`` -> the callable that stands in for it.
    allowed_globals: Mapping[tuple[str, str], Callable[..., Any]] = ALLOWED_GLOBALS
    #: Introduces the allow-list in the message of a refused global.
    refusal = "allowed globals"
    #: What the files hold, for the message of a refused persistent id.
    contents = "benchmark files hold only dicts, lists, floats and numpy scalars"

    def __init__(self, file: IO[bytes], *, source: str = "<pickle>") -> None:
        super().__init__(file, fix_imports=False, encoding="latin1")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        """Return the stand-in of an allowed global; raise for any other one.

        Raises
        ------
        UnsafePickleError
            If ``module.name`` is not in :attr:`allowed_globals`; nothing is imported.
        """
        try:
            return self.allowed_globals[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refused to load global {module}.{name}; "
                f"{self.refusal}: {_allowed_names(self.allowed_globals)}"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids (torch tensor storages): the files read here hold none.

        Raises
        ------
        FormatError
            Always, naming the persistent id.
        """
        kind = pid[0] if isinstance(pid, tuple) and pid else pid
        raise FormatError(
            f"{self._source}: holds a persistent object ({kind!r}, e.g. a torch tensor "
            f"storage); {self.contents}"
        )


class DataBatchUnpickler(SafeUnpickler):
    """A :class:`SafeUnpickler` for image-dataset batches: resolves :data:`DATA_BATCH_GLOBALS`.

    Examples
    --------
    >>> import io, pickle, numpy as np
    >>> DataBatchUnpickler(io.BytesIO(pickle.dumps(np.arange(3, dtype=np.uint8)))).load()
    array([0, 1, 2], dtype=uint8)
    """

    allowed_globals = DATA_BATCH_GLOBALS
    refusal = "a dataset batch may only name"
    contents = "dataset batches hold only dicts, lists and numpy arrays"


def _run(unpickler: SafeUnpickler, source: str) -> Any:
    try:
        return unpickler.load()
    except (UnsafePickleError, FormatError):
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OSError) as err:
        raise FormatError(f"{source}: not a readable pickle stream ({type(err).__name__}: "
                          f"{err})") from err


def safe_load(file: IO[bytes], *, source: str = "<pickle>") -> Any:
    """Unpickle one object from an open binary stream with the allow-list.

    Parameters
    ----------
    file : binary file object
        Positioned at the start of a pickle.
    source : str, optional
        Name used in error messages.

    Returns
    -------
    object
        The unpickled object.

    Raises
    ------
    UnsafePickleError
        If the pickle names a global outside :data:`ALLOWED_GLOBALS`.
    FormatError
        If the stream is not a valid pickle.

    Examples
    --------
    >>> import io, pickle
    >>> safe_load(io.BytesIO(pickle.dumps([1.0, "a"])))
    [1.0, 'a']
    """
    return _run(SafeUnpickler(file, source=source), source)


def load_data_batch(path: str | os.PathLike[str]) -> Any:
    """Unpickle one image-dataset batch (CIFAR / ImageNet16 python format) with an allow-list.

    The CIFAR-10 / CIFAR-100 python batches and NAS-Bench-201's ImageNet16 batches are
    pickled dicts of numpy arrays and lists, the CIFAR ones written by Python 2: strings are
    decoded from latin-1. Only :data:`DATA_BATCH_GLOBALS` can be resolved (see
    :class:`DataBatchUnpickler`), so nothing named by the file ever runs.

    Parameters
    ----------
    path : path-like
        A batch file such as ``data_batch_1``, ``test``, ``train_data_batch_3``.

    Returns
    -------
    object
        Usually a dict with ``data`` and ``labels`` entries (keys ``bytes`` or ``str``).

    Raises
    ------
    UnsafePickleError
        If the pickle names a global outside :data:`DATA_BATCH_GLOBALS` (the message names the
        global and the allow-list).
    FormatError
        If the file is not a readable pickle (the message names the file).
    OSError
        If the file cannot be opened.

    Examples
    --------
    >>> import tempfile, pickle, pathlib
    >>> import numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "data_batch_1"
    >>> _ = p.write_bytes(pickle.dumps({"data": np.zeros((2, 3), np.uint8), "labels": [1, 2]}))
    >>> batch = load_data_batch(p)
    >>> batch["data"].shape, batch["labels"]
    ((2, 3), [1, 2])
    """
    src = str(path)
    with open(path, "rb") as fh:
        try:
            return DataBatchUnpickler(fh, source=src).load()
        except FormatError:  # UnsafePickleError included: already names the file
            raise
        except Exception as err:  # corrupt input raises many unrelated types
            raise FormatError(
                f"{src}: not a readable python-pickle dataset batch ({type(err).__name__}: "
                f"{err})"
            ) from err


def safe_loads(data: bytes, *, source: str = "<pickle>") -> Any:
    """Unpickle one object from bytes with the allow-list (see :func:`safe_load`).

    Examples
    --------
    >>> import pickle, numpy as np
    >>> safe_loads(pickle.dumps(np.float64(0.5), protocol=2))
    np.float64(0.5)
    """
    return safe_load(io.BytesIO(data), source=source)


def is_torch_zip(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a ``torch.save`` zip container (torch >= 1.6).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.pth"
    >>> _ = p.write_bytes(b"not a zip")
    >>> is_torch_zip(p)
    False
    """
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("/data.pkl") or n == "data.pkl" for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def is_torch_legacy(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` opens with the magic number of a legacy ``torch.save`` stream.

    Examples
    --------
    >>> import tempfile, pathlib, pickle
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.pth"
    >>> _ = p.write_bytes(pickle.dumps(TORCH_LEGACY_MAGIC, protocol=2))
    >>> is_torch_legacy(p)
    True
    """
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(64)
    try:
        return bool(safe_loads(head, source=str(path)) == TORCH_LEGACY_MAGIC)
    except FormatError:
        return False


def _load_torch_zip(path: Path) -> Any:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(names) != 1:
                raise FormatError(
                    f"{path}: a torch zip file must hold exactly one '<name>/data.pkl'; "
                    f"found {names}"
                )
            # Every member is read once against its CRC-32 before anything is unpickled.
            bad = zf.testzip()
            if bad is not None:
                raise ChecksumError(f"{path}: zip member {bad!r} fails its CRC-32 check")
            logger.info("reading %s from torch zip container %s", names[0], path)
            with zf.open(names[0]) as fh:
                obj = safe_load(fh, source=f"{path}:{names[0]}")
                fh.read()  # to the end of the member, where zipfile checks the CRC-32
                return obj
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as err:
        raise FormatError(f"{path}: damaged zip container ({type(err).__name__}: {err})"
                          ) from err


def _load_torch_legacy(path: Path) -> Any:
    src = str(path)
    with path.open("rb") as fh:
        magic = safe_load(fh, source=src)
        if magic != TORCH_LEGACY_MAGIC:
            raise FormatError(f"{src}: not a legacy torch file (magic number {magic!r})")
        protocol = safe_load(fh, source=src)
        if protocol != TORCH_LEGACY_PROTOCOL:
            raise FormatError(
                f"{src}: legacy torch protocol version {protocol!r}; allowed: "
                f"{TORCH_LEGACY_PROTOCOL}"
            )
        sys_info = safe_load(fh, source=src)
        if not isinstance(sys_info, dict):
            raise FormatError(f"{src}: legacy torch system-info record is not a dict")
        obj = safe_load(fh, source=src)
        keys = safe_load(fh, source=src)
        if keys:
            raise FormatError(f"{src}: holds {len(keys)} tensor storages; benchmark files "
                              "hold none")
        return obj


def load_torch_file(path: str | os.PathLike[str]) -> Any:
    """Load a ``torch.save`` file (zip or legacy format) with the allow-list, without torch.

    Parameters
    ----------
    path : path-like
        A ``.pth`` file such as ``NAS-Bench-201-v1_0-e61699.pth``.

    Returns
    -------
    object
        The saved object (for NAS-Bench-201 a dict).

    Raises
    ------
    FormatError
        If the file is neither format, or holds tensor storages.
    UnsafePickleError
        If it names a global outside :data:`ALLOWED_GLOBALS`.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile, pickle
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.pth"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("b/data.pkl", pickle.dumps({"meta_archs": []}, protocol=2))
    >>> load_torch_file(p)
    {'meta_archs': []}
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if is_torch_zip(path):
        return _load_torch_zip(path)
    if is_torch_legacy(path):
        return _load_torch_legacy(path)
    raise FormatError(
        f"{path}: not a torch.save file; allowed: the zip container (torch >= 1.6) or the "
        "legacy pickle stream"
    )


def load_pbz2(path: str | os.PathLike[str]) -> Any:
    """Load a bz2-compressed pickle (NATS-Bench ``*.pickle.pbz2``) with the allow-list.

    The pickle is read straight from the decompressor, so the decompressed bytes are never
    held in memory at once.

    Parameters
    ----------
    path : path-like
        The ``.pickle.pbz2`` file.

    Returns
    -------
    object
        The unpickled object.

    Raises
    ------
    FormatError
        If the bz2 stream is broken or truncated, or the pickle is invalid.
    UnsafePickleError
        If it names a global outside :data:`ALLOWED_GLOBALS`.

    Examples
    --------
    >>> import tempfile, pathlib, pickle, bz2
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "meta.pickle.pbz2"
    >>> _ = p.write_bytes(bz2.compress(pickle.dumps({"meta_archs": ["8:8:8:8:8"]})))
    >>> load_pbz2(p)
    {'meta_archs': ['8:8:8:8:8']}
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    try:
        with bz2.open(path, "rb") as fh:
            obj = safe_load(fh, source=str(path))
            fh.read()  # consume the rest so that a truncated stream is noticed
            return obj
    except UnsafePickleError:
        raise
    except FormatError as err:
        raise FormatError(f"{path}: broken bz2-compressed pickle ({err})") from err
    except (OSError, EOFError, ValueError) as err:
        raise FormatError(f"{path}: broken bz2 stream ({type(err).__name__}: {err})") from err
