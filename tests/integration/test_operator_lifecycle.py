"""The cluster operator's whole lifecycle on the local fleet, with the operator as a real process
(``kurator operator run``) against the host's real API server and its real Job controller, and real SSH
hosts: create, kubeconfig, joining the fleet's Karmada, scale up, scale down, upgrade, delete; the
operator killed during each kind of run; failures, retries, preflight refusals, forced deletion and
leader election.

Stand-ins, named: Kubespray never runs (kwok cannot run its image): the test plays the kubelet and ends
each Job's Pod (operatorbed.finish_pod). The cluster "built" is member2 of the local fleet: the master is
an sshd at the fleet's own address, where member2's API server answers on 6443, and the test puts an
admin.conf for member2 (as Kubespray would have left it, pointing at 127.0.0.1) in that host's
/etc/kubernetes. Worker hosts are sshd servers in network namespaces of the run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event, Namespace, Secret
from lightkube.types import PatchType

from kurator.kube.client import client as kube_client
from kurator.kube.errors import NotFound, RequestFailed
from kurator.kube.karmada import Cluster
from kurator.local.fleet import UpResult, link_of

from .helpers import cluster_client, wait_for
from .operatorbed import (
    CustomClusterResource,
    CustomMachineResource,
    OperatorProcess,
    cluster_status,
    condition,
    finish_pod,
    install_crds,
    job_done,
    job_names,
    remove_crds,
    run_files,
    until_gone,
    wait_job,
    wait_phase,
)
from .sshhosts import SshHost, SshTestbed, SshTestbedError

pytestmark = pytest.mark.integration

# The operator's own namespace (fleets, Lease): not kurator-system, which `kurator install cluster-operator`
# makes and removes in its own tests.
OPERATOR_NS = "kurator-lifecycle"
NAMESPACES = ("lifecycle", "failures", "preflight", "stuck", "takeover")
OPERATOR_ARGS = ("--operator-namespace", OPERATOR_NS)
V1, V2 = "v1.34.3", "v1.35.2"


@pytest.fixture(scope="module")
def host_api(local_fleet: UpResult) -> Iterator[Client]:
    """The host with the CRDs and the fleet registered with the operator (its Karmada kubeconfig in
    kurator-fleet-<fleet>); all removed again afterwards, so other modules find the host as it was."""
    api = cluster_client(local_fleet, "host")
    install_crds(api)
    api.create(Namespace(metadata=ObjectMeta(name=OPERATOR_NS)))
    karmada = local_fleet.layout.kubeconfig("karmada").read_text()
    api.create(
        Secret(
            metadata=ObjectMeta(name=f"kurator-fleet-{local_fleet.config.name}", namespace=OPERATOR_NS),
            stringData={"value": karmada},
        )
    )
    try:
        yield api
    finally:
        for ns in (*NAMESPACES, OPERATOR_NS):
            with contextlib.suppress(RequestFailed):
                api.delete(Namespace, ns)
        remove_crds(api)


@pytest.fixture(scope="module")
def bed(local_fleet: UpResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestbed]:
    """hosts[0]: the master, at the fleet's address; hosts[1] and hosts[2]: workers; hosts[3]: a host where
    nothing listens; hosts[4]: a worker the lifecycle test lets die."""
    cfg = local_fleet.config
    assert cfg.network == "netns" and cfg.link_index is not None, (
        "the operator tests need the fleet's namespace"
    )
    assert cfg.api_ports["member2"] == 6443
    try:
        testbed = SshTestbed(tmp_path_factory.mktemp("operator-ssh"))
    except SshTestbedError as exc:
        pytest.fail(f"SSH test hosts cannot be built: {exc}")
    try:
        link = link_of(cfg)
        assert link is not None
        testbed.add_host_in(link)
        testbed.add_host()
        testbed.add_host()
        testbed.add_host(sshd=False)
        testbed.add_host()  # a worker that dies before it is removed
        yield testbed
    finally:
        testbed.close()


@pytest.fixture(scope="module")
def operator(
    local_fleet: UpResult, host_api: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    op = OperatorProcess(local_fleet, log, *OPERATOR_ARGS, "--delete-timeout", "10s").start()
    try:
        op.wait_ready()
        yield op
    finally:
        op.stop()


def _admin_conf(fleet: UpResult) -> str:
    """member2's admin kubeconfig as Kubespray leaves it on a master: pointing at 127.0.0.1:6443."""
    doc = yaml.safe_load(fleet.layout.kubeconfig("member2").read_text())
    doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:6443"
    return yaml.safe_dump(doc)


