"""What the local fleet runs, pinned: each binary's version, where its official release lives (with the
checksum that proves it), and how to build it from the Go module proxy instead."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from kurator.core.errors import InvalidInput

SUPPORTED_KUBERNETES_VERSIONS = ("1.35.4",)
KUBERNETES_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
ETCD_VERSION = "3.6.14"
KWOK_VERSION = "0.8.0"
KARMADA_VERSION = "1.18.2"
KARMADA_COMPONENTS = ("controller-manager", "scheduler", "aggregated-apiserver", "webhook")
KARMADA_CRDS = "karmada-crds"
KARMADA_DEPLOY = "karmada-deploy"
# Cluster API and its AWS provider: CAPA v2.13.0's go.mod requires Cluster API v1.13.4 (both on the
# Kubernetes 0.35 libraries), so the two are pinned together.
CLUSTER_API_VERSION = "1.13.4"
CAPA_VERSION = "2.13.0"
CLUSTER_API_CONFIG = "cluster-api-config"
CAPA_CONFIG = "cluster-api-aws-config"
# Helm renders the charts of fleet components; 3.20 is built on the same Kubernetes 0.35 libraries.
HELM_VERSION = "3.20.2"
# Thanos 0.42.5 differs from 0.42.4 in go.mod only by `go 1.26.10`, newer than this machine's Go 1.26.8, and
# builds never download a toolchain (GOTOOLCHAIN=local); 0.42.4 needs Go 1.26.0.
THANOS_VERSION = "0.42.4"
# The Prometheus Thanos 0.42 is built against (its go.mod requires module v0.309.1, i.e. release 3.9.1).
PROMETHEUS_VERSION = "3.9.1"
# Istio tags releases without a "v", so the Go module proxy knows a release by its commit's pseudo-version:
# eed52ebb66ad is the commit Istio 1.31.0 was tagged on. Its charts are the istio component's artifact.
ISTIO_VERSION = "1.31.0"
ISTIO_MODULE_VERSION = "v0.0.0-20260827124520-eed52ebb66ad"
# Thanos' go.mod replaces, which `go build` ignores in a dependency's go.mod; pinned module versions.
THANOS_REPLACES = (
    "capnproto.org/go/capnp/v3=capnproto.org/go/capnp/v3@v3.0.0-alpha.30",
    "github.com/bradfitz/gomemcache=github.com/themihai/gomemcache@v0.0.0-20180902122335-24332e2d58ab",
    "github.com/sercand/kuberesolver/v4=github.com/sercand/kuberesolver/v5@v5.1.1",
    "github.com/vimeo/galaxycache=github.com/thanos-community/galaxycache@v0.0.0-20211122094458-3a32041a1f1e",
    "gopkg.in/alecthomas/kingpin.v2=github.com/alecthomas/kingpin@v1.3.8-0.20210301060133-17f40c25f497",
    "zenhack.net/go/util=github.com/zenhack/go-util@v0.0.0-20231005031245-66f5419c2aea",
)


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
class Asset:
    """A folder of ``module``'s source at ``version`` kept as data: ``<cache>/<name>/<version without v>/``,
    only the ``include`` paths of it when given (a module root holds sources too)."""

    name: str
    module: str
    version: str
    folder: str = ""
    include: tuple[str, ...] = ()

    def owns(self, package: str) -> bool:
        """Whether ``package`` belongs to the module whose data this is."""
        return package == self.module or package.startswith(f"{self.module}/")


@dataclass(frozen=True)
class GoBuildSpec:
    """One Go helper module that builds one or more binaries in a single ``go build`` (shared packages
    compile once). ``packages`` maps a main package to the binary name it becomes."""

    key: str  # folder of the helper module under the build cache, e.g. "kubernetes-1.35.4"
    module: str
    version: str
    packages: tuple[tuple[str, str], ...]
    replaces: tuple[str, ...] = ()  # "old=new@version", as `go mod edit -replace` takes them
    # "path@version" of packages from other modules, given to `go get` with the module's own packages
    requires: tuple[str, ...] = ()
    kubernetes_staging: bool = False  # derive replaces for k8s.io/kubernetes' staging modules
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ("-s", "-w")
    # (main package, flags added to ``ldflags`` for that binary only): version stamps that differ
    package_ldflags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=())
    # Folders of a module's source kept as data beside the binaries (CRDs, manifests of the release).
    assets: tuple[Asset, ...] = ()
    title: str = ""  # how progress names what is built; default "<module>@<version>"

    def version_of(self, package: str) -> str:
        """The version ``package`` is built at: its entry in ``requires``, else the module's."""
        for required in self.requires:
            path, _, version = required.rpartition("@")
            if path == package:
                return version
        return self.version

    def described(self) -> str:
        return self.title or f"{self.module}@{self.version}"

    def package_of(self, name: str) -> str:
        """The main package that becomes binary ``name``."""
        return next(pkg for pkg, binary in self.packages if binary == name)


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


