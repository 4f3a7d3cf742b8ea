"""Karmada's API types, as lightkube generic resources (Karmada publishes no Python models)."""

from __future__ import annotations

from lightkube.generic_resource import create_global_resource, create_namespaced_resource

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
Work = create_namespaced_resource("work.karmada.io", "v1alpha1", "Work", "works")

CLUSTER_NAMESPACE = "karmada-cluster"  # where Karmada keeps members' credentials


def execution_namespace(cluster: str) -> str:
    """Where Karmada keeps the Works of one member."""
    return f"karmada-es-{cluster}"
