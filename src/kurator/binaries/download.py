"""Download a release artifact, verify its sha256 while streaming, and install it atomically.

Nothing reaches the binary's final path unless every byte arrived and the checksum matched: the body is
streamed into a temporary file beside the cache and renamed into place only after verification.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from kurator.binaries.catalog import DownloadSpec
from kurator.core.errors import KuratorError

BytesCallback = Callable[[int, int | None], None]  # bytes done, total (if known)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def parse_checksum(text: str, filename: str) -> str:
    """The sha256 for ``filename`` in a checksum file: either a bare hash or ``<hash>  <name>`` lines."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) == 1:
        digest = lines[0][0]
    else:
        matches = [p[0] for p in lines if len(p) >= 2 and p[-1].lstrip("*").split("/")[-1] == filename]
        if not matches:
            raise KuratorError(f"the checksum file has no entry for {filename}")
        digest = matches[0]
    digest = digest.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise KuratorError(f"the checksum file's entry for {filename} is not a sha256: {digest[:80]!r}")
    return digest


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        raise KuratorError(f"could not download {url}: {exc}") from None
    if resp.status_code != 200:
        raise KuratorError(f"could not download {url}: HTTP {resp.status_code}")
    return resp


def expected_sha256(client: httpx.Client, spec: DownloadSpec) -> str:
    if spec.sha256:
        return spec.sha256.lower()
    assert spec.sha256_url is not None
    return parse_checksum(_get(client, spec.sha256_url).text, spec.url.rsplit("/", 1)[-1])


def stream_to(client: httpx.Client, url: str, out: io.BufferedWriter, on_bytes: BytesCallback) -> str:
    digest = hashlib.sha256()
    done = 0
    try:
        with client.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise KuratorError(f"could not download {url}: HTTP {resp.status_code}")
            total = int(resp.headers["content-length"]) if "content-length" in resp.headers else None
            for chunk in resp.iter_bytes(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                on_bytes(done, total)
    except httpx.HTTPError as exc:
        raise KuratorError(f"download of {url} was interrupted after {done} bytes: {exc}") from None
    if total is not None and done != total:
        raise KuratorError(f"download of {url} was interrupted: got {done} of {total} bytes")
    return digest.hexdigest()


def _extract(archive: Path, member: str, dest: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise KuratorError(f"the archive has no {member}") from None
        src = tar.extractfile(info)
        if src is None or not info.isfile():
            raise KuratorError(f"{member} in the archive is not a regular file")
        with src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)


def download(spec: DownloadSpec, target: Path, on_bytes: BytesCallback | None = None) -> None:
    """Install the artifact of ``spec`` as the executable ``target``; see the module docstring."""
    cache_root = target.parents[2]  # <cache>/<name>/<version>/<name>: nothing is made per binary until done
    cache_root.mkdir(parents=True, exist_ok=True)
    with (
        httpx.Client(timeout=TIMEOUT, follow_redirects=True, trust_env=True) as client,
        tempfile.TemporaryDirectory(dir=cache_root, prefix=".download-") as tmp,
    ):
        want = expected_sha256(client, spec)
        fetched = Path(tmp) / "artifact"
        with fetched.open("wb") as out:
            got = stream_to(client, spec.url, out, on_bytes or (lambda _d, _t: None))
        if got != want:
            raise KuratorError(
                f"checksum mismatch for {spec.url}: expected sha256 {want}, got {got}; nothing was installed"
            )
        binary = Path(tmp) / "binary"
        if spec.archive_member:
            _extract(fetched, spec.archive_member, binary)
        else:
            fetched.rename(binary)
        binary.chmod(0o755)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(binary, target)
