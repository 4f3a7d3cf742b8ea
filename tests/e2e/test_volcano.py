"""`kurator install volcano` against the local fleet's real Karmada and real member API servers, from the
upstream release file kept in tests/fixtures (an offline bundle: the bytes a user's install fetches and
checks against the same pin).

What does not run here: Volcano's images (its scheduler, controllers and admission server are kwok Pods, so
no Volcano Job is ever scheduled). With every node fake, its admission webhooks are left out by default;
the tests check that ordinary Pods still run, that Volcano Jobs and Queues pass the API server's schema
(and a malformed one does not), and that `--admission on` fails loudly instead of breaking silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.admissionregistration_v1 import (
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
)
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod

from kurator.fleet import record
from kurator.kube.errors import Invalid, KubeError
from kurator.local.fleet import UpResult
from tests.integration.helpers import cluster_client, gone, join, karmada_args, kurator, wait_for

pytestmark = pytest.mark.e2e

MEMBERS = ("member1", "member2")
BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
SELECTOR = {"kurator.dev/component": "volcano"}
VolcanoJob = create_namespaced_resource("batch.volcano.sh", "v1alpha1", "Job", "jobs")
Queue = create_global_resource("scheduling.volcano.sh", "v1beta1", "Queue", "queues")


@pytest.fixture(scope="module")
def fleet(local_fleet: UpResult) -> Iterator[UpResult]:
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    yield local_fleet
    kurator(*karmada_args(local_fleet), "uninstall", "volcano", "--wait-timeout", "60")
    for member in MEMBERS:
        kurator(*karmada_args(local_fleet), "unjoin", member, "--force")


def _volcano(fleet: UpResult, *extra: str) -> Any:
    return kurator(*karmada_args(fleet), "install", "volcano", "--artifacts-dir", str(BUNDLE), *extra)


def _installed(fleet: UpResult) -> None:
    proc = _volcano(fleet, "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _webhooks(api: Client) -> list[str]:
    return sorted(
        w.metadata.name
        for kind in (MutatingWebhookConfiguration, ValidatingWebhookConfiguration)
        for w in api.list(kind, labels=SELECTOR)
        if w.metadata and w.metadata.name
    )


def _ordinary_deployment_runs(api: Client, name: str) -> None:
    labels = {"app": name}
    dep = Deployment(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=DeploymentSpec(
            replicas=2,
            selector=LabelSelector(matchLabels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[Container(name="web", image="nginx")]),
            ),
        ),
    )
    api.create(dep)
    try:

        def running() -> bool:
            pods = list(api.list(Pod, namespace="default", labels=labels))
            return len(pods) == 2 and all(p.status and p.status.phase == "Running" for p in pods)

        wait_for(running, 60, f"Running pods of Deployment {name}")
    finally:
        api.delete(Deployment, name, namespace="default")


def _volcano_job(name: str, min_available: Any = 1) -> Any:
    return VolcanoJob(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec={
            "minAvailable": min_available,
            "schedulerName": "volcano",
            "queue": "batch-test",
            "tasks": [
                {
                    "name": "worker",
                    "replicas": 1,
                    "template": {"spec": {"containers": [{"name": "w", "image": "busybox"}]}},
                }
            ],
        },
    )


def test_dry_run_plans_volcano_and_writes_nothing(fleet: UpResult) -> None:
    kurator(*karmada_args(fleet), "uninstall", "volcano", "--wait-timeout", "120", check=True)
    proc = _volcano(fleet, "--dry-run", "--cluster", "member1")  # Kurator's spelling of --clusters
    assert proc.returncode == 0, proc.stderr
    assert "+ create CustomResourceDefinition jobs.batch.volcano.sh" in proc.stdout
    assert "+ create Deployment volcano-system/volcano-scheduler" in proc.stdout
    assert "member1:" in proc.stdout and "member2:" not in proc.stdout
    assert "left out" in proc.stderr  # every node of member1 is fake: no webhooks, and it says so
    karmada = cluster_client(fleet, "karmada")
    assert record.load(karmada, "volcano") is None
    assert gone(karmada, Namespace, "volcano-system")
    assert gone(karmada, CustomResourceDefinition, "jobs.batch.volcano.sh")


def test_install_keeps_pods_running_and_accepts_volcano_jobs_and_queues(fleet: UpResult) -> None:
    proc = _volcano(fleet, "--clusters", ",".join(MEMBERS), "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "volcano 1.15.1 installed on member1, member2" in proc.stdout or "unchanged" in proc.stdout
    for member in MEMBERS:
        api = cluster_client(fleet, member)
        assert api.get(Deployment, "volcano-scheduler", namespace="volcano-system").status.readyReplicas == 1
        assert _webhooks(api) == []
        _ordinary_deployment_runs(api, f"web-{member}")
        queue = api.create(Queue(metadata=ObjectMeta(name="batch-test"), spec={"weight": 1}))
        try:
            job = api.create(_volcano_job("vj"))
            assert job.metadata.uid
            with pytest.raises(Invalid) as invalid:  # the CRD's schema is enforced
                api.create(_volcano_job("bad", min_available="many"))
            assert invalid.value.code == 422 and "minAvailable" in invalid.value.message
            api.delete(VolcanoJob, "vj", namespace="default")
        finally:
            api.delete(Queue, queue.metadata.name)
    listed = json.loads(kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True).stdout)
    volcano = next(c for c in listed if c["name"] == "volcano")
    for member in MEMBERS:
        report = volcano["health"][member]
        assert report["healthy"], report
        checks = {c["name"]: c for c in report["checks"]}
        assert checks["CRDs"]["detail"] == "11 Established"
        assert "not registered" in checks["admission"]["detail"]
    table = kurator(*karmada_args(fleet), "get", "components", check=True).stdout
    assert "volcano" in table and "webhooks not registered" in table


def test_rerun_writes_nothing(fleet: UpResult) -> None:
    _installed(fleet)
    karmada = cluster_client(fleet, "karmada")
    before = karmada.get(ConfigMap, "kurator-component-volcano", namespace="kube-system").metadata
    proc = _volcano(fleet, "--wait-timeout", "60")
    assert proc.returncode == 0, proc.stderr
    assert "volcano 1.15.1 is installed and unchanged on member1, member2: nothing was written" in proc.stdout
    after = karmada.get(ConfigMap, "kurator-component-volcano", namespace="kube-system").metadata
    assert after.resourceVersion == before.resourceVersion


def test_admission_webhooks_that_cannot_answer_fail_the_install_loudly(fleet: UpResult) -> None:
    _installed(fleet)
    proc = _volcano(fleet, "--admission", "on", "--wait-timeout", "15")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refuse Volcano Jobs" in proc.stderr  # said before the install
    assert "has no CA bundle yet" in proc.stderr  # and why it is not ready
    api = cluster_client(fleet, "member1")
    assert "volcano-admission-service-jobs-validate" in _webhooks(api)
    _ordinary_deployment_runs(api, "web-admission")  # Volcano registers no webhook on Pods
    with pytest.raises(KubeError) as refused:  # the member calls the webhook, whose server never started
        api.create(Queue(metadata=ObjectMeta(name="refused"), spec={"weight": 1}))
    assert "volcano" in refused.value.message
    # Karmada keeps the webhooks as templates that match nothing: Volcano objects made there (to propagate)
    # are accepted.
    karmada = cluster_client(fleet, "karmada")
    karmada.create(Queue(metadata=ObjectMeta(name="on-karmada"), spec={"weight": 1}))
    karmada.delete(Queue, "on-karmada")
    listed = json.loads(kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True).stdout)
    report = next(c for c in listed if c["name"] == "volcano")["health"]["member1"]
    assert not report["healthy"] and any("no CA bundle" in c["detail"] for c in report["checks"])
    # Back to the default: the webhooks are removed again, Volcano objects are accepted.
    proc = _volcano(fleet, "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wait_for(lambda: _webhooks(api) == [], 60, "Volcano's webhooks removed from member1")
    api.create(Queue(metadata=ObjectMeta(name="after-admission"), spec={"weight": 1}))
    api.delete(Queue, "after-admission")


def test_uninstall_removes_volcano_everywhere(fleet: UpResult) -> None:
    _installed(fleet)
    proc = kurator(*karmada_args(fleet), "uninstall", "volcano", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for cluster in ("karmada", *MEMBERS):
        api = cluster_client(fleet, cluster)
        assert gone(api, Namespace, "volcano-system") or _terminating(api)
        assert gone(api, CustomResourceDefinition, "queues.scheduling.volcano.sh"), cluster
    assert record.load(cluster_client(fleet, "karmada"), "volcano") is None


def _terminating(api: Client) -> bool:
    ns = api.get(Namespace, "volcano-system")
    return bool(ns.status and ns.status.phase == "Terminating")