def _machine(
    name: str, namespace: str, master: SshHost, nodes: list[SshHost], key: str = "cluster-secret"
) -> dict[str, Any]:
    def entry(host_name: str, h: SshHost, secret: str = key) -> dict[str, Any]:
        return {
            "hostName": host_name,
            "publicIP": h.address,
            "privateIP": h.address,
            "sshKey": {"name": secret},
        }

    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomMachine",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "master": [entry("master1", master)],
            "node": [entry(f"node{i + 1}", h) for i, h in enumerate(nodes)],
        },
    }


def _cluster(name: str, namespace: str, machine: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"machineRef": {"name": machine}, "cni": {"type": "calico"}, "kubernetesVersion": V1, **spec},
    }


def _namespace(api: Client, bed: SshTestbed, name: str) -> str:
    api.create(Namespace(metadata=ObjectMeta(name=name)))
    api.create(
        Secret(
            metadata=ObjectMeta(name="cluster-secret", namespace=name),
            stringData={"ssh-privatekey": bed.private_key},
        )
    )
    return name


def _apply(api: Client, doc: dict[str, Any]) -> None:
    api.apply(codecs.from_dict(doc), field_manager="test", force=True)


def _restart(op: OperatorProcess) -> None:
    """Kill the operator and start it again; return once it has reconciled every cluster it found."""
    op.kill()
    op.start().wait_ready()
    op.wait_caught_up()


