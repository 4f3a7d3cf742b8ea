"""The download path of the binary cache, for real, against an HTTP server on 127.0.0.1.

The server stands in for the official release hosts (which this machine cannot reach): it serves a small
artifact (a shell script, plain and as .tar.gz) with published checksum files, and can misbehave on purpose.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kurator.binaries import BinarySpec, ensure_binaries
from kurator.binaries.catalog import DownloadSpec
from kurator.binaries.fetch import binary_path
from kurator.core.errors import KuratorError

pytestmark = pytest.mark.integration

SCRIPT = b"#!/bin/sh\necho tool says hello\n"


def _tgz(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


TGZ = _tgz("tool-v1/tool", SCRIPT)
FILES = {
    "/tool": SCRIPT,
    "/tool.sha256": hashlib.sha256(SCRIPT).hexdigest().encode() + b"\n",
    "/tool-v1.tar.gz": TGZ,
    "/SHA256SUMS": (
        f"{hashlib.sha256(b'other').hexdigest()}  other.tar.gz\n"
        f"{hashlib.sha256(TGZ).hexdigest()}  tool-v1.tar.gz\n"
    ).encode(),
    "/bad.sha256": hashlib.sha256(b"something else").hexdigest().encode(),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(SCRIPT) * 1000))
            self.end_headers()
            self.wfile.write(SCRIPT)  # far fewer bytes than promised, then the connection closes
            self.wfile.flush()
            self.close_connection = True
            return
        body = FILES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KURATOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    return tmp_path / "cache"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_download_with_published_checksum_installs_a_working_binary(server: str, cache: Path) -> None:
    spec = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/tool", sha256_url=f"{server}/tool.sha256"), None)
    report = ensure_binaries([spec], "download")
    assert report.how == {"tool": "downloaded"}
    path = binary_path("tool", "1.0")
    assert subprocess.run([path], capture_output=True, text=True, check=True).stdout == "tool says hello\n"
    assert ensure_binaries([spec], "download").how == {"tool": "cached"}  # a re-run fetches nothing


def test_download_from_archive_with_sha256sums(server: str, cache: Path) -> None:
    spec = BinarySpec(
        "tool",
        "1.0",
        DownloadSpec(
            f"{server}/tool-v1.tar.gz", sha256_url=f"{server}/SHA256SUMS", archive_member="tool-v1/tool"
        ),
        None,
    )
    ensure_binaries([spec], "download")
    assert binary_path("tool", "1.0").read_bytes() == SCRIPT
    assert _files(cache) == [binary_path("tool", "1.0")]  # no temporary files left behind


def test_checksum_mismatch_is_refused_and_leaves_nothing(server: str, cache: Path) -> None:
    spec = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/tool", sha256_url=f"{server}/bad.sha256"), None)
    with pytest.raises(KuratorError, match="checksum mismatch") as err:
        ensure_binaries([spec], "download")
    assert "nothing was installed" in err.value.message
    assert _files(cache) == []
    pinned = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/tool", sha256="0" * 64), None)
    with pytest.raises(KuratorError, match="checksum mismatch"):
        ensure_binaries([pinned], "download")
    assert _files(cache) == []


def test_interrupted_download_leaves_nothing_half_written(server: str, cache: Path) -> None:
    spec = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/truncated", sha256="0" * 64), None)
    with pytest.raises(KuratorError, match="interrupted"):
        ensure_binaries([spec], "download")
    assert _files(cache) == []


def test_missing_artifact_is_a_clear_error(server: str, cache: Path) -> None:
    spec = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/nope", sha256_url=f"{server}/nope.sha256"), None)
    with pytest.raises(KuratorError, match=r"could not download .*/nope.sha256: HTTP 404"):
        ensure_binaries([spec], "download")
    assert _files(cache) == []


def test_auto_without_build_recipe_says_what_is_missing(server: str, cache: Path) -> None:
    spec = BinarySpec("tool", "1.0", DownloadSpec(f"{server}/nope", sha256="0" * 64), None)
    with pytest.raises(KuratorError, match=r"can be neither downloaded .* nor built"):
        ensure_binaries([spec], "auto")
