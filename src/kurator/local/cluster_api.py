"""Cluster API in the local fleet (``kurator local up --cluster-api``): its four managers (core, kubeadm
bootstrap, kubeadm control plane, AWS) as real processes against the host cluster, and the AWS stand-in
(kurator.local.aws_standin) that CAPA talks to.

Each manager serves its webhooks at the fleet's address on a port of its own, with a certificate from the
host's CA (the webhook server cannot be turned off and is part of its readiness); the CRDs and webhook
configurations of its release point the host's API server there by URL. The host's kube-controller-manager
garbage-collects what the managers own.

The managers dial the control-plane endpoint CAPA reports, a load balancer's DNS name. So they run in the
fleet's network namespace with a private ``/etc/hosts`` and ``/etc/resolv.conf`` (iproute2's per-namespace
files in ``/etc/netns/<namespace>/``, bind-mounted by ``ip netns exec``): a name is resolved only from that
hosts file, never by a lookup that leaves the machine. This needs the namespace, hence root.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import secrets
import ssl
import string
from pathlib import Path
from typing import Any

from kurator.clusterapi import kustomize, manifests
from kurator.clusterapi.providers import ALL, AWS, Provider
from kurator.clusterapi.regions import REGIONS, service_endpoints
from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import http
from kurator.kube.apply import apply_all
from kurator.kube.client import Client, client
from kurator.kube.errors import Transient
from kurator.local import hostsfile
from kurator.local.config import HOST_CLUSTER, ClusterApiConfig, FleetConfig
from kurator.local.control_plane import Binaries, process_name
from kurator.local.health import poll
from kurator.local.kubeconfigs import context_name
from kurator.local.layout import FleetLayout
from kurator.local.pki import ADMIN, ClusterPKI, issue_serving_cert
from kurator.local.processes import ProcessSpec

STANDIN = "aws-standin"
COMPONENTS = (STANDIN, *(p.name for p in ALL))  # processes of the host, in start order
NETNS_PORT_BASE = 17440  # inside the fleet's own namespace: health, diagnostics, webhook per manager
STANDIN_PORT = 17480
NETNS_ETC = Path("/etc/netns")
WEBHOOK_CERT = "cluster-api-webhook"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kurator-local"}


def new_config() -> ClusterApiConfig:
    ports: dict[str, int] = {}
    for i, p in enumerate(ALL):
        base = NETNS_PORT_BASE + 10 * i
        ports |= {f"{p.name}/health": base, f"{p.name}/diagnostics": base + 1, f"{p.name}/webhook": base + 3}
    return ClusterApiConfig(ports=ports | {STANDIN: STANDIN_PORT})


def played_names(cfg: FleetConfig, cluster: str) -> tuple[str, ...]:
    """With Cluster API, each member's API server also answers to AWS load balancer names: a test (or a
    user) that plays the machines of a cluster on AWS maps its load balancer's name to a member in the
    namespace's hosts file, and that member serves as the cluster's API server (see the README)."""
    if cfg.cluster_api is None or cluster not in cfg.clusters[1:]:
        return ()
    return tuple(f"*.{region}.elb.amazonaws.com" for region in REGIONS)


def check_network(cfg_network: str) -> None:
    if cfg_network != "netns":
        raise InvalidInput(
            "--cluster-api needs the fleet's network namespace (run as root): Cluster API's managers resolve "
            "load balancer names, which on loopback would be looked up on this machine's network",
        )


def _capi(cfg: FleetConfig) -> ClusterApiConfig:
    if cfg.cluster_api is None:
        raise KuratorError(f"fleet {cfg.name!r} does not run Cluster API (`kurator local up --cluster-api`)")
    return cfg.cluster_api


# --- files ------------------------------------------------------------------------------------------


def folder(layout: FleetLayout) -> Path:
    return layout.root / "cluster-api"


def admin_key_file(layout: FleetLayout) -> Path:
    """The AWS stand-in's admin access key (JSON, mode 0600): ``AccessKeyID``, ``SecretAccessKey``."""
    return folder(layout) / "aws-admin.json"


