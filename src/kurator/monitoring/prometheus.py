"""A member cluster's Prometheus: its configuration file and its flags, the same for a pod and for a process
of the local fleet. Only parameters differ between the two (addresses, file paths, how the API server is
reached), never the shape of what is rendered.

External labels: every series leaves a member with ``cluster=<member>`` and ``replica=<pod name>``. Thanos
Query removes ``replica`` to merge the copies of HA pairs and keeps ``cluster`` apart. The replica value is
``${POD_NAME}``, expanded by Prometheus from its environment (``--enable-feature=expand-external-labels``
in 2.x, always on in 3.x, where the flag only logs a warning): the pod sets ``POD_NAME`` from the downward
API, the local fleet sets it in the process's environment (``replica_env``), and the config text stays
byte-for-byte the same in both places.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from kurator.core.errors import InvalidInput
from kurator.monitoring import checks

CLUSTER_LABEL = "cluster"
REPLICA_LABEL = "replica"
REPLICA_ENV = "POD_NAME"
REPLICA_VALUE = "${" + REPLICA_ENV + "}"

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Karmada member names are DNS labels; anything else (a `$` above all, which Prometheus would expand) is
# refused before it reaches an external label.
_CLUSTER_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_JOB_NAME = re.compile(r"[A-Za-z0-9_.:-]+")

Job = dict[str, Any]


@dataclass(frozen=True)
class KubeAccess:
    """How Prometheus reaches a cluster's API server, to discover targets and to scrape it.

    In a pod (the default): the in-cluster config, i.e. the mounted service-account token and CA. As a
    local process: the API server's address and the files the local fleet hands out (a token or a client
    certificate)."""

    api_server: str | None = None  # None: in-cluster (KUBERNETES_SERVICE_HOST and the mounted account)
    ca_file: str = f"{SA_DIR}/ca.crt"
    token_file: str | None = f"{SA_DIR}/token"
    cert_file: str | None = None
    key_file: str | None = None

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise InvalidInput("a client certificate needs both cert_file and key_file")
        if self.token_file is None and self.cert_file is None:
            raise InvalidInput("Prometheus needs a token file or a client certificate for the API server")

    def tls(self, server_name: str | None = None, insecure_skip_verify: bool = False) -> dict[str, Any]:
        tls: dict[str, Any] = {"ca_file": self.ca_file}
        if self.cert_file and self.key_file:
            tls |= {"cert_file": self.cert_file, "key_file": self.key_file}
        if server_name:
            tls["server_name"] = server_name
        if insecure_skip_verify:
            tls["insecure_skip_verify"] = True
        return tls

    def auth(self) -> dict[str, Any]:
        return {"authorization": {"credentials_file": self.token_file}} if self.token_file else {}

    def sd(self, role: str, namespaces: Sequence[str] = ()) -> dict[str, Any]:
        sd: dict[str, Any] = {"role": role}
        if namespaces:
            sd["namespaces"] = {"names": list(namespaces)}
        if self.api_server is not None:
            sd |= {"api_server": self.api_server, "tls_config": self.tls(), **self.auth()}
        return sd


def apiserver_job(access: KubeAccess | None = None, name: str = "kube-apiserver") -> Job:
    """The cluster's API servers, found through the ``kubernetes`` Service's EndpointSlices in ``default``
    (so every apiserver of an HA control plane is its own target)."""
    access = access or KubeAccess()
    return {
        "job_name": name,
        "scheme": "https",
        "kubernetes_sd_configs": [access.sd("endpointslice", ["default"])],
        # Endpoints are addresses; the serving certificate always names `kubernetes`.
        "tls_config": access.tls(server_name="kubernetes"),
        **access.auth(),
        "relabel_configs": [
            {
                "source_labels": [
                    "__meta_kubernetes_service_name",
                    "__meta_kubernetes_endpointslice_port_name",
                ],
                "action": "keep",
                "regex": "kubernetes;https",
            }
        ],
    }


def kubelet_job(
    access: KubeAccess | None = None, name: str = "kubelet", metrics_path: str = "/metrics/resource"
) -> Job:
    """Every node's kubelet (on the local fleet: kwok's fake kubelets), scraped directly at the address
    the node reports. Direct scraping needs only ``nodes/metrics``; going through the API server's node
    proxy would need ``nodes/proxy``, which also opens the kubelet's exec API."""
    access = access or KubeAccess()
    return {
        "job_name": name,
        "scheme": "https",
        "metrics_path": metrics_path,
        "kubernetes_sd_configs": [access.sd("node")],
        # Kubelet serving certificates are usually self-signed, not issued by the cluster CA.
        "tls_config": access.tls(insecure_skip_verify=True),
        **access.auth(),
        "relabel_configs": [{"source_labels": ["__meta_kubernetes_node_name"], "target_label": "node"}],
    }


