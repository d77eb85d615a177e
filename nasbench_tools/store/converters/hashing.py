"""SHA-256 of converter sources, computed once per conversion.

The registry hashes every source for the store's provenance and passes the digest down
to the converter (its ``sha256=`` keyword), which records it as ``source_sha256``; a
converter called directly hashes the file itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

__all__ = ["sha256_path", "source_sha256"]


def sha256_path(path: str | os.PathLike[str], *, progress: Any = None) -> str:
    """SHA-256 of a file, or of a directory (over its files' relative paths and bytes).

    Parameters
    ----------
    path : path-like
        File or directory.
    progress : tqdm-like, optional
        Its ``update(n_bytes)`` is called while reading.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("abc")
    >>> sha256_path(p)[:16]
    'ba7816bf8f01cfea'
    """
    p = Path(path)
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    h = hashlib.sha256()
    for q in files:
        if p.is_dir():
            h.update(str(q.relative_to(p)).encode() + b"\0")
        with open(q, "rb") as fh:
            while block := fh.read(1 << 22):
                h.update(block)
                if progress is not None:
                    progress.update(len(block))
    return h.hexdigest()


def source_sha256(path: str | os.PathLike[str], known: str | None = None) -> str | None:
    """The ``source_sha256`` a converter records: ``known`` if the caller passed it,
    else computed here; None for a directory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("abc")
    >>> source_sha256(p)[:16], source_sha256(p, "given"), source_sha256(p.parent)
    ('ba7816bf8f01cfea', 'given', None)
    """
    if not Path(path).is_file():
        return None
    return known if known is not None else sha256_path(path)
