"""The objects of a Kubespray run: the playbook and extra vars each action needs, the key mounted from its
Secret by name only, retries left to the operator, and no secret content anywhere."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import yaml

from kurator.lifecycle import jobs
from kurator.lifecycle.actions import Action, Kind, next_action
from kurator.lifecycle.hosts import desired
from kurator.lifecycle.observed import TARGET_ANNOTATION, decode_target, observe
from tests import lifecycle_cases as lc

NOW = lc.T0 + timedelta(hours=1)
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def _objects(action: Action, **kw: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The run's files (twice, as ``data`` of an inventory and of its vars, as the tests read them) and its
    Job; the files are the Pod's annotations."""
    (job,) = lc.manifests(
        action,
        kw.get("cluster", lc.cluster()),
        kw.get("machine", lc.machine()),
        kw.get("status"),
        kw.get("observed", ()),
    )
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    files = {
        "data": {
            "hosts.yaml": annotations["kurator.dev/hosts.yaml"],
            "k8s_cluster.yml": annotations["kurator.dev/k8s-cluster.yml"],
        }
    }
    return files, files, job


def _container(job: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return c


def test_create_job() -> None:
    action = next_action(lc.cluster(), lc.machine(), lc.status(), (), NOW)
    inv, var, job = _objects(action)
    assert job["apiVersion"] == "batch/v1" and job["metadata"]["name"] == "cc-create-1-1-0"
    assert job["spec"]["backoffLimit"] == 0
    c = _container(job)
    assert c["image"] == "quay.io/kubespray/kubespray:v2.31.0"
    assert c["command"][6:] == [
        "ansible-playbook",
        "-i",
        "/inventory/hosts.yaml",
        "cluster.yml",
        "-b",
        "--private-key",
        "/auth/ssh-privatekey",
    ]
    assert c["terminationMessagePolicy"] == "File"
    labels = job["metadata"]["labels"]
    assert (
        labels["kurator.dev/cluster"],
        labels["kurator.dev/action"],
        labels["kurator.dev/generation"],
    ) == (
        "cc",
        "create",
        "1-1",
    )
    for obj in (job,):
        (owner,) = obj["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "CustomCluster",
            "cc",
            "u-1",
            True,
        )
    assert yaml.safe_load(inv["data"]["hosts.yaml"])["all"]["children"]["etcd"]["hosts"] == {"master1": None}
    assert yaml.safe_load(var["data"]["k8s_cluster.yml"])["kube_version"] == "1.34.3"
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    key = volumes["ssh-key-0"]["secret"]
    assert key == {
        "secretName": "cluster-secret",
        "items": [{"key": "ssh-privatekey", "path": "ssh-privatekey"}],
        "defaultMode": 0o400,
    }
    items = volumes["inventory"]["downwardAPI"]["items"]
    assert [(i["path"], i["fieldRef"]["fieldPath"]) for i in items] == [
        ("hosts.yaml", "metadata.annotations['kurator.dev/hosts.yaml']"),
        ("group_vars/k8s_cluster/kurator.yml", "metadata.annotations['kurator.dev/k8s-cluster.yml']"),
    ]
    worker = jobs.worker_configmap("default")
    assert (
        volumes["worker"]["configMap"]["name"] == worker["metadata"]["name"] == jobs.worker_configmap_name()
    )
    shipped = [i["path"] for i in volumes["worker"]["configMap"]["items"]]
    assert "kurator/worker/__main__.py" in shipped and "kurator/__init__.py" in shipped
    assert {i["key"] for i in volumes["worker"]["configMap"]["items"]} == set(worker["data"])
    assert {"name": "PYTHONPATH", "value": jobs.WORKER_DIR} in c["env"]


@pytest.mark.parametrize(
    ("kind", "playbook", "extra"),
    [
        (Kind.SCALE_UP, "scale.yml", []),
        (Kind.SCALE_DOWN, "remove-node.yml", ["-e", "node=node2", "-e", "skip_confirmation=true"]),
        (Kind.UPGRADE, "upgrade-cluster.yml", []),
        (Kind.DELETE, "reset.yml", ["-e", "reset_confirmation=yes"]),
    ],
)
def test_playbook_and_extra_vars_per_action(kind: Kind, playbook: str, extra: list[str]) -> None:
    action = Action(kind, "r", hosts=("node2",), version="v1.35.0", job=f"cc-{kind}-1-1-0", generation="1-1")
    _, var, job = _objects(action, status=lc.installed())
    command = _container(job)["command"]
    at = command.index("ansible-playbook")
    assert command[:at] == [
        "python3",
        "-m",
        "kurator.worker",
        "--termination-log",
        jobs.TERMINATION_LOG,
        "--",
    ]
    assert command[at + 3] == playbook
    assert command[at + 7 :] == extra
    if kind == Kind.UPGRADE:
        assert yaml.safe_load(var["data"]["k8s_cluster.yml"])["kube_version"] == "1.35.0"


def test_scale_down_inventory_keeps_the_removed_hosts_and_target_drops_them() -> None:
    before, after = lc.machine(nodes=(1, 2)), lc.machine(nodes=(1,), generation=2)
    action = next_action(lc.cluster(), after, lc.installed(before), (), NOW)
    inv, _, job = _objects(action, machine=after, status=lc.installed(before))
    assert "node2" in yaml.safe_load(inv["data"]["hosts.yaml"])["all"]["hosts"]
    target = decode_target(job["metadata"]["annotations"][TARGET_ANNOTATION])
    assert target is not None and [h.name for h in target.hosts] == ["master1", "node1"]


def test_scale_up_target_and_round_trip_through_observe() -> None:
    before, after = lc.machine(nodes=(1,)), lc.machine(nodes=(1, 2), generation=2)
    st = lc.installed(before).model_copy(update={"hosts_checked_generation": 2})
    action = next_action(lc.cluster(), after, st, (), NOW)
    _, _, job = _objects(action, machine=after, status=st)
    job["metadata"]["creationTimestamp"] = "2026-11-25T12:00:00Z"
    job["status"] = {
        "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-25T12:30:00Z"}]
    }
    seen = observe(job)
    assert (seen.action, seen.generation, seen.attempt, seen.state) == ("scale-up", "1-2", 0, "succeeded")
    assert seen.target is not None and seen.target.hosts == desired(after)
    assert next_action(lc.cluster(), after, st, (seen,), NOW).reason == "UpToDate"


