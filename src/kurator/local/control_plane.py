"""Command lines of the fleet's processes: one etcd, and per cluster an API server, a controller manager,
a scheduler and kwok. Pure functions of the fleet's config and layout, so they are unit-tested directly.
"""

from __future__ import annotations

from pathlib import Path

from kurator.local.config import FleetConfig
from kurator.local.layout import FleetLayout
from kurator.local.pki import (
    CONTROLLER_MANAGER,
    FRONT_PROXY_CLIENT,
    KWOK,
    SCHEDULER,
    ClusterPKI,
    ensure_service_pki,
)
from kurator.local.processes import ProcessSpec

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # first address of SERVICE_CIDR: the `kubernetes` Service
POD_CIDR = "10.244.0.0/16"  # fake pod IPs handed out by kwok; unreachable by design (netns)


def fake_node_ip(cfg: FleetConfig, cluster: str) -> str:
    """The address kwok gives a cluster's fake nodes: its own per cluster, as nodes of separate clusters
    have (a NodePort is then told apart by address). Never connected to: nothing listens there."""
    return f"10.200.{cfg.clusters.index(cluster)}.1"


ETCD = "etcd"
APISERVER = "kube-apiserver"
CONTROLLER_MANAGER_BIN = "kube-controller-manager"
SCHEDULER_BIN = "kube-scheduler"
KWOK_BIN = "kwok"
CLUSTER_COMPONENTS = (APISERVER, CONTROLLER_MANAGER_BIN, SCHEDULER_BIN, KWOK_BIN)

Binaries = dict[str, Path]  # binary name -> path


# etcd serves only clients with a certificate of its own CA: the API servers (and Karmada's aggregated
# API server) with one, kurator's health checks with another. Its peer port asks the same of peers.
ETCD_APISERVER_CLIENT = "apiserver-etcd-client"
ETCD_KURATOR_CLIENT = "kurator-etcd-client"


def etcd_url(cfg: FleetConfig) -> str:
    """etcd listens where the API servers do, so ``up`` can check its health from outside the namespace."""
    return f"https://{cfg.address}:{cfg.etcd_client_port}"


def etcd_pki(layout: FleetLayout) -> ClusterPKI:
    return ClusterPKI(layout.service_pki(ETCD))


def ensure_etcd_pki(cfg: FleetConfig, layout: FleetLayout) -> ClusterPKI:
    addresses = sorted({cfg.address, "127.0.0.1"})
    clients = (ETCD_APISERVER_CLIENT, ETCD_KURATOR_CLIENT)
    return ensure_service_pki(layout.service_pki(ETCD), "kurator-etcd-ca", addresses, clients, peer=True)


def etcd_client_flags(layout: FleetLayout) -> list[str]:
    """How an API server reaches etcd: the etcd CA and the API servers' client certificate."""
    pki = etcd_pki(layout)
    return [
        f"--etcd-cafile={pki.ca_crt}",
        f"--etcd-certfile={pki.crt(ETCD_APISERVER_CLIENT)}",
        f"--etcd-keyfile={pki.key(ETCD_APISERVER_CLIENT)}",
    ]


def process_name(cluster: str, component: str) -> str:
    return f"{cluster}/{component}"