def standin_url(cfg: FleetConfig) -> str:
    return f"http://{cfg.address}:{_capi(cfg).ports[STANDIN]}"


def etc_dir(netns: str) -> Path:
    return NETNS_ETC / netns


def hosts_file(netns: str) -> Path:
    return etc_dir(netns) / "hosts"


def _write_private(path: Path, text: str) -> None:
    """Write a secret file with mode 0600 from the first byte; an unchanged one is left as it is."""
    if path.exists() and path.read_text() == text:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _new_admin_key() -> dict[str, str]:
    alphabet = string.ascii_uppercase + string.digits
    key_id = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = base64.b64encode(secrets.token_bytes(30)).decode()
    return {"AccessKeyID": key_id, "SecretAccessKey": secret}


def prepare_files(cfg: FleetConfig, layout: FleetLayout) -> None:
    """The webhook certificate, the stand-in's admin key and CAPA's credentials file (made once)."""
    root = folder(layout)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    pki = ClusterPKI(layout.pki(HOST_CLUSTER))
    issue_serving_cert(pki, WEBHOOK_CERT, WEBHOOK_CERT, sorted({cfg.address, "127.0.0.1"}), ["localhost"])
    certs = root / "webhook-certs"
    certs.mkdir(exist_ok=True)
    for src, dst in ((pki.crt(WEBHOOK_CERT), "tls.crt"), (pki.key(WEBHOOK_CERT), "tls.key")):
        data = src.read_bytes()
        if not (certs / dst).exists() or (certs / dst).read_bytes() != data:
            _write_private(certs / dst, data.decode())
    if not admin_key_file(layout).exists():
        _write_private(admin_key_file(layout), json.dumps(_new_admin_key()) + "\n")
    key = json.loads(admin_key_file(layout).read_text())
    credentials = (
        f"aws_access_key_id = {key['AccessKeyID']}\naws_secret_access_key = {key['SecretAccessKey']}"
    )
    _write_private(root / "aws-credentials", f"[default]\n{credentials}\n")
    _write_private(root / "aws-config", "[default]\nregion = us-east-1\n")


def prepare_etc(netns: str) -> None:
    """The namespace's private hosts and resolver files (kept when they exist: names mapped since stay)."""
    etc = etc_dir(netns)
    etc.mkdir(parents=True, exist_ok=True)
    if not hosts_file(netns).exists():
        hosts_file(netns).write_text(hostsfile.HEADER)
    # Unknown names go to a resolver on the namespace's loopback, where none listens: refused at once.
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")


def remove_files(netns: str) -> None:
    """The namespace's files in /etc/netns (``down``); only ours: the folder is named for our namespace."""
    etc = etc_dir(netns)
    for name in ("hosts", "resolv.conf"):
        with contextlib.suppress(FileNotFoundError):
            (etc / name).unlink()
    with contextlib.suppress(OSError):
        etc.rmdir()


def map_names(netns: str, names: dict[str, str]) -> None:
    """Resolve each of ``names`` (DNS name -> address) inside the fleet's namespace."""
    hostsfile.map_names(hosts_file(netns), names)


def unmap_names(netns: str, names: list[str]) -> None:
    hostsfile.unmap_names(hosts_file(netns), names)


# --- processes --------------------------------------------------------------------------------------


def _addr(cfg: FleetConfig, provider: Provider, port: str) -> str:
    return f"{cfg.address}:{_capi(cfg).ports[f'{provider.name}/{port}']}"


