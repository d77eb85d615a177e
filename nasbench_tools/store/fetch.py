"""Download and verify the official benchmark files (``nbt fetch``).

:data:`REGISTRY` lists every official file the converters read, as :class:`OfficialFile`
records: where the authors publish it, its SHA-256 where they published one (``None``
where they did not: then the SHA-256 computed here is shown but cannot be verified), and
the ``nbt convert`` command that turns it into a store.

:func:`fetch` downloads through `pooch <https://www.fatiando.org/pooch>`_ with a resumable
downloader of ours (:class:`ResumableDownloader`): bytes go to ``<cache>/<file>.part``,
an interrupted download resumes with an HTTP ``Range`` request (or restarts when the server
ignores it), and the whole file is checked against the SHA-256 before pooch moves it under
its final name; a file that fails the check is deleted, never left in the cache. Files
that are published only on sites a script cannot download from (Google Drive, Baidu Pan)
raise :class:`~nasbench_tools.errors.DownloadError` with :func:`manual_instructions`: where
to get the file by hand and the ``nbt fetch NAME --verify FILE`` command that checks it.

Sources of the facts (read at the commits named): the README of google-research/nasbench
(b942470, URLs and SHA-256 of both tfrecords), of D-X-Y/NAS-Bench-201 (7fa5a61, Google
Drive / Baidu links of the ``.pth`` files, no checksum) and of D-X-Y/NATS-Bench (1d4a304,
Google Drive / Baidu / Dropbox / OneDrive links, no checksum).

Examples
--------
>>> sorted(REGISTRY)[:2]
['nats-sss', 'nats-sss-pbz2']
>>> entry = resolve("nasbench_only108.tfrecord")
>>> entry.name, entry.scriptable, entry.sha256[:8]
('nb101-only108', True, '4c39c393')
>>> resolve("nb201-v1_1").scriptable
False
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_tools.errors import ChecksumError, DownloadError, OutOfDomainError, allowed

__all__ = [
    "CACHE_ENV",
    "REGISTRY",
    "FetchResult",
    "OfficialFile",
    "ResumableDownloader",
    "convert_command",
    "default_cache",
    "fetch",
    "file_sha256",
    "manual_instructions",
    "resolve",
    "verify",
]

log = logging.getLogger(__name__)

#: Environment variable naming the cache folder (overridden by ``cache=`` / ``--cache``).
CACHE_ENV = "NBT_CACHE"

_NB101_README = "README of google-research/nasbench (commit b942470)"
_NB201_README = "README of D-X-Y/NAS-Bench-201 (commit 7fa5a61)"
_NATS_README = "README of D-X-Y/NATS-Bench (commit 1d4a304)"
_NATS_MIRRORS = (
    "Dropbox: https://www.dropbox.com/sh/ceeo70u1buow681/AAC2M-SbKOxiIqpB0UCgXNxja?dl=0",
    "OneDrive: https://1drv.ms/u/s!Aqkc27lrowWDf6SvuIkSXx0UQaI?e=nfvM5r",
    "Baidu Pan (all files, extract code h6pm): https://pan.baidu.com/s/144VC2BDm6iXbAVzMUpqO7A",
)


@dataclass(frozen=True)
class OfficialFile:
    """One official benchmark file.

    Attributes
    ----------
    name : str
        Registry key (what ``nbt fetch NAME`` takes; the file name is accepted too).
    filename : str
        The official file name.
    description : str
        What it holds, with its approximate size.
    urls : tuple of str
        Direct download URLs a script can use, tried in order; empty when the file is only
        on sites that need a browser.
    manual : tuple of str
        Where to download it by hand (shown when ``urls`` is empty).
    sha256 : str or None
        The published SHA-256; ``None`` when the authors published none.
    checksum_source : str
        Where ``sha256`` comes from, or why there is none.
    unpack : str
        Shell command run on the downloaded file before converting (``{file}``, ``{dir}``),
        empty when the file is converted as is.
    convert_source : str
        What ``nbt convert`` reads: ``{file}`` or a path under ``{dir}``.
    store : str
        Suggested store file name.
    """

    name: str
    filename: str
    description: str
    urls: tuple[str, ...]
    manual: tuple[str, ...]
    sha256: str | None
    checksum_source: str
    unpack: str = ""
    convert_source: str = "{file}"
    store: str = "store.h5"

    @property
    def scriptable(self) -> bool:
        """Whether a script can download the file (it has direct URLs)."""
        return bool(self.urls)


def _nats(space: str, digest: str, kind: str, drive: str, baidu: str) -> OfficialFile:
    stem = f"NATS-{space}-v1_0-{digest}"
    what = {"tss": "topology space, 15,625 cells", "sss": "size space, 32,768 cells"}[space]
    note = (f"no checksum published ({_NATS_README}); '{digest}' in the name is part of "
            "an MD5 sum of the authors, which file it covers is not stated")
    if kind == "simple":
        return OfficialFile(
            name=f"nats-{space}", filename=f"{stem}-simple.tar",
            description=f"NATS-Bench {what}: fast-mode archive (one file per cell, no weights)",
            urls=(),
            manual=(f"Google Drive: https://drive.google.com/file/d/{drive}/view",
                    f"Baidu Pan: {baidu}", *_NATS_MIRRORS),
            sha256=None, checksum_source=note,
            unpack="tar xf {file} -C {dir}", convert_source=f"{{dir}}/{stem}-simple",
            store=f"nats_{space}.h5")
    return OfficialFile(
        name=f"nats-{space}-pbz2", filename=f"{stem}.pickle.pbz2",
        description=f"NATS-Bench {what}: the whole benchmark in one bz2 pickle",
        urls=(),
        manual=(f"Google Drive: https://drive.google.com/file/d/{drive}/view",
                f"Baidu Pan: {baidu}", *_NATS_MIRRORS),
        sha256=None, checksum_source=note, store=f"nats_{space}.h5")


#: Every official file ``nbt fetch`` knows, by name.
REGISTRY: dict[str, OfficialFile] = {
    entry.name: entry
    for entry in (
        OfficialFile(
            name="nb101-only108", filename="nasbench_only108.tfrecord",
            description="NAS-Bench-101, 423,624 cells x 3 repeats at 108 epochs (about 499 MB)",
            urls=("https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",),
            manual=(),
            sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
            checksum_source=_NB101_README, store="nb101_only108.h5"),
        OfficialFile(
            name="nb101-full", filename="nasbench_full.tfrecord",
            description="NAS-Bench-101, 423,624 cells x 3 repeats at 4, 12, 36 and 108 "
                        "epochs (about 1.95 GB)",
            urls=("https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",),
            manual=(),
            sha256="3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
            checksum_source=_NB101_README, store="nb101_full.h5"),
        OfficialFile(
            name="nb201-v1_0", filename="NAS-Bench-201-v1_0-e61699.pth",
            description="NAS-Bench-201 file v1.0 (about 2.2 GB; deprecated by the authors)",
            urls=(),
            manual=("Google Drive: https://drive.google.com/file/d/"
                    "1SKW0Cu0u8-gb18zDpaAGi0f74UdXeGKs/view",
                    "Baidu Pan (code 6u5d): https://pan.baidu.com/s/1CiaNH6C12zuZf7q-Ilm09w"),
            sha256=None,
            checksum_source=f"no checksum published ({_NB201_README}); 'e61699' in the name "
                            "is 'the last six digits' of a digest whose algorithm is not stated",
            store="nb201_v1_0.h5"),
        OfficialFile(
            name="nb201-v1_1", filename="NAS-Bench-201-v1_1-096897.pth",
            description="NAS-Bench-201 file v1.1 (about 4.7 GB; recommended by the authors)",
            urls=(),
            manual=("Google Drive: https://drive.google.com/file/d/"
                    "16Y0UwGisiouVRxW-W5hEtbxmcHw_0hF_/view",),
            sha256=None,
            checksum_source=f"no checksum published ({_NB201_README}); '096897' in the name "
                            "is 'the last six digits' of a digest whose algorithm is not stated",
            store="nb201_v1_1.h5"),
        _nats("tss", "3ffb9", "simple", "17_saCsj_krKjlCBLOJEpNtzPXArMCqxU",
              "https://pan.baidu.com/s/1vOnrHLxCB4y8cxUDrHUYAg (code tu1e)"),
        _nats("sss", "50262", "simple", "1scOMTUwcQhAMa_IMedp9lTzwmgqHLGgA",
              "https://pan.baidu.com/s/1ek-b89Pw2qdm9MP6KKkErA (code e4t9)"),
        _nats("tss", "3ffb9", "pbz2", "1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul",
              "https://pan.baidu.com/s/10z20F5s2RRPzGwRO40fLTw (code 8duj)"),
        _nats("sss", "50262", "pbz2", "1IabIvzWeDdDAWICBzFtTCMXxYWPIOIOX",
              "https://pan.baidu.com/s/1M1UaXr6y1D_RqEYg95YJcA (code za2h)"),
    )
}


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch` / :func:`verify` found.

    Attributes
    ----------
    path : pathlib.Path
        The file (in the cache after a fetch).
    sha256 : str
        Its SHA-256 (computed, or the published one it was checked against).
    verified : bool
        True when it matched a published SHA-256; False when none is published.
    downloaded : bool
        False when the file was already in the cache (or for :func:`verify`).
    """

    path: Path
    sha256: str
    verified: bool
    downloaded: bool


