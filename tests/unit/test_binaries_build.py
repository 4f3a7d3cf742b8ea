"""How builds from source are scheduled, reused and reported (no Go run here: tests/integration builds)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from kurator.binaries import ensure_binaries, gobuild, scheduling
from kurator.binaries.catalog import (
    GoBuildSpec,
    fleet_binaries,
    helm_binary,
    karmada_binaries,
    monitoring_build,
)
from kurator.binaries.fetch import asset_path

GIB = 2**30


def test_two_builds_at_once_only_when_memory_and_cpus_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KURATOR_BUILD_JOBS", raising=False)
    assert scheduling.parallel_builds(memory=16 * GIB, cpus=2) == 2
    assert scheduling.parallel_builds(memory=4 * GIB, cpus=2) == 1
    assert scheduling.parallel_builds(memory=16 * GIB, cpus=1) == 1
    monkeypatch.setenv("KURATOR_BUILD_JOBS", "3")
    assert scheduling.parallel_builds(memory=1 * GIB, cpus=1) == 3


def test_available_memory_reads_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n")
    assert scheduling.available_memory(meminfo) == 20000000 * 1024
    assert scheduling.available_memory(tmp_path / "absent") == 0


def test_slots_let_the_largest_waiting_build_go_next() -> None:
    slots = scheduling.Slots(1)
    order: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def first() -> None:
        with slots.taken(1):
            started.set()
            release.wait(10)

    def later(weight: int) -> None:
        with slots.taken(weight):
            order.append(weight)

    holder = threading.Thread(target=first)
    holder.start()
    assert started.wait(10)
    waiters = [threading.Thread(target=later, args=(w,)) for w in (10, 300, 40)]
    for t in waiters:
        t.start()
    deadline = time.monotonic() + 10
    while len(slots._waiting) < 3:  # every waiter queued before the slot frees
        assert time.monotonic() < deadline
        time.sleep(0.01)
    release.set()
    for t in [holder, *waiters]:
        t.join(10)
    assert order == [300, 40, 10]


def test_progress_reads_as_one_line() -> None:
    kube = gobuild.Progress("compiling", compiled=812, total=2400)
    thanos = gobuild.Progress("compiling", compiled=120, total=1800)
    helm = gobuild.Progress("downloading", downloaded=12)
    etcd = gobuild.Progress("queued", total=575)
    line = scheduling.describe(
        {"kubernetes-1.35.4": kube, "thanos-0.42.4": thanos, "helm-3.20.2": helm, "etcd-3.6.14": etcd}
    )
    assert line == "932/4775 packages (kubernetes, thanos compiling; helm downloading; etcd queued)"
    assert scheduling.describe({}) == "0 packages"
    assert scheduling.describe({"etcd-3.6.14": etcd}, elapsed=125).endswith("(etcd queued; 2m 05s in all)")


def test_a_prepared_helper_module_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stamp that matches the spec means no `go` command runs: nothing is edited or resolved again."""
    monkeypatch.setenv("KURATOR_CACHE", str(tmp_path))
    spec = monitoring_build()
    workdir = tmp_path / "build" / spec.key
    workdir.mkdir(parents=True)
    source = tmp_path / "module"
    source.mkdir()
    stamp = {"digest": gobuild.digest(spec), "moduleDir": str(source), "packages": 1830}
    (workdir / gobuild.STAMP).write_text(json.dumps(stamp))
    progress = gobuild.Progress()
    prepared = gobuild.prepare(spec, progress)
    assert prepared == gobuild.Prepared(workdir, source, 1830)
    assert progress.total == 1830 and progress.phase == "queued"
    assert not (workdir / "go.mod").exists() and not (workdir / "build.log").exists()


def test_a_changed_spec_prepares_again() -> None:
    kube = fleet_binaries("1.35.4")[0].build
    assert kube is not None
    assert gobuild.digest(kube) == gobuild.digest(fleet_binaries("1.35.4")[0].build)  # type: ignore[arg-type]
    assert gobuild.digest(kube) != gobuild.digest(monitoring_build())


