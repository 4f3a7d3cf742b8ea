"""``prometheus``: on every member, Prometheus (one or an HA pair) with a Thanos sidecar that serves its
data to the host's Thanos Query and uploads each block to the fleet's object store; or, without an object
store, Prometheus alone as Kurator v0.1 installed it, one member's (the primary's) federating the others.
Everything the pods run with comes from ``kurator.monitoring``, the same builders the local fleet's processes
use."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kurator.core.errors import InvalidInput
from kurator.fleet.component import Artifact, Component, PerCluster
from kurator.monitoring.names import CONFIG_KEY, CONFIGMAP, NAMESPACE

if TYPE_CHECKING:
    from kurator.monitoring.objstore import Store

COMPONENT = Component(
    name="prometheus",
    description="Prometheus with a Thanos sidecar on every member, external labels cluster and replica",
    artifact=Artifact(
        name="prometheus",
        version="0.1.0",
        kind="helm-chart",
        source="package:components/charts/prometheus",
        # Digest of the chart folder (kurator.fleet.artifacts.digest); tests/unit recompute it.
        sha256="f7597b10c9bbbcf75217e8d7f225af795082ec93e0f05499321c4af961e2b42b",
    ),
    namespace=NAMESPACE,
)


@dataclass(frozen=True)
class Options:
    store: Store | None  # None: Prometheus alone, without a Thanos sidecar
    replicas: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)  # member -> `cluster` label (default: its name)
    scrape_interval: str = "30s"
    retention: str = "24h"
    block_duration: str = "2h"
    sidecar_service_type: str = "LoadBalancer"  # how the host's Thanos Query reaches each member's sidecar
    primary: str | None = None  # the member whose Prometheus federates the others
    federated: Mapping[str, str] = field(default_factory=dict)  # member -> host:port the primary reads
    web_service_type: str = ""  # the prometheus-web Service (how the primary reaches the others)


def parse_labels(items: list[str]) -> dict[str, str]:
    """``--cluster-label MEMBER=LABEL`` pairs."""
    out: dict[str, str] = {}
    for item in items:
        member, sep, label = item.partition("=")
        if not sep or not member or not label:
            raise InvalidInput(
                f"--cluster-label {item!r} is not MEMBER=LABEL", "e.g. --cluster-label m1=prod-eu"
            )
        if member in out:
            raise InvalidInput(f"--cluster-label names {member} twice")
        out[member] = label
    return out


def cluster_labels(members: list[str], labels: Mapping[str, str]) -> dict[str, str]:
    """Each target member's ``cluster`` label, checked: only targets named, every label unique (Thanos
    Query would merge the series of two members that share one)."""
    if unknown := sorted(set(labels) - set(members)):
        raise InvalidInput(
            f"--cluster-label names {', '.join(unknown)}, not a target of this install",
            f"targets: {', '.join(members)}",
        )
    chosen = {m: labels.get(m, m) for m in members}
    by_label: dict[str, list[str]] = {}
    for member, label in chosen.items():
        by_label.setdefault(label, []).append(member)
    if clashes := {label: ms for label, ms in by_label.items() if len(ms) > 1}:
        said = "; ".join(
            f"{', '.join(ms)} would all be cluster={label}" for label, ms in sorted(clashes.items())
        )
        raise InvalidInput(
            f"cluster labels must be unique across the fleet: {said}",
            "give each member its own label with --cluster-label MEMBER=LABEL",
        )
    return chosen


def component(opts: Options, members: list[str]) -> Component:
    """The component for these targets: values rendered for the first member's label; per member, its own
    config text (its `cluster` label) and the pod annotation that rolls the pods when that text changes."""
    from kurator.monitoring import checks, manifests, prometheus

    labels = cluster_labels(members, opts.labels)
    checks.duration(opts.block_duration, "block duration")
    if opts.primary is not None and opts.primary not in members:
        raise InvalidInput(
            f"--primary {opts.primary} is not a target of this install", f"targets: {', '.join(members)}"
        )
    federated = {labels[m]: address for m, address in opts.federated.items() if m in labels}

    def text(member: str) -> str:
        jobs = prometheus.in_cluster_jobs()
        if member == opts.primary:
            jobs += prometheus.federation_jobs(federated)
        return manifests.prometheus_config_text(labels[member], jobs, scrape_interval=opts.scrape_interval)

    for member in members:  # every label renders (a bad one fails here, before anything is written)
        text(member)
    values = manifests.prometheus_values(
        labels[members[0]],
        opts.store,
        scrape_interval=opts.scrape_interval,
        retention=opts.retention,
        block_duration=opts.block_duration,
        replicas=opts.replicas,
        sidecar_service_type=opts.sidecar_service_type,
        web_service_type=opts.web_service_type,
    )
    per_cluster = (
        PerCluster("v1", "ConfigMap", CONFIGMAP, f"/data/{CONFIG_KEY}", text),
        PerCluster(
            "apps/v1",
            "StatefulSet",
            "prometheus",
            "/spec/template/metadata/annotations/checksum~1config",
            lambda member: hashlib.sha256(text(member).encode()).hexdigest(),
        ),
    )
    return dataclasses.replace(COMPONENT, values=values, per_cluster=per_cluster)
