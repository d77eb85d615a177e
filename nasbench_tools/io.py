"""Small I/O helpers shared by every floor: atomic writes, output locks, SQLite journals.

Also the test hook :func:`fault_point` of the reliability suite (``docs/reliability.md``).

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(d / "out.txt") as tmp:
...     _ = tmp.write_text("hello")
>>> (d / "out.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from nasbench_tools.errors import BusyError, FormatError

__all__ = [
    "FAULT_ENV",
    "atomic_path",
    "atomic_write_text",
    "fault_point",
    "open_sqlite",
    "output_lock",
]

log = logging.getLogger(__name__)

#: Environment variable of :func:`fault_point`: ``POINT:N`` kills the process with SIGKILL
#: the N-th time it passes ``POINT`` (a test hook; unset in normal use).
FAULT_ENV = "NBT_FAULT_KILL"
_FAULT_COUNTS: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Test hook: die by ``SIGKILL`` here if ``$NBT_FAULT_KILL`` says so.

    The reliability suite sets ``NBT_FAULT_KILL=store.append:2`` (say) in a child process
    to kill it at an exact point (the second chunk appended to a store), as ``kill -9``
    would; then it checks that re-running the command loses and redoes nothing. Without
    the variable this is a dictionary look-up and returns.

    Examples
    --------
    >>> fault_point("store.append")  # NBT_FAULT_KILL unset: nothing happens
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    count = _FAULT_COUNTS[name] = _FAULT_COUNTS.get(name, 0) + 1
    if count == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


#: Locks this process holds (resolved lock path -> depth): :func:`output_lock` is re-entrant.
_HELD: dict[str, int] = {}


def _lock_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def output_lock(target: str | os.PathLike[str], *, wait: bool = False,
                clean_temps: bool = True) -> Iterator[Path]:
    """Hold an exclusive lock on ``target`` (a lock file beside it) while writing it.

    Two processes writing the same output are refused (``wait=False``: the second raises
    :class:`~nasbench_tools.errors.BusyError`) or serialised (``wait=True``). The lock is an
    ``fcntl.flock`` on ``.<name>.lock``: the kernel releases it when its holder dies, even
    by ``kill -9``, so a lock is never stale; a holder that ends normally removes the file.
    Holding it, the temporary files that a killed
    writer left beside ``target`` (``.<name>.*.tmp``) are removed (``clean_temps``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.h5"
    >>> with output_lock(out) as lock:  # another process would now get BusyError
    ...     with output_lock(out):  # re-entrant within this process
    ...         lock.name
    '.s.h5.lock'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_name(target)
    key = str(lock.resolve())
    if key in _HELD:  # this process holds it already (a command around a library writer)
        _HELD[key] += 1
        try:
            yield lock
        finally:
            _HELD[key] -= 1
        return
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BusyError(
                f"{str(target)!r} is being written by another process (pid {holder}, lock "
                f"{lock.name}); wait for it to finish or choose another output"
            ) from None
        try:  # the holder before us removes the file on release: lock the file in place
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if clean_temps:
            for stale in target.parent.glob(f".{target.name}.*.tmp"):
                log.info("removing %s, left by an interrupted writer", stale)
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        _HELD[key] = 1
        try:
            yield lock
        finally:
            del _HELD[key]
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()  # still holding it: nobody else can have it now
        os.close(fd)  # releases the lock


def _check_sqlite_size(path: Path) -> None:
    """Refuse an SQLite file shorter than its header says (cut pages are not always noticed
    by SQLite itself, which reads missing pages as zeros)."""
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise FormatError(f"{str(path)!r} is not a readable SQLite database (it does not start "
                          "with the 100-byte SQLite header)")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96]  # the in-header size is valid for this change count
    size = path.stat().st_size
    if valid and pages and size < pages * page:
        raise FormatError(f"{str(path)!r} is a truncated SQLite database (its header declares "
                          f"{pages} pages of {page} bytes, the file holds {size} bytes)")


