"""What the local fleet runs, pinned: each binary's version, where its official release lives (with the
checksum that proves it), and how to build it from the Go module proxy instead."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from kurator.core.errors import InvalidInput

SUPPORTED_KUBERNETES_VERSIONS = ("1.35.4",)
ETCD_VERSION = "3.6.14"
KWOK_VERSION = "0.8.0"
KARMADA_VERSION = "1.18.2"
KARMADA_COMPONENTS = ("controller-manager", "scheduler", "aggregated-apiserver", "webhook")
KARMADA_CRDS = "karmada-crds"
KARMADA_DEPLOY = "karmada-deploy"
# Helm renders the charts of fleet components; 3.20 is built on the same Kubernetes 0.35 libraries.
HELM_VERSION = "3.20.2"


@dataclass(frozen=True)
class DownloadSpec:
    """An official release artifact. Exactly one of ``sha256`` (pinned) or ``sha256_url`` (the checksum
    file published beside it) proves it; ``archive_member`` is the binary's path inside a .tar.gz."""

    url: str
    sha256: str | None = None
    sha256_url: str | None = None
    archive_member: str | None = None

    def __post_init__(self) -> None:
        if (self.sha256 is None) == (self.sha256_url is None):
            raise ValueError(f"{self.url}: give exactly one of sha256 and sha256_url")


@dataclass(frozen=True)
class GoBuildSpec:
    """One Go helper module that builds one or more binaries in a single ``go build`` (shared packages
    compile once). ``packages`` maps a main package to the binary name it becomes."""

    key: str  # folder of the helper module under the build cache, e.g. "kubernetes-1.35.4"
    module: str
    version: str
    packages: tuple[tuple[str, str], ...]
    replaces: tuple[str, ...] = ()  # "old=new@version", as `go mod edit -replace` takes them
    kubernetes_staging: bool = False  # derive replaces for k8s.io/kubernetes' staging modules
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ("-s", "-w")
    env: tuple[tuple[str, str], ...] = field(default=())
    # Folders of the module's source kept as data beside the binaries (CRDs, manifests of the release):
    # (folder in the module, asset name) -> <cache>/<asset name>/<version>/
    assets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BinarySpec:
    name: str
    version: str
    download: DownloadSpec | None
    build: GoBuildSpec | None


def arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def _mirror(override: str | None, default: str) -> str:
    return (override or os.environ.get("KURATOR_RELEASE_MIRROR") or default).rstrip("/")


def kubernetes_build(version: str) -> GoBuildSpec:
    minor = version.split(".")[1]
    stamp = [
        f"-X k8s.io/component-base/version.gitVersion=v{version}",
        "-X k8s.io/component-base/version.gitMajor=1",
        f"-X k8s.io/component-base/version.gitMinor={minor}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion=v{version}",
    ]
    return GoBuildSpec(
        key=f"kubernetes-{version}",
        module="k8s.io/kubernetes",
        version=f"v{version}",
        packages=tuple(
            (f"k8s.io/kubernetes/cmd/{name}", name)
            for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
        ),
        kubernetes_staging=True,
        tags=("selinux", "notest"),
        ldflags=("-s", "-w", *stamp),
    )


def check_kubernetes_version(version: str) -> str:
    if version not in SUPPORTED_KUBERNETES_VERSIONS:
        raise InvalidInput(
            f"Kubernetes version {version!r} is not supported",
            f"supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}",
        )
    return version


