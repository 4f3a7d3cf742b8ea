"""Names, labels and references of what a ``Cluster`` becomes: fixed per cluster, so a restarted operator
finds everything it made, and templates named by their content, as Cluster API rolls machines over to a
new template rather than edit one in place."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kurator.api.names import API_VERSION
from kurator.api.resources import ApiKind

CAPI_GROUP = "cluster.x-k8s.io"
INFRA_GROUP = "infrastructure.cluster.x-k8s.io"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
BOOTSTRAP_GROUP = "bootstrap.cluster.x-k8s.io"
CAPI_VERSION = f"{CAPI_GROUP}/v1beta2"
INFRA_VERSION = f"{INFRA_GROUP}/v1beta2"
CONTROL_PLANE_VERSION = f"{CONTROL_PLANE_GROUP}/v1beta2"
BOOTSTRAP_VERSION = f"{BOOTSTRAP_GROUP}/v1beta2"
# Kurator's labels on everything made for a Cluster; Cluster API's own on what it reads by cluster.
NAME_LABEL = "cluster.kurator.dev/cluster-name"
NAMESPACE_LABEL = "cluster.kurator.dev/cluster-namespace"
CAPI_CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CREDENTIAL_KEYS = ("AccessKeyID", "SecretAccessKey", "SessionToken")
# clusterawsadm's default instance profiles (kurator.local.aws_standin makes them in the stand-in).
CONTROL_PLANE_PROFILE = "control-plane.cluster-api-provider-aws.sigs.k8s.io"
NODES_PROFILE = "nodes.cluster-api-provider-aws.sigs.k8s.io"


def control_plane(name: str) -> str:
    return f"{name}-control-plane"


def pool(name: str, index: int) -> str:
    return f"{name}-md-{index}"


def identity(namespace: str, name: str) -> str:
    """The cluster's own AWSClusterStaticIdentity and the copy of its credentials CAPA reads (cluster-scoped
    and in CAPA's namespace: named for the namespace too)."""
    return f"kurator-{namespace}-{name}"


def kubeconfig_secret(name: str) -> str:
    return f"{name}-kubeconfig"


def labels(namespace: str, name: str) -> dict[str, str]:
    return {NAME_LABEL: name, NAMESPACE_LABEL: namespace}


def digest(spec: Any) -> str:
    """A short digest of a template's spec: a changed spec is a new template (Cluster API rolls over)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]


def owner(name: str, uid: str, controller: bool) -> dict[str, Any]:
    """A reference to the ``Cluster``: deleting it deletes what it owns (kube-controller-manager's garbage
    collector). Cluster API makes its own Cluster the controller of the objects it adopts, so ours is the
    controller only of that Cluster."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "name": name,
        "uid": uid,
        "controller": controller,
        "blockOwnerDeletion": True,
    }


PLURALS = {
    "Secret": "secrets",
    "AWSClusterStaticIdentity": "awsclusterstaticidentities",
    "AWSCluster": "awsclusters",
    "AWSMachineTemplate": "awsmachinetemplates",
    "AWSMachine": "awsmachines",
    "KubeadmConfigTemplate": "kubeadmconfigtemplates",
    "KubeadmConfig": "kubeadmconfigs",
    "KubeadmControlPlane": "kubeadmcontrolplanes",
    "Cluster": "clusters",
    "MachineDeployment": "machinedeployments",
    "MachineSet": "machinesets",
    "Machine": "machines",
}


def kind_of(doc: Any) -> ApiKind:
    """The kind of an object of Cluster API's, CAPA's or a Secret, from its apiVersion and kind."""
    group, _, version = str(doc["apiVersion"]).rpartition("/")
    return ApiKind(group, version, str(doc["kind"]), PLURALS[str(doc["kind"])])


CAPI_CLUSTER = ApiKind(CAPI_GROUP, "v1beta2", "Cluster", "clusters")
MACHINE_DEPLOYMENT = ApiKind(CAPI_GROUP, "v1beta2", "MachineDeployment", "machinedeployments")
STATIC_IDENTITY = ApiKind(INFRA_GROUP, "v1beta2", "AWSClusterStaticIdentity", "awsclusterstaticidentities")
KCP = ApiKind(CONTROL_PLANE_GROUP, "v1beta2", "KubeadmControlPlane", "kubeadmcontrolplanes")
