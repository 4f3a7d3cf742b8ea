"""Monitoring in the local fleet: the same Prometheus and Thanos a fleet gets from ``kurator install``, run as
real processes from the same rendered configuration (kwok's pods never run an image).

Per member: ``replicas`` Prometheus processes (external labels ``cluster=<member>``,
``replica=prometheus-<n>``) scraping the member's API server, each with a Thanos sidecar that uploads its
blocks. On the host: Thanos Query (every sidecar and the Store Gateway), the Store Gateway and the
Compactor over one bucket. The bucket is moto's S3 server, a stand-in for real object storage: it keeps
the bucket in memory, so history lives as long as that process does.

Nothing here serves anyone without credentials (local/monitoring_access.py): TLS with client certificates
of the fleet's monitoring CA on every HTTP and gRPC port, SigV4 with the fleet's own keys at the bucket.
"""

from __future__ import annotations

import functools
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kurator.core.errors import KuratorError
from kurator.kube import http
from kurator.local import monitoring_access as access
from kurator.local.config import HOST_CLUSTER, FleetConfig, MonitoringConfig
from kurator.local.control_plane import Binaries, process_name
from kurator.local.health import poll
from kurator.local.layout import FleetLayout
from kurator.local.pki import ADMIN, ClusterPKI
from kurator.local.processes import ProcessSpec
from kurator.monitoring import bucketcheck, manifests, objstore, prometheus, s3store, thanos

PROMETHEUS_BIN = "prometheus"
THANOS_BIN = "thanos"
S3 = "s3"  # the bucket's stand-in, a process of the host
QUERY = "thanos-query"
STORE = "thanos-store"
COMPACTOR = "thanos-compactor"
HOST_COMPONENTS = (S3, STORE, COMPACTOR, QUERY)  # start order
BUCKET = "kurator-metrics"
NETNS_PORT_BASE = 19000  # inside the fleet's own network namespace every port is free


def prometheus_name(replica: int) -> str:
    return f"prometheus-{replica}"


def sidecar_name(replica: int) -> str:
    return f"thanos-sidecar-{replica}"


def member_components(replicas: int) -> tuple[str, ...]:
    return tuple(n for r in range(replicas) for n in (prometheus_name(r), sidecar_name(r)))


def port_names(members: list[str], replicas: int) -> list[str]:
    """Every port monitoring listens on, by name (``member1/prometheus-0``, ``host/thanos-query-grpc`` …)."""
    host = [f"{HOST_CLUSTER}/{n}" for n in (S3, "query-http", "query-grpc", "store-http", "store-grpc")]
    host.append(f"{HOST_CLUSTER}/compactor-http")
    per_member = [
        f"{m}/{n}"
        for m in members
        for r in range(replicas)
        for n in (prometheus_name(r), f"sidecar-grpc-{r}", f"sidecar-http-{r}")
    ]
    return host + per_member


def process_ports(cfg: FleetConfig) -> dict[str, list[int]]:
    """The ports each process listens on, by process name."""
    mon, host = _mon(cfg), HOST_CLUSTER
    by_process = {
        process_name(host, S3): [f"{host}/{S3}"],
        process_name(host, STORE): [f"{host}/store-http", f"{host}/store-grpc"],
        process_name(host, COMPACTOR): [f"{host}/compactor-http"],
        process_name(host, QUERY): [f"{host}/query-http", f"{host}/query-grpc"],
    }
    for m in cfg.clusters[1:]:
        for r in range(mon.replicas):
            by_process[process_name(m, prometheus_name(r))] = [f"{m}/{prometheus_name(r)}"]
            by_process[process_name(m, sidecar_name(r))] = [f"{m}/sidecar-grpc-{r}", f"{m}/sidecar-http-{r}"]
    return {name: [mon.ports[n] for n in names if n in mon.ports] for name, names in by_process.items()}


def netns_ports(names: list[str]) -> dict[str, int]:
    return {name: NETNS_PORT_BASE + i for i, name in enumerate(names)}