def etcd_spec(cfg: FleetConfig, layout: FleetLayout, bins: Binaries, netns: str | None) -> ProcessSpec:
    client = etcd_url(cfg)
    peer = f"https://127.0.0.1:{cfg.etcd_peer_port}"
    pki = etcd_pki(layout)
    return ProcessSpec(
        name=ETCD,
        argv=[
            str(bins[ETCD]),
            "--name=kurator",
            f"--data-dir={layout.etcd_data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=kurator={peer}",
            f"--cert-file={pki.crt('server')}",
            f"--key-file={pki.key('server')}",
            f"--trusted-ca-file={pki.ca_crt}",
            "--client-cert-auth",
            f"--peer-cert-file={pki.crt('peer')}",
            f"--peer-key-file={pki.key('peer')}",
            f"--peer-trusted-ca-file={pki.ca_crt}",
            "--peer-client-cert-auth",
            "--auto-compaction-retention=1",
            "--quota-backend-bytes=4294967296",
            # A throw-away local fleet trades crash durability for speed: no fsync on every write.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        log=layout.log(ETCD),
        netns=netns,
    )


def apiserver_spec(
    cfg: FleetConfig, layout: FleetLayout, cluster: str, bins: Binaries, netns: str | None
) -> ProcessSpec:
    pki = ClusterPKI(layout.pki(cluster))
    return ProcessSpec(
        name=process_name(cluster, APISERVER),
        argv=[
            str(bins[APISERVER]),
            f"--etcd-servers={etcd_url(cfg)}",
            *etcd_client_flags(layout),
            # One etcd serves every cluster; a key prefix per cluster keeps them apart.
            f"--etcd-prefix=/kurator/{cluster}",
            f"--bind-address={cfg.address}",
            f"--advertise-address={cfg.address}",
            f"--secure-port={cfg.api_ports[cluster]}",
            f"--tls-cert-file={pki.crt('apiserver')}",
            f"--tls-private-key-file={pki.key('apiserver')}",
            f"--client-ca-file={pki.ca_crt}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            # The default reconciler publishes the advertise address as the `kubernetes` endpoint;
            # every cluster shares one address here, so it is left out.
            "--endpoint-reconciler-type=none",
            f"--proxy-client-cert-file={pki.crt(FRONT_PROXY_CLIENT.file_stem)}",
            f"--proxy-client-key-file={pki.key(FRONT_PROXY_CLIENT.file_stem)}",
            f"--requestheader-client-ca-file={pki.crt('front-proxy-ca')}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT.user}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--profiling=false",
            # One apiserver's watch cache per resource is plenty for a handful of fake nodes.
            "--default-watch-cache-size=50",
        ],
        log=layout.log(process_name(cluster, APISERVER)),
        netns=netns,
    )


def controller_manager_spec(
    layout: FleetLayout, cluster: str, bins: Binaries, netns: str | None
) -> ProcessSpec:
    pki = ClusterPKI(layout.pki(cluster))
    return ProcessSpec(
        name=process_name(cluster, CONTROLLER_MANAGER_BIN),
        argv=[
            str(bins[CONTROLLER_MANAGER_BIN]),
            f"--kubeconfig={layout.kubeconfig(cluster, CONTROLLER_MANAGER.file_stem)}",
            f"--root-ca-file={pki.ca_crt}",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--cluster-signing-cert-file={pki.ca_crt}",
            f"--cluster-signing-key-file={pki.key('ca')}",
            # Each component is alone in its cluster: leader election would only add writes.
            "--leader-elect=false",
            "--secure-port=0",
            "--controllers=*",
            "--use-service-account-credentials=true",
            "--kube-api-qps=100",
            "--kube-api-burst=200",
        ],
        log=layout.log(process_name(cluster, CONTROLLER_MANAGER_BIN)),
        netns=netns,
    )


def scheduler_spec(layout: FleetLayout, cluster: str, bins: Binaries, netns: str | None) -> ProcessSpec:
    return ProcessSpec(
        name=process_name(cluster, SCHEDULER_BIN),
        argv=[
            str(bins[SCHEDULER_BIN]),
            f"--kubeconfig={layout.kubeconfig(cluster, SCHEDULER.file_stem)}",
            "--leader-elect=false",
            "--secure-port=0",
        ],
        log=layout.log(process_name(cluster, SCHEDULER_BIN)),
        netns=netns,
    )


def kwok_spec(
    layout: FleetLayout, cluster: str, bins: Binaries, netns: str | None, node_ip: str
) -> ProcessSpec:
    """kwok plays every node's kubelet. It serves nothing: its HTTP server (the fake kubelets' metrics,
    logs and debugging handlers) cannot ask for credentials, so it is not started (no --server-address)."""
    return ProcessSpec(
        name=process_name(cluster, KWOK_BIN),
        argv=[
            str(bins[KWOK_BIN]),
            f"--kubeconfig={layout.kubeconfig(cluster, KWOK.file_stem)}",
            f"--config={layout.kwok_stages}",
            "--manage-all-nodes=true",
            f"--cidr={POD_CIDR}",
            f"--node-ip={node_ip}",
            "--node-lease-duration-seconds=40",
        ],
        log=layout.log(process_name(cluster, KWOK_BIN)),
        netns=netns,
    )


def cluster_specs(
    cfg: FleetConfig, layout: FleetLayout, cluster: str, bins: Binaries, netns: str | None
) -> dict[str, ProcessSpec]:
    """Every process of one cluster, keyed by component, in start order."""
    return {
        APISERVER: apiserver_spec(cfg, layout, cluster, bins, netns),
        CONTROLLER_MANAGER_BIN: controller_manager_spec(layout, cluster, bins, netns),
        SCHEDULER_BIN: scheduler_spec(layout, cluster, bins, netns),
        KWOK_BIN: kwok_spec(layout, cluster, bins, netns, fake_node_ip(cfg, cluster)),
    }
