from __future__ import annotations

from pathlib import Path

import pytest

from kurator.binaries.catalog import (
    DownloadSpec,
    arch,
    cluster_api_binaries,
    fleet_binaries,
    helm_binary,
    karmada_binaries,
    monitoring_binaries,
    prometheus_module_version,
)
from kurator.binaries.download import parse_checksum
from kurator.binaries.gobuild import build_args, build_commands, get_args
from kurator.core.errors import InvalidInput, KuratorError

HASH = "ab" * 32


def test_fleet_binaries_share_one_kubernetes_build_and_pin_versions() -> None:
    specs = {s.name: s for s in fleet_binaries("1.35.4", mirror="http://127.0.0.1:1")}
    assert set(specs) == {
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubectl",
        "etcd",
        "kwok",
    }
    # one go build for the control plane and kubectl, which shares most of its packages
    assert specs["kube-apiserver"].build is specs["kube-scheduler"].build is specs["kubectl"].build
    kubectl = specs["kubectl"].download
    assert kubectl is not None and kubectl.url == "http://127.0.0.1:1/release/v1.35.4/bin/linux/" + (
        f"{arch()}/kubectl"
    )
    assert kubectl.sha256_url == kubectl.url + ".sha256"
    build = specs["kube-apiserver"].build
    assert build is not None and build.kubernetes_staging
    stamps = dict(build.package_ldflags)
    assert "-X k8s.io/component-base/version.gitVersion=v1.35.4" in stamps["k8s.io/kubernetes/cmd/kubectl"]
    download = specs["etcd"].download
    assert download is not None and download.url.startswith("http://127.0.0.1:1/")
    assert download.archive_member is not None and download.archive_member.endswith("/etcd")
    assert specs["kwok"].download is None  # no published checksum: built, never downloaded unverified


def test_karmada_and_helm_are_built_with_the_control_plane() -> None:
    """One module for the three families on the Kubernetes 0.35 libraries: their shared packages compile
    once; each binary keeps its own version stamp and its release's version."""
    fleet = {s.name: s for s in fleet_binaries("1.35.4")}
    karmada = {s.name: s for s in karmada_binaries()}
    helm = helm_binary()
    build = fleet["kube-apiserver"].build
    assert build is not None and karmada["karmadactl"].build == build == helm.build
    assert {n: s.version for n, s in karmada.items()} == {
        **{
            f"karmada-{c}": "1.18.2"
            for c in ("controller-manager", "scheduler", "aggregated-apiserver", "webhook")
        },
        "karmadactl": "1.18.2",
    }
    assert helm.version == "3.20.2" and helm.download is not None
    assert get_args(build)[2:6] == [
        f"k8s.io/kubernetes/cmd/{n}@v1.35.4"
        for n in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
    ]
    assert "github.com/karmada-io/karmada/cmd/karmadactl@v1.18.2" in get_args(build)
    assert get_args(build)[-1] == "helm.sh/helm/v3/cmd/helm@v3.20.2"
    assert build.version_of("helm.sh/helm/v3/cmd/helm") == "v3.20.2"
    assert build.version_of("k8s.io/kubernetes/cmd/kubectl") == "v1.35.4"
    assert "kubernetes_protomessage_one_more_release" in build.tags and "selinux" in build.tags
    commands = build_commands(build, Path("/out"))
    assert len(commands) == 1  # one go build for all ten
    ldflags = [a for a in commands[0] if a.startswith("-ldflags=")]
    assert ldflags[0] == "-ldflags=-s -w"
    stamped = {a.split("=", 2)[1]: a for a in ldflags[1:]}
    assert "karmada/pkg/version.gitVersion=v1.18.2" in stamped["github.com/karmada-io/karmada/cmd/webhook"]
    assert "component-base" not in stamped["github.com/karmada-io/karmada/cmd/webhook"]
    assert "internal/version.version=v3.20.2" in stamped["helm.sh/helm/v3/cmd/helm"]
    # Karmada's CRDs and manifests come from Karmada's module at its own version
    assert {(a.name, a.module, a.version) for a in build.assets} == {
        ("karmada-crds", "github.com/karmada-io/karmada", "v1.18.2"),
        ("karmada-deploy", "github.com/karmada-io/karmada", "v1.18.2"),
    }
    assert all(a.owns("github.com/karmada-io/karmada/cmd/karmadactl") for a in build.assets)
    assert not any(a.owns("k8s.io/kubernetes/cmd/kubectl") for a in build.assets)


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


