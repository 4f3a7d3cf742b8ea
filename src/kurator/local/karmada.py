"""A real Karmada control plane in the local fleet, wired by hand the way Karmada's own deploy manifests
wire it in a cluster: its own kube-apiserver (own etcd prefix) with a reduced kube-controller-manager,
the aggregated API server that serves ``cluster.karmada.io``, the webhook, the controller manager and the
scheduler. Services it would reach by DNS in a cluster are reached at the fleet's address instead.
"""

from __future__ import annotations

import base64
import functools
import ssl
from pathlib import Path
from typing import Any

import yaml

from kurator.kube import http
from kurator.kube.apply import apply_all
from kurator.kube.client import client
from kurator.kube.karmada import host_record
from kurator.local.config import KARMADA, FleetConfig
from kurator.local.control_plane import (
    APISERVER,
    CONTROLLER_MANAGER_BIN,
    Binaries,
    apiserver_spec,
    controller_manager_spec,
    etcd_client_flags,
    etcd_url,
    process_name,
)
from kurator.local.health import poll
from kurator.local.kubeconfigs import context_name
from kurator.local.layout import FleetLayout
from kurator.local.pki import ADMIN, ClusterPKI, issue_serving_cert
from kurator.local.processes import ProcessSpec

AGGREGATED = "karmada-aggregated-apiserver"
WEBHOOK = "karmada-webhook"
CONTROLLER = "karmada-controller-manager"
SCHEDULER = "karmada-scheduler"
# Start order after Karmada's API server: the webhook and aggregated API must serve before the CRDs that
# convert through the webhook are used and before clusters are registered.
COMPONENTS = (APISERVER, CONTROLLER_MANAGER_BIN, AGGREGATED, WEBHOOK, CONTROLLER, SCHEDULER)
# Karmada's metrics endpoints serve anyone who asks (no TLS, no authentication to turn on), so the fleet
# turns them off ("--metrics-bind-address=0"); only health endpoints listen beside the TLS servers.
PORT_NAMES = ("aggregated", "webhook", "webhook-health", "controller-health", "scheduler-health")
COMPONENT_PORTS = {
    AGGREGATED: ("aggregated",),
    WEBHOOK: ("webhook", "webhook-health"),
    CONTROLLER: ("controller-health",),
    SCHEDULER: ("scheduler-health",),
}
NETNS_PORTS = dict(zip(PORT_NAMES, (7443, 8443, 8000, 10357, 10351), strict=True))
METRICS_OFF = "--metrics-bind-address=0"
SERVICE_DNS = "karmada-aggregated-apiserver.karmada-system.svc"
WEBHOOK_DNS = "karmada-webhook.karmada-system.svc"
# Karmada's control plane runs no workloads: only the controllers its deploy manifest enables.
KCM_CONTROLLERS = (
    "namespace,garbagecollector,serviceaccount-token,ttl-after-finished,bootstrapsigner,tokencleaner,"
    "csrcleaner,csrsigning,clusterrole-aggregation"
)


def _pki(layout: FleetLayout) -> ClusterPKI:
    return ClusterPKI(layout.pki(KARMADA))


def prepare_certs(cfg: FleetConfig, layout: FleetLayout) -> None:
    addresses = sorted({cfg.address, "127.0.0.1"})
    pki = _pki(layout)
    issue_serving_cert(pki, "aggregated-apiserver", AGGREGATED, addresses, [SERVICE_DNS, "localhost"])
    issue_serving_cert(pki, "webhook", WEBHOOK, addresses, [WEBHOOK_DNS, "localhost"])
    cert_dir = layout.cluster_dir(KARMADA) / "webhook-certs"
    cert_dir.mkdir(parents=True, exist_ok=True)
    for src, dst in ((pki.crt("webhook"), "tls.crt"), (pki.key("webhook"), "tls.key")):
        target = cert_dir / dst
        data = src.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            target.chmod(0o600)