def manager_argv(cfg: FleetConfig, layout: FleetLayout, provider: Provider, bins: Binaries) -> list[str]:
    """The upstream Deployment's arguments (feature gates as released), with the ports and files of this
    fleet: every manager its own webhook, health and diagnostics port (the defaults collide)."""
    root = manifests.config_root(provider, bins[provider.asset])
    upstream = kustomize.manager_args(root, dict(provider.variables))
    ours = ("--leader-elect", "--diagnostics-address", "--insecure-diagnostics")
    kept = [a for a in upstream if a.split("=", 1)[0] not in ours]
    argv = [
        str(bins[provider.binary]),
        *kept,
        f"--kubeconfig={layout.kubeconfig(HOST_CLUSTER, ADMIN.file_stem)}",
        # One process per manager: no second replica to elect among.
        "--leader-elect=false",
        f"--webhook-port={_capi(cfg).ports[f'{provider.name}/webhook']}",
        f"--webhook-cert-dir={folder(layout) / 'webhook-certs'}",
        f"--health-addr={_addr(cfg, provider, 'health')}",
        # Metrics and pprof stay behind the API server's authentication, on the namespace's loopback.
        f"--diagnostics-address=127.0.0.1:{_capi(cfg).ports[f'{provider.name}/diagnostics']}",
    ]
    if provider is AWS:
        argv.append(f"--service-endpoints={service_endpoints(standin_url(cfg))}")
    return argv


def specs(cfg: FleetConfig, layout: FleetLayout, bins: Binaries, netns: str) -> dict[str, ProcessSpec]:
    """The stand-in first, then the four managers, by process name."""
    root = folder(layout)
    standin = process_name(HOST_CLUSTER, STANDIN)
    out = {
        standin: ProcessSpec(
            name=standin,
            argv=[
                *_python(),
                "-m",
                "kurator.local.aws_standin",
                "--host",
                cfg.address,
                "--port",
                str(_capi(cfg).ports[STANDIN]),
                "--admin-key",
                str(admin_key_file(layout)),
                "--hosts-file",
                str(hosts_file(netns)),
                "--lb-address",
                cfg.address,
            ],
            log=layout.log(standin),
            netns=netns,
        )
    }
    aws_env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "aws-credentials"),
        "AWS_CONFIG_FILE": str(root / "aws-config"),
        "AWS_REGION": "us-east-1",
        # The SDK would probe the instance metadata address; IAM and Auto Scaling have no endpoint flag.
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": standin_url(cfg),
    }
    for provider in ALL:
        name = process_name(HOST_CLUSTER, provider.name)
        # The namespace a manager in a cluster runs in: CAPA reads static identities' Secrets from there.
        env = {"POD_NAMESPACE": provider.namespace, **(aws_env if provider is AWS else {})}
        out[name] = ProcessSpec(
            name=name,
            argv=manager_argv(cfg, layout, provider, bins),
            log=layout.log(name),
            netns=netns,
            env=env,
            private_etc=True,
        )
    return out


def _python() -> list[str]:
    import sys

    return [sys.executable]


def process_ports(cfg: FleetConfig) -> dict[str, list[int]]:
    ports = _capi(cfg).ports
    out = {process_name(HOST_CLUSTER, STANDIN): [ports[STANDIN]]}
    for p in ALL:
        out[process_name(HOST_CLUSTER, p.name)] = [ports[f"{p.name}/{k}"] for k in ("health", "webhook")]
    return out


# --- objects ----------------------------------------------------------------------------------------


def _ca_bundle(layout: FleetLayout) -> str:
    return base64.b64encode(ClusterPKI(layout.pki(HOST_CLUSTER)).ca_crt.read_bytes()).decode()


def _target(cfg: FleetConfig, provider: Provider) -> manifests.Target:
    return manifests.at_url(f"https://{_addr(cfg, provider, 'webhook')}")


def _labelled(docs: list[manifests.Doc]) -> list[manifests.Doc]:
    for doc in docs:
        doc["metadata"]["labels"] = {**(doc["metadata"].get("labels") or {}), **MANAGED_BY}
    return docs


