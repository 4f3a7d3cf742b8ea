"""`kurator install cluster-api --infrastructure aws` as a user runs it, on a member of the local fleet (a
cluster where nothing of Cluster API runs yet): a dry run writes nothing; the install puts Cluster API's and
CAPA's CRDs, RBAC, webhooks (with certificates kurator made: no cert-manager) and Deployments there; a second
run writes nothing; a run cut short is finished by the next; uninstall is refused while a Cluster exists and
then removes exactly what was installed. The managers' pods are kwok's: no image runs here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.admissionregistration_v1 import (
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
)
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Namespace, Secret

from kurator.components import cluster_api_providers as cap
from kurator.fleet import record
from kurator.kube.apply import apply_all
from kurator.kube.errors import KubeError
from kurator.local.fleet import UpResult
from tests.integration.capi_helpers import CapiCluster
from tests.integration.helpers import cluster_client, gone, interruptible, module_zip, wait_for

pytestmark = pytest.mark.e2e

TARGET = "member1"
COMPONENTS = ("cluster-api", "cluster-api-aws")
MANAGERS = {
    "capi-system": "capi-controller-manager",
    "capi-kubeadm-bootstrap-system": "capi-kubeadm-bootstrap-controller-manager",
    "capi-kubeadm-control-plane-system": "capi-kubeadm-control-plane-controller-manager",
    "capa-system": "capa-controller-manager",
}


class Bed:
    def __init__(self, fleet: UpResult, home: Path) -> None:
        self.fleet, self.home = fleet, home
        self.api: Client = cluster_client(fleet, TARGET)
        self.kubeconfig = fleet.layout.kubeconfig(TARGET)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kurator", "--kubeconfig", str(self.kubeconfig), *args]

    def env(self) -> dict[str, str]:
        return {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "KURATOR_HOME": str(self.home)}

    def kurator(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), capture_output=True, text=True, env=self.env(), timeout=timeout, check=False
        )


@pytest.fixture(scope="module")
def bed(local_fleet: UpResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    home = tmp_path_factory.mktemp("capi-install") / "home"
    for comp, module in (
        (cap.CLUSTER_API, cap.CAPI_MODULE),
        (cap.CLUSTER_API_AWS, cap.CAPA_MODULE),
    ):
        entry = home / "artifacts" / comp.artifact.key
        entry.mkdir(parents=True)
        (entry / comp.artifact.source.rsplit("/", 1)[-1]).write_bytes(module_zip(module).read_bytes())
    b = Bed(local_fleet, home)
    try:
        yield b
    finally:
        b.kurator("uninstall", "cluster-api", "--wait-timeout", "180")


def _nothing_installed(b: Bed) -> None:
    for comp in COMPONENTS:
        assert record.load(b.api, comp) is None, comp
    assert gone(b.api, CustomResourceDefinition, "clusters.cluster.x-k8s.io")
    assert gone(b.api, Namespace, "capa-system")


def _installed(b: Bed) -> None:
    """Cluster API and CAPA installed (a re-run writes nothing), whichever test ran before."""
    proc = b.kurator("install", "cluster-api", "--infrastructure", "aws", "--wait-timeout", "300")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_plans_every_manager_and_writes_nothing(bed: Bed) -> None:
    removed = bed.kurator("uninstall", "cluster-api", "--wait-timeout", "180")  # whichever test ran before
    assert removed.returncode == 0, removed.stdout + removed.stderr
    proc = bed.kurator("install", "cluster-api", "--infrastructure", "aws", "--dry-run", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    plans = json.loads(proc.stdout)
    assert [p["component"] for p in plans] == list(COMPONENTS)
    made = {
        (c["kind"], c["name"]) for p in plans for c in p["targets"][0]["changes"] if c["action"] == "create"
    }
    for namespace, deployment in MANAGERS.items():
        assert ("Namespace", namespace) in made
        assert ("Deployment", deployment) in made
    assert ("CustomResourceDefinition", "awsclusters.infrastructure.cluster.x-k8s.io") in made
    assert ("ValidatingWebhookConfiguration", "capa-validating-webhook-configuration") in made
    assert ("Secret", "capi-webhook-service-cert") in made
    # the webhook certificates' keys are never shown
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
    _nothing_installed(bed)


def test_install_rerun_and_an_interrupted_run(bed: Bed) -> None:
    args = ["install", "cluster-api", "--infrastructure", "aws", "--wait-timeout", "300"]
    # cut short while the first component goes in: the next run finishes it
    run = interruptible("--kubeconfig", str(bed.kubeconfig), *args, env=bed.env())
    wait_for(lambda: record.load(bed.api, "cluster-api") is not None, 120, "the install recorded")
    run.send_signal(signal.SIGINT)
    run.wait(60)
    proc = bed.kurator(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for namespace, name in MANAGERS.items():
        deployment = bed.api.get(Deployment, name, namespace=namespace)
        assert deployment.status and deployment.status.readyReplicas == 1, name
    hook = bed.api.get(ValidatingWebhookConfiguration, "capi-validating-webhook-configuration")
    config = hook.webhooks[0].clientConfig if hook.webhooks else None
    assert config is not None and config.service is not None and config.caBundle
    assert config.service.name == "capi-webhook-service" and config.service.namespace == "capi-system"
    cert = bed.api.get(Secret, "capi-webhook-service-cert", namespace="capi-system")
    assert cert.data and {"tls.crt", "tls.key", "ca.crt"} <= set(cert.data)
    crd = bed.api.get(CustomResourceDefinition, "awsmachines.infrastructure.cluster.x-k8s.io")
    assert (
        (crd.metadata.labels or {})["cluster.x-k8s.io/provider"] == "infrastructure-aws"
        if crd.metadata
        else False
    )
    again = bed.kurator(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    for comp in COMPONENTS:
        assert f"{comp} " in again.stdout and "nothing was written" in again.stdout, again.stdout


def test_uninstall_waits_for_clusters_then_removes_what_was_installed(bed: Bed) -> None:
    # The managers' pods are kwok's and serve no webhook: without their configurations a Cluster can be made
    # here (the uninstall below removes what is left of them).
    _installed(bed)
    bed.api.delete(MutatingWebhookConfiguration, "capi-mutating-webhook-configuration")
    bed.api.delete(ValidatingWebhookConfiguration, "capi-validating-webhook-configuration")
    cluster = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": "keep-me", "namespace": "default"},
        "spec": {"paused": True},
    }

    def applied() -> bool:
        # The API server drops a deleted webhook configuration when its informer hears of it: moments later
        # on a busy machine, and until then it still calls the webhook (nothing serves it: refused).
        try:
            apply_all(bed.api, [cluster])
        except KubeError as exc:
            if "failed calling webhook" not in str(exc):
                raise
            return False
        return True

    wait_for(applied, 60, "the Cluster admitted without the deleted webhooks")
    refused = bed.kurator("uninstall", "cluster-api")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Cluster API Clusters exist (default/keep-me)" in refused.stderr
    assert record.load(bed.api, "cluster-api") is not None
    bed.api.delete(CapiCluster, "keep-me", namespace="default")
    wait_for(lambda: gone(bed.api, CapiCluster, "keep-me", "default"), 60, "the Cluster deleted")
    proc = bed.kurator("uninstall", "cluster-api", "--wait-timeout", "180")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _nothing_installed(bed)
