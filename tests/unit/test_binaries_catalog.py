from __future__ import annotations

import pytest

from kurator.core.errors import InvalidInput, KuratorError
from kurator.local.binaries.catalog import DownloadSpec, fleet_binaries
from kurator.local.binaries.download import parse_checksum

HASH = "ab" * 32


def test_fleet_binaries_share_one_kubernetes_build_and_pin_versions() -> None:
    specs = {s.name: s for s in fleet_binaries("1.35.4", mirror="http://127.0.0.1:1")}
    assert set(specs) == {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok"}
    assert specs["kube-apiserver"].build is specs["kube-scheduler"].build  # one go build for all three
    build = specs["kube-apiserver"].build
    assert build is not None and build.kubernetes_staging
    assert "-X k8s.io/component-base/version.gitVersion=v1.35.4" in build.ldflags
    download = specs["etcd"].download
    assert download is not None and download.url.startswith("http://127.0.0.1:1/")
    assert download.archive_member is not None and download.archive_member.endswith("/etcd")
    assert specs["kwok"].download is None  # no published checksum: built, never downloaded unverified


def test_unknown_kubernetes_version() -> None:
    with pytest.raises(InvalidInput, match="not supported"):
        fleet_binaries("1.20.0")


def test_a_download_must_be_verifiable() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        DownloadSpec("http://x/y")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (HASH, "tool"),
        (f"{HASH}\n", "tool"),
        (f"{'cd' * 32}  other\n{HASH}  tool\n", "tool"),
        (f"{HASH} *dist/tool\n", "tool"),
    ],
)
def test_checksum_files(text: str, name: str) -> None:
    assert parse_checksum(text, name) == HASH


def test_bad_checksum_files() -> None:
    with pytest.raises(KuratorError, match="no entry for tool"):
        parse_checksum(f"{HASH}  other\n{HASH}  more\n", "tool")
    with pytest.raises(KuratorError, match="not a sha256"):
        parse_checksum("not-a-hash", "tool")
