"""``nbt fetch``: downloads from a local HTTP server (127.0.0.1, port 0), never the internet.

The fixture files are served by a stdlib ``http.server`` in a thread; the official registry
is never edited: each test passes (or monkeypatches in) a registry of its own.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nasbench_tools.cli.main import main
from nasbench_tools.errors import ChecksumError, DownloadError, OutOfDomainError
from nasbench_tools.store import fetch as f

ROOT = Path(__file__).resolve().parents[1]
DATA = bytes(range(256)) * 4096  # 1 MiB: the half sent before a cut spans several chunks
SHA = hashlib.sha256(DATA).hexdigest()


class _Server:
    """Serves DATA under a few paths with different faults; records every request."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str | None]] = []
        self.failures: dict[str, int] = {}  # path -> how many more requests to cut short
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:
                path = self.path
                rng = self.headers.get("Range")
                server.log.append((path, rng))
                if path == "/missing.bin":
                    self.send_error(404)
                    return
                body = DATA
                if path == "/corrupt.bin":
                    body = DATA[:-1] + b"\x00"
                start = 0
                honour_range = path != "/norange.bin"
                if rng and honour_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(body) and rng:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes" if honour_range else "none")
                self.end_headers()
                payload = body[start:]
                if server.failures.get(path, 0) > 0:
                    server.failures[path] -= 1
                    # Half the body, then the connection is closed mid-body.
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def entry(self, name: str, path: str, sha256: str | None = SHA) -> f.OfficialFile:
        return f.OfficialFile(
            name=name, filename=f"{name}.bin", description="fixture", urls=(self.url + path,),
            manual=(), sha256=sha256, checksum_source="test fixture", store=f"{name}.h5")


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


def _registry(server: _Server) -> dict[str, f.OfficialFile]:
    return {e.name: e for e in (
        server.entry("good", "/good.bin"),
        server.entry("corrupt", "/corrupt.bin"),
        server.entry("flaky", "/flaky.bin"),
        server.entry("norange", "/norange.bin"),
        server.entry("missing", "/missing.bin"),
        server.entry("unpublished", "/good.bin", sha256=None),
    )}


def _leftovers(cache: Path) -> list[str]:
    """Files in the cache apart from lock files."""
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_good_file_is_verified_and_cached(server: _Server, tmp_path: Path) -> None:
    reg = _registry(server)
    r = f.fetch("good", cache=tmp_path, registry=reg, progress=False)
    assert r.path == tmp_path / "good.bin" and r.verified and r.downloaded
    assert r.path.read_bytes() == DATA and r.sha256 == SHA
    assert _leftovers(tmp_path) == ["good.bin"]
    # Second call: checked, not downloaded again.
    n = len(server.log)
    again = f.fetch("good.bin", cache=tmp_path, registry=reg, progress=False)
    assert not again.downloaded and len(server.log) == n


def test_cached_file_damaged_later_is_downloaded_again(server: _Server, tmp_path: Path) -> None:
    reg = _registry(server)
    f.fetch("good", cache=tmp_path, registry=reg, progress=False)
    (tmp_path / "good.bin").write_bytes(b"damaged")
    r = f.fetch("good", cache=tmp_path, registry=reg, progress=False)
    assert r.downloaded and r.path.read_bytes() == DATA


