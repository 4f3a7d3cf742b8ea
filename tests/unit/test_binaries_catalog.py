from __future__ import annotations

from pathlib import Path

import pytest

from kurator.binaries.catalog import (
    DownloadSpec,
    arch,
    fleet_binaries,
    monitoring_binaries,
    prometheus_module_version,
)
from kurator.binaries.download import parse_checksum
from kurator.binaries.gobuild import build_args, get_args
from kurator.core.errors import InvalidInput, KuratorError

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


def test_monitoring_binaries_share_one_thanos_build() -> None:
    specs = {s.name: s for s in monitoring_binaries(mirror="http://127.0.0.1:1")}
    assert {n: s.version for n, s in specs.items()} == {"prometheus": "3.9.1", "thanos": "0.42.4"}
    build = specs["thanos"].build
    assert build is not None and build is specs["prometheus"].build  # one go build for both
    assert build.module == "github.com/thanos-io/thanos" and build.version == "v0.42.4"
    assert dict(build.packages) == {
        "github.com/thanos-io/thanos/cmd/thanos": "thanos",
        "github.com/prometheus/prometheus/cmd/prometheus": "prometheus",
    }
    # prometheus comes at the version thanos' go.mod requires, not the newest
    assert build.requires == ("github.com/prometheus/prometheus/cmd/prometheus@v0.309.1",)
    assert "slicelabels" in build.tags
    assert any(r.startswith("capnproto.org/go/capnp/v3=") for r in build.replaces)
    for name, spec in specs.items():
        download = spec.download
        assert download is not None and download.url.startswith("http://127.0.0.1:1/")
        assert download.url.endswith(f"/v{spec.version}/{name}-{spec.version}.linux-{arch()}.tar.gz")
        assert download.sha256_url == download.url.rsplit("/", 1)[0] + "/sha256sums.txt"
        assert download.archive_member == f"{name}-{spec.version}.linux-{arch()}/{name}"


def test_monitoring_build_commands() -> None:
    build = monitoring_binaries()[0].build
    assert build is not None
    assert get_args(build) == [
        "go",
        "get",
        "github.com/thanos-io/thanos/cmd/thanos@v0.42.4",
        "github.com/prometheus/prometheus/cmd/prometheus@v0.309.1",
    ]
    args = build_args(build, Path("/out"))
    assert "-tags=netgo,slicelabels" in args
    assert args[-3:] == ["/out/", *(pkg for pkg, _ in build.packages)]
    # each binary gets the common flags and its own version stamp, after the flags for all
    ldflags = [a for a in args if a.startswith("-ldflags=")]
    assert ldflags[0] == "-ldflags=-s -w"
    assert ldflags[1].startswith("-ldflags=github.com/thanos-io/thanos/cmd/thanos=-s -w -X ")
    assert "version.Version=0.42.4" in ldflags[1]
    assert ldflags[2].startswith("-ldflags=github.com/prometheus/prometheus/cmd/prometheus=-s -w -X ")
    assert "version.Version=3.9.1" in ldflags[2]


def test_single_package_build_commands() -> None:
    build = {s.name: s for s in fleet_binaries("1.35.4")}["etcd"].build
    assert build is not None
    assert get_args(build) == ["go", "get", "go.etcd.io/etcd/server/v3@v3.6.14"]
    assert build_args(build, Path("/out"))[-3:] == ["-o", "/out/etcd", "go.etcd.io/etcd/server/v3"]


def test_prometheus_module_version() -> None:
    assert prometheus_module_version("3.9.1") == "v0.309.1"
    assert prometheus_module_version("3.10.0") == "v0.310.0"


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