def specs(cfg: FleetConfig, layout: FleetLayout, bins: Binaries, netns: str | None) -> dict[str, ProcessSpec]:
    """Every process of Karmada's control plane, keyed by component, in start order."""
    ports = cfg.karmada_ports
    addr = cfg.address
    admin = str(layout.kubeconfig(KARMADA, ADMIN.file_stem))
    pki = _pki(layout)

    def proc(component: str, argv: list[str]) -> ProcessSpec:
        name = process_name(KARMADA, component)
        # Karmada dials members by their kubeconfig's server: a cluster on AWS is reached by its load
        # balancer's name, which resolves only from the namespace's own hosts file.
        return ProcessSpec(
            name=name, argv=argv, log=layout.log(name), netns=netns, private_etc=netns is not None
        )

    apiserver = apiserver_spec(cfg, layout, KARMADA, bins, netns)
    apiserver.argv.append("--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount")
    kcm = controller_manager_spec(layout, KARMADA, bins, netns)
    kcm.argv[kcm.argv.index("--controllers=*")] = f"--controllers={KCM_CONTROLLERS}"
    return {
        APISERVER: apiserver,
        CONTROLLER_MANAGER_BIN: kcm,
        AGGREGATED: proc(
            AGGREGATED,
            [
                str(bins[AGGREGATED]),
                f"--kubeconfig={admin}",
                f"--authentication-kubeconfig={admin}",
                f"--authorization-kubeconfig={admin}",
                f"--etcd-servers={etcd_url(cfg)}",
                *etcd_client_flags(layout),
                "--etcd-prefix=/kurator/karmada-aggregated",
                f"--tls-cert-file={pki.crt('aggregated-apiserver')}",
                f"--tls-private-key-file={pki.key('aggregated-apiserver')}",
                f"--bind-address={addr}",
                f"--secure-port={ports['aggregated']}",
                "--audit-log-path=-",
                "--audit-log-maxage=0",
                "--audit-log-maxbackup=0",
            ],
        ),
        WEBHOOK: proc(
            WEBHOOK,
            [
                str(bins[WEBHOOK]),
                f"--kubeconfig={admin}",
                f"--bind-address={addr}",
                f"--secure-port={ports['webhook']}",
                f"--cert-dir={layout.cluster_dir(KARMADA) / 'webhook-certs'}",
                f"--health-probe-bind-address={addr}:{ports['webhook-health']}",
                METRICS_OFF,
            ],
        ),
        CONTROLLER: proc(
            CONTROLLER,
            [
                str(bins[CONTROLLER]),
                f"--kubeconfig={admin}",
                "--cluster-status-update-frequency=2s",  # members are local: fresh status is cheap
                "--controllers=*,hpaScaleTargetMarker,deploymentReplicasSyncer",
                f"--health-probe-bind-address={addr}:{ports['controller-health']}",
                METRICS_OFF,
                "--leader-elect=false",
            ],
        ),
        SCHEDULER: proc(
            SCHEDULER,
            [
                str(bins[SCHEDULER]),
                f"--kubeconfig={admin}",
                "--enable-scheduler-estimator=false",
                f"--health-probe-bind-address={addr}:{ports['scheduler-health']}",
                METRICS_OFF,
                "--leader-elect=false",
            ],
        ),
    }


def _ca_b64(layout: FleetLayout) -> str:
    return base64.b64encode(_pki(layout).ca_crt.read_bytes()).decode()


def crd_documents(crds_dir: Path, cfg: FleetConfig, layout: FleetLayout) -> list[dict[str, Any]]:
    """Karmada's CRDs of the pinned release, with the binding CRDs converting through our webhook (what
    the release's kustomize patches do in a cluster)."""
    webhook = f"https://{cfg.address}:{cfg.karmada_ports['webhook']}/convert"
    docs = []
    for path in sorted((crds_dir / "bases").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["metadata"]["name"] in (
            "resourcebindings.work.karmada.io",
            "clusterresourcebindings.work.karmada.io",
        ):
            doc["spec"]["conversion"] = {
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"url": webhook, "caBundle": _ca_b64(layout)},
                    "conversionReviewVersions": ["v1"],
                },
            }
        docs.append(doc)
    return docs