def open_sqlite(path: str | os.PathLike[str], *, schema: str,
                columns: Mapping[str, Sequence[str]], timeout: float = 60.0,
                check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating if absent) an SQLite journal; refuse a damaged or foreign one.

    An existing file must pass ``PRAGMA quick_check`` and hold ``columns`` (table -> column
    names, in order) after ``schema`` (``CREATE TABLE IF NOT EXISTS ...``) ran; otherwise
    :class:`~nasbench_tools.errors.FormatError` names the file and what is wrong. An empty
    file is a new database (what SQLite itself makes of it). A file that another process
    keeps locked for longer than ``timeout`` seconds raises
    :class:`~nasbench_tools.errors.BusyError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "j.sqlite"
    >>> con = open_sqlite(p, schema="CREATE TABLE IF NOT EXISTS t (a, b);",
    ...                   columns={"t": ["a", "b"]})
    >>> _ = p.write_bytes(b"garbage" * 100)
    >>> try:
    ...     open_sqlite(p, schema="", columns={})
    ... except FormatError as e:
    ...     print("not a readable SQLite database" in str(e))
    True
    """
    path = Path(path)
    if path.is_dir():
        raise FormatError(f"{str(path)!r} is a directory, not an SQLite database")
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.is_file() and path.stat().st_size > 0
    if existed:
        _check_sqlite_size(path)
    # SQLite answers "database is locked" at once, without its busy handler, when two
    # connections race to switch a new file to WAL or to upgrade a read lock: that is a
    # busy file, not a damaged one, so it is retried until ``timeout`` and then reported as
    # BusyError (never as FormatError, which would tell the user to throw the file away).
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        try:
            return _connect_checked(path, existed, schema=schema, columns=columns,
                                    timeout=timeout, check_same_thread=check_same_thread)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise _sqlite_error(path, exc) from exc
            if time.monotonic() + pause > deadline:
                raise BusyError(
                    f"SQLite database {str(path)!r} stayed locked by another process for "
                    f"{timeout:g} s ({exc}); wait for that process to finish, or use "
                    f"another file") from exc
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        except sqlite3.DatabaseError as exc:
            raise _sqlite_error(path, exc) from exc


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` says another connection holds a lock (SQLITE_BUSY / SQLITE_LOCKED)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _sqlite_error(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    """The error to raise for an SQLite error that is not a held lock."""
    # a failed write (OperationalError "disk I/O error", "database or disk is full") is not
    # a damaged file; a corrupt one ("database disk image is malformed") is a plain
    # DatabaseError, hence the type check before the words
    if isinstance(exc, sqlite3.OperationalError) and ("disk" in str(exc) or "full" in str(exc)):
        return OSError(errno.ENOSPC, f"cannot write SQLite database {str(path)!r} ({exc})")
    return FormatError(f"{str(path)!r} is not a readable SQLite database ({exc})")


def _connect_checked(path: Path, existed: bool, *, schema: str,
                     columns: Mapping[str, Sequence[str]], timeout: float,
                     check_same_thread: bool) -> sqlite3.Connection:
    """One attempt of :func:`open_sqlite`; the connection is closed on any error."""
    con = sqlite3.connect(str(path), timeout=timeout, check_same_thread=check_same_thread)
    try:
        if existed:
            problems = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise FormatError(f"{str(path)!r} is a damaged SQLite database ("
                                  + "; ".join(problems) + ")")
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(schema)
        for table, want in columns.items():
            have = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            if have != list(want):
                raise FormatError(
                    f"{str(path)!r}: table {table!r} has columns {have}, this version of "
                    f"nasbench-tools reads {list(want)}; use another file"
                )
    except BaseException:
        con.close()
        raise
    return con


def _umask() -> int:
    """The process umask (reading it requires setting it; restored at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left untouched, so an
    interrupted write never leaves a partial file under the target name.

    Parameters
    ----------
    target : path-like
        Final location.

    Yields
    ------
    pathlib.Path
        Where to write.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp creates mode 0600; give the file the permissions a plain open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        fault_point("atomic.replace")
        os.replace(tmp, target)
        fault_point("atomic.replaced")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``target`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_text(p, "x")
    >>> p.read_text()
    'x'
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text)
