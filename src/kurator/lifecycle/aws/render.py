"""What an AWS ``Cluster`` becomes: Cluster API's ``Cluster``, ``KubeadmControlPlane``, a
``MachineDeployment`` and ``KubeadmConfigTemplate`` per worker pool, and CAPA's ``AWSCluster`` and
``AWSMachineTemplate``s, all ``v1beta2``; and the cluster's own ``AWSClusterStaticIdentity`` with the copy of
its credentials that CAPA reads (in CAPA's namespace). Pure: the same inputs give the same objects, so every
reconcile applies them again and a restarted operator changes nothing.

The kubelets run with ``cloud-provider: external`` (the in-tree AWS provider Kurator named is gone since
Kubernetes 1.27); the cloud controller manager and the network plugin are installed in the cluster once it
answers, like any workload. ``network.cni.type`` opens what its plugin needs between the machines.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from kurator.api.aws_cluster import ClusterSpec
from kurator.api.aws_machines import Machines, Worker
from kurator.api.aws_values import DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, DEFAULT_VPC_CIDR
from kurator.lifecycle.aws import names as n

Doc = dict[str, Any]
API_SERVER_PORT = 6443
NODE_NAME = "{{ ds.meta_data.local_hostname }}"  # cloud-init's: the instance's private DNS name
# Security group rules each plugin needs between the machines (CAPA's cniIngressRules).
CNI_RULES: dict[str, list[dict[str, Any]]] = {
    "calico": [
        {"description": "bgp (calico)", "protocol": "tcp", "fromPort": 179, "toPort": 179},
        {"description": "IP-in-IP (calico)", "protocol": "4", "fromPort": -1, "toPort": 65535},
    ],
    "cilium": [
        {"description": "VXLAN (cilium)", "protocol": "udp", "fromPort": 8472, "toPort": 8472},
        {"description": "health (cilium)", "protocol": "tcp", "fromPort": 4240, "toPort": 4240},
    ],
    "flannel": [{"description": "VXLAN (flannel)", "protocol": "udp", "fromPort": 8472, "toPort": 8472}],
}
DEVICES = "bcdefghi"  # /dev/sdb ... for extra volumes


@dataclass(frozen=True)
class Inputs:
    namespace: str
    name: str
    uid: str
    spec: ClusterSpec
    capa_namespace: str
    credential: dict[str, str] | None = None
    """The credential Secret's keys (AccessKeyID, SecretAccessKey[, SessionToken]); None without one."""
    worker_version: str | None = None
    """The version the workers get: the spec's once the control plane runs it (see plan.worker_version)."""


def _meta(
    i: Inputs, name: str, controller: bool = False, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": i.namespace,
        "labels": {**n.labels(i.namespace, i.name), **(labels or {})},
        "ownerReferences": [n.owner(i.name, i.uid, controller)],
    }


def _ref(group: str, kind: str, name: str) -> dict[str, str]:
    return {"apiGroup": group, "kind": kind, "name": name}


def identity(i: Inputs) -> list[Doc]:
    """The cluster's identity and its credentials' copy; none without a credential (CAPA's own is used).
    Both are outside the cluster's namespace, so no owner reference can remove them: the operator deletes
    them once the Cluster API Cluster is gone (CAPA needs them until then)."""
    if i.spec.credential is None or i.credential is None:
        return []
    name = n.identity(i.namespace, i.name)
    data = {
        k: base64.b64encode(v.encode()).decode() for k, v in i.credential.items() if k in n.CREDENTIAL_KEYS
    }
    labels = n.labels(i.namespace, i.name)
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": i.capa_namespace, "labels": labels},
            "type": "Opaque",
            "data": data,
        },
        {
            "apiVersion": n.INFRA_VERSION,
            "kind": "AWSClusterStaticIdentity",
            "metadata": {"name": name, "labels": labels},
            "spec": {"secretRef": name, "allowedNamespaces": {"list": [i.namespace]}},
        },
    ]


def _volume(spec: Any) -> dict[str, Any]:
    return {"size": spec.size, **({"type": spec.type} if spec.type else {})}