def test_hosts_with_their_own_key_get_their_own_mount() -> None:
    doc = lc.machine_doc()
    doc["spec"]["node"][1]["sshKey"] = {"name": "other-key"}
    from kurator.api.machine import CustomMachine

    m = CustomMachine.model_validate(doc)
    action = next_action(lc.cluster(), m, lc.status(), (), NOW)
    inv, _, job = _objects(action, machine=m)
    mounts = {v["mountPath"] for v in _container(job)["volumeMounts"]}
    assert {"/auth", "/auth-keys/other-key", "/inventory", jobs.WORKER_DIR} == mounts
    hosts = yaml.safe_load(inv["data"]["hosts.yaml"])["all"]["hosts"]
    assert hosts["node2"]["ansible_ssh_private_key_file"] == "/auth-keys/other-key/ssh-privatekey"


@pytest.mark.parametrize("kind", [Kind.CREATE, Kind.SCALE_DOWN, Kind.UPGRADE, Kind.DELETE])
def test_no_secret_content_in_any_manifest(kind: Kind) -> None:
    action = Action(kind, "r", hosts=("node2",), version=lc.VERSION, job="cc-x-1-1-0", generation="1-1")
    objects = lc.manifests(action, lc.cluster(), lc.machine(), lc.installed(), ())
    # The worker's own source (shipped in a ConfigMap of its own) names key markers: it scrubs them.
    text = json.dumps(objects)
    assert "PRIVATE KEY" not in text and KEY not in json.dumps([*objects, jobs.worker_configmap("d")])
    assert [o["kind"] for o in objects] == ["Job"]
    for o in objects:
        assert "stringData" not in o and "data" not in o
    volumes = objects[-1]["spec"]["template"]["spec"]["volumes"]
    assert [v["secret"]["secretName"] for v in volumes if "secret" in v] == ["cluster-secret"]


def test_actions_without_a_job_have_no_manifests() -> None:
    with pytest.raises(ValueError, match="runs no Job"):
        lc.manifests(Action(Kind.WAIT, "JobRunning", job="x"), lc.cluster(), lc.machine(), None, ())


def test_reset_of_a_cluster_without_a_version_uses_a_pinned_image() -> None:
    action = Action(Kind.DELETE, "r", hosts=("master1",), job="cc-delete-1-1-0", generation="1-1")
    *_, job = lc.manifests(action, lc.cluster(version=None), lc.machine(), None, ())
    assert _container(job)["image"].startswith("quay.io/kubespray/kubespray:")


@pytest.mark.parametrize("kind", [Kind.CREATE, Kind.SCALE_UP, Kind.SCALE_DOWN, Kind.UPGRADE, Kind.DELETE])
def test_manifests_hold_only_fields_kubernetes_knows(kind: Kind) -> None:
    """lightkube's models of ConfigMap and batch/v1 Job drop unknown fields: a misspelt one would not
    survive the round trip."""
    from lightkube.codecs import from_dict

    action = Action(kind, "r", hosts=("node2",), version=lc.VERSION, job="cc-x-1-1-0", generation="1-1")
    for obj in [
        *lc.manifests(action, lc.cluster(), lc.machine(), lc.installed(), ()),
        jobs.worker_configmap("d"),
    ]:
        assert from_dict(obj).to_dict() == obj


def test_the_worker_configmap_is_named_by_its_content() -> None:
    a, b = jobs.worker_configmap("ns1"), jobs.worker_configmap("ns2")
    assert a["metadata"]["name"] == b["metadata"]["name"] and a["data"] == b["data"] and a["immutable"]
    assert a["metadata"]["name"].startswith("kurator-worker-")


def test_a_user_other_than_root_logs_in_and_becomes_root() -> None:
    action = next_action(lc.cluster(), lc.machine(), lc.status(), (), NOW)
    (job,) = lc.manifests(action, lc.cluster(), lc.machine(), lc.status(), (), user="deploy")
    command = _container(job)["command"]
    assert command[command.index("--user") + 1] == "deploy" and "-b" in command


def test_a_scale_down_of_hosts_that_do_not_answer_skips_drain_and_reset() -> None:
    action = Action(
        Kind.SCALE_DOWN,
        "r",
        hosts=("node2",),
        job="cc-scale-down-1-1-0",
        generation="1-1",
        unreachable=("node2",),
    )
    (job,) = lc.manifests(action, lc.cluster(), lc.machine(), lc.installed(), ())
    command = _container(job)["command"]
    assert command[-4:] == ["-e", "reset_nodes=false", "-e", "allow_ungraceful_removal=true"]