@dataclass(frozen=True)
class Paths:
    """Where monitoring keeps its files in the fleet's folder."""

    root: Path

    @property
    def objstore_file(self) -> Path:
        return self.root / "objstore.yml"

    def config_file(self, member: str) -> Path:
        return self.root / member / "prometheus.yml"

    def prometheus_data(self, member: str, replica: int) -> Path:
        return self.root / member / f"data-{replica}"

    def thanos_data(self, component: str) -> Path:
        return self.root / HOST_CLUSTER / component


def paths(layout: FleetLayout) -> Paths:
    return Paths(layout.root / "monitoring")


def _mon(cfg: FleetConfig) -> MonitoringConfig:
    if cfg.monitoring is None:
        raise KuratorError(f"the local fleet {cfg.name!r} runs without monitoring")
    return cfg.monitoring


def _addr(cfg: FleetConfig, port_name: str) -> str:
    return f"{cfg.address}:{_mon(cfg).ports[port_name]}"


def query_url(cfg: FleetConfig) -> str:
    return f"https://{_addr(cfg, f'{HOST_CLUSTER}/query-http')}"


def s3_url(cfg: FleetConfig) -> str:
    return f"http://{_addr(cfg, f'{HOST_CLUSTER}/{S3}')}"


def object_store(cfg: FleetConfig, layout: FleetLayout) -> objstore.ObjectStore:
    creds = access.s3_credentials(layout)
    text = (
        "type: S3\n"
        "config:\n"
        f"  bucket: {BUCKET}\n"
        f"  endpoint: {_addr(cfg, f'{HOST_CLUSTER}/{S3}')}\n"
        f"  access_key: {creds.access_key}\n"
        f"  secret_key: {creds.secret_key}\n"
        "  insecure: true\n"
        "  bucket_lookup_type: path\n"
    )
    return objstore.parse_s3(text, "the local fleet's object store")


def scrape_jobs(cfg: FleetConfig, layout: FleetLayout, member: str) -> list[prometheus.Job]:
    """The jobs a member's Prometheus runs in a pod, pointed at the local fleet: its API server at its
    address (the fleet's API servers publish no ``kubernetes`` endpoints, as they share one address) with
    the fleet's admin certificate instead of a service account. (kwok, the member's stand-in kubelets,
    serves no metrics: see control_plane.kwok_spec.)"""
    pki = ClusterPKI(layout.pki(member))
    kube = prometheus.KubeAccess(
        api_server=cfg.server(member),
        ca_file=str(pki.ca_crt),
        token_file=None,
        cert_file=str(pki.crt(ADMIN.file_stem)),
        key_file=str(pki.key(ADMIN.file_stem)),
    )
    apiserver = cfg.server(member).removeprefix("https://")
    return [prometheus.static_job("kube-apiserver", [apiserver], scheme="https", tls=kube.tls())]


def config_text(cfg: FleetConfig, layout: FleetLayout, member: str) -> str:
    return manifests.prometheus_config_text(
        member, scrape_jobs(cfg, layout, member), scrape_interval=_mon(cfg).scrape_interval
    )


def write_files(cfg: FleetConfig, layout: FleetLayout) -> None:
    """Credentials, the object-store file (mode 0600: it holds the credentials) and each member's
    prometheus.yml."""
    p = paths(layout)
    p.root.mkdir(parents=True, exist_ok=True)
    access.ensure(cfg, layout)
    _write(p.objstore_file, objstore.render(object_store(cfg, layout)), private=True)
    for member in cfg.clusters[1:]:
        _write(p.config_file(member), config_text(cfg, layout, member))
        for r in range(_mon(cfg).replicas):
            p.prometheus_data(member, r).mkdir(parents=True, exist_ok=True)
    for component in (STORE, COMPACTOR):
        p.thanos_data(component).mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)


