"""The local fleet: real API servers, controller managers, schedulers, etcd, kwok fake nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.batch_v1 import JobSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Pod

from kurator.local import processes
from kurator.local.fleet import UpResult, link_of, load_records
from kurator.local.status import status
from tests.conftest import FLEET
from tests.integration.helpers import cluster_client, kurator, wait_for

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


def _monitoring_data(path: Path) -> bool:
    """Prometheus's and Thanos's own data (TSDB, caches) change all the time; their config files do not."""
    return any(p.startswith("data-") or p in ("thanos-store", "thanos-compactor") for p in path.parts)


def test_second_up_changes_nothing(local_fleet: UpResult) -> None:
    before = load_records(local_fleet.layout)
    files = {
        p: p.stat().st_mtime_ns
        for p in local_fleet.layout.root.rglob("*")
        if p.is_file() and "etcd" not in p.parts and "logs" not in p.parts and not _monitoring_data(p)
    }
    proc = kurator("local", "up", "--name", FLEET, "--home", str(local_fleet.layout.root), check=True)
    assert "nothing to change" in proc.stdout
    assert load_records(local_fleet.layout) == before
    after = {p: p.stat().st_mtime_ns for p in files}
    changed = [str(p) for p in files if after[p] != files[p] and p.name != ".lock"]
    assert changed == []


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


def test_killed_apiserver_shows_down_and_up_restarts_only_it(local_fleet: UpResult) -> None:
    home = str(local_fleet.layout.root)
    api = cluster_client(local_fleet, "member2")
    api.create(ConfigMap(metadata=ObjectMeta(name="survivor", namespace="default"), data={"k": "v"}))
    records = load_records(local_fleet.layout)
    victim = records["member2/kube-apiserver"]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: not processes.is_alive(victim), 10, "apiserver gone")

    proc = kurator("local", "status", "--name", FLEET, "--home", home, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    member2 = next(c for c in data["clusters"] if c["name"] == "member2")
    assert member2["processes"]["kube-apiserver"] == "down"
    assert member2["version"] is None
    table = kurator("local", "status", "--name", FLEET, "--home", home)
    assert "down" in table.stdout

    kurator("local", "up", "--name", FLEET, "--home", home, check=True)
    after = load_records(local_fleet.layout)
    assert after["member2/kube-apiserver"].pid != victim.pid
    unchanged = {n: r for n, r in after.items() if n != "member2/kube-apiserver"}
    assert unchanged == {n: r for n, r in records.items() if n != "member2/kube-apiserver"}
    api = cluster_client(local_fleet, "member2")
    assert api.get(ConfigMap, "survivor", namespace="default").data == {"k": "v"}
    assert kurator("local", "status", "--name", FLEET, "--home", home).returncode == 0


def test_kubeconfig_command_prints_path_and_content(local_fleet: UpResult) -> None:
    home = str(local_fleet.layout.root)
    path = kurator("local", "kubeconfig", "member1", "--path", "--name", FLEET, "--home", home, check=True)
    assert Path(path.stdout.strip()) == local_fleet.layout.kubeconfig("member1")
    assert oct(Path(path.stdout.strip()).stat().st_mode & 0o777) == "0o600"
    merged = kurator("local", "kubeconfig", "--name", FLEET, "--home", home, check=True)
    contexts = [c["name"] for c in __import__("yaml").safe_load(merged.stdout)["contexts"]]
    assert contexts == [f"{FLEET}-host", f"{FLEET}-member1", f"{FLEET}-member2", f"{FLEET}-karmada"]