def machine_template(i: Inputs, base: str, machines: Machines, profile: str) -> Doc:
    spec: dict[str, Any] = {"instanceType": machines.instance_type, "iamInstanceProfile": profile}
    if machines.ssh_key_name:
        spec["sshKeyName"] = machines.ssh_key_name
    if machines.image_os:
        spec["imageLookupBaseOS"] = machines.image_os
    if machines.root_volume:
        spec["rootVolume"] = _volume(machines.root_volume)
    if machines.non_root_volumes:
        spec["nonRootVolumes"] = [
            {**_volume(v), "deviceName": f"/dev/sd{DEVICES[k]}"}
            for k, v in enumerate(machines.non_root_volumes)
        ]
    return {
        "apiVersion": n.INFRA_VERSION,
        "kind": "AWSMachineTemplate",
        "metadata": _meta(i, f"{base}-{n.digest(spec)}"),
        "spec": {"template": {"spec": spec}},
    }


def _registration(machines: Machines) -> dict[str, Any]:
    args = [{"name": "cloud-provider", "value": "external"}]
    if machines.labels:
        value = ",".join(f"{k}={v}" for k, v in sorted(machines.labels.items()))
        args.append({"name": "node-labels", "value": value})
    out: dict[str, Any] = {"name": NODE_NAME, "kubeletExtraArgs": args}
    if machines.taints:
        out["taints"] = [t.model_dump(by_alias=True, exclude_none=True) for t in machines.taints]
    return out


def aws_cluster(i: Inputs) -> Doc:
    vpc = i.spec.network.vpc
    vpc_spec: dict[str, Any] = {"id": vpc.id} if vpc.id else {"cidrBlock": vpc.cidr_block or DEFAULT_VPC_CIDR}
    if vpc.name:
        vpc_spec["tags"] = {"Name": vpc.name}
    spec: dict[str, Any] = {
        "region": i.spec.region,
        "network": {"vpc": vpc_spec, "cni": {"cniIngressRules": CNI_RULES[i.spec.network.cni.type]}},
        "controlPlaneLoadBalancer": {"loadBalancerType": "classic"},
    }
    if i.spec.master.ssh_key_name:
        spec["sshKeyName"] = i.spec.master.ssh_key_name
    if i.spec.credential is not None:
        spec["identityRef"] = {"kind": "AWSClusterStaticIdentity", "name": n.identity(i.namespace, i.name)}
    return {"apiVersion": n.INFRA_VERSION, "kind": "AWSCluster", "metadata": _meta(i, i.name), "spec": spec}


def control_plane(i: Inputs, template: str) -> Doc:
    master = i.spec.master
    external = [{"name": "cloud-provider", "value": "external"}]
    config = {
        "clusterConfiguration": {"controllerManager": {"extraArgs": external}},
        "initConfiguration": {"nodeRegistration": _registration(master)},
        "joinConfiguration": {"nodeRegistration": _registration(master)},
    }
    return {
        "apiVersion": n.CONTROL_PLANE_VERSION,
        "kind": "KubeadmControlPlane",
        "metadata": _meta(i, n.control_plane(i.name)),
        "spec": {
            "replicas": master.replicas,
            "version": i.spec.version,
            "machineTemplate": {
                "spec": {"infrastructureRef": _ref(n.INFRA_GROUP, "AWSMachineTemplate", template)}
            },
            "kubeadmConfigSpec": config,
        },
    }


def capi_cluster(i: Inputs) -> Doc:
    net = i.spec.network
    return {
        "apiVersion": n.CAPI_VERSION,
        "kind": "Cluster",
        "metadata": _meta(i, i.name, controller=True),
        "spec": {
            "clusterNetwork": {
                "apiServerPort": API_SERVER_PORT,
                "pods": {"cidrBlocks": list(net.pod_cidrs or [DEFAULT_POD_CIDR])},
                "services": {"cidrBlocks": list(net.service_cidrs or [DEFAULT_SERVICE_CIDR])},
            },
            "controlPlaneRef": _ref(n.CONTROL_PLANE_GROUP, "KubeadmControlPlane", n.control_plane(i.name)),
            "infrastructureRef": _ref(n.INFRA_GROUP, "AWSCluster", i.name),
        },
    }