def test_staging_replaces_and_godebug_come_from_the_upstream_go_mod() -> None:
    kube = fleet_binaries("1.35.4")[0].build
    assert kube is not None
    go_mod = "module k8s.io/kubernetes\n\ngo 1.25.0\n\ngodebug default=go1.25\n\nrequire (\n"
    go_mod += "\tk8s.io/api v0.0.0\n\tk8s.io/klog/v2 v2.130.1\n\tk8s.io/kubectl v0.0.0\n)\n"
    replaces, godebug = gobuild.staging_replaces(kube, go_mod)
    assert replaces == ["k8s.io/api=k8s.io/api@v0.35.4", "k8s.io/kubectl=k8s.io/kubectl@v0.35.4"]
    assert godebug == ["default=go1.25"]


def test_builds_collect_garbage_less_often_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = monitoring_build()
    monkeypatch.delenv("GOGC", raising=False)
    env = gobuild._env(spec)
    assert env["GOGC"] == "400" and env["GOTOOLCHAIN"] == "local" and env["CGO_ENABLED"] == "0"
    monkeypatch.setenv("GOGC", "150")
    assert gobuild._env(spec)["GOGC"] == "150"


def _fake_go(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """gobuild's prepare/compile/module_dir replaced: a compile makes an executable per name asked for,
    Karmada's module source holds its two release folders. Returns the names each compile was asked for."""
    monkeypatch.setenv("KURATOR_CACHE", str(tmp_path / "cache"))
    karmada_src = tmp_path / "karmada-src"
    for folder in ("charts/karmada/_crds/bases", "artifacts/deploy"):
        (karmada_src / folder).mkdir(parents=True)
        (karmada_src / folder / "x.yaml").write_text("kind: X\n")
    compiled: list[list[str]] = []

    def prepare(spec: GoBuildSpec, progress: object = None) -> gobuild.Prepared:
        return gobuild.Prepared(tmp_path, tmp_path / "kubernetes-src", 10)

    def compile(spec: GoBuildSpec, prepared: object, progress: object, names: list[str]) -> dict[str, Path]:
        compiled.append(sorted(names))
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        for name in names:
            (out / name).write_text("#!/bin/sh\n")
            (out / name).chmod(0o755)
        return {name: out / name for name in names}

    monkeypatch.setattr(gobuild, "prepare", prepare)
    monkeypatch.setattr(gobuild, "compile", compile)
    monkeypatch.setattr(gobuild, "module_dir", lambda spec, prepared, module, version: karmada_src)
    monkeypatch.setattr(gobuild, "go_available", lambda: True)
    return compiled


def test_one_build_for_the_control_plane_karmada_and_helm_with_karmadas_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compiled = _fake_go(monkeypatch, tmp_path)
    kube = [s for s in fleet_binaries("1.35.4") if s.name.startswith("kube")]
    specs = [*kube, *karmada_binaries(), helm_binary()]
    report = ensure_binaries(specs, "build")
    assert len(compiled) == 1 and len(compiled[0]) == 10  # one go build for all ten binaries
    assert set(report.how.values()) == {"built"}
    assert (asset_path("karmada-crds", "1.18.2") / "bases" / "x.yaml").is_file()
    assert (asset_path("karmada-deploy", "1.18.2") / "x.yaml").is_file()
    assert ensure_binaries(specs, "build").how == {s.name: "cached" for s in specs}  # a re-run builds nothing


def test_missing_release_data_alone_is_put_back_without_compiling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compiled = _fake_go(monkeypatch, tmp_path)
    specs = karmada_binaries()
    ensure_binaries(specs, "build")
    shutil.rmtree(asset_path("karmada-crds", "1.18.2"))
    kube = [s for s in fleet_binaries("1.35.4") if s.name == "kube-apiserver"]
    assert ensure_binaries(kube, "build").how == {"kube-apiserver": "built"}
    assert not asset_path("karmada-crds", "1.18.2").exists()  # kube-apiserver needs no Karmada CRDs
    assert ensure_binaries(specs, "build")
    assert asset_path("karmada-crds", "1.18.2").is_dir()
    assert compiled == [sorted(s.name for s in specs), ["kube-apiserver"]]  # the data came back, no compile