def static_job(
    name: str,
    targets: Sequence[str],
    *,
    scheme: str = "http",
    metrics_path: str = "/metrics",
    tls: Mapping[str, Any] | None = None,
    token_file: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Job:
    """A job with fixed targets (``host:port``), e.g. a process of the local fleet."""
    if not targets:
        raise InvalidInput(f"scrape job {name!r} has no targets")
    if scheme not in ("http", "https"):
        raise InvalidInput(f"scrape job {name!r}: scheme must be http or https, not {scheme!r}")
    group: dict[str, Any] = {"targets": list(targets)}
    if labels:
        group["labels"] = dict(labels)
    job: Job = {"job_name": name, "scheme": scheme, "metrics_path": metrics_path, "static_configs": [group]}
    if tls:
        job["tls_config"] = dict(tls)
    if token_file:
        job["authorization"] = {"credentials_file": token_file}
    return job


def federation_jobs(endpoints: Mapping[str, str]) -> list[Job]:
    """What the federating (primary) Prometheus adds: one job per other member, reading every series of
    that member's Prometheus at ``host:port`` from ``/federate``. ``honor_labels`` keeps the series' own
    labels, among them the external labels ``cluster`` and ``replica`` of the Prometheus they come from;
    the target's ``cluster`` label says the same for the job's own series (``up``)."""
    return [
        {
            "job_name": f"federate-{member}",
            "honor_labels": True,
            "metrics_path": "/federate",
            "params": {"match[]": ['{__name__=~".+"}']},
            "static_configs": [
                {
                    "targets": [checks.address(address, f"{member}'s Prometheus")],
                    "labels": {CLUSTER_LABEL: member},
                }
            ],
        }
        for member, address in sorted(endpoints.items())
    ]


def in_cluster_jobs(access: KubeAccess | None = None) -> list[Job]:
    """What a member's Prometheus scrapes by default: its API servers and its nodes."""
    return [apiserver_job(access), kubelet_job(access)]


def config(
    cluster: str,
    scrape_jobs: Sequence[Mapping[str, Any]],
    *,
    scrape_interval: str = "30s",
    scrape_timeout: str | None = None,
    evaluation_interval: str | None = None,
) -> dict[str, Any]:
    """Prometheus's configuration for member ``cluster``."""
    if not _CLUSTER_NAME.fullmatch(cluster):
        raise InvalidInput(
            f"cluster name {cluster!r} cannot be a Prometheus external label",
            "member names are DNS labels: lowercase letters, digits and '-', at most 63 characters",
        )
    interval = checks.duration(scrape_interval, "scrape interval")
    glob: dict[str, Any] = {"scrape_interval": scrape_interval}
    if scrape_timeout is not None:
        # Prometheus refuses a timeout longer than the interval; say so here, in kurator's words.
        if checks.duration(scrape_timeout, "scrape timeout") > interval:
            raise InvalidInput(f"scrape timeout {scrape_timeout} is longer than the scrape interval")
        glob["scrape_timeout"] = scrape_timeout
    glob["evaluation_interval"] = evaluation_interval or scrape_interval
    checks.duration(glob["evaluation_interval"], "evaluation interval")
    glob["external_labels"] = {CLUSTER_LABEL: cluster, REPLICA_LABEL: REPLICA_VALUE}
    jobs = [copy.deepcopy(dict(job)) for job in scrape_jobs]
    names = [str(job.get("job_name", "")) for job in jobs]
    for job_name in names:
        if not _JOB_NAME.fullmatch(job_name):
            raise InvalidInput(f"scrape job name {job_name!r} is empty or not a plain name")
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise InvalidInput(f"scrape job names must be unique; repeated: {', '.join(dupes)}")
    return {"global": glob, "scrape_configs": jobs}


class _Dumper(yaml.SafeDumper):
    """Writes a value used twice in full, never as a YAML anchor and alias: a person reads the file."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(cfg: Mapping[str, Any]) -> str:
    """The text of ``prometheus.yml``: the one written to the ConfigMap and to the local fleet's file."""
    return yaml.dump(dict(cfg), Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def replica_env(replica: str) -> dict[str, str]:
    """The environment a local Prometheus needs for its ``replica`` label (a pod gets it from the downward
    API). Use the name the StatefulSet's pod would have, e.g. ``prometheus-0``."""
    if not replica or "$" in replica:
        raise InvalidInput(f"replica name {replica!r} must be non-empty and hold no '$'")
    return {REPLICA_ENV: replica}


def args(
    config_path: str,
    data_dir: str,
    listen: str,
    retention: str = "24h",
    block_duration: str = "2h",
) -> list[str]:
    """Prometheus's flags (without the program name).

    ``block_duration`` is how long Prometheus keeps samples in memory before it writes a block, which is
    when the sidecar uploads it: 2h in production, minutes in tests. Min and max are the same, which turns
    local compaction off, as the Thanos sidecar requires. Retention must outlast two blocks, so a block is
    never deleted before the sidecar has had a chance to upload it."""
    if checks.duration(retention, "retention") < 2 * checks.duration(block_duration, "block duration"):
        raise InvalidInput(
            f"retention {retention} is shorter than two blocks of {block_duration}",
            "raise the retention or shorten the block duration",
        )
    return [
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={checks.address(listen, 'listen address')}",
        f"--storage.tsdb.retention.time={retention}",
        f"--storage.tsdb.min-block-duration={block_duration}",
        f"--storage.tsdb.max-block-duration={block_duration}",
        "--enable-feature=expand-external-labels",
    ]
