"""Fill the binary cache: keep what is cached, download or build what is missing, say which way."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kurator.binaries import gobuild, scheduling
from kurator.binaries.catalog import (
    CAPA_CONFIG,
    CAPA_VERSION,
    CLUSTER_API_CONFIG,
    CLUSTER_API_VERSION,
    KARMADA_CRDS,
    KARMADA_DEPLOY,
    KARMADA_VERSION,
    Asset,
    BinarySpec,
    GoBuildSpec,
    cluster_api_binaries,
    fleet_binaries,
    karmada_binaries,
    monitoring_binaries,
)
from kurator.core.errors import KuratorError
from kurator.core.paths import bin_cache
from kurator.core.progress import Reporter, Silent

Source = Literal["auto", "download", "build"]
SOURCES = ("auto", "download", "build")


@dataclass
class FetchReport:
    how: dict[str, str] = field(default_factory=dict)  # binary -> cached | downloaded | built
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    paths: dict[str, Path] = field(default_factory=dict)


def binary_path(name: str, version: str) -> Path:
    return bin_cache() / name / version / name


def asset_path(name: str, version: str) -> Path:
    """A folder of release data (CRDs, manifests) kept beside the binaries of the same version."""
    return bin_cache() / name / version


def _asset_dir(asset: Asset) -> Path:
    return asset_path(asset.name, asset.version.removeprefix("v"))


def _install_asset(source: Path, asset: Asset) -> None:
    """Copy ``source`` (only the asset's ``include`` paths, when given) to the asset's folder, whole or not
    at all."""
    target = _asset_dir(asset)
    if target.exists():
        return
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if not asset.include:
        shutil.copytree(source, tmp)
    for part in asset.include:
        src, dst = source / part, tmp / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
    for path in [tmp, *tmp.rglob("*")]:  # Go's module cache is read-only; our copy need not be
        path.chmod(0o755 if path.is_dir() else 0o644)
    os.replace(tmp, target)


def _assets_of(spec: BinarySpec) -> list[Asset]:
    """The release data of the module ``spec``'s binary comes from (Karmada's CRDs for Karmada's binaries,
    not for the kube-apiserver built beside them)."""
    if spec.build is None:
        return []
    package = spec.build.package_of(spec.name)
    return [a for a in spec.build.assets if a.owns(package)]


def _present(spec: BinarySpec) -> bool:
    path = binary_path(spec.name, spec.version)
    return path.is_file() and os.access(path, os.X_OK)


def is_cached(spec: BinarySpec) -> bool:
    return _present(spec) and all(_asset_dir(a).is_dir() for a in _assets_of(spec))


def missing(specs: list[BinarySpec]) -> list[BinarySpec]:
    return [s for s in specs if not is_cached(s)]


def _mib(done: int, total: int | None) -> str:
    return f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "") + " MiB"


def _try_download(spec: BinarySpec, report: FetchReport, reporter: Reporter) -> str | None:
    """Download ``spec``; returns None on success, else why it failed."""
    if spec.download is None:
        return f"{spec.name} has no verifiable release artifact"
    from kurator.binaries.download import download  # httpx is slow to import; cached runs skip it

    label = f"download {spec.name} {spec.version}"
    reporter.step(label)
    t = time.monotonic()
    try:
        download(
            spec.download, binary_path(spec.name, spec.version), lambda d, n: reporter.progress(_mib(d, n))
        )
    except KuratorError as exc:
        reporter.done(f"{label}: failed", time.monotonic() - t)
        return exc.message
    report.steps[label] = time.monotonic() - t
    reporter.done(label, report.steps[label])
    report.how[spec.name] = "downloaded"
    return None


def _install_built(
    build: GoBuildSpec, specs: list[BinarySpec], built: dict[str, Path], prepared: gobuild.Prepared
) -> None:
    for name, path in built.items():
        spec = next(s for s in specs if s.name == name)
        target = binary_path(spec.name, spec.version)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    assets = {a for spec in specs for a in _assets_of(spec)}
    # One lookup per module: Karmada's CRDs and its manifests come from the same source folder.
    sources = {
        (a.module, a.version): gobuild.module_dir(build, prepared, a.module, a.version) for a in assets
    }
    for asset in assets:
        _install_asset(sources[asset.module, asset.version] / asset.folder, asset)
    for path in {p.parent for p in built.values()}:
        shutil.rmtree(path, ignore_errors=True)


def _build_all(groups: dict[GoBuildSpec, list[BinarySpec]], report: FetchReport, reporter: Reporter) -> None:
    """Build every group: all helper modules are prepared at once (mostly downloads), then up to
    ``parallel_builds()`` compile at a time, the largest ready one first, so that one build's downloads
    and serial tail (a last big package, the links) overlap another's compiling. A group that fails
    leaves the others to finish: what they built stays in the cache for the next run."""
    bin_cache().mkdir(parents=True, exist_ok=True)
    progress = {b.key: gobuild.Progress() for b in groups}
    slots_n = scheduling.parallel_builds()
    slots = scheduling.Slots(slots_n)
    began = time.monotonic()

    def one(build: GoBuildSpec) -> float:
        prog = progress[build.key]
        with gobuild.locked(build):
            # Another kurator may have built them while this one waited for the lock.
            if wanted := [s for s in groups[build] if not is_cached(s)]:
                prepared = gobuild.prepare(build, prog)
                built: dict[str, Path] = {}
                if names := [s.name for s in wanted if not _present(s)]:  # else only data is missing
                    with slots.taken(prepared.packages):
                        built = gobuild.compile(build, prepared, prog, names)
                _install_built(build, wanted, built, prepared)
        prog.phase = "done"
        return time.monotonic() - began

    def step(left: list[GoBuildSpec]) -> None:
        reporter.step(f"build {', '.join(scheduling.short(b.key) for b in left)} from source with Go")

    reporter.note(
        f"building from source, {slots_n} at a time (a first build takes long: README, set-up cost; "
        "--source download fetches official releases where they exist)"
    )
    step(list(groups))
    failures = []
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        which = {pool.submit(one, build): build for build in groups}
        pending = set(which)
        while pending:
            finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in finished:
                build = which[fut]
                names = ", ".join(s.name for s in groups[build])
                try:
                    report.steps[f"build {build.key}"] = seconds = fut.result()
                except KuratorError as exc:
                    failures.append(exc.message)
                    reporter.done(f"building {names} failed", time.monotonic() - began)
                else:
                    report.how.update({spec.name: "built" for spec in groups[build]})
                    reporter.done(f"built {names} ({build.described()})", seconds)
                if pending:
                    step([which[f] for f in pending])
            reporter.progress(scheduling.describe(progress, time.monotonic() - began))
    if failures:
        raise KuratorError("; ".join(failures))


def ensure_binaries(
    specs: list[BinarySpec], source: str = "auto", reporter: Reporter | None = None
) -> FetchReport:
    """Make every binary of ``specs`` present in the cache; see the module docstring."""
    if source not in SOURCES:
        raise KuratorError(f"unknown source {source!r}: use auto, download or build")
    rep = reporter or Silent()
    report = FetchReport()
    to_build: dict[GoBuildSpec, list[BinarySpec]] = {}
    failures: dict[str, str] = {}
    for spec in specs:
        report.paths[spec.name] = binary_path(spec.name, spec.version)
        if is_cached(spec):
            report.how[spec.name] = "cached"
            continue
        if source in ("auto", "download"):
            why = _try_download(spec, report, rep)
            if why is None:
                continue
            failures[spec.name] = why
            if source == "download":
                raise KuratorError(f"could not download {spec.name}: {why}", "try --source build (needs Go)")
        if spec.build is None:
            raise KuratorError(
                f"{spec.name} {spec.version} can be neither downloaded ({failures.get(spec.name)}) nor built"
            )
        to_build.setdefault(spec.build, []).append(spec)
    if to_build and not gobuild.go_available():
        detail = "; ".join(f"{n}: {w}" for n, w in failures.items()) or "--source build was asked for"
        raise KuratorError(
            f"cannot get {', '.join(s.name for g in to_build.values() for s in g)}: downloading failed "
            f"({detail}) and `go` is not installed to build them",
            "install Go >= 1.25, or give a reachable release mirror with --mirror / KURATOR_RELEASE_MIRROR",
        )
    if to_build:
        _build_all(to_build, report, rep)
    return report


def resolve(
    kubernetes_version: str,
    source: str = "auto",
    mirror: str | None = None,
    reporter: Reporter | None = None,
    karmada: bool = True,
    monitoring: bool = False,
) -> dict[str, Path]:
    """Paths of every fleet binary (and Karmada's release data) for ``kubernetes_version``, fetching what
    is missing."""
    specs = fleet_binaries(kubernetes_version, mirror) + (karmada_binaries() if karmada else [])
    specs += monitoring_binaries(mirror) if monitoring else []
    paths = ensure_binaries(specs, source, reporter).paths
    if karmada:
        paths[KARMADA_CRDS] = asset_path(KARMADA_CRDS, KARMADA_VERSION)
        paths[KARMADA_DEPLOY] = asset_path(KARMADA_DEPLOY, KARMADA_VERSION)
    return paths


def resolve_cluster_api(reporter: Reporter | None = None) -> dict[str, Path]:
    """Paths of Cluster API's and CAPA's managers and of their releases' config folders, building what is
    missing (their releases ship container images only)."""
    paths = ensure_binaries(cluster_api_binaries(), "build", reporter).paths
    paths[CLUSTER_API_CONFIG] = asset_path(CLUSTER_API_CONFIG, CLUSTER_API_VERSION)
    paths[CAPA_CONFIG] = asset_path(CAPA_CONFIG, CAPA_VERSION)
    return paths
