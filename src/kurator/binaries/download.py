"""Download a release artifact, verify its sha256 while streaming, and install it atomically.

Nothing reaches the binary's final path unless every byte arrived and the checksum matched: the body is
streamed into a temporary file beside the cache and renamed into place only after verification.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kurator.binaries.catalog import DownloadSpec
from kurator.core.errors import KuratorError
from kurator.kube import errors, http

BytesCallback = Callable[[int, int | None], None]  # bytes done, total (if known)
DOWNLOAD_TIMEOUT = 1800.0  # seconds a whole download may take (a slow link, a large archive)


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


@contextmanager
def _failures(url: str) -> Iterator[None]:
    """Failures of a download said as what they mean to someone waiting for a binary."""
    try:
        yield
    except errors.RequestFailed as exc:
        raise KuratorError(f"could not download {url}: HTTP {exc.code}") from None
    except errors.Unreachable as exc:
        raise KuratorError(f"could not download {url}: {exc.message}", exc.hint) from None
    except errors.KubeError as exc:
        raise KuratorError(f"download of {url} was interrupted: {exc.message}", exc.hint) from None


def _get(url: str) -> str:
    with _failures(url):
        answer = http.get(url, what="downloading a checksum", trust_env=True, follow_redirects=True)
    return answer.text


def expected_sha256(spec: DownloadSpec) -> str:
    if spec.sha256:
        return spec.sha256.lower()
    assert spec.sha256_url is not None
    return parse_checksum(_get(spec.sha256_url), spec.url.rsplit("/", 1)[-1])


def stream_to(url: str, out: BinaryIO, on_bytes: BytesCallback | None = None) -> str:
    """Stream ``url`` into ``out``; returns the sha256 of what arrived (every byte, or an error)."""
    with _failures(url):
        return http.download(url, out, what="downloading", timeout=DOWNLOAD_TIMEOUT, on_bytes=on_bytes)


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
    with tempfile.TemporaryDirectory(dir=cache_root, prefix=".download-") as tmp:
        want = expected_sha256(spec)
        fetched = Path(tmp) / "artifact"
        with fetched.open("wb") as out:
            got = stream_to(spec.url, out, on_bytes)
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
