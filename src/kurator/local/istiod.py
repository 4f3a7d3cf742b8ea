"""istiod as a real process of the local fleet: ``pilot-discovery``, built from the pinned Istio module, run
against a mesh's primary member with what ``kurator install istio`` put there. kwok runs the istiod
Deployment's Pods (no image ever runs), so this process is the mesh's control plane for real: it reads the
primary's services and Istio resources, the root of trust in the Secret ``cacerts``, and every remote secret,
with which it watches the remote members.

It runs as the chart configures istiod: the rendered Deployment's arguments and environment, read back from
the primary, logged in with a token of the ``istiod`` ServiceAccount the chart made (so its RBAC is what is
proven). Only addresses and file paths differ: it runs inside the fleet's network namespace, its files
(the CA, the certificates it makes itself) live under ``<fleet>/istio/run``, which is its working folder,
as ``/`` is in its image.

Ports (none serves data to anyone without credentials, which is why this needs the namespace, i.e. root):
the debug endpoints (``/debug/registryz``, ``/debug/clusterz``, ...) and ``/ready`` on the fleet's address,
port 8080, the debug ones only with the bearer token of a ServiceAccount of ``istio-system`` (istiod checks it
with the primary's API server); authenticated xDS on the fleet's address, port 15012 (where remotes reach
istiod: the address to give ``kurator install istio --remote-pilot-address``). Plain-text xDS, metrics and
the webhooks listen on the namespace's own loopback, which no user of the machine can reach (istiod serves
its loopback without credentials).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kurator.core.errors import KuratorError
from kurator.kube import http, kubeconfig, ops, tokens, wait
from kurator.kube.client import client
from kurator.kube.errors import KubeError
from kurator.kube.resources import ConfigMap, Deployment, Secret, ServiceAccount
from kurator.local.config import FleetConfig
from kurator.local.control_plane import process_name
from kurator.local.kubeconfigs import context_name
from kurator.local.layout import FleetLayout
from kurator.local.pki import ClusterPKI
from kurator.local.processes import ProcessSpec

ISTIOD = "istiod"  # the process of the primary: <primary>/istiod
PROXY = "istiod-webhook-proxy"  # its Services' stand-in for kube-proxy (local/serviceproxy.py)
BINARY = "pilot-discovery"
NAMESPACE = "istio-system"
SERVICE_ACCOUNT = "istiod"
CONFIG_MAPS = ("istio", "istio-sidecar-injector")
HTTP_PORT = 8080
SECURE_XDS_PORT = 15012
LOOPBACK = "127.0.0.1"
INNER_PORTS = {"grpcAddr": 15010, "monitoringAddr": 15014, "httpsAddr": 15017}
TOKEN_SECONDS = 30 * 86400  # the process is restarted (with a new token) by `kurator local istiod`
DEBUG_AUDIENCE = "istio-ca"  # the audience istiod accepts bearer tokens for


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def run(self) -> Path:
        """istiod's working folder: it keeps ./etc/cacerts and ./var/run/secrets/... relative to it."""
        return self.root / "run"

    @property
    def cacerts(self) -> Path:
        return self.run / "etc" / "cacerts"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "istiod.kubeconfig"


def paths(layout: FleetLayout) -> Paths:
    return Paths(layout.root / "istio")


def check_fleet(cfg: FleetConfig) -> None:
    if cfg.network != "netns":
        raise KuratorError(
            "istiod runs in the local fleet only inside its network namespace (a fleet made as root): on "
            "loopback any user of this machine could read the debug endpoints that istiod serves to "
            "localhost without credentials",
            "run `kurator local up` as root to have the fleet in its own network namespace",
        )
    if not cfg.karmada:
        raise KuratorError(f"the local fleet {cfg.name!r} runs without Karmada, so no Istio was installed")


def _admin(cfg: FleetConfig, layout: FleetLayout, cluster: str) -> Any:
    return client(layout.kubeconfig(cluster), context_name(cfg, cluster))


def _write(path: Path, text: str) -> None:
    """Write a file only this user reads (keys, tokens); atomically, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.replace(path)


def token(api: Any, audience: str | None, seconds: int) -> str:
    """A token of istiod's ServiceAccount, from the primary's TokenRequest API."""
    return tokens.request(api, SERVICE_ACCOUNT, NAMESPACE, audience, seconds)


def _installed(api: Any) -> dict[str, Any] | None:
    """What istiod needs from the install, once it is all there: its Deployment, account and CA."""
    dep = ops.get_or_none(api, Deployment, ISTIOD, NAMESPACE)
    account = ops.get_or_none(api, ServiceAccount, SERVICE_ACCOUNT, NAMESPACE)
    cacerts = ops.get_or_none(api, Secret, "cacerts", NAMESPACE)
    # istiod reads its mesh config and its injection templates when it starts (its Pod would not start
    # without them): a process started before they exist serves no injection.
    configs = [ops.get_or_none(api, ConfigMap, name, NAMESPACE) for name in CONFIG_MAPS]
    if dep is None or account is None or cacerts is None or None in configs:
        return None
    return {"deployment": dep.to_dict(), "cacerts": cacerts.data or {}}


def _env(container: dict[str, Any], primary: str, kubeconfig_path: Path) -> dict[str, str]:
    """The container's environment as the kubelet would give it, for this process."""
    pod = {"metadata.name": f"istiod-local-{primary}", "metadata.namespace": NAMESPACE}
    pod["spec.serviceAccountName"] = SERVICE_ACCOUNT
    out: dict[str, str] = {}
    for entry in container.get("env") or []:
        source = entry.get("valueFrom") or {}
        if "value" in entry:
            out[entry["name"]] = str(entry["value"])
        elif "fieldRef" in source and source["fieldRef"].get("fieldPath") in pod:
            out[entry["name"]] = pod[source["fieldRef"]["fieldPath"]]
        # resourceFieldRef (GOMAXPROCS from a CPU limit) and others: left to the Go runtime's defaults
    out["KUBECONFIG"] = str(kubeconfig_path)
    return out