def _registry(registry: Mapping[str, OfficialFile] | None) -> Mapping[str, OfficialFile]:
    return REGISTRY if registry is None else registry


def resolve(name: str, registry: Mapping[str, OfficialFile] | None = None) -> OfficialFile:
    """The registry entry called ``name`` (a registry key or an official file name).

    Raises
    ------
    OutOfDomainError
        Unknown name; the message lists the allowed names.

    Examples
    --------
    >>> resolve("NAS-Bench-201-v1_0-e61699.pth").name
    'nb201-v1_0'
    >>> resolve("nb102")
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.OutOfDomainError: unknown official file 'nb102'; allowed: ...
    """
    reg = _registry(registry)
    if name in reg:
        return reg[name]
    for entry in reg.values():
        if entry.filename == name:
            return entry
    raise OutOfDomainError(f"unknown official file {name!r}; allowed: {allowed(sorted(reg), 50)}")


def default_cache() -> Path:
    """The cache folder: ``$NBT_CACHE`` if set, else the platform's cache dir (via pooch).

    Examples
    --------
    >>> import os
    >>> os.environ["NBT_CACHE"] = "/tmp/nbt-cache"
    >>> str(default_cache())
    '/tmp/nbt-cache'
    >>> del os.environ["NBT_CACHE"]
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("nasbench-tools")).expanduser()


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def manual_instructions(entry: OfficialFile, cache: str | os.PathLike[str] | None = None) -> str:
    """How to download ``entry`` by hand and verify it.

    Examples
    --------
    >>> print(manual_instructions(REGISTRY["nb201-v1_1"], "/c").splitlines()[0])
    NAS-Bench-201-v1_1-096897.pth is published only on sites that a script cannot download from.
    """
    target = Path(cache) / entry.filename if cache is not None else Path(entry.filename)
    lines = [f"{entry.filename} is published only on sites that a script cannot download from.",
             f"Download it by hand ({entry.description}) from one of:"]
    lines += [f"  {m}" for m in entry.manual]
    lines += ["Then check it (and get the conversion command) with:",
              f"  nbt fetch {entry.name} --verify {shlex.quote(str(target))}"]
    if entry.sha256 is None:
        lines.append(f"(Checksum: {entry.checksum_source}.)")
    return "\n".join(lines)


def convert_command(entry: OfficialFile, path: str | os.PathLike[str]) -> str:
    """The shell command(s) that turn the file at ``path`` into a store.

    Examples
    --------
    >>> convert_command(REGISTRY["nb101-only108"], "/c/nasbench_only108.tfrecord")
    'nbt convert /c/nasbench_only108.tfrecord -o nb101_only108.h5'
    >>> convert_command(REGISTRY["nats-tss"], "/c/NATS-tss-v1_0-3ffb9-simple.tar")
    'tar xf /c/NATS-tss-v1_0-3ffb9-simple.tar -C /c && nbt convert /c/NATS-tss-v1_0-3ffb9-simple -o nats_tss.h5'
    """
    path = Path(path)
    fill = {"file": shlex.quote(str(path)), "dir": shlex.quote(str(path.parent))}
    source = entry.convert_source.format(**fill)
    cmd = f"nbt convert {source} -o {entry.store}"
    return f"{entry.unpack.format(**fill)} && {cmd}" if entry.unpack else cmd


def verify(name: str, path: str | os.PathLike[str],
           registry: Mapping[str, OfficialFile] | None = None) -> FetchResult:
    """Check a file downloaded by hand against the published SHA-256 of ``name``.

    Returns
    -------
    FetchResult
        ``verified`` is False when no SHA-256 is published (``sha256`` is then the one
        computed here).

    Raises
    ------
    ChecksumError
        The file's SHA-256 differs from the published one.
    DownloadError
        ``path`` is not a readable file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "NAS-Bench-201-v1_1-096897.pth"
    >>> _ = p.write_bytes(b"abc")
    >>> r = verify("nb201-v1_1", p)
    >>> r.verified, r.sha256[:8]
    (False, 'ba7816bf')
    >>> verify("nb101-only108", p)
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.ChecksumError: ...
    """
    entry = resolve(name, registry)
    path = Path(path)
    if not path.is_file():
        raise DownloadError(f"{path}: not a file (expected {entry.filename})")
    digest = file_sha256(path)
    if entry.sha256 is not None and digest != entry.sha256.lower():
        raise ChecksumError(
            f"{path}: SHA-256 {digest} differs from the published {entry.sha256} of "
            f"{entry.filename} ({entry.checksum_source}); the file is damaged or not this release")
    return FetchResult(path, digest, entry.sha256 is not None, False)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (POSIX ``flock``; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DownloadError(f"{path}: another process is downloading this file; "
                                "wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class ResumableDownloader:
    """A pooch downloader that resumes from a ``.part`` file with HTTP ``Range``.

    Parameters
    ----------
    part : path-like
        Where the bytes accumulate; kept across failures so a later call resumes.
    retries : int, default 3
        Further attempts after a connection error or a short body, each resuming.
    progress : bool, default True
        Show a tqdm progress bar (on stderr).
    timeout : float, default 60
        Seconds to wait for the server (connect and each read).
    chunk : int, default 64 KiB
        Bytes per read.

    Notes
    -----
    A server that answers a ``Range`` request with ``200`` (whole body) restarts the file;
    ``206`` appends when its ``Content-Range`` starts where the part ends; ``416`` with the
    part's size as total means the part is complete. Other HTTP errors raise
    :class:`~nasbench_tools.errors.DownloadError` at once (no retry).

    Examples
    --------
    >>> d = ResumableDownloader("/tmp/x.part", retries=0)
    >>> d.retries, d.requests
    (0, [])
    """

    def __init__(self, part: str | os.PathLike[str], *, retries: int = 3, progress: bool = True,
                 timeout: float = 60.0, chunk: int = 1 << 16) -> None:
        self.part = Path(part)
        self.retries = retries
        self.progress = progress
        self.timeout = timeout
        self.chunk = chunk
        #: (url, offset asked) of every request made, for logs and tests.
        self.requests: list[tuple[str, int]] = []

    def __call__(self, url: str, output_file: Any, pooch: Any = None) -> None:
        """Download ``url`` into ``output_file`` (a path; pooch's temporary file)."""
        import requests

        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                self._once(url)
                break
            except (requests.RequestException, _ShortBody) as exc:
                last = exc
                have = self.part.stat().st_size if self.part.exists() else 0
                log.warning("download of %s interrupted at %d bytes (%s); %s", url, have, exc,
                            "retrying" if attempt < self.retries else "giving up")
        else:
            raise DownloadError(
                f"{url}: download failed after {self.retries + 1} attempt(s): {last}; "
                f"the bytes received are kept in {self.part} and the next run resumes") from last
        os.replace(self.part, output_file)

    def _once(self, url: str) -> None:
        import requests
        from tqdm.auto import tqdm

        offset = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        self.requests.append((url, offset))
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as resp:
            if resp.status_code == 416 and offset:
                total = _content_range_total(resp.headers.get("Content-Range", ""))
                if total == offset:
                    return  # the part is already the whole file
                log.info("%s: server refused resuming at %d; restarting", url, offset)
                self.part.unlink()
                raise _ShortBody("range not satisfiable; restarting")
            if resp.status_code >= 400:
                raise DownloadError(f"{url}: HTTP {resp.status_code} {resp.reason}")
            mode = "wb"
            if resp.status_code == 206:
                start = _content_range_start(resp.headers.get("Content-Range", ""))
                if start == offset:
                    mode = "ab"
                else:
                    raise DownloadError(f"{url}: server resumed at byte {start}, asked {offset}")
            elif offset:
                log.info("%s: server ignores Range; restarting from byte 0", url)
                offset = 0
            length = resp.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            with open(self.part, mode) as fh, tqdm(
                total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                desc=self.part.name.removesuffix(".part"), disable=not self.progress,
                leave=False,
            ) as bar:
                for block in resp.iter_content(chunk_size=self.chunk):
                    fh.write(block)
                    bar.update(len(block))
                fh.flush()
                os.fsync(fh.fileno())
            size = self.part.stat().st_size
            if total is not None and size != total:
                raise _ShortBody(f"got {size} of {total} bytes")


class _ShortBody(Exception):
    """The body ended before Content-Length (internal: triggers a resume)."""


def _content_range_total(value: str) -> int | None:
    tail = value.rpartition("/")[2]
    return int(tail) if tail.isdigit() else None


def _content_range_start(value: str) -> int | None:
    # "bytes 100-199/200"
    head = value.partition(" ")[2].partition("-")[0]
    return int(head) if head.isdigit() else None


def fetch(name: str, *, cache: str | os.PathLike[str] | None = None,
          registry: Mapping[str, OfficialFile] | None = None, progress: bool = True,
          retries: int = 3, timeout: float = 60.0) -> FetchResult:
    """Download the official file ``name`` into the cache, verified, and return its path.

    A file already in the cache is checked (SHA-256 where one is published) and not
    downloaded again. The download resumes from ``<cache>/<file>.part`` after an
    interruption (see :class:`ResumableDownloader`); the file appears under its final name
    only after the checksum matched.

    Parameters
    ----------
    name : str
        Registry key or official file name (:data:`REGISTRY`).
    cache : path-like, optional
        Cache folder; default :func:`default_cache`.
    registry : mapping, optional
        Registry to use instead of :data:`REGISTRY` (tests, mirrors).
    progress : bool, default True
        Progress bar on stderr.
    retries : int, default 3
        Resumed attempts after a connection error.
    timeout : float, default 60
        Seconds to wait for the server.

    Returns
    -------
    FetchResult

    Raises
    ------
    OutOfDomainError
        Unknown ``name``.
    DownloadError
        The file is published only on sites a script cannot use (the message says where to
        get it and how to verify it), or the download failed.
    ChecksumError
        The downloaded bytes do not match the published SHA-256 (nothing is kept).

    Examples
    --------
    >>> fetch("nb201-v1_1", cache="/tmp/nbt-doc-cache")
    Traceback (most recent call last):
    ...
    nasbench_tools.errors.DownloadError: NAS-Bench-201-v1_1-096897.pth is published only on sites ...
    """
    import pooch

    entry = resolve(name, registry)
    folder = Path(cache).expanduser() if cache is not None else default_cache()
    if not entry.scriptable:
        raise DownloadError(manual_instructions(entry, folder))
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / entry.filename
    known = f"sha256:{entry.sha256}" if entry.sha256 is not None else None
    part = folder / f"{entry.filename}.part"
    errors: list[str] = []
    with _lock(folder / f".{entry.filename}.lock"):
        for url in entry.urls:
            downloader = ResumableDownloader(part, retries=retries, progress=progress,
                                             timeout=timeout)
            try:
                pooch.retrieve(url, known_hash=known, fname=entry.filename, path=folder,
                               downloader=downloader)
            except ValueError as exc:  # pooch: hash mismatch (the download was deleted)
                raise ChecksumError(
                    f"{entry.filename} from {url}: the downloaded file does not match the "
                    f"published SHA-256 {entry.sha256} ({entry.checksum_source}); it was "
                    "deleted, nothing was kept in the cache. Retry later or download it by hand "
                    f"and run: nbt fetch {entry.name} --verify FILE") from exc
            except DownloadError as exc:
                errors.append(str(exc))
                continue
            break
        else:
            raise DownloadError(f"{entry.filename}: every URL failed: " + " | ".join(errors))
    digest = entry.sha256 if entry.sha256 is not None else file_sha256(final)
    return FetchResult(final, digest, entry.sha256 is not None,
                       downloaded=bool(downloader.requests))
