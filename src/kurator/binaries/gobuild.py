"""Build binaries from the Go module proxy with the local Go toolchain.

``go install pkg@version`` refuses modules whose go.mod has ``replace`` directives (Kubernetes, etcd,
Thanos), so each build gets a tiny helper module outside the repository that requires the upstream module
and carries the replaces the upstream go.mod needs. All packages of one module, and those of other modules
it pins (``requires``), are built by one ``go build`` so shared packages compile once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kurator.binaries.catalog import GoBuildSpec
from kurator.core.errors import KuratorError
from kurator.core.paths import build_cache

LineCallback = Callable[[int], None]


@dataclass(frozen=True)
class BuildResult:
    binaries: dict[str, Path]  # binary name -> built file (in a temporary folder)
    module_dir: Path  # the upstream module's source in Go's module cache (read-only)
    steps: dict[str, float]  # step -> seconds
    log: Path


def go_available() -> bool:
    return shutil.which("go") is not None


def _env(spec: GoBuildSpec) -> dict[str, str]:
    # GOTOOLCHAIN=local: fail clearly instead of downloading a toolchain nobody approved.
    return {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", **dict(spec.env)}


def _run(args: list[str], cwd: Path, env: dict[str, str], log: Path, step: str) -> str:
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=fh, text=True, check=False
        )
        fh.write(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise KuratorError(f"building failed at step '{step}' (full log: {log}):\n{tail}")
    return proc.stdout


def _run_counting(
    args: list[str], cwd: Path, env: dict[str, str], log: Path, step: str, on_line: LineCallback
) -> None:
    """Like ``_run``, reporting each line ``go build -v`` prints (one per package compiled)."""
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=fh, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for count, line in enumerate(proc.stderr, start=1):
            fh.write(line)
            on_line(count)
        code = proc.wait()
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise KuratorError(f"building failed at step '{step}' (full log: {log}):\n{tail}")


def _module_info(workdir: Path, env: dict[str, str], log: Path, spec: GoBuildSpec) -> dict[str, str]:
    """Where Go's module cache holds the upstream module: ``Dir`` (source) and ``GoMod``."""
    args = ["go", "mod", "download", "-json", f"{spec.module}@{spec.version}"]
    info: dict[str, str] = json.loads(_run(args, workdir, env, log, "go mod download"))
    return info


def _staging_replaces(
    workdir: Path, env: dict[str, str], log: Path, spec: GoBuildSpec, go_mod: Path
) -> list[str]:
    """Every ``k8s.io/<m> v0.0.0`` requirement of k8s.io/kubernetes maps to the published
    ``v0.<minor>.<patch>`` tag; derived from the upstream go.mod so a new staging module never breaks it."""
    staging_version = "v0." + spec.version.removeprefix("v").split(".", 1)[1]
    replaces = []
    godebug = []
    for line in go_mod.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("k8s.io/") and parts[1] == "v0.0.0":
            replaces.append(f"{parts[0]}={parts[0]}@{staging_version}")
        if parts and parts[0] == "godebug" and len(parts) == 2:
            godebug.append(parts[1])
    for kv in godebug:  # runtime defaults as upstream builds them
        _run(["go", "mod", "edit", f"-godebug={kv}"], workdir, env, log, "go mod edit")
    return replaces


def get_args(spec: GoBuildSpec) -> list[str]:
    """``go get`` of the module's packages at its version, and of other modules' at theirs."""
    own = [p for p, _ in spec.packages if p == spec.module or p.startswith(f"{spec.module}/")]
    return ["go", "get", *(f"{p}@{spec.version}" for p in own), *spec.requires]


def _folder(pkg: str) -> str:
    return pkg.rstrip("/").rsplit("/", 1)[-1]


def one_build(spec: GoBuildSpec) -> bool:
    """Whether one ``go build`` makes every binary: it names each after its package's folder, so two
    packages in folders of the same name (``bootstrap/kubeadm``, ``controlplane/kubeadm``) need one each
    (the second compiles in seconds from Go's build cache)."""
    folders = [_folder(pkg) for pkg, _ in spec.packages]
    return len(folders) > 1 and len(set(folders)) == len(folders)


def build_args(spec: GoBuildSpec, out: Path) -> list[str]:
    """One ``go build`` of every package of ``spec`` into the folder ``out``."""
    return build_commands(spec, out)[0]


def build_commands(spec: GoBuildSpec, out: Path) -> list[list[str]]:
    """The ``go build`` commands that make every binary of ``spec`` in the folder ``out`` (see one_build)."""
    ldflags = " ".join(spec.ldflags)
    args = ["go", "build", "-v", "-trimpath", f"-ldflags={ldflags}"]
    # A later `-ldflags=<package>=…` wins for that package, so each one repeats the common flags.
    args += [f"-ldflags={pkg}={ldflags} {' '.join(extra)}" for pkg, extra in spec.package_ldflags]
    if spec.tags:
        args.append(f"-tags={','.join(spec.tags)}")
    if one_build(spec):
        return [[*args, "-o", f"{out}/", *(pkg for pkg, _ in spec.packages)]]
    return [[*args, "-o", str(out / name), pkg] for pkg, name in spec.packages]


def build(spec: GoBuildSpec, out_dir: Path, on_line: LineCallback | None = None) -> BuildResult:
    """Build every package of ``spec`` into ``out_dir``; reuses the helper module on re-runs."""
    if not go_available():
        raise KuratorError("`go` is not installed, so binaries cannot be built from the Go module proxy")
    workdir = build_cache() / spec.key
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "build.log"
    log.write_text("")
    env = _env(spec)
    steps: dict[str, float] = {}
    t = time.monotonic()
    if not (workdir / "go.mod").exists():
        _run(["go", "mod", "init", f"kurator.local/build/{spec.key}"], workdir, env, log, "go mod init")
    replaces = list(spec.replaces)
    info = _module_info(workdir, env, log, spec)
    if spec.kubernetes_staging:
        replaces += _staging_replaces(workdir, env, log, spec, Path(info["GoMod"]))
    for r in replaces:
        _run(["go", "mod", "edit", f"-replace={r}"], workdir, env, log, "go mod edit")
    _run(get_args(spec), workdir, env, log, "go get")
    steps["go get"] = time.monotonic() - t
    t = time.monotonic()
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix=".out-"))
    compiled = [0]  # packages compiled so far, across the commands

    def counted(_n: int) -> None:
        compiled[0] += 1
        (on_line or (lambda _n: None))(compiled[0])

    for argv in build_commands(spec, tmp):
        _run_counting(argv, workdir, env, log, "go build", counted)
    steps["go build"] = time.monotonic() - t
    shared = one_build(spec)
    built = {}
    for pkg, name in spec.packages:
        produced = tmp / (_folder(pkg) if shared else name)
        if not produced.exists():
            raise KuratorError(f"go build did not produce {name} (full log: {log})")
        built[name] = produced
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {}
    for name, path in built.items():
        dest = out_dir / name
        os.replace(path, dest)
        result[name] = dest
    shutil.rmtree(tmp, ignore_errors=True)
    return BuildResult(result, Path(info["Dir"]), steps, log)