def _kubernetes_stamp(version: str) -> tuple[str, ...]:
    minor = version.split(".")[1]
    return (
        f"-X k8s.io/component-base/version.gitVersion=v{version}",
        "-X k8s.io/component-base/version.gitMajor=1",
        f"-X k8s.io/component-base/version.gitMinor={minor}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion=v{version}",
    )


KARMADA_MODULE = "github.com/karmada-io/karmada"
HELM_MODULE = "helm.sh/helm/v3"


def control_plane_build(version: str) -> GoBuildSpec:
    """Kubernetes' control plane and kubectl, Karmada's components and karmadactl, and helm in one
    ``go build``: all three are built on the Kubernetes 0.35 libraries, so in one module (Go's minimal
    version selection takes each shared dependency at the highest version any of them asks for; the
    k8s.io libraries at the control plane's own v0.{minor}.{patch}) the packages they share, k8s.io/api and
    client-go above all, compile once instead of three times (a cold set-up's largest saving, README)."""
    karmada_version = f"v{KARMADA_VERSION}"
    kube = tuple((f"k8s.io/kubernetes/cmd/{name}", name) for name in KUBERNETES_BINARIES)
    karmada = (
        *((f"{KARMADA_MODULE}/cmd/{c}", f"karmada-{c}") for c in KARMADA_COMPONENTS),
        # karmadactl installs Karmada into a real host cluster (`kurator install karmada`).
        (f"{KARMADA_MODULE}/cmd/karmadactl", "karmadactl"),
    )
    helm = ((f"{HELM_MODULE}/cmd/helm", "helm"),)
    karmada_stamp = (f"-X {KARMADA_MODULE}/pkg/version.gitVersion={karmada_version}",)
    helm_stamp = (f"-X {HELM_MODULE}/internal/version.version=v{HELM_VERSION}",)
    return GoBuildSpec(
        key=f"kubernetes+karmada+helm-{version}",
        module="k8s.io/kubernetes",
        version=f"v{version}",
        # kubectl shares most of its packages with the control plane: built beside it, it costs little and
        # gives people the kubectl of the fleet's own version.
        packages=(*kube, *karmada, *helm),
        requires=(
            *(f"{pkg}@{karmada_version}" for pkg, _ in karmada),
            *(f"{pkg}@v{HELM_VERSION}" for pkg, _ in helm),
        ),
        kubernetes_staging=True,
        # Karmada 1.18 is built against Kubernetes 0.35 types with this tag, as upstream's build script sets.
        tags=("selinux", "notest", "kubernetes_protomessage_one_more_release"),
        package_ldflags=(
            *((pkg, _kubernetes_stamp(version)) for pkg, _ in kube),
            *((pkg, karmada_stamp) for pkg, _ in karmada),
            *((pkg, helm_stamp) for pkg, _ in helm),
        ),
        assets=(
            Asset(KARMADA_CRDS, KARMADA_MODULE, karmada_version, "charts/karmada/_crds"),
            Asset(KARMADA_DEPLOY, KARMADA_MODULE, karmada_version, "artifacts/deploy"),
        ),
        title=f"Kubernetes v{version}, Karmada {karmada_version}, helm v{HELM_VERSION}",
    )