def crd_documents(cfg: FleetConfig, layout: FleetLayout, bins: Binaries) -> list[manifests.Doc]:
    ca = _ca_bundle(layout)
    return _labelled(
        [
            doc
            for p in ALL
            for doc in manifests.crds(manifests.config_root(p, bins[p.asset]), _target(cfg, p), ca)
        ]
    )


def webhook_documents(cfg: FleetConfig, layout: FleetLayout, bins: Binaries) -> list[manifests.Doc]:
    ca = _ca_bundle(layout)
    return _labelled(
        [
            doc
            for p in ALL
            for doc in manifests.webhook_configurations(
                manifests.config_root(p, bins[p.asset]), _target(cfg, p), ca
            )
        ]
    )


def _host(cfg: FleetConfig, layout: FleetLayout) -> Client:
    return client(layout.kubeconfig(HOST_CLUSTER), context_name(cfg, HOST_CLUSTER))


def apply_crds(cfg: FleetConfig, layout: FleetLayout, bins: Binaries, timeout: float) -> None:
    """The CRDs, then until the host serves each of them (the managers fail at start without them)."""
    from kurator.kube.resources import CustomResourceDefinition

    api = _host(cfg, layout)
    docs = crd_documents(cfg, layout, bins)
    namespaces = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": p.namespace, "labels": dict(MANAGED_BY)},
        }
        for p in ALL
    ]
    apply_all(api, [*namespaces, *docs])
    names = [d["metadata"]["name"] for d in docs]

    def established() -> bool:
        for name in names:
            crd = api.get(CustomResourceDefinition, name)
            conditions = (crd.status.conditions if crd.status else None) or []
            if not any(c.type == "Established" and c.status == "True" for c in conditions):
                return False
        return True

    poll(established, timeout, "the Cluster API CRDs established")


def apply_webhooks(cfg: FleetConfig, layout: FleetLayout, bins: Binaries) -> None:
    apply_all(_host(cfg, layout), webhook_documents(cfg, layout, bins))


# --- readiness --------------------------------------------------------------------------------------


def _answers(url: str, what: str, verify: ssl.SSLContext | bool = False, ok_below: int = 300) -> bool:
    return http.get(url, what=what, verify=verify, timeout=2.0, check=False).status < ok_below


def _standin_answers(cfg: FleetConfig, layout: FleetLayout) -> bool:
    """A signed request with the admin's key (moto's authentication answers unsigned ones with an error)."""
    import botocore.session
    from botocore.config import Config

    key = json.loads(admin_key_file(layout).read_text())
    sts = botocore.session.get_session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=standin_url(cfg),
        aws_access_key_id=key["AccessKeyID"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )
    answer: dict[str, Any] = sts.get_caller_identity()  # type: ignore[attr-defined]
    return bool(answer.get("Account"))


def wait_standin(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """The stand-in answers the admin (its IAM user exists, its key works)."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = process_name(HOST_CLUSTER, STANDIN)
    check = functools.partial(_standin_answers, cfg, layout)
    poll(check, timeout, "the AWS stand-in", layout.log(name), retry_on=(BotoCoreError, ClientError))


def wait_managers(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """Each manager is ready: its caches synced and its webhook server serving our certificate."""
    tls = ssl.create_default_context(cafile=str(ClusterPKI(layout.pki(HOST_CLUSTER)).ca_crt))
    for p in ALL:
        log = layout.log(process_name(HOST_CLUSTER, p.name))
        ready = functools.partial(_answers, f"http://{_addr(cfg, p, 'health')}/readyz", f"asking {p.name}")
        poll(ready, timeout, p.name, log, retry_on=(Transient,))
        webhook = f"https://{_addr(cfg, p, 'webhook')}/convert"
        serving = functools.partial(_answers, webhook, f"asking {p.name}'s webhook", tls, ok_below=500)
        poll(serving, timeout, f"{p.name}'s webhook", log, retry_on=(Transient,))
