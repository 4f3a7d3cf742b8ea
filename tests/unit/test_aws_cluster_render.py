"""What an AWS ``Cluster`` becomes (Cluster API and CAPA objects, v1beta2), and its status folded back from
them. Pure functions: no API server here (the integration tests run the real controllers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kurator.api.aws_cluster import Cluster
from kurator.lifecycle.aws import plan, render, status
from tests import aws_cluster_cases as cases

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SECRET = {"AccessKeyID": "AKIAEXAMPLE", "SecretAccessKey": "s3cr3t-value", "Other": "ignored"}


def _cluster(**spec: Any) -> Cluster:
    doc = cases.aws("prod", **spec)
    doc["metadata"] |= {"namespace": "team-a", "uid": "uid-1", "generation": 3}
    return Cluster.model_validate(doc)


def _inputs(cluster: Cluster, **kw: Any) -> render.Inputs:
    return render.Inputs(
        "team-a", "prod", "uid-1", cluster.spec, "capa-system", **({"credential": SECRET} | kw)
    )


def _kinds(docs: list[dict[str, Any]]) -> list[str]:
    return [d["kind"] for d in docs]


def test_a_cluster_becomes_capi_and_capa_objects_in_apply_order() -> None:
    docs = render.objects(_inputs(_cluster()))
    assert _kinds(docs) == [
        "Secret",
        "AWSClusterStaticIdentity",
        "AWSMachineTemplate",
        "AWSMachineTemplate",
        "KubeadmConfigTemplate",
        "AWSCluster",
        "KubeadmControlPlane",
        "Cluster",
        "MachineDeployment",
    ]
    by = {d["kind"]: d for d in docs}
    capi = by["Cluster"]["spec"]
    assert capi["infrastructureRef"] == {
        "apiGroup": "infrastructure.cluster.x-k8s.io",
        "kind": "AWSCluster",
        "name": "prod",
    }
    assert capi["controlPlaneRef"]["name"] == "prod-control-plane"
    assert capi["clusterNetwork"]["pods"] == {"cidrBlocks": ["192.168.0.0/16"]}
    aws = by["AWSCluster"]["spec"]
    assert aws["region"] == "us-east-1" and aws["network"]["vpc"] == {"cidrBlock": "10.10.0.0/16"}
    assert aws["identityRef"] == {"kind": "AWSClusterStaticIdentity", "name": "kurator-team-a-prod"}
    # calico's rules: BGP and IP-in-IP (protocol 4, which the AWS stand-in's correction concerns)
    assert [r["protocol"] for r in aws["network"]["cni"]["cniIngressRules"]] == ["tcp", "4"]
    kcp = by["KubeadmControlPlane"]["spec"]
    assert (kcp["replicas"], kcp["version"]) == (1, "v1.34.2")
    master_template = kcp["machineTemplate"]["spec"]["infrastructureRef"]["name"]
    assert master_template.startswith("prod-control-plane-")
    md = by["MachineDeployment"]
    assert md["metadata"]["name"] == "prod-md-0" and md["spec"]["replicas"] == 1
    assert md["spec"]["template"]["spec"]["version"] == "v1.34.2"
    # every namespaced object belongs to the Cluster; only Cluster API's Cluster has it as controller
    owned = [d for d in docs if d["metadata"].get("namespace") == "team-a"]
    assert all(d["metadata"]["ownerReferences"][0]["uid"] == "uid-1" for d in owned)
    assert [d["kind"] for d in owned if d["metadata"]["ownerReferences"][0]["controller"]] == ["Cluster"]


def test_the_credential_is_copied_with_its_keys_only_and_never_shown() -> None:
    docs = render.objects(_inputs(_cluster()))
    secret, identity = docs[0], docs[1]
    assert secret["metadata"] == {
        "name": "kurator-team-a-prod",
        "namespace": "capa-system",
        "labels": {
            "cluster.kurator.dev/cluster-name": "prod",
            "cluster.kurator.dev/cluster-namespace": "team-a",
        },
    }
    assert set(secret["data"]) == {"AccessKeyID", "SecretAccessKey"}
    assert identity["spec"] == {"secretRef": "kurator-team-a-prod", "allowedNamespaces": {"list": ["team-a"]}}
    shown = str(render.redacted(docs))
    assert "s3cr3t" not in shown and "czNjcjN0" not in shown  # nor its base64


def test_without_a_credential_capas_own_identity_is_used() -> None:
    docs = render.objects(_inputs(_cluster(credential=None), credential=None))
    assert "AWSClusterStaticIdentity" not in _kinds(docs)
    assert "identityRef" not in next(d for d in docs if d["kind"] == "AWSCluster")["spec"]


def test_a_changed_machine_spec_is_a_new_template_and_replicas_are_not() -> None:
    base = render.objects(_inputs(_cluster()))
    scaled = render.objects(_inputs(_cluster(workers=[cases.worker(replicas=5)])))
    bigger = render.objects(_inputs(_cluster(workers=[cases.worker(instanceType="m5.xlarge")])))

    def template(docs: list[dict[str, Any]]) -> str:
        md = next(d for d in docs if d["kind"] == "MachineDeployment")
        return str(md["spec"]["template"]["spec"]["infrastructureRef"]["name"])

    assert template(base) == template(scaled) != template(bigger)
    assert next(d for d in scaled if d["kind"] == "MachineDeployment")["spec"]["replicas"] == 5


def test_workers_keep_their_version_until_the_control_plane_runs_the_new_one() -> None:
    docs = render.objects(_inputs(_cluster(version="v1.35.0"), worker_version="v1.34.2"))
    kcp = next(d for d in docs if d["kind"] == "KubeadmControlPlane")
    md = next(d for d in docs if d["kind"] == "MachineDeployment")
    assert kcp["spec"]["version"] == "v1.35.0"
    assert md["spec"]["template"]["spec"]["version"] == "v1.34.2"


def test_pool_settings_reach_kubeadm_and_the_deployment() -> None:
    worker = cases.worker(
        labels={"pool": "web"},
        taints=[{"key": "dedicated", "value": "web", "effect": "NoSchedule"}],
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0, "deletePolicy": "Oldest"},
        },
        nonRootVolumes=[{"size": 20}, {"size": 30, "type": "io2"}],
    )
    docs = render.objects(_inputs(_cluster(workers=[worker])))
    config = next(d for d in docs if d["kind"] == "KubeadmConfigTemplate")
    registration = config["spec"]["template"]["spec"]["joinConfiguration"]["nodeRegistration"]
    assert {"name": "node-labels", "value": "pool=web"} in registration["kubeletExtraArgs"]
    assert registration["taints"] == [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]
    md = next(d for d in docs if d["kind"] == "MachineDeployment")["spec"]
    assert md["rollout"] == {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    }
    assert md["deletion"] == {"order": "Oldest"}
    template = [d for d in docs if d["kind"] == "AWSMachineTemplate"][1]["spec"]["template"]["spec"]
    assert template["nonRootVolumes"] == [
        {"size": 20, "deviceName": "/dev/sdb"},
        {"size": 30, "type": "io2", "deviceName": "/dev/sdc"},
    ]


def _obj(name: str, status_: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec or {}, "status": status_}


def _machine(name: str, phase: str, master: bool = False) -> dict[str, Any]:
    labels = {"cluster.x-k8s.io/cluster-name": "prod"}
    if master:
        labels["cluster.x-k8s.io/control-plane"] = ""
    return {"metadata": {"name": name, "labels": labels}, "status": {"phase": phase}}


def test_status_says_what_capa_waits_for() -> None:
    aws = _obj(
        "prod",
        {
            "ready": False,
            "conditions": [
                {"type": "Ready", "status": "False"},
                {
                    "type": "VpcReady",
                    "status": "False",
                    "severity": "Info",
                    "reason": "VpcCreationStarted",
                    "message": "creating",
                },
            ],
        },
    )
    st = status.fold(_cluster(), status.Observed(capi_cluster=_obj("prod", {}), aws_cluster=aws), NOW)
    assert st.phase == "Provisioning"
    infra = next(c for c in st.conditions or [] if c.type == "InfrastructureReady")
    assert (infra.status, infra.reason, infra.message) == (
        "False",
        "VpcCreationStarted",
        "AWSCluster prod: VpcReady: creating",
    )


def test_refused_credentials_fail_the_cluster_with_capas_words() -> None:
    aws = _obj(
        "prod",
        {
            "conditions": [
                {
                    "type": "VpcReady",
                    "status": "False",
                    "severity": "Error",
                    "reason": "VpcReconciliationFailed",
                    "message": "AuthFailure: AWS was not able to validate the provided access credentials",
                }
            ]
        },
    )
    st = status.fold(_cluster(), status.Observed(capi_cluster=_obj("prod", {}), aws_cluster=aws), NOW)
    assert st.phase == "Failed"
    infra = next(c for c in st.conditions or [] if c.type == "InfrastructureReady")
    assert infra.severity == "Error" and "AuthFailure" in (infra.message or "")
    missing = status.fold(
        _cluster(), status.Observed(credential_problem="Secret quickstart has no key SecretAccessKey"), NOW
    )
    assert missing.phase == "Failed"
    assert (
        next(c for c in missing.conditions or [] if c.type == "CredentialReady").message
        == "Secret quickstart has no key SecretAccessKey"
    )


def test_a_provisioned_cluster() -> None:
    seen = status.Observed(
        capi_cluster=_obj(
            "prod",
            {},
            {"controlPlaneEndpoint": {"host": "prod-apiserver.us-east-1.elb.amazonaws.com", "port": 6443}},
        ),
        aws_cluster=_obj("prod", {"ready": True}),
        control_plane=_obj(
            "prod-control-plane",
            {"readyReplicas": 1, "version": "v1.34.2", "initialization": {"controlPlaneInitialized": True}},
        ),
        deployments=(_obj("prod-md-0", {"replicas": 1, "readyReplicas": 1}, {"replicas": 1}),),
        machines=(
            _machine("prod-control-plane-abcde", "Running", master=True),
            _machine("prod-md-0-xyz-1", "Running"),
            _machine("prod-md-0-xyz-2", "Provisioned"),  # its node has not joined: not counted
        ),
        kubeconfig=True,
    )
    st = status.fold(_cluster(), seen, NOW)
    assert st.phase == "Provisioned"
    assert st.api_endpoint == "https://prod-apiserver.us-east-1.elb.amazonaws.com:6443"
    assert st.kubeconfig_secret_ref == "prod-kubeconfig"
    assert (st.masters, st.workers, st.version) == (1, 1, "v1.34.2")
    assert all(c.status == "True" for c in st.conditions or [])
    later = status.fold(_cluster(), seen, NOW + dt.timedelta(minutes=5))
    kept = status.keep_times(st, later)
    assert {c.last_transition_time for c in kept.conditions or []} == {NOW}


def test_an_upgrade_under_way_is_named_and_holds_the_workers_back() -> None:
    cluster = _cluster(version="v1.35.0")
    kcp = _obj(
        "prod-control-plane",
        {"readyReplicas": 1, "version": "v1.34.2", "initialization": {"controlPlaneInitialized": True}},
    )
    md = _obj(
        "prod-md-0", {"replicas": 1, "readyReplicas": 1}, {"template": {"spec": {"version": "v1.34.2"}}}
    )
    assert plan.worker_version(cluster.spec, kcp, [md]) == "v1.34.2"
    seen = status.Observed(
        capi_cluster=_obj("prod", {}),
        aws_cluster=_obj("prod", {"ready": True}),
        control_plane=kcp,
        deployments=(md,),
        upgrading=plan.upgrading(cluster.spec, kcp),
    )
    st = status.fold(cluster, seen, NOW)
    cp = next(c for c in st.conditions or [] if c.type == "ControlPlaneReady")
    assert (cp.status, cp.reason) == ("False", "Upgrading")
    assert "from v1.34.2 to v1.35.0" in (cp.message or "")
    assert st.phase == "Provisioning"
    kcp["status"]["version"] = "v1.35.0"
    assert plan.upgrading(cluster.spec, kcp) is None
    assert plan.worker_version(cluster.spec, kcp, [md]) == "v1.35.0"