def test_corrupted_download_is_refused_and_not_kept(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(ChecksumError, match=r"corrupt\.bin.*does not match the published SHA-256"):
        f.fetch("corrupt", cache=tmp_path, registry=_registry(server), progress=False)
    assert _leftovers(tmp_path) == []  # no final file, no .part, no pooch temporary


def test_interrupted_download_resumes_with_range(server: _Server, tmp_path: Path) -> None:
    reg = _registry(server)
    server.failures["/flaky.bin"] = 1
    with pytest.raises(DownloadError, match="the next run resumes"):
        f.fetch("flaky", cache=tmp_path, registry=reg, progress=False, retries=0)
    assert _leftovers(tmp_path) == ["flaky.bin.part"]
    half = (tmp_path / "flaky.bin.part").stat().st_size
    assert 0 < half < len(DATA)
    r = f.fetch("flaky", cache=tmp_path, registry=reg, progress=False, retries=0)
    assert r.verified and r.path.read_bytes() == DATA
    assert server.log[-1] == ("/flaky.bin", f"bytes={half}-")
    assert _leftovers(tmp_path) == ["flaky.bin"]


def test_interruptions_are_retried_in_one_call(server: _Server, tmp_path: Path) -> None:
    server.failures["/flaky.bin"] = 2
    r = f.fetch("flaky", cache=tmp_path, registry=_registry(server), progress=False, retries=2)
    assert r.path.read_bytes() == DATA
    ranges = [rng for path, rng in server.log if path == "/flaky.bin"]
    assert ranges[0] is None and all(x is not None for x in ranges[1:]) and len(ranges) == 3


def test_server_ignoring_range_restarts(server: _Server, tmp_path: Path) -> None:
    server.failures["/norange.bin"] = 1
    r = f.fetch("norange", cache=tmp_path, registry=_registry(server), progress=False, retries=1)
    assert r.path.read_bytes() == DATA and r.verified
    assert len([p for p, _ in server.log if p == "/norange.bin"]) == 2


def test_complete_part_file_is_finished_without_body(server: _Server, tmp_path: Path) -> None:
    (tmp_path / "good.bin.part").write_bytes(DATA)  # e.g. killed after the last byte
    r = f.fetch("good", cache=tmp_path, registry=_registry(server), progress=False)
    assert r.path.read_bytes() == DATA
    assert server.log == [("/good.bin", f"bytes={len(DATA)}-")]


def test_second_downloader_of_the_same_file_is_refused(server: _Server, tmp_path: Path) -> None:
    with f._lock(tmp_path / ".good.bin.lock"):  # another process holds the file
        with pytest.raises(DownloadError, match="another process is downloading"):
            f.fetch("good", cache=tmp_path, registry=_registry(server), progress=False)
    assert server.log == [] and _leftovers(tmp_path) == []
    assert f.fetch("good", cache=tmp_path, registry=_registry(server), progress=False).verified


def test_http_error_is_a_download_error(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        f.fetch("missing", cache=tmp_path, registry=_registry(server), progress=False)
    assert _leftovers(tmp_path) == []


def test_unpublished_checksum_is_computed_not_verified(server: _Server, tmp_path: Path) -> None:
    r = f.fetch("unpublished", cache=tmp_path, registry=_registry(server), progress=False)
    assert not r.verified and r.sha256 == SHA


def test_cache_from_environment(server: _Server, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f.CACHE_ENV, str(tmp_path / "envcache"))
    r = f.fetch("good", registry=_registry(server), progress=False)
    assert r.path == tmp_path / "envcache" / "good.bin"


def test_manual_only_files_say_where_and_how_to_verify(tmp_path: Path) -> None:
    for entry in f.REGISTRY.values():
        if entry.scriptable:
            continue
        with pytest.raises(DownloadError) as info:
            f.fetch(entry.name, cache=tmp_path)
        text = str(info.value)
        assert entry.filename in text and f"nbt fetch {entry.name} --verify" in text
        assert any(m.split(": ", 1)[1].split()[0] in text for m in entry.manual)
    assert list(tmp_path.iterdir()) == []


def test_registry_facts() -> None:
    """Published SHA-256 only where a source is named; the NB101 converter agrees."""
    from nasbench_tools.store.converters.nb101_tfrecord import KNOWN_RELEASES

    for entry in f.REGISTRY.values():
        if entry.sha256 is not None:
            assert len(entry.sha256) == 64 and "README" in entry.checksum_source
            assert KNOWN_RELEASES[entry.filename] == entry.sha256
        else:
            assert "no checksum published" in entry.checksum_source
        assert entry.scriptable or entry.manual
    assert {e.filename for e in f.REGISTRY.values()} >= {
        "nasbench_only108.tfrecord", "nasbench_full.tfrecord", "NAS-Bench-201-v1_0-e61699.pth",
        "NAS-Bench-201-v1_1-096897.pth", "NATS-tss-v1_0-3ffb9-simple.tar",
        "NATS-sss-v1_0-50262-simple.tar"}


def test_verify_by_hand(tmp_path: Path) -> None:
    p = tmp_path / "nasbench_only108.tfrecord"
    p.write_bytes(DATA)
    with pytest.raises(ChecksumError, match="differs from the published"):
        f.verify("nb101-only108", p)
    with pytest.raises(DownloadError, match="not a file"):
        f.verify("nb101-only108", tmp_path)
    with pytest.raises(OutOfDomainError, match="nb101-only108"):
        f.verify("nb999", p)


# --- the command line -----------------------------------------------------------------------

def test_cli_unknown_name_lists_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "nb999"]) == 2
    err = capsys.readouterr().err
    assert "unknown official file 'nb999'" in err and "'nb101-only108'" in err
    assert "'nats-tss'" in err and "Traceback" not in err


def test_cli_negative_retries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "nb101-only108", "--retries", "-1"]) == 2
    assert "--retries -1" in capsys.readouterr().err


def test_cli_fetch_prints_convert_command(server: _Server, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(f, "REGISTRY", _registry(server))
    assert main(["fetch", "good", "--cache", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert "matches the published one" in out
    assert f"nbt convert {tmp_path / 'good.bin'} -o good.h5" in out
    assert main(["fetch", "unpublished", "--cache", str(tmp_path / "u"), "-q"]) == 0
    out = capsys.readouterr().out
    assert f"SHA-256 {SHA} (computed; it could not be verified" in out
    assert main(["fetch", "corrupt", "--cache", str(tmp_path), "-q"]) == 2
    assert "does not match the published SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "corrupt.bin").exists()


def test_cli_manual_file_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "nb201-v1_1", "--cache", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "drive.google.com" in err and "nbt fetch nb201-v1_1 --verify" in err
    p = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    p.write_bytes(DATA)
    assert main(["fetch", "nb201-v1_1", "--verify", str(p)]) == 0
    out = capsys.readouterr().out
    assert f"SHA-256 {SHA} (computed; it could not be verified against a published one" in out
    assert f"nbt convert {p} -o nb201_v1_1.h5" in out
    other = tmp_path / "renamed.pth"
    other.write_bytes(DATA)
    assert main(["fetch", "nb201-v1_1", "--verify", str(other)]) == 0
    assert "the official file name is NAS-Bench-201-v1_1-096897.pth" in capsys.readouterr().out
    assert main(["fetch", "nb101-full", "--verify", str(p)]) == 2
    assert "differs from the published 3d64db81" in capsys.readouterr().err


def test_cli_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["fetch", "--list", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for entry in f.REGISTRY.values():
        assert entry.name in out and entry.filename in out


def test_parser_imports_neither_pooch_nor_torch() -> None:
    code = ("import sys; from nasbench_tools.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('pooch', 'torch', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "[]"