def specs(cfg: FleetConfig, layout: FleetLayout, bins: Binaries, netns: str | None) -> dict[str, ProcessSpec]:
    """Every monitoring process, by process name, in start order: the bucket and the host's Thanos first
    (Query's endpoints are all known up front), then each member's Prometheus and sidecar pairs."""

    def spec(cluster: str, component: str, argv: list[str], env: dict[str, str] | None = None) -> ProcessSpec:
        name = process_name(cluster, component)
        return ProcessSpec(name=name, argv=argv, log=layout.log(name), netns=netns, env=env or {})

    out = [spec(HOST_CLUSTER, c, argv) for c, argv in _host_argv(cfg, layout, str(bins[THANOS_BIN])).items()]
    for m in cfg.clusters[1:]:
        for r in range(_mon(cfg).replicas):
            prom, sidecar = _member_argv(cfg, layout, bins, m, r)
            out.append(spec(m, prometheus_name(r), prom, prometheus.replica_env(prometheus_name(r))))
            out.append(spec(m, sidecar_name(r), sidecar))
    return {s.name: s for s in out}


def _host_argv(cfg: FleetConfig, layout: FleetLayout, th: str) -> dict[str, list[str]]:
    """The bucket's stand-in, the Store Gateway, the Compactor and Query: each serves over TLS to clients
    with a certificate only, Query dials its endpoints with one."""
    p, host = paths(layout), HOST_CLUSTER
    obj = str(p.objstore_file)
    web, grpc = access.http_flags(layout), access.grpc_server_flags(layout)
    sidecars = [
        _addr(cfg, f"{m}/sidecar-grpc-{r}") for m in cfg.clusters[1:] for r in range(_mon(cfg).replicas)
    ]
    s3 = [
        sys.executable,
        *("-m", "kurator.local.s3standin", "--host", cfg.address),
        *("--port", str(_mon(cfg).ports[f"{host}/{S3}"])),
        *("--credentials", str(access.s3_credentials_file(layout))),
    ]
    store = thanos.store_args(
        objstore_path=obj,
        data_dir=str(p.thanos_data(STORE)),
        grpc_address=_addr(cfg, f"{host}/store-grpc"),
        http_address=_addr(cfg, f"{host}/store-http"),
        sync_interval=_mon(cfg).store_sync,
        extra=[*web, *grpc],
    )
    compact = thanos.compact_args(
        objstore_path=obj,
        data_dir=str(p.thanos_data(COMPACTOR)),
        http_address=_addr(cfg, f"{host}/compactor-http"),
        consistency_delay=_mon(cfg).consistency_delay,
        extra=web,
    )
    query = thanos.query_args(
        [_addr(cfg, f"{host}/store-grpc"), *sidecars],
        grpc_address=_addr(cfg, f"{host}/query-grpc"),
        http_address=_addr(cfg, f"{host}/query-http"),
        extra=[*web, *grpc, *access.grpc_client_flags(layout)],
    )
    return {S3: s3, STORE: [th, *store], COMPACTOR: [th, *compact], QUERY: [th, *query]}


def _member_argv(
    cfg: FleetConfig, layout: FleetLayout, bins: Binaries, member: str, replica: int
) -> tuple[list[str], list[str]]:
    """One Prometheus of ``member`` and its sidecar, which reaches it over TLS with a client certificate."""
    p = paths(layout)
    data = str(p.prometheus_data(member, replica))
    prom_addr = _addr(cfg, f"{member}/{prometheus_name(replica)}")
    prom = prometheus.args(
        str(p.config_file(member)),
        data,
        prom_addr,
        retention=_mon(cfg).retention,
        block_duration=_mon(cfg).block_duration,
    )
    sidecar = thanos.sidecar_args(
        prometheus_url=f"https://{prom_addr}",
        tsdb_path=data,
        objstore_path=str(p.objstore_file),
        grpc_address=_addr(cfg, f"{member}/sidecar-grpc-{replica}"),
        http_address=_addr(cfg, f"{member}/sidecar-http-{replica}"),
        extra=[
            *access.http_flags(layout),
            *access.grpc_server_flags(layout),
            f"--prometheus.http-client-file={access.prometheus_client_file(layout)}",
        ],
    )
    web = f"--web.config.file={access.web_config_file(layout)}"
    return [str(bins[PROMETHEUS_BIN]), *prom, web], [str(bins[THANOS_BIN]), *sidecar]