def _args(container: dict[str, Any], cfg: FleetConfig, kubeconfig_path: Path) -> list[str]:
    """The container's arguments, with this process's addresses (see the module)."""
    ours = {
        "httpAddr": f"{cfg.address}:{HTTP_PORT}",
        "secureGRPCAddr": f"{cfg.address}:{SECURE_XDS_PORT}",
        **{flag: f"{LOOPBACK}:{port}" for flag, port in INNER_PORTS.items()},
        "kubeconfig": str(kubeconfig_path),
    }
    args: list[str] = []
    for arg in container.get("args") or []:
        flag = arg.lstrip("-").split("=", 1)[0]
        if arg.startswith("--") and flag in ours:
            continue  # replaced below
        args.append(arg)
    return args + [f"--{flag}={value}" for flag, value in ours.items()]


def prepare(
    cfg: FleetConfig, layout: FleetLayout, primary: str, timeout: float
) -> tuple[list[str], dict[str, str]]:
    """Wait until ``kurator install istio`` has put istiod's objects on ``primary`` (it may still be
    running), then write istiod's files; returns its arguments and environment."""
    check_fleet(cfg)
    api = _admin(cfg, layout, primary)
    got = wait.until(
        lambda: _installed(api),
        timeout=timeout,
        what=f"istiod's Deployment, account, Secret cacerts and ConfigMaps in {NAMESPACE} on {primary}",
        hint="install Istio first: `kurator install istio --primary ...`",
    )
    where = paths(layout)
    for name, data in got["cacerts"].items():
        _write(where.cacerts / name, base64.b64decode(data).decode())
    ca = base64.b64encode(ClusterPKI(layout.pki(primary)).ca_crt.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": primary, "cluster": {"server": cfg.server(primary), "certificate-authority-data": ca}}
        ],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": token(api, None, TOKEN_SECONDS)}}],
        "contexts": [{"name": primary, "context": {"cluster": primary, "user": SERVICE_ACCOUNT}}],
        "current-context": primary,
    }
    kubeconfig.write(where.kubeconfig, config)
    containers = got["deployment"]["spec"]["template"]["spec"]["containers"]
    container = next((c for c in containers if c.get("name") == "discovery"), containers[0])
    return _args(container, cfg, where.kubeconfig), _env(container, primary, where.kubeconfig)


def spec(
    cfg: FleetConfig,
    layout: FleetLayout,
    primary: str,
    binary: Path,
    launch: tuple[list[str], dict[str, str]],
    netns: str | None,
) -> ProcessSpec:
    args, env = launch
    return ProcessSpec(
        name=process_name(primary, ISTIOD),
        argv=[str(binary), *args],
        log=layout.log(process_name(primary, ISTIOD)),
        netns=netns,
        env=env,
        cwd=paths(layout).run,
    )


def proxy_spec(layout: FleetLayout, primary: str, netns: str | None) -> ProcessSpec:
    """The kube-proxy stand-in that brings the members' API servers to istiod's webhooks."""
    import sys

    name = process_name(primary, PROXY)
    argv = [
        sys.executable,
        "-m",
        "kurator.local.serviceproxy",
        str(layout.root),
        str(INNER_PORTS["httpsAddr"]),
    ]
    return ProcessSpec(name=name, argv=argv, log=layout.log(name), netns=netns)


def url(cfg: FleetConfig) -> str:
    return f"http://{cfg.address}:{HTTP_PORT}"


def wait_ready(cfg: FleetConfig, layout: FleetLayout, primary: str, timeout: float) -> None:
    """Until istiod answers ``/ready`` (it has synced its caches)."""

    def ready() -> bool:
        answer = http.get(
            f"{url(cfg)}/ready", what="asking istiod whether it is ready", timeout=2, check=False
        )
        return answer.ok

    wait.until(
        ready,
        timeout=timeout,
        what=f"istiod on {primary} to be ready",
        hint=f"see its log {layout.log(process_name(primary, ISTIOD))}",
    )


def debug(cfg: FleetConfig, layout: FleetLayout, primary: str, endpoint: str) -> Any:
    """One of istiod's debug endpoints (``registryz``, ``clusterz``, ...), asked with a token of istiod's
    own ServiceAccount as istiod requires from anyone not on its loopback."""
    bearer = token(_admin(cfg, layout, primary), DEBUG_AUDIENCE, 600)
    answer = http.get(
        f"{url(cfg)}/debug/{endpoint}",
        what=f"reading istiod's /debug/{endpoint}",
        headers={"Authorization": f"Bearer {bearer}"},
    )
    try:
        return answer.json()
    except ValueError:
        raise KubeError(f"istiod's /debug/{endpoint} is not JSON: {answer.text[:200]}") from None