def test_cluster_api_binaries_pin_capi_with_the_capa_that_pairs_with_it() -> None:
    specs = {s.name: s for s in cluster_api_binaries()}
    assert {n: s.version for n, s in specs.items()} == {
        "capi-manager": "1.13.4",
        "capi-kubeadm-bootstrap-manager": "1.13.4",
        "capi-kubeadm-control-plane-manager": "1.13.4",
        "capa-manager": "2.13.0",
    }
    build = specs["capi-manager"].build
    assert build is not None
    # one module: CAPA imports much of Cluster API, so their shared packages compile once
    assert all(s.build is build for s in specs.values())
    assert all(s.download is None for s in specs.values())  # releases ship container images only
    assert build.module == "sigs.k8s.io/cluster-api-provider-aws/v2" and build.version == "v2.13.0"
    assert build.version_of("sigs.k8s.io/cluster-api/bootstrap/kubeadm") == "v1.13.4"
    stamps = dict(build.package_ldflags)
    assert "-X sigs.k8s.io/cluster-api/version.gitVersion=v1.13.4" in stamps["sigs.k8s.io/cluster-api"]
    capa_stamp = stamps["sigs.k8s.io/cluster-api-provider-aws/v2"]
    assert "-X sigs.k8s.io/cluster-api-provider-aws/v2/version.gitVersion=v2.13.0" in capa_stamp
    # the CRDs, webhook configurations and RBAC of the same releases are kept as data, not the sources
    core_config, aws_config = build.assets
    assert "controlplane/kubeadm/config" in core_config.include and "config" in aws_config.include
    assert (core_config.module, core_config.version) == ("sigs.k8s.io/cluster-api", "v1.13.4")
    assert (aws_config.module, aws_config.version) == (build.module, build.version)
    assert core_config.owns("sigs.k8s.io/cluster-api/bootstrap/kubeadm")
    assert not core_config.owns("sigs.k8s.io/cluster-api-provider-aws/v2")


def test_packages_in_folders_of_one_name_get_a_go_build_each() -> None:
    build = cluster_api_binaries()[0].build
    assert build is not None
    assert get_args(build) == [
        "go",
        "get",
        "sigs.k8s.io/cluster-api-provider-aws/v2@v2.13.0",
        "sigs.k8s.io/cluster-api@v1.13.4",
        "sigs.k8s.io/cluster-api/bootstrap/kubeadm@v1.13.4",
        "sigs.k8s.io/cluster-api/controlplane/kubeadm@v1.13.4",
    ]
    # `go build -o DIR/` would name both kubeadm packages "kubeadm": one build per binary instead
    commands = build_commands(build, Path("/out"))
    assert [c[-3:] for c in commands] == [
        ["-o", "/out/capi-manager", "sigs.k8s.io/cluster-api"],
        ["-o", "/out/capi-kubeadm-bootstrap-manager", "sigs.k8s.io/cluster-api/bootstrap/kubeadm"],
        ["-o", "/out/capi-kubeadm-control-plane-manager", "sigs.k8s.io/cluster-api/controlplane/kubeadm"],
        ["-o", "/out/capa-manager", "sigs.k8s.io/cluster-api-provider-aws/v2"],
    ]
    # folders of distinct names still share one build
    thanos = monitoring_binaries()[0].build
    assert thanos is not None and len(build_commands(thanos, Path("/out"))) == 1


def test_a_build_asks_only_for_the_missing_binaries_of_its_group() -> None:
    build = {s.name: s for s in fleet_binaries("1.35.4")}["kubectl"].build
    assert build is not None
    every = build_args(build, Path("/out"))
    assert [a for a in every if a.startswith("k8s.io/")] == [
        f"k8s.io/kubernetes/cmd/{n}"
        for n in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
    ]
    assert every[-1] == "helm.sh/helm/v3/cmd/helm"
    assert build_args(build, Path("/out"), ["kubectl"])[-3:] == [
        "-o",
        "/out/kubectl",
        "k8s.io/kubernetes/cmd/kubectl",
    ]
    two = build_args(build, Path("/out"), ["kubectl", "kube-scheduler"])
    assert two[-3:] == ["/out/", "k8s.io/kubernetes/cmd/kube-scheduler", "k8s.io/kubernetes/cmd/kubectl"]
    # the compiler's debug information is not made (the links strip it), paths are trimmed
    assert "-trimpath" in every and "-gcflags=all=-dwarf=false" in every


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