def _ready(url: str, tls: ssl.SSLContext) -> bool:
    return http.get(url, what="asking whether it is ready", verify=tls, timeout=1.0, check=False).ok


def wait_s3(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """Ready when the stand-in answers a signed request (it answers no other kind)."""
    client = s3_client(cfg, layout)

    def answers() -> bool:
        client.list_buckets()
        return True

    from botocore.exceptions import BotoCoreError, ClientError

    poll(
        answers,
        timeout,
        "the S3 stand-in",
        layout.log(process_name(HOST_CLUSTER, S3)),
        retry_on=(BotoCoreError, ClientError),
    )


def s3_client(cfg: FleetConfig, layout: FleetLayout) -> Any:
    """A botocore S3 client for the stand-in, signing with the fleet's credentials (creating the bucket;
    tests list its blocks with it)."""
    import botocore.session
    from botocore.config import Config

    creds = access.s3_credentials(layout)
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=s3_url(cfg),
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        region_name=s3store.DEFAULT_REGION,
        config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=2, read_timeout=5
        ),
    )


def ensure_bucket(cfg: FleetConfig, layout: FleetLayout) -> None:
    """Create the bucket unless it is there (a restarted stand-in starts empty)."""
    try:
        bucketcheck.check_bucket(object_store(cfg, layout), http.sender(timeout=5.0))
        return
    except KuratorError:
        pass
    s3_client(cfg, layout).create_bucket(Bucket=BUCKET)


def blocks(cfg: FleetConfig, layout: FleetLayout) -> list[str]:
    """The blocks in the bucket (their ULIDs): what the sidecars have uploaded."""
    resp = s3_client(cfg, layout).list_objects_v2(Bucket=BUCKET, Delimiter="/")
    return [str(p["Prefix"]).rstrip("/") for p in resp.get("CommonPrefixes", [])]


def wait_ready(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    """Every Prometheus, sidecar and host component answers its readiness endpoint (asked with kurator's
    client certificate)."""
    host = HOST_CLUSTER
    checks: list[tuple[str, str]] = [
        (process_name(host, STORE), f"https://{_addr(cfg, f'{host}/store-http')}/-/ready"),
        (process_name(host, QUERY), f"{query_url(cfg)}/-/ready"),
    ]
    for m in cfg.clusters[1:]:
        for r in range(_mon(cfg).replicas):
            prom = f"https://{_addr(cfg, f'{m}/{prometheus_name(r)}')}/-/ready"
            checks.append((process_name(m, prometheus_name(r)), prom))
            sidecar = f"https://{_addr(cfg, f'{m}/sidecar-http-{r}')}/-/ready"
            checks.append((process_name(m, sidecar_name(r)), sidecar))
    tls = access.kurator_tls(layout)
    deadline = time.monotonic() + timeout
    for name, url in checks:
        ready = functools.partial(_ready, url, tls)
        poll(ready, max(1.0, deadline - time.monotonic()), name, layout.log(name))


def query_records(cfg: FleetConfig, layout: FleetLayout) -> list[dict[str, Any]]:
    """What fleet commands read on Karmada to query the fleet (kurator.fleet.metrics reads them): where
    Thanos Query serves, and the certificate it asks of them (a Secret: for the fleet's administrators)."""
    from kurator.kube.records import record_doc, secret_doc
    from kurator.monitoring import query

    where = record_doc(query.RECORD_NAMESPACE, query.RECORD_NAME, {query.RECORD_KEY: query_url(cfg)})
    credentials = secret_doc(
        query.RECORD_NAMESPACE, query.CLIENT_SECRET_NAME, access.client_credentials(layout)
    )
    return [where, credentials]