def bootstrap_documents(deploy_dir: Path, cfg: FleetConfig, layout: FleetLayout) -> list[dict[str, Any]]:
    """Namespaces, the webhook configurations and the APIService of the aggregated API server."""
    text = (deploy_dir / "webhook-configuration.yaml").read_text()
    text = text.replace(f"https://{WEBHOOK_DNS}:443", f"https://{cfg.address}:{cfg.karmada_ports['webhook']}")
    text = text.replace("{{caBundle}}", _ca_b64(layout))
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for ns in ("karmada-system", "karmada-cluster")
    ]
    docs.append(
        {
            # The aggregator dials an ExternalName Service's name directly: point it at the fleet's address.
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "karmada-aggregated-apiserver", "namespace": "karmada-system"},
            "spec": {"type": "ExternalName", "externalName": cfg.address},
        }
    )
    docs.append(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {
                "name": "v1alpha1.cluster.karmada.io",
                "labels": {"app": "karmada-aggregated-apiserver"},
            },
            "spec": {
                "group": "cluster.karmada.io",
                "version": "v1alpha1",
                "groupPriorityMinimum": 2000,
                "versionPriority": 10,
                "caBundle": _ca_b64(layout),
                "service": {
                    "name": "karmada-aggregated-apiserver",
                    "namespace": "karmada-system",
                    "port": cfg.karmada_ports["aggregated"],
                },
            },
        }
    )
    docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def apply_crds(cfg: FleetConfig, layout: FleetLayout, crds_dir: Path) -> None:
    api = client(layout.kubeconfig(KARMADA), context_name(cfg, KARMADA))
    apply_all(api, crd_documents(crds_dir, cfg, layout))


def apply_bootstrap(cfg: FleetConfig, layout: FleetLayout, deploy_dir: Path) -> None:
    api = client(layout.kubeconfig(KARMADA), context_name(cfg, KARMADA))
    apply_all(api, bootstrap_documents(deploy_dir, cfg, layout))


def mark_host(cfg: FleetConfig, layout: FleetLayout, host: str, version: str) -> None:
    """Tell the host cluster that this fleet's Karmada serves it (``kurator install karmada`` reads this)."""
    record = host_record("local-fleet", version, str(layout.kubeconfig(KARMADA)), cfg.name)
    apply_all(client(layout.kubeconfig(host), context_name(cfg, host)), [record])


def _healthy(url: str) -> bool:
    return http.get(url, what="asking for its health", timeout=1.0, check=False).ok


def wait_webhook(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """Ready when the webhook answers over TLS with the certificate we issued (it has no health check:
    any HTTP answer from its conversion path will do)."""
    url = f"https://{cfg.address}:{cfg.karmada_ports['webhook']}/convert"
    tls = ssl.create_default_context(cafile=str(_pki(layout).ca_crt))

    def serving() -> bool:
        return http.get(url, what="asking the webhook", verify=tls, timeout=1.0, check=False).status < 500

    poll(serving, timeout, WEBHOOK, layout.log(process_name(KARMADA, WEBHOOK)))


def wait_cluster_api(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """Ready when Karmada's API server serves ``cluster.karmada.io`` through the aggregated API server."""
    pki = _pki(layout)
    tls = ssl.create_default_context(cafile=str(pki.ca_crt))
    tls.load_cert_chain(str(pki.crt(ADMIN.file_stem)), str(pki.key(ADMIN.file_stem)))
    url = f"{cfg.server(KARMADA)}/apis/cluster.karmada.io/v1alpha1/clusters"

    def served() -> bool:
        return http.get(url, what="listing Karmada's clusters", verify=tls, timeout=2.0, check=False).ok

    poll(served, timeout, AGGREGATED, layout.log(process_name(KARMADA, AGGREGATED)))


def wait_controllers(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    for component, port in ((CONTROLLER, "controller-health"), (SCHEDULER, "scheduler-health")):
        url = f"http://{cfg.address}:{cfg.karmada_ports[port]}/healthz"
        log = layout.log(process_name(KARMADA, component))
        poll(functools.partial(_healthy, url), timeout, component, log)