def check_kubernetes_version(version: str) -> str:
    if version not in SUPPORTED_KUBERNETES_VERSIONS:
        raise InvalidInput(
            f"Kubernetes version {version!r} is not supported",
            f"supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}",
        )
    return version


def fleet_binaries(kubernetes_version: str, mirror: str | None = None) -> list[BinarySpec]:
    """Every binary a local fleet of ``kubernetes_version`` runs, and the kubectl of that version."""
    check_kubernetes_version(kubernetes_version)
    a = arch()
    k8s = _mirror(mirror, "https://dl.k8s.io")
    gh = _mirror(mirror, "https://github.com")
    kube_build = control_plane_build(kubernetes_version)
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
        for name in KUBERNETES_BINARIES
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
    built from the Go module proxy (with the control plane, :func:`control_plane_build`), with the CRDs and
    deploy manifests of the same release kept as data."""
    build = control_plane_build(SUPPORTED_KUBERNETES_VERSIONS[0])
    return [
        BinarySpec(name, KARMADA_VERSION, None, build)
        for pkg, name in build.packages
        if pkg.startswith(f"{KARMADA_MODULE}/")
    ]


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
        control_plane_build(SUPPORTED_KUBERNETES_VERSIONS[0]),
    )


def prometheus_module_version(release: str) -> str:
    """Prometheus 3.x releases are tagged v0.3xx.y in the Go module: 3.9.1 -> v0.309.1."""
    major, minor, patch = (int(part) for part in release.split("."))
    return f"v0.{major * 100 + minor}.{patch}"


def _version_stamp(version: str) -> tuple[str, ...]:
    # BuildUser tells a binary built here from an official release in `--version`.
    return (
        f"-X github.com/prometheus/common/version.Version={version}",
        "-X github.com/prometheus/common/version.BuildUser=kurator",
    )


def monitoring_build() -> GoBuildSpec:
    """One ``go build`` for thanos and the prometheus it is built against, so shared packages compile once.
    Thanos needs the ``slicelabels`` tag (as its release build sets), which then applies to prometheus
    too: upstream builds prometheus with the default ``stringlabels``; both are supported layouts."""
    thanos = "github.com/thanos-io/thanos/cmd/thanos"
    prometheus = "github.com/prometheus/prometheus/cmd/prometheus"
    return GoBuildSpec(
        key=f"thanos-{THANOS_VERSION}",
        module="github.com/thanos-io/thanos",
        version=f"v{THANOS_VERSION}",
        packages=((thanos, "thanos"), (prometheus, "prometheus")),
        requires=(f"{prometheus}@{prometheus_module_version(PROMETHEUS_VERSION)}",),
        replaces=THANOS_REPLACES,
        tags=("netgo", "slicelabels"),
        package_ldflags=(
            (thanos, _version_stamp(THANOS_VERSION)),
            (prometheus, _version_stamp(PROMETHEUS_VERSION)),
        ),
    )


def monitoring_binaries(mirror: str | None = None) -> list[BinarySpec]:
    """Prometheus and Thanos (sidecar, query, store gateway, compactor are subcommands of one binary),
    which the fleet runs for its monitoring. Official releases ship a sha256sums.txt beside the tarballs."""
    a = arch()
    gh = _mirror(mirror, "https://github.com")
    build = monitoring_build()
    specs = []
    for name, repo, version in (
        ("prometheus", "prometheus/prometheus", PROMETHEUS_VERSION),
        ("thanos", "thanos-io/thanos", THANOS_VERSION),
    ):
        release = f"{gh}/{repo}/releases/download/v{version}"
        folder = f"{name}-{version}.linux-{a}"
        download = DownloadSpec(
            url=f"{release}/{folder}.tar.gz",
            sha256_url=f"{release}/sha256sums.txt",
            archive_member=f"{folder}/{name}",
        )
        specs.append(BinarySpec(name, version, download, build))
    return specs


def _capi_stamp(module: str, version: str) -> tuple[str, ...]:
    """The version stamp Cluster API's and CAPA's release builds set (``manager --version``)."""
    major, minor, _ = version.split(".")
    pkg = f"{module}/version"
    return (
        f"-X {pkg}.gitVersion=v{version}",
        f"-X {pkg}.gitMajor={major}",
        f"-X {pkg}.gitMinor={minor}",
        f"-X {pkg}.gitTreeState=clean",
    )


def cluster_api_build() -> GoBuildSpec:
    """Cluster API's three managers (core, kubeadm bootstrap, kubeadm control plane) and CAPA's in one
    helper module: CAPA imports much of Cluster API (its types, utilities, remote-cluster clients) and
    requires this very release, so in one module the packages they share compile once (each Cluster API
    dependency then at the version CAPA's go.mod asks for where it asks for a newer one)."""
    capi = "sigs.k8s.io/cluster-api"
    capa = "sigs.k8s.io/cluster-api-provider-aws/v2"
    capi_packages = (
        (capi, "capi-manager"),
        (f"{capi}/bootstrap/kubeadm", "capi-kubeadm-bootstrap-manager"),
        (f"{capi}/controlplane/kubeadm", "capi-kubeadm-control-plane-manager"),
    )
    return GoBuildSpec(
        key=f"cluster-api+capa-{CAPA_VERSION}",
        module=capa,
        version=f"v{CAPA_VERSION}",
        packages=(*capi_packages, (capa, "capa-manager")),
        requires=tuple(f"{pkg}@v{CLUSTER_API_VERSION}" for pkg, _ in capi_packages),
        package_ldflags=(
            *((pkg, _capi_stamp(capi, CLUSTER_API_VERSION)) for pkg, _ in capi_packages),
            (capa, _capi_stamp(capa, CAPA_VERSION)),
        ),
        # Each module's ``config`` folder (CRD bases, kustomizations, webhook configurations, RBAC).
        assets=(
            Asset(
                CLUSTER_API_CONFIG,
                capi,
                f"v{CLUSTER_API_VERSION}",
                include=(
                    "config",
                    "bootstrap/kubeadm/config",
                    "controlplane/kubeadm/config",
                    "metadata.yaml",
                ),
            ),
            Asset(CAPA_CONFIG, capa, f"v{CAPA_VERSION}", include=("config", "metadata.yaml")),
        ),
        title=f"Cluster API v{CLUSTER_API_VERSION}, CAPA v{CAPA_VERSION}",
    )


def cluster_api_binaries() -> list[BinarySpec]:
    """Cluster API's and CAPA's managers, built from the Go module proxy (their releases ship container
    images only), with each release's ``config`` folder kept beside the binaries as data."""
    build = cluster_api_build()
    return [
        BinarySpec(name, CAPA_VERSION if name == "capa-manager" else CLUSTER_API_VERSION, None, build)
        for _, name in build.packages
    ]


def istio_binaries() -> list[BinarySpec]:
    """``pilot-discovery`` (istiod), which the local fleet runs against a mesh's primary. Istio's releases
    ship it only inside container images, so it is always built from the Go module proxy."""
    stamp = (
        f"-X istio.io/istio/pkg/version.buildVersion={ISTIO_VERSION}",
        f"-X istio.io/istio/pkg/version.buildTag={ISTIO_VERSION}",
        "-X istio.io/istio/pkg/version.buildStatus=Clean",
        "-X istio.io/istio/pkg/version.buildHub=kurator-built",
    )
    build = GoBuildSpec(
        key=f"istio-{ISTIO_VERSION}",
        module="istio.io/istio",
        version=ISTIO_MODULE_VERSION,
        packages=(("istio.io/istio/pilot/cmd/pilot-discovery", "pilot-discovery"),),
        ldflags=("-s", "-w", *stamp),
    )
    return [BinarySpec("pilot-discovery", ISTIO_VERSION, None, build)]
