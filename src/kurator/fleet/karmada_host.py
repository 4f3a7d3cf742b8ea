"""Karmada for a host cluster: find the one that already serves it (a local fleet's, or an earlier
install), or install the pinned release with the pinned ``karmadactl init`` (Karmada's own installer:
certificates, etcd, API servers, controllers, CRDs), then record it on the host and hand out its kubeconfig.

Re-running is safe: a finished install is found and checked, an unfinished one (recorded as
``installing``) is resumed, and a Karmada that kurator did not install is left alone.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kurator.binaries.catalog import KARMADA_CRDS, KARMADA_VERSION
from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.paths import kurator_home
from kurator.core.progress import Reporter, Silent
from kurator.kube import ops
from kurator.kube.apply import apply_all
from kurator.kube.client import Access, Client, client
from kurator.kube.karmada import HOST_RECORD_NAME, HOST_RECORD_NAMESPACE, Cluster, host_record
from kurator.kube.records import read_data
from kurator.kube.resources import Namespace

NAMESPACE = "karmada-system"
COMPONENTS = (
    "etcd",
    "karmada-apiserver",
    "karmada-aggregated-apiserver",
    "kube-controller-manager",
    "karmada-controller-manager",
    "karmada-scheduler",
    "karmada-webhook",
)
SECRET_FLAGS = re.compile(r"(--token[ =]|--discovery-token-ca-cert-hash[ =]|token: )\S+")


@dataclass(frozen=True)
class Options:
    host: Access
    data_dir: Path | None = None  # default ~/.kurator/karmada/<host context>
    api_address: str | None = None  # the address members and kurator reach Karmada's API at
    port: int = 32443
    wait_timeout: float = 300.0


@dataclass(frozen=True)
class Found:
    mode: str  # local-fleet | in-cluster | installed (just now)
    version: str
    kubeconfig: Path
    fleet: str = ""


def default_data_dir(host: Access) -> Path:
    name = host.context or "current"
    return kurator_home() / "karmada" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def find(host: Client) -> dict[str, str] | None:
    """The host record, None when there is none."""
    return read_data(host, HOST_RECORD_NAMESPACE, HOST_RECORD_NAME)


def _namespace_exists(host: Client) -> bool:
    return ops.get_or_none(host, Namespace, NAMESPACE) is not None


def serves(kubeconfig: Path) -> bool:
    try:
        list(client(kubeconfig, timeout=5.0).list(Cluster))
    except KuratorError:  # the API errors of kurator.kube.errors, and a kubeconfig that cannot be used
        return False
    return True


def refuse_karmada_itself(access: Access, host: Client) -> None:
    """Karmada goes into a host cluster, never into a Karmada API server (which runs no pods)."""
    from kurator.fleet.locate import context_of, serves_karmada

    if serves_karmada(host):
        raise InvalidInput(
            f"the API server of context {context_of(access)!r} is a Karmada API server: Karmada is installed "
            "into a host cluster, not into itself",
            "point --kubeconfig/--context at the host cluster (a local fleet's is <fleet>-host)",
        )


def plan(opts: Options) -> list[str]:
    """What an install would do, in words (for --dry-run); reads the host, writes nothing."""
    host = opts.host.client()
    refuse_karmada_itself(opts.host, host)
    found = find(host)
    if found and found.get("mode") != "installing":
        return [
            f"Karmada v{found.get('version')} already serves this cluster ({found.get('mode')}): "
            "nothing to do"
        ]
    data = opts.data_dir or default_data_dir(opts.host)
    where = opts.api_address or "the address of a control-plane node"
    return [
        f"install Karmada v{KARMADA_VERSION} into namespace {NAMESPACE} of the host cluster"
        + (" (resuming an unfinished install)" if found else ""),
        f"components: {', '.join(COMPONENTS)} (images of release v{KARMADA_VERSION})",
        f"Karmada's API server: NodePort {opts.port}, reached at {where}",
        f"CRDs: those of release v{KARMADA_VERSION}, from the local cache",
        f"certificates and data: {data}",
        f"Karmada kubeconfig: {kubeconfig_path(data)}",
        f"record: ConfigMap {HOST_RECORD_NAMESPACE}/{HOST_RECORD_NAME} on the host",
    ]


def _crds_tarball(crds_dir: Path, target: Path) -> Path:
    """karmadactl takes the CRDs as a ``crds.tar.gz`` holding ``crds/bases`` and ``crds/patches``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        tar.add(crds_dir, arcname="crds")
    return target


def kubeconfig_path(data: Path) -> Path:
    return data / "karmada" / "karmada-apiserver.config"


