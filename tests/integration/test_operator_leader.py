"""Leader election when the API server appears late: two operators (real processes, ``kurator operator run``)
start while nothing answers where their kubeconfig points; neither may act. Then the API server appears:
exactly one takes the Lease and starts the cluster's Job, the other stands by without reconciling anything,
and there is one Job.

Stand-in, named: the late API server is the local fleet's real host API server behind a loopback port
where nothing listens until the test opens it (tests/integration/lateproxy.py). The cluster's master is a
real sshd host (tests/integration/sshhosts.py), so the preflight passes for real.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from lightkube import ApiError, Client, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event, Namespace, Secret
from lightkube.types import PatchType

from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name

from .helpers import cluster_client, wait_for
from .lateproxy import LateServer
from .operatorbed import (
    CustomClusterResource,
    OperatorProcess,
    install_crds,
    job_names,
    remove_crds,
    until_gone,
    wait_job,
)
from .sshhosts import SshTestbed, SshTestbedError

pytestmark = pytest.mark.integration

NS, LEASE_NS = "late", "late-leader"


@pytest.fixture(scope="module")
def host_api(local_fleet: UpResult) -> Iterator[Client]:
    api = cluster_client(local_fleet, "host")
    install_crds(api)
    try:
        yield api
    finally:
        for ns in (NS, LEASE_NS):
            with contextlib.suppress(ApiError):
                api.delete(Namespace, ns)
        remove_crds(api)


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestbed]:
    try:
        testbed = SshTestbed(tmp_path_factory.mktemp("leader-ssh"))
    except SshTestbedError as exc:
        pytest.fail(f"SSH test hosts cannot be built: {exc}")
    try:
        testbed.add_host()
        yield testbed
    finally:
        testbed.close()


def _late_kubeconfig(fleet: UpResult, server: str, path: Path) -> Path:
    """The host's admin kubeconfig, pointing at ``server``."""
    doc = yaml.safe_load(fleet.layout.kubeconfig("host").read_text())
    chosen = context_name(fleet.config, "host")
    doc["current-context"] = chosen
    context = next(c["context"] for c in doc["contexts"] if c["name"] == chosen)
    for entry in doc["clusters"]:
        if entry["name"] == context["cluster"]:
            entry["cluster"]["server"] = server
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def _objects(api: Client, bed: SshTestbed) -> None:
    api.create(Namespace(metadata=ObjectMeta(name=NS)))
    api.create(Namespace(metadata=ObjectMeta(name=LEASE_NS)))
    api.create(
        Secret(
            metadata=ObjectMeta(name="cluster-secret", namespace=NS),
            stringData={"ssh-privatekey": bed.private_key},
        )
    )
    host = bed.hosts[0]
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": "CustomMachine",
            "metadata": {"name": "machines", "namespace": NS},
            "spec": {
                "master": [
                    {
                        "hostName": "master1",
                        "publicIP": host.address,
                        "privateIP": host.address,
                        "sshKey": {"name": "cluster-secret"},
                    }
                ]
            },
        },
        {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": "CustomCluster",
            "metadata": {"name": "late", "namespace": NS},
            "spec": {
                "machineRef": {"name": "machines"},
                "cni": {"type": "calico"},
                "kubernetesVersion": "v1.34.3",
            },
        },
    ]
    for doc in docs:
        api.apply(codecs.from_dict(doc), field_manager="test", force=True)


def test_of_two_operators_started_before_the_api_server_only_one_acts_once_it_appears(
    local_fleet: UpResult, host_api: Client, bed: SshTestbed, tmp_path: Path
) -> None:
    api = host_api
    _objects(api, bed)
    real = urlsplit(
        str(
            yaml.safe_load(local_fleet.layout.kubeconfig("host").read_text())["clusters"][0]["cluster"][
                "server"
            ]
        )
    )
    assert real.hostname is not None and real.port is not None
    late = LateServer((real.hostname, real.port))
    kubeconfig = _late_kubeconfig(local_fleet, late.url, tmp_path / "late.kubeconfig")
    ops = [
        OperatorProcess(
            local_fleet, tmp_path / f"op{i}.log", "--operator-namespace", LEASE_NS, kubeconfig=kubeconfig
        )
        for i in (1, 2)
    ]
    try:
        for op in ops:
            op.start()
        # Both try the Lease while nothing answers: neither may take itself for the leader.
        for op in ops:
            wait_for(
                lambda o=op: "cannot take Lease" in o.log.read_text(), 30, f"{op.log.name}: a refused try"
            )
        for op in ops:
            assert op.proc is not None and op.proc.poll() is None, op.tail()
            assert op.metric("kurator_operator_leader") == 0.0, f"leading without a Lease: {op.tail()}"
            assert not op.metric("kurator_operator_reconciles_total"), "reconciled without a Lease"

        late.open()  # the API server appears
        job = wait_job(api, NS, "late", "create", 60)
        leader = wait_for(lambda: next((o for o in ops if o.leading()), None), 30, "a leader")
        leader.wait_caught_up()
        standby = next(o for o in ops if o is not leader)
        assert job_names(api, NS, "late") == [job.metadata.name]  # type: ignore[union-attr]
        assert standby.proc is not None and standby.proc.poll() is None, (
            f"the standby exited: {standby.tail()}"
        )
        assert standby.metric("kurator_operator_leader") == 0.0
        assert not standby.metric("kurator_operator_reconciles_total"), "the standby reconciled"
        # A standby that lost the race to create the Lease learns its holder at its next try.
        wait_for(lambda: "standing by" in standby.log.read_text(), 20, "the standby names the holder")

        def started() -> list[Event]:
            return [
                e
                for e in api.list(Event, namespace=NS)
                if e.involvedObject.name == "late" and e.reason == "RunStarted"
            ]

        # The run's Event is posted with the pass's status, once new work has been quiet for a moment.
        posted = wait_for(started, 30, "the run's Event")
        assert len(posted) == 1, [e.message for e in posted]
    finally:
        for op in ops:
            op.stop()
        late.close()
        with contextlib.suppress(ApiError):
            api.patch(
                CustomClusterResource,
                "late",
                {"metadata": {"annotations": {"kurator.dev/force-delete": "true"}, "finalizers": None}},
                namespace=NS,
                patch_type=PatchType.MERGE,
            )
            api.delete(CustomClusterResource, "late", namespace=NS)
            until_gone(api, NS, "late", 30)
