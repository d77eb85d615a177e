"""``nbt fetch NAME``: download an official benchmark file, verified, into the cache.

``nbt fetch --list`` shows every official file; ``nbt fetch NAME --verify FILE`` checks a
file downloaded by hand. Exit codes: 0 done, 1 the file must be downloaded by hand
(instructions printed), 2 an error (unknown name, checksum mismatch, failed download).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> a = p.parse_args(["fetch", "nb101-only108", "--cache", "/tmp/c"])
>>> a.name, a.cache, a.verify
('nb101-only108', '/tmp/c', None)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nasbench_tools.errors import OutOfDomainError


def _list(cache: str | None) -> int:
    from nasbench_tools.store import fetch as f

    folder = f.default_cache() if cache is None else cache
    sys.stdout.write(f"cache: {folder} (--cache or ${f.CACHE_ENV})\n")
    for entry in f.REGISTRY.values():
        how = "download" if entry.scriptable else "by hand"
        sha = "sha256 published" if entry.sha256 is not None else "no published sha256"
        sys.stdout.write(f"{entry.name:15s} {entry.filename:32s} {how:9s} {sha}\n"
                         f"{'':15s} {entry.description}\n")
    return 0


def _report(result: Any, entry: Any) -> None:
    from nasbench_tools.store import fetch as f

    if result.verified:
        sys.stdout.write(f"{result.path}: SHA-256 {result.sha256} matches the published one\n")
    else:
        sys.stdout.write(
            f"{result.path}: SHA-256 {result.sha256} (computed; it could not be verified "
            f"against a published one: {entry.checksum_source})\n")
    sys.stdout.write(f"convert it with:\n  {f.convert_command(entry, result.path)}\n")


def run(args: argparse.Namespace) -> int:
    """Fetch, verify or list; print the path, the checksum status and the convert command."""
    from nasbench_tools.store import fetch as f

    if args.retries < 0:
        raise OutOfDomainError(f"--retries {args.retries}: must be 0 or more")
    if args.list:
        return _list(args.cache)
    if args.name is None:
        raise OutOfDomainError(
            f"give the NAME of an official file or --list; allowed: "
            f"{', '.join(sorted(f.REGISTRY))}")
    entry = f.resolve(args.name, f.REGISTRY)
    if args.verify is not None:
        result = f.verify(entry.name, args.verify, f.REGISTRY)
        _report(result, entry)
        if result.path.name != entry.filename:
            sys.stdout.write(f"note: the official file name is {entry.filename}; the official "
                             "APIs look for that name\n")
        return 0
    if not entry.scriptable:
        folder = f.default_cache() if args.cache is None else args.cache
        sys.stderr.write(f.manual_instructions(entry, folder) + "\n")
        return 1
    result = f.fetch(entry.name, cache=args.cache, registry=f.REGISTRY,
                     progress=not args.quiet and sys.stderr.isatty(), retries=args.retries)
    if not result.downloaded:
        sys.stdout.write(f"{entry.filename}: already in the cache\n")
    _report(result, entry)
    return 0


def register(subparsers: Any) -> None:
    """Add the ``fetch`` sub-command (imports neither pooch nor torch)."""
    p = subparsers.add_parser(
        "fetch", help="download an official benchmark file (verified) into the cache",
        description="Download an official benchmark file into the cache, resumably, and "
        "check its published SHA-256 before it is moved into place. Files published only "
        "on Google Drive / Baidu Pan are downloaded by hand: the command says where, and "
        "`nbt fetch NAME --verify FILE` checks them. See `nbt fetch --list`.")
    p.add_argument("name", nargs="?", help="official file: a name of --list, or its file name")
    p.add_argument("--list", action="store_true", help="list the official files and exit")
    p.add_argument("--cache", help="cache folder (default: $NBT_CACHE, else the platform "
                                   "cache dir, e.g. ~/.cache/nasbench-tools)")
    p.add_argument("--verify", metavar="FILE",
                   help="check FILE (downloaded by hand) against the published checksum")
    p.add_argument("--retries", type=int, default=3,
                   help="resumed attempts after a broken connection (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
