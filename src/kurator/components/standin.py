"""``standin``: a stand-in component written by this project (chart in ``charts/standin``), not an
upstream one. It walks every path of the install engine, so tests, demos and benchmarks use it."""

from __future__ import annotations

from kurator.fleet.component import Artifact, Component, PerCluster

COMPONENT = Component(
    name="standin",
    description="stand-in component written by kurator (CRD, RBAC, Deployment, Job, per-cluster settings)",
    artifact=Artifact(
        name="standin",
        version="0.1.0",
        kind="helm-chart",
        source="package:components/charts/standin",
        # Digest of the chart folder (kurator.fleet.artifacts.digest); tests/unit recompute it.
        sha256="9bfe80de9ec2bae9ccea81d7172a67c934652771b2ec003ab2e0c223652c549f",
    ),
    namespace="standin",
    per_cluster=(PerCluster("v1", "ConfigMap", "standin-settings", "/data/cluster", lambda member: member),),
)