def fleet_binaries(kubernetes_version: str, mirror: str | None = None) -> list[BinarySpec]:
    """Every binary a local fleet of ``kubernetes_version`` runs."""
    check_kubernetes_version(kubernetes_version)
    a = arch()
    k8s = _mirror(mirror, "https://dl.k8s.io")
    gh = _mirror(mirror, "https://github.com")
    kube_build = kubernetes_build(kubernetes_version)
    specs = [
        BinarySpec(
            name,
            kubernetes_version,
            DownloadSpec(
                url=f"{k8s}/release/v{kubernetes_version}/bin/linux/{a}/{name}",
                sha256_url=f"{k8s}/release/v{kubernetes_version}/bin/linux/{a}/{name}.sha256",
            ),
            kube_build,
        )
        for _, name in kube_build.packages
    ]
    etcd_dir = f"etcd-v{ETCD_VERSION}-linux-{a}"
    specs.append(
        BinarySpec(
            "etcd",
            ETCD_VERSION,
            DownloadSpec(
                url=f"{gh}/etcd-io/etcd/releases/download/v{ETCD_VERSION}/{etcd_dir}.tar.gz",
                sha256_url=f"{gh}/etcd-io/etcd/releases/download/v{ETCD_VERSION}/SHA256SUMS",
                archive_member=f"{etcd_dir}/etcd",
            ),
            GoBuildSpec(
                key=f"etcd-{ETCD_VERSION}",
                module="go.etcd.io/etcd/server/v3",
                version=f"v{ETCD_VERSION}",
                packages=(("go.etcd.io/etcd/server/v3", "etcd"),),
            ),
        )
    )
    specs.append(
        BinarySpec(
            "kwok",
            KWOK_VERSION,
            # kwok's releases publish no checksum file, and an unverified binary is never installed:
            # kwok is always built from the Go module proxy.
            None,
            GoBuildSpec(
                key=f"kwok-{KWOK_VERSION}",
                module="sigs.k8s.io/kwok",
                version=f"v{KWOK_VERSION}",
                packages=(("sigs.k8s.io/kwok/cmd/kwok", "kwok"),),
            ),
        )
    )
    return specs


def karmada_binaries() -> list[BinarySpec]:
    """Karmada's control-plane components. Its releases ship them as container images only, so they are
    built from the Go module proxy, with the CRDs and deploy manifests of the same release kept as data."""
    build = GoBuildSpec(
        key=f"karmada-{KARMADA_VERSION}",
        module="github.com/karmada-io/karmada",
        version=f"v{KARMADA_VERSION}",
        # karmadactl installs Karmada into a real host cluster (`kurator install karmada`).
        packages=(
            *((f"github.com/karmada-io/karmada/cmd/{c}", f"karmada-{c}") for c in KARMADA_COMPONENTS),
            ("github.com/karmada-io/karmada/cmd/karmadactl", "karmadactl"),
        ),
        # Karmada 1.18 is built against Kubernetes 0.35 types; upstream's build script sets this tag.
        tags=("kubernetes_protomessage_one_more_release",),
        ldflags=("-s", "-w", f"-X github.com/karmada-io/karmada/pkg/version.gitVersion=v{KARMADA_VERSION}"),
        assets=(("charts/karmada/_crds", KARMADA_CRDS), ("artifacts/deploy", KARMADA_DEPLOY)),
    )
    return [BinarySpec(name, KARMADA_VERSION, None, build) for _, name in build.packages]


def helm_binary(mirror: str | None = None) -> BinarySpec:
    """The ``helm`` binary the install engine renders charts with."""
    a = arch()
    base = _mirror(mirror, "https://get.helm.sh")
    tarball = f"helm-v{HELM_VERSION}-linux-{a}.tar.gz"
    return BinarySpec(
        "helm",
        HELM_VERSION,
        DownloadSpec(
            url=f"{base}/{tarball}",
            sha256_url=f"{base}/{tarball}.sha256sum",
            archive_member=f"linux-{a}/helm",
        ),
        GoBuildSpec(
            key=f"helm-{HELM_VERSION}",
            module="helm.sh/helm/v3",
            version=f"v{HELM_VERSION}",
            packages=(("helm.sh/helm/v3/cmd/helm", "helm"),),
            ldflags=("-s", "-w", f"-X helm.sh/helm/v3/internal/version.version=v{HELM_VERSION}"),
        ),
    )
