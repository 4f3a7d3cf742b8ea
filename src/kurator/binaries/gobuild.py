"""Build binaries from the Go module proxy with the local Go toolchain.

``go install pkg@version`` refuses modules whose go.mod has ``replace`` directives (Kubernetes, etcd,
Thanos), so each build gets a tiny helper module outside the repository that requires the upstream module
and carries the replaces the upstream go.mod needs. All packages of one module, and those of other modules
it pins (``requires``), are built by one ``go build`` so shared packages compile once: Go's minimal version
selection then takes each dependency they share at the highest version any of them asks for (the catalog
groups only releases built on the same libraries, e.g. Kubernetes, Karmada and helm on k8s.io 0.35).

A build has two parts: :func:`prepare` (the helper module and the module downloads: mostly network) and
:func:`compile` (CPU). A prepared helper module is stamped, so a re-run neither edits nor resolves it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from kurator.binaries import giveway
from kurator.binaries.catalog import GoBuildSpec
from kurator.core.errors import KuratorError
from kurator.core.paths import build_cache

# The compiler's debug information is never used: the links strip it (-s -w) anyway. Without it a cold
# build takes 13% less CPU and its build cache 21% less disk (kwok's, bench in the README).
COMPILE_FLAGS = ("-trimpath", "-gcflags=all=-dwarf=false")
# The compiler collects garbage often at Go's default GOGC=100; at 400 it needs 18% less CPU for a cold build
# (kwok's), each process using up to a third more memory (Kubernetes' largest package: 420 -> 560 MB). A
# GOGC of the user's own wins.
GOGC = "400"
STAMP = ".prepared.json"


@dataclass
class Progress:
    """How far one build has come; written by the build's thread, read by whoever shows it."""

    phase: str = "waiting"  # waiting | downloading | queued (for a compile slot) | compiling | done
    downloaded: int = 0  # modules downloaded
    compiled: int = 0  # packages compiled
    total: int = 0  # packages the build needs (std included), 0 until known


@dataclass(frozen=True)
class Prepared:
    workdir: Path
    module_dir: Path  # the upstream module's source in Go's module cache (read-only)
    packages: int  # packages the build needs, std included


def go_available() -> bool:
    return shutil.which("go") is not None


def _env(spec: GoBuildSpec) -> dict[str, str]:
    # GOTOOLCHAIN=local: fail clearly instead of downloading a toolchain nobody approved.
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", **dict(spec.env)}
    env.setdefault("GOGC", GOGC)
    return env


def _log(spec: GoBuildSpec) -> Path:
    return build_cache() / spec.key / "build.log"


def _failed(log: Path, step: str) -> KuratorError:
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    return KuratorError(f"building failed at step '{step}' (full log: {log}):\n{tail}")


def _run(args: list[str], cwd: Path, env: dict[str, str], log: Path, step: str) -> str:
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=fh, text=True, check=False
        )
        fh.write(proc.stdout)
    if proc.returncode != 0:
        raise _failed(log, step)
    return proc.stdout


def _run_lines(
    args: list[str], cwd: Path, env: dict[str, str], log: Path, step: str, on_line: Callable[[str], None]
) -> None:
    """Like ``_run``, passing each line the command writes on stderr (``go build -v`` names each package
    it compiles there, ``go get`` each module it downloads)."""
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=fh, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            fh.write(line)
            on_line(line)
        code = proc.wait()
    if code != 0:
        raise _failed(log, step)


def _module_info(workdir: Path, env: dict[str, str], log: Path, module: str, version: str) -> dict[str, str]:
    """Where Go's module cache holds ``module@version``: ``Dir`` (source) and ``GoMod``."""
    args = ["go", "mod", "download", "-json", f"{module}@{version}"]
    info: dict[str, str] = json.loads(_run(args, workdir, env, log, "go mod download"))
    return info


def module_dir(spec: GoBuildSpec, prepared: Prepared, module: str, version: str) -> Path:
    """The source of ``module@version`` (the build's own module, or one it requires) in Go's module cache."""
    if (module, version) == (spec.module, spec.version):
        return prepared.module_dir
    return Path(_module_info(prepared.workdir, _env(spec), _log(spec), module, version)["Dir"])


def staging_replaces(spec: GoBuildSpec, go_mod: str) -> tuple[list[str], list[str]]:
    """Every ``k8s.io/<m> v0.0.0`` requirement of k8s.io/kubernetes maps to the published
    ``v0.<minor>.<patch>`` tag, derived from the upstream go.mod (a new staging module never breaks it);
    and its ``godebug`` settings (runtime defaults as upstream builds them)."""
    staging_version = "v0." + spec.version.removeprefix("v").split(".", 1)[1]
    replaces, godebug = [], []
    for line in go_mod.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("k8s.io/") and parts[1] == "v0.0.0":
            replaces.append(f"{parts[0]}={parts[0]}@{staging_version}")
        if parts and parts[0] == "godebug" and len(parts) == 2:
            godebug.append(parts[1])
    return replaces, godebug


def get_args(spec: GoBuildSpec) -> list[str]:
    """``go get`` of the module's packages at its version, and of other modules' at theirs."""
    own = [p for p, _ in spec.packages if p == spec.module or p.startswith(f"{spec.module}/")]
    return ["go", "get", *(f"{p}@{spec.version}" for p in own), *spec.requires]


def _tags(spec: GoBuildSpec) -> list[str]:
    return [f"-tags={','.join(spec.tags)}"] if spec.tags else []


def _folder(pkg: str) -> str:
    return pkg.rstrip("/").rsplit("/", 1)[-1]