def _strategy(worker: Worker) -> tuple[dict[str, Any], dict[str, Any]]:
    """``rollout`` and ``deletion`` of a MachineDeployment from Kurator's ``strategy``."""
    s = worker.strategy
    if s is None:
        return {}, {}
    rollout: dict[str, Any] = {"strategy": {"type": s.type or "RollingUpdate"}}
    deletion: dict[str, Any] = {}
    if s.rolling_update is not None:
        ru = {
            k: v
            for k, v in (
                ("maxSurge", s.rolling_update.max_surge),
                ("maxUnavailable", s.rolling_update.max_unavailable),
            )
            if v is not None
        }
        if ru and (s.type or "RollingUpdate") == "RollingUpdate":
            rollout["strategy"]["rollingUpdate"] = ru
        if s.rolling_update.delete_policy:
            deletion = {"order": s.rolling_update.delete_policy}
    return rollout, deletion


def worker_pool(i: Inputs, index: int, worker: Worker) -> list[Doc]:
    """A pool's AWSMachineTemplate, KubeadmConfigTemplate and MachineDeployment."""
    base = n.pool(i.name, index)
    machines = machine_template(i, base, worker, n.NODES_PROFILE)
    join = {"joinConfiguration": {"nodeRegistration": _registration(worker)}}
    config: Doc = {
        "apiVersion": n.BOOTSTRAP_VERSION,
        "kind": "KubeadmConfigTemplate",
        "metadata": _meta(i, f"{base}-{n.digest(join)}"),
        "spec": {"template": {"spec": join}},
    }
    rollout, deletion = _strategy(worker)
    spec: dict[str, Any] = {
        "clusterName": i.name,
        "replicas": worker.replicas,
        "selector": {"matchLabels": {n.CAPI_CLUSTER_LABEL: i.name, "cluster.x-k8s.io/deployment-name": base}},
        "template": {
            "metadata": {"labels": {n.CAPI_CLUSTER_LABEL: i.name, "cluster.x-k8s.io/deployment-name": base}},
            "spec": {
                "clusterName": i.name,
                "version": i.worker_version or i.spec.version,
                "bootstrap": {
                    "configRef": _ref(n.BOOTSTRAP_GROUP, "KubeadmConfigTemplate", config["metadata"]["name"])
                },
                "infrastructureRef": _ref(n.INFRA_GROUP, "AWSMachineTemplate", machines["metadata"]["name"]),
            },
        },
    }
    if rollout:
        spec["rollout"] = rollout
    if deletion:
        spec["deletion"] = deletion
    deployment = {
        "apiVersion": n.CAPI_VERSION,
        "kind": "MachineDeployment",
        "metadata": _meta(i, base, labels={n.CAPI_CLUSTER_LABEL: i.name}),
        "spec": spec,
    }
    return [machines, config, deployment]


def objects(i: Inputs) -> list[Doc]:
    """Every object of the cluster, in the order they are applied (what is referred to comes first)."""
    master = machine_template(i, n.control_plane(i.name), i.spec.master, n.CONTROL_PLANE_PROFILE)
    pools = [doc for k, w in enumerate(i.spec.workers) for doc in worker_pool(i, k, w)]
    return [
        *identity(i),
        master,
        *[d for d in pools if d["kind"] != "MachineDeployment"],
        aws_cluster(i),
        control_plane(i, master["metadata"]["name"]),
        capi_cluster(i),
        *[d for d in pools if d["kind"] == "MachineDeployment"],
    ]


def redacted(docs: list[Doc]) -> list[Doc]:
    """``docs`` fit to show (plans, logs): Secret values replaced."""
    out = []
    for doc in docs:
        if doc.get("kind") == "Secret":
            doc = {**doc, "data": dict.fromkeys(doc.get("data") or {}, "<redacted>")}
        out.append(doc)
    return out