def _argv(karmadactl: Path, opts: Options, data: Path, crds: Path) -> list[str]:
    argv = [
        str(karmadactl),
        "init",
        f"--namespace={NAMESPACE}",
        f"--crds={crds}",
        # karmadactl empties its data folder first: our log and the CRD archive live beside it.
        f"--karmada-data={data / 'karmada'}",
        f"--karmada-pki={data / 'karmada' / 'pki'}",
        f"--port={opts.port}",
        "--etcd-storage-mode=emptyDir",
        f"--wait-component-ready-timeout={max(1, int(opts.wait_timeout))}",
    ]
    if not opts.host.paths:  # several files come from $KUBECONFIG, which karmadactl merges as kurator does
        argv.append(f"--kubeconfig={opts.host.path}")
    if opts.host.context:
        argv.append(f"--context={opts.host.context}")
    if opts.api_address:
        argv.append(f"--karmada-apiserver-advertise-address={opts.api_address}")
    return argv


def redact(line: str) -> str:
    return SECRET_FLAGS.sub(lambda m: m.group(1) + "<redacted>", line)


def _run(argv: list[str], log: Path, timeout: float, on_line: Callable[[str], None]) -> tuple[int, list[str]]:
    """Run karmadactl, keeping a redacted log and the last lines; killed after ``timeout`` seconds even when
    it prints nothing (a timer, not the reading loop, enforces the deadline)."""
    tail: list[str] = []
    stopped = threading.Event()
    with (
        log.open("w") as out,
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
    ):
        assert proc.stdout is not None

        def stop() -> None:
            stopped.set()
            proc.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            for raw in proc.stdout:
                line = redact(raw.rstrip())
                out.write(line + "\n")
                tail = [*tail[-19:], line]
                if line.strip():
                    on_line(line.strip()[:120])
        finally:
            timer.cancel()
        code = proc.wait()
    if stopped.is_set():
        tail.append(f"stopped after {timeout:g}s")
    return code, tail


def install(
    opts: Options, karmadactl: Callable[[], Path], crds_dir: Path, reporter: Reporter | None = None
) -> Found:
    """Find the Karmada that serves the host, or install it. ``karmadactl`` is asked for only when an
    install is due (it may have to be built first)."""
    rep = reporter or Silent()
    host = opts.host.client()
    refuse_karmada_itself(opts.host, host)
    found = find(host)
    if found and found.get("mode") == "local-fleet":
        return Found(
            "local-fleet", found.get("version", ""), Path(found["kubeconfig"]), found.get("fleet", "")
        )
    if found and found.get("mode") == "in-cluster":
        kubeconfig = Path(found["kubeconfig"])
        if not serves(kubeconfig):
            raise KuratorError(
                f"Karmada v{found.get('version')} is recorded as installed here, but its API server "
                f"(kubeconfig {kubeconfig}) does not answer",
                f"check the pods of namespace {NAMESPACE} on the host cluster",
            )
        return Found("in-cluster", found.get("version", ""), kubeconfig)
    if not found and _namespace_exists(host):
        raise InvalidInput(
            f"the host cluster already has a namespace {NAMESPACE} that kurator did not create",
            "point --kubeconfig at that Karmada's API server instead, or remove it first",
        )
    tool = karmadactl()
    data = opts.data_dir or default_data_dir(opts.host)
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    kubeconfig = kubeconfig_path(data)
    # Recorded before the first change, so that a run cut short is resumed rather than refused.
    apply_all(host, [host_record("installing", KARMADA_VERSION, str(kubeconfig))])
    crds = _crds_tarball(crds_dir, data / "crds.tar.gz")
    rep.step(f"karmadactl init (Karmada v{KARMADA_VERSION})")
    t = time.monotonic()
    code, tail = _run(
        _argv(tool, opts, data, crds), data / "karmadactl.log", opts.wait_timeout + 60, rep.progress
    )
    if code != 0 or not kubeconfig.exists():
        rep.done("karmadactl init: failed", time.monotonic() - t)
        last = next((line for line in reversed(tail) if line.strip()), "no output")
        raise KuratorError(
            f"Karmada was not installed: karmadactl init failed ({last.strip()})",
            f"its log is {data / 'karmadactl.log'}; check the pods of namespace {NAMESPACE}, then run the "
            "same command again to resume",
        )
    rep.done("karmadactl init", time.monotonic() - t)
    kubeconfig.chmod(0o600)
    if not serves(kubeconfig):
        raise KuratorError(
            f"Karmada was installed but its API server (kubeconfig {kubeconfig}) does not answer"
        )
    apply_all(host, [host_record("in-cluster", KARMADA_VERSION, str(kubeconfig))])
    return Found("installed", KARMADA_VERSION, kubeconfig)


def karmadactl(reporter: Reporter | None = None) -> Path:
    """The pinned karmadactl, built (or taken from the cache) with the other Karmada binaries."""
    import os

    from kurator.binaries import ensure_binaries, karmada_binaries

    specs = [s for s in karmada_binaries() if s.name == "karmadactl"]
    source = os.environ.get("KURATOR_BINARY_SOURCE", "auto")
    return ensure_binaries(specs, source, reporter).paths["karmadactl"]


def crds_dir() -> Path:
    from kurator.binaries.fetch import asset_path

    return asset_path(KARMADA_CRDS, KARMADA_VERSION)