def _force_delete(api: Client, namespace: str, name: str) -> None:
    """Delete a cluster without resetting its hosts (the annotation first), and wait until it is gone."""
    api.patch(
        CustomClusterResource,
        name,
        {"metadata": {"annotations": {"kurator.dev/force-delete": "true"}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    api.delete(CustomClusterResource, name, namespace=namespace)
    until_gone(api, namespace, name, 30)


def _events(api: Client, namespace: str, name: str) -> list[Event]:
    return [e for e in api.list(Event, namespace=namespace) if e.involvedObject.name == name]


def _secret_texts(bed: SshTestbed, fleet: UpResult) -> list[str]:
    """What must never show up: lines of the SSH key and the admin kubeconfig's key and certificate."""
    key_lines = [
        line for line in bed.private_key.splitlines() if len(line) > 16 and not line.startswith("-----")
    ]
    member = yaml.safe_load(fleet.layout.kubeconfig("member2").read_text())
    user = member["users"][0]["user"]
    return [*key_lines, user["client-key-data"][:64], user["client-certificate-data"][:64]]


def test_lifecycle_create_kubeconfig_fleet_scale_upgrade_delete(
    local_fleet: UpResult, host_api: Client, bed: SshTestbed, operator: OperatorProcess
) -> None:
    api, master, worker = host_api, bed.hosts[0], bed.hosts[1]
    ns = _namespace(api, bed, "lifecycle")
    fleet = local_fleet.config.name
    _apply(api, _machine("machines", ns, master, []))
    _apply(api, _cluster("onprem", ns, "machines", fleet=fleet, podCIDR="10.244.0.0/16"))

    # create: one Job, with the hosts and vars Kubespray is given; the operator killed while it runs
    created = time.monotonic()
    job = wait_job(api, ns, "onprem", "create", 30)
    job_seconds = time.monotonic() - created
    assert job_seconds < 15, f"the create Job took {job_seconds:.1f}s"
    name = job.metadata.name  # type: ignore[union-attr]
    hosts, group_vars = run_files(api, ns, name)
    assert hosts["all"]["hosts"]["master1"]["ansible_host"] == master.address
    assert (
        group_vars["kube_version"] == V1.removeprefix("v")
        and group_vars["kube_pods_subnet"] == "10.244.0.0/16"
    )
    # The status follows the Job (it is written once new work has been quiet for a moment).
    st = wait_phase(api, ns, "onprem", "Provisioning", 10)
    assert condition(st, "HostsReady")["status"] == "True"
    _restart(operator)
    assert job_names(api, ns, "onprem") == [name], "a restarted operator started a second run"

    assert master.etc_kubernetes is not None
    (master.etc_kubernetes / "admin.conf").write_text(_admin_conf(local_fleet))
    finish_pod(api, ns, name)
    st = wait_phase(api, ns, "onprem", "Provisioned")
    endpoint = f"https://{master.address}:6443"
    st = wait_for(
        lambda: (s := cluster_status(api, ns, "onprem")).get("kubeconfigSecretRef") and s,
        30,
        "kubeconfig stored",
    )
    assert st["apiEndpoint"] == endpoint and st["masters"] == 1 and st["nodes"] == 0
    assert st["ready"] is True and st["initialization"] == {"provisioned": True}
    wait_for(
        lambda: (
            api.get(CustomClusterResource, "onprem", namespace=ns).spec.get("controlPlaneEndpoint")
            == {"host": master.address, "port": 6443}
        ),
        30,
        "spec.controlPlaneEndpoint (the Cluster API contract)",
    )

    # the stored kubeconfig reaches the cluster's API server (member2's) at the cluster's endpoint
    secret = api.get(Secret, "onprem-kubeconfig", namespace=ns)
    assert secret.type == "cluster.x-k8s.io/secret"
    assert (secret.metadata.labels or {})["cluster.x-k8s.io/cluster-name"] == "onprem"  # type: ignore[union-attr]
    text = base64.b64decode((secret.data or {})["value"]).decode()
    assert yaml.safe_load(text)["clusters"][0]["cluster"]["server"] == endpoint
    path = Path(bed.workdir) / "fetched.kubeconfig"
    path.write_text(text)
    fetched = kube_client(path)
    member2 = cluster_client(local_fleet, "member2")
    assert (
        fetched.get(Namespace, "kube-system").metadata.uid
        == member2.get(Namespace, "kube-system").metadata.uid
    )  # type: ignore[union-attr]

    # joined to the fleet's Karmada, which reaches it and calls it Ready
    karmada = kube_client(local_fleet.layout.kubeconfig("karmada"))
    wait_for(
        lambda: condition(cluster_status(api, ns, "onprem"), "FleetJoined").get("status") == "True",
        60,
        "joined",
    )
    assert cluster_status(api, ns, "onprem")["fleet"] == fleet
    wait_for(
        lambda: any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (karmada.get(Cluster, "onprem").status or {}).get("conditions", [])
        ),
        90,
        "Karmada sees onprem Ready",
    )

    # scale up: new nodes are checked over SSH, then scale.yml runs for them; the operator killed meanwhile
    doomed = bed.hosts[4]
    _apply(api, _machine("machines", ns, master, [worker, doomed]))
    job = wait_job(api, ns, "onprem", "scale-up", 30)
    name = job.metadata.name  # type: ignore[union-attr]
    hosts, _ = run_files(api, ns, name)
    assert set(hosts["all"]["hosts"]) == {"master1", "node1", "node2"}
    assert hosts["all"]["children"]["kube_node"]["hosts"] == {"node1": None, "node2": None}
    _restart(operator)
    assert len([j for j in job_names(api, ns, "onprem") if "scale-up" in j]) == 1
    finish_pod(api, ns, name)
    wait_for(lambda: cluster_status(api, ns, "onprem").get("nodes") == 2, 30, "two nodes")
    assert condition(cluster_status(api, ns, "onprem"), "ScaledUp")["status"] == "True"

    # scale down: remove-node.yml for the nodes that left the CustomMachine; one of them died meanwhile, so it
    # is removed without drain and reset
    bed.stop_sshd(doomed)
    _apply(api, _machine("machines", ns, master, []))
    job = wait_job(api, ns, "onprem", "scale-down", 30)
    name = job.metadata.name  # type: ignore[union-attr]
    command = job.spec.template.spec.containers[0].command  # type: ignore[union-attr]
    assert "remove-node.yml" in command and "node=node1,node2" in command
    assert "reset_nodes=false" in command and "allow_ungraceful_removal=true" in command
    wait_for(lambda: "UngracefulRemoval" in {e.reason for e in _events(api, ns, "onprem")}, 30, "the Event")
    finish_pod(api, ns, name)
    wait_for(lambda: cluster_status(api, ns, "onprem").get("nodes") == 0, 30, "no node")
    assert condition(cluster_status(api, ns, "onprem"), "ScaledDown")["status"] == "True"

    # upgrade: one minor up; the kubeconfig is fetched again afterwards (kubeadm renews its certificate)
    before = (api.get(Secret, "onprem-kubeconfig", namespace=ns).metadata.annotations or {})[
        "kurator.dev/fetched-after"
    ]  # type: ignore[union-attr]
    api.patch(
        CustomClusterResource,
        "onprem",
        {"spec": {"kubernetesVersion": V2}},
        namespace=ns,
        patch_type=PatchType.MERGE,
    )
    job = wait_job(api, ns, "onprem", "upgrade", 30)
    name = job.metadata.name  # type: ignore[union-attr]
    assert "upgrade-cluster.yml" in job.spec.template.spec.containers[0].command  # type: ignore[union-attr]
    assert run_files(api, ns, name)[1]["kube_version"] == V2.removeprefix("v")
    finish_pod(api, ns, name)
    wait_for(lambda: cluster_status(api, ns, "onprem").get("kubernetesVersion") == V2, 30, "upgraded")
    assert condition(cluster_status(api, ns, "onprem"), "Upgraded")["status"] == "True"
    wait_for(
        lambda: (
            (api.get(Secret, "onprem-kubeconfig", namespace=ns).metadata.annotations or {}).get(  # type: ignore[union-attr]
                "kurator.dev/fetched-after"
            )
            == name
        ),
        30,
        "kubeconfig fetched again after the upgrade",
    )
    assert before != name

    # delete: the fleet is left first, then reset.yml; the operator killed during the reset
    api.delete(CustomClusterResource, "onprem", namespace=ns)
    wait_for(lambda: _not_in_karmada(karmada, "onprem"), 60, "onprem left the fleet")
    job = wait_job(api, ns, "onprem", "delete", 30)
    name = job.metadata.name  # type: ignore[union-attr]
    assert "reset.yml" in job.spec.template.spec.containers[0].command  # type: ignore[union-attr]
    wait_phase(api, ns, "onprem", "Deleting", 10)
    _restart(operator)
    assert len([j for j in job_names(api, ns, "onprem") if "-delete-" in j]) == 1
    finish_pod(api, ns, name)
    until_gone(api, ns, "onprem", 30)
    # Its Jobs go with it (garbage collector), and nothing makes them again: the operator that was restarted
    # during the reset had listed the cluster before it went.
    wait_for(lambda: job_names(api, ns, "onprem") == [], 30, "the deleted cluster's Jobs gone")
    # Once the operator's view no longer holds the cluster, nothing can make its Jobs again.
    wait_for(lambda: operator.metric("kurator_operator_clusters") in (0.0, None), 30, "onprem forgotten")
    assert operator.metric("kurator_operator_queue_depth") == 0.0
    assert job_names(api, ns, "onprem") == [], "Jobs made for a cluster that is gone"

    reasons = {e.reason for e in _events(api, ns, "onprem")}
    assert {"RunStarted", "KubeconfigStored", "JoinedFleet", "LeftFleet", "Deleted"} <= reasons, reasons

    # no secret content in the operator's log, in Events or in any status
    texts = _secret_texts(bed, local_fleet)
    log = operator.log.read_text(errors="replace")
    events = json.dumps([e.to_dict() for e in api.list(Event, namespace=ns)], default=str)  # type: ignore[no-untyped-call]
    machine = json.dumps(api.get(CustomMachineResource, "machines", namespace=ns).to_dict(), default=str)  # type: ignore[no-untyped-call]
    for text in texts:
        assert text not in log and text not in events and text not in machine


def _not_in_karmada(karmada: Client, name: str) -> bool:
    try:
        karmada.get(Cluster, name)
    except NotFound:
        return True
    return False


def test_a_failed_run_says_why_and_is_retried_with_backoff_up_to_a_limit(
    host_api: Client, bed: SshTestbed, operator: OperatorProcess
) -> None:
    api = host_api
    ns = _namespace(api, bed, "failures")
    _apply(api, _machine("machines", ns, bed.hosts[1], []))
    _apply(api, _cluster("flaky", ns, "machines"))
    summary = {
        "failed_host": "master1",
        "task": "kubeadm | Initialize first control plane node",
        "message": "non-zero return code (rc=1): port 6443 is in use",
    }
    seen: list[str] = []
    for attempt in range(4):  # the first run and its three retries
        job = wait_job(api, ns, "flaky", "create", 30)
        name = job.metadata.name  # type: ignore[union-attr]
        assert name == f"flaky-create-1-1-{attempt}"
        seen.append(name)
        finish_pod(api, ns, name, ok=False, summary=summary)
        wait_for(lambda n=name: job_done(api, ns, n) == "Failed", 30, f"{name} failed")
        cond = wait_for(
            lambda n=name: (
                (c := condition(cluster_status(api, ns, "flaky"), "Provisioned"))
                .get("message", "")
                .startswith(f"Job {n} failed")
                and c
            ),
            30,
            "the failure in the status",
        )
        assert "on master1 in task 'kubeadm | Initialize first control plane node'" in cond["message"]
        assert "port 6443 is in use" in cond["message"] and cond["reason"] == "ProvisionFailed"
    ready = wait_for(
        lambda: (
            (c := condition(cluster_status(api, ns, "flaky"), "Ready")).get("reason") == "RetryLimitReached"
            and c
        ),
        30,
        "the retry limit in Ready",
    )
    assert "failed 4 times" in ready["message"] and "port 6443 is in use" in ready["message"]
    assert cluster_status(api, ns, "flaky")["phase"] == "ProvisionFailed"
    # The pass that wrote RetryLimitReached is the one that decided against a fifth run.
    assert job_names(api, ns, "flaky") == sorted(seen), "no fifth run after the limit"
    warnings = [e for e in _events(api, ns, "flaky") if e.type == "Warning" and e.reason == "ProvisionFailed"]
    assert warnings and "port 6443 is in use" in (warnings[0].message or "")
    # a deletion of a cluster whose hosts were touched resets them; here the test ends it at once
    _force_delete(api, ns, "flaky")


def test_preflight_names_every_failing_host_within_seconds_and_starts_nothing(
    host_api: Client, bed: SshTestbed, operator: OperatorProcess
) -> None:
    api = host_api
    ns = _namespace(api, bed, "preflight")
    api.create(
        Secret(
            metadata=ObjectMeta(name="stranger", namespace=ns), stringData={"ssh-privatekey": bed.wrong_key}
        )
    )
    good, other, dead = bed.hosts[1], bed.hosts[2], bed.hosts[3]
    machine = _machine("machines", ns, good, [other, dead])
    machine["spec"]["node"][0]["sshKey"] = {"name": "stranger"}
    _apply(api, machine)
    started = time.monotonic()
    _apply(api, _cluster("refused", ns, "machines"))
    cond = wait_for(
        lambda: (
            (c := condition(cluster_status(api, ns, "refused"), "HostsReady")).get("status") == "False" and c
        ),
        20,
        "the preflight's verdict",
    )
    took = time.monotonic() - started
    assert took < 15, f"the preflight took {took:.1f}s"
    assert (
        f"node1: {other.address}:22: authentication as root with the given key was refused" in cond["message"]
    )
    assert f"node2: {dead.address}:22: connection refused" in cond["message"]
    assert "master1" not in cond["message"]
    st = cluster_status(api, ns, "refused")
    assert condition(st, "Ready")["reason"] == "HostsUnreachable" and st["phase"] == "Pending"
    machine_status = api.get(CustomMachineResource, "machines", namespace=ns).status or {}
    assert machine_status.get("ready") is False and machine_status.get("nodes") == 2
    assert job_names(api, ns, "refused") == []
    # fixed: the node gets the right key; the next check passes and the create Job starts
    machine["spec"]["node"] = machine["spec"]["node"][:1]
    machine["spec"]["node"][0]["sshKey"] = {"name": "cluster-secret"}
    _apply(api, machine)
    wait_job(api, ns, "refused", "create", 60)
    wait_for(
        lambda: (api.get(CustomMachineResource, "machines", namespace=ns).status or {}).get("ready") is True,
        20,
        "the CustomMachine ready",
    )
    api.delete(CustomClusterResource, "refused", namespace=ns)
    job = wait_job(api, ns, "refused", "delete", 30)
    finish_pod(api, ns, job.metadata.name)  # type: ignore[union-attr, arg-type]
    until_gone(api, ns, "refused", 30)


def test_a_deletion_that_cannot_finish_says_what_blocks_and_force_delete_ends_it(
    host_api: Client, bed: SshTestbed, operator: OperatorProcess
) -> None:
    api = host_api
    ns = _namespace(api, bed, "stuck")
    _apply(api, _machine("machines", ns, bed.hosts[1], []))
    _apply(api, _cluster("stuck", ns, "machines"))
    create = wait_job(api, ns, "stuck", "create", 30)
    finish_pod(api, ns, create.metadata.name)  # type: ignore[union-attr, arg-type]
    wait_phase(api, ns, "stuck", "Provisioned")
    api.delete(CustomClusterResource, "stuck", namespace=ns)
    reset = wait_job(api, ns, "stuck", "delete", 30)
    # the reset never ends (its host died): past --delete-timeout (10s) the condition names the Job
    cond = wait_for(
        lambda: (
            (c := condition(cluster_status(api, ns, "stuck"), "Deleting")).get("reason")
            == "DeletionDeadlineExceeded"
            and c
        ),
        40,
        "the deadline in Deleting",
    )
    assert reset.metadata.name in cond["message"] and "kurator.dev/force-delete=true" in cond["message"]  # type: ignore[union-attr, operator]
    api.patch(
        CustomClusterResource,
        "stuck",
        {"metadata": {"annotations": {"kurator.dev/force-delete": "true"}}},
        namespace=ns,
        patch_type=PatchType.MERGE,
    )
    until_gone(api, ns, "stuck", 30)
    assert "ForceDeleted" in {e.reason for e in _events(api, ns, "stuck")}
    wait_for(
        lambda: (
            job_done(api, ns, reset.metadata.name) is None
            and reset.metadata.name not in job_names(api, ns, "stuck")
        ),
        30,
        "the reset Job stopped",
    )  # type: ignore[union-attr, arg-type]


def test_of_two_operators_one_acts_and_the_other_takes_over(
    local_fleet: UpResult, host_api: Client, bed: SshTestbed, operator: OperatorProcess, tmp_path: Path
) -> None:
    standby = OperatorProcess(local_fleet, tmp_path / "standby.log", *OPERATOR_ARGS).start()
    try:
        standby.wait_ready()
        wait_for(lambda: "standing by" in standby.log.read_text(), 20, "the second operator stands by")

        def leader(op: OperatorProcess) -> bool:
            r = op.get("/metrics")
            return r is not None and "kurator_operator_leader 1.0" in r.text

        assert leader(operator) and not leader(standby)
        operator.kill()  # the leader dies without giving the Lease up
        started = time.monotonic()
        wait_for(lambda: leader(standby), 40, "the standby takes the Lease")
        took = time.monotonic() - started
        assert took < 30, f"take-over took {took:.1f}s"
        api = host_api
        ns = _namespace(api, bed, "takeover")
        _apply(api, _machine("machines", ns, bed.hosts[1], []))
        _apply(api, _cluster("next", ns, "machines"))
        job = wait_job(api, ns, "next", "create", 30)
        assert job_names(api, ns, "next") == [job.metadata.name]  # type: ignore[union-attr]
        _force_delete(api, ns, "next")
    finally:
        assert standby.stop() == 0
    operator.start().wait_ready()  # the module's operator again, for whatever runs after