def _one_build(chosen: list[tuple[str, str]]) -> bool:
    """Whether one ``go build`` makes every binary: it names each after its package's folder, so two
    packages in folders of the same name (``bootstrap/kubeadm``, ``controlplane/kubeadm``) need one each
    (the second compiles in seconds from Go's build cache)."""
    folders = [_folder(pkg) for pkg, _ in chosen]
    return len(folders) > 1 and len(set(folders)) == len(folders)


def build_commands(spec: GoBuildSpec, out: Path, names: Collection[str] | None = None) -> list[list[str]]:
    """The ``go build`` commands that make the binaries ``names`` of ``spec`` (default all) in the folder
    ``out``: one for them all when their folders' names differ (shared packages compile once)."""
    chosen = [(pkg, name) for pkg, name in spec.packages if names is None or name in names]
    ldflags = " ".join(spec.ldflags)
    args = ["go", "build", "-v", *COMPILE_FLAGS, f"-ldflags={ldflags}"]
    # A later `-ldflags=<package>=…` wins for that package, so each one repeats the common flags.
    args += [
        f"-ldflags={pkg}={ldflags} {' '.join(extra)}"
        for pkg, extra in spec.package_ldflags
        if pkg in dict(chosen)
    ]
    args += _tags(spec)
    if _one_build(chosen):
        return [[*args, "-o", f"{out}/", *(pkg for pkg, _ in chosen)]]  # each binary named after its folder
    return [[*args, "-o", str(out / name), pkg] for pkg, name in chosen]


def build_args(spec: GoBuildSpec, out: Path, names: Collection[str] | None = None) -> list[str]:
    """The first (usually the only) command of :func:`build_commands`."""
    return build_commands(spec, out, names)[0]


@contextlib.contextmanager
def locked(spec: GoBuildSpec) -> Iterator[None]:
    """Exclusive use of the helper module of ``spec``: two kurator processes building the same group (two
    `kurator local up` at once) take turns instead of writing one folder together; a starved background
    build gives way (:mod:`kurator.binaries.giveway`)."""
    workdir = build_cache() / spec.key
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / ".lock"
    with path.open("a+") as fh:
        giveway.acquire(fh, path, spec.described())
        giveway.note_holder(fh)
        for stale in workdir.glob(".out-*"):  # of a build stopped mid-way; nobody else builds here now
            shutil.rmtree(stale, ignore_errors=True)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def digest(spec: GoBuildSpec) -> str:
    """What the helper module depends on: a changed spec prepares it again."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:16]


def prepare(spec: GoBuildSpec, progress: Progress | None = None) -> Prepared:
    """The helper module of ``spec`` with every module it needs downloaded; a stamped one is reused."""
    if not go_available():
        raise KuratorError("`go` is not installed, so binaries cannot be built from the Go module proxy")
    prog = progress or Progress()
    workdir = build_cache() / spec.key
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = workdir / STAMP
    try:
        known = json.loads(stamp.read_text())
        if known.get("digest") == digest(spec) and Path(known["moduleDir"]).is_dir():
            prog.total = int(known["packages"])
            prog.phase = "queued"
            return Prepared(workdir, Path(known["moduleDir"]), prog.total)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not prepared yet, or by an older kurator: prepare again
    log = _log(spec)
    log.write_text("")
    env = _env(spec)
    prog.phase = "downloading"
    if not (workdir / "go.mod").exists():
        _run(["go", "mod", "init", f"kurator.local/build/{spec.key}"], workdir, env, log, "go mod init")
    info = _module_info(workdir, env, log, spec.module, spec.version)
    replaces = list(spec.replaces)
    godebug: list[str] = []
    if spec.kubernetes_staging:
        staged, godebug = staging_replaces(spec, Path(info["GoMod"]).read_text())
        replaces += staged
    edits = [f"-replace={r}" for r in replaces] + [f"-godebug={kv}" for kv in godebug]
    if edits:
        _run(["go", "mod", "edit", *edits], workdir, env, log, "go mod edit")

    def downloaded(line: str) -> None:
        if line.startswith("go: downloading"):
            prog.downloaded += 1

    _run_lines(get_args(spec), workdir, env, log, "go get", downloaded)
    listing = _run(
        ["go", "list", "-deps", *_tags(spec), *(p for p, _ in spec.packages)], workdir, env, log, "go list"
    )
    prog.total = len(listing.split())
    stamp.write_text(
        json.dumps({"digest": digest(spec), "moduleDir": info["Dir"], "packages": prog.total}) + "\n"
    )
    prog.phase = "queued"
    return Prepared(workdir, Path(info["Dir"]), prog.total)


def compile(
    spec: GoBuildSpec,
    prepared: Prepared,
    progress: Progress | None = None,
    names: Collection[str] | None = None,
) -> dict[str, Path]:
    """Build the binaries ``names`` of ``spec`` (default: all; only the missing ones are asked for, so a
    group that gained a binary does not rebuild the rest); returns binary name -> built file, in a
    temporary folder of the helper module (the caller moves them into place)."""
    prog = progress or Progress()
    prog.phase = "compiling"
    log = _log(spec)
    with log.open("a") as fh:
        fh.write("\n# compile\n")
    tmp = Path(tempfile.mkdtemp(dir=prepared.workdir, prefix=".out-"))

    def compiled(line: str) -> None:
        prog.compiled += 1

    for args in build_commands(spec, tmp, names):
        _run_lines(args, prepared.workdir, _env(spec), log, "go build", compiled)
    chosen = [(pkg, name) for pkg, name in spec.packages if names is None or name in names]
    shared = _one_build(chosen)
    built = {}
    for pkg, name in chosen:
        produced = tmp / (_folder(pkg) if shared else name)
        if not produced.exists():
            raise KuratorError(f"go build did not produce {name} (full log: {log})")
        built[name] = produced
    prog.phase = "done"
    return built
