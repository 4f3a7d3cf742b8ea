"""Karmada's API types, as lightkube generic resources (Karmada publishes no Python models)."""

from __future__ import annotations

from lightkube.generic_resource import create_global_resource, create_namespaced_resource

from kurator.kube.records import record_doc

Cluster = create_global_resource("cluster.karmada.io", "v1alpha1", "Cluster", "clusters")
PropagationPolicy = create_namespaced_resource(
    "policy.karmada.io", "v1alpha1", "PropagationPolicy", "propagationpolicies"
)
ClusterPropagationPolicy = create_global_resource(
    "policy.karmada.io", "v1alpha1", "ClusterPropagationPolicy", "clusterpropagationpolicies"
)
OverridePolicy = create_namespaced_resource(
    "policy.karmada.io", "v1alpha1", "OverridePolicy", "overridepolicies"
)
ClusterOverridePolicy = create_global_resource(
    "policy.karmada.io", "v1alpha1", "ClusterOverridePolicy", "clusteroverridepolicies"
)
Work = create_namespaced_resource("work.karmada.io", "v1alpha1", "Work", "works")

CLUSTER_NAMESPACE = "karmada-cluster"  # where Karmada keeps members' credentials


def execution_namespace(cluster: str) -> str:
    """Where Karmada keeps the Works of one member."""
    return f"karmada-es-{cluster}"


# Where a host cluster says that Karmada runs for it (written by the local fleet and by
# `kurator install karmada`), so a second install is never started beside the first.
HOST_RECORD_NAMESPACE = "kube-system"
HOST_RECORD_NAME = "kurator-karmada"


def host_record(mode: str, version: str, kubeconfig: str, fleet: str = "") -> dict[str, object]:
    """The host record ConfigMap: ``mode`` is ``local-fleet`` (processes) or ``in-cluster``."""
    data = {"mode": mode, "version": version, "kubeconfig": kubeconfig}
    if fleet:
        data["fleet"] = fleet
    return record_doc(HOST_RECORD_NAMESPACE, HOST_RECORD_NAME, data)
