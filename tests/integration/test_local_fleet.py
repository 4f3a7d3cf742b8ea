"""The local fleet: real API servers, controller managers, schedulers, etcd, kwok fake nodes."""

from __future__ import annotations

import os
import subprocess

import pytest
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.batch_v1 import JobSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod

from kurator.local.fleet import UpResult, link_of, load_records
from kurator.local.status import status
from tests.conftest import FLEET
from tests.integration.helpers import cluster_client, wait_for

pytestmark = pytest.mark.integration


def test_every_cluster_is_ready(local_fleet: UpResult) -> None:
    st = status(FLEET, local_fleet.layout.root)
    assert st.healthy, st
    assert [c.name for c in st.clusters] == ["host", "member1", "member2", "karmada"]
    for c in st.clusters:
        assert c.version == "v1.35.4"
        assert all(c.processes.values())
        if c.name != "karmada":
            assert (c.nodes_ready, c.nodes_total) == (3, 3)
    karmada = st.clusters[-1]
    assert set(karmada.processes) == {
        "kube-apiserver",
        "kube-controller-manager",
        "karmada-aggregated-apiserver",
        "karmada-webhook",
        "karmada-controller-manager",
        "karmada-scheduler",
    }
    assert st.etcd_up


def test_deployment_gets_running_pods_on_fake_nodes(local_fleet: UpResult) -> None:
    api = cluster_client(local_fleet, "member1")
    labels = {"app": "web"}
    api.create(
        Deployment(
            metadata=ObjectMeta(name="web", namespace="default"),
            spec=DeploymentSpec(
                replicas=3,
                selector=LabelSelector(matchLabels=labels),
                template=PodTemplateSpec(
                    metadata=ObjectMeta(labels=labels),
                    spec=PodSpec(containers=[Container(name="web", image="nginx:1.27")]),
                ),
            ),
        )
    )

    def running() -> list[Pod]:
        pods = list(api.list(Pod, namespace="default", labels=labels))
        ok = [p for p in pods if p.status and p.status.phase == "Running" and p.spec and p.spec.nodeName]
        return ok if len(ok) == 3 else []

    pods = wait_for(running, 60, "3 Running pods of Deployment web")
    assert {p.spec.nodeName for p in pods} <= {f"member1-node-{i}" for i in (1, 2, 3)}
    dep = wait_for(
        lambda: (
            (d := api.get(Deployment, "web", namespace="default")).status
            and d.status.readyReplicas == 3
            and d
        ),
        60,
        "Deployment web ready",
    )
    assert dep.status.availableReplicas == 3


def test_job_completes(local_fleet: UpResult) -> None:
    api = cluster_client(local_fleet, "member1")
    api.create(
        Job(
            metadata=ObjectMeta(name="once", namespace="default"),
            spec=JobSpec(
                template=PodTemplateSpec(
                    spec=PodSpec(restartPolicy="Never", containers=[Container(name="run", image="busybox")])
                )
            ),
        )
    )
    job = wait_for(
        lambda: (j := api.get(Job, "once", namespace="default")).status and j.status.succeeded == 1 and j,
        60,
        "Job once complete",
    )
    assert any(c.type == "Complete" and c.status == "True" for c in job.status.conditions or [])


def test_processes_run_inside_the_fleet_network_namespace(local_fleet: UpResult) -> None:
    cfg = local_fleet.config
    if os.geteuid() != 0:
        # Without root there is no namespace to make: the fleet says so and runs on loopback.
        assert cfg.network == "loopback"
        return
    assert cfg.network == "netns"
    link = link_of(cfg)
    assert link is not None and link.netns == f"kurator-{FLEET}-{cfg.fleet_id}"
    netns_inode = os.stat(f"/run/netns/{link.netns}").st_ino
    for rec in load_records(local_fleet.layout).values():
        assert os.stat(f"/proc/{rec.pid}/ns/net").st_ino == netns_inode, rec.name
    # A fake pod IP has no route out of the namespace: nothing can ever leave for it.
    out = subprocess.run(
        ["ip", "-n", link.netns, "route", "get", "10.244.0.5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0
    assert "unreachable" in out.stderr.lower()
