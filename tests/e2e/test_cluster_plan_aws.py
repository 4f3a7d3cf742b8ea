"""``kurator cluster plan`` for AWS Clusters on the local fleet's host, with Cluster API's and CAPA's real
managers (their webhooks answer the dry runs): the objects a new Cluster becomes, each checked by the API
server, with the credentials never shown and nothing written; a missing credential named; what the API
server refuses said in its words. No operator runs here."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret

from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name
from tests import aws_cluster_cases as cases
from tests.integration.capi_helpers import AWSCluster, CapiCluster, StaticIdentity
from tests.integration.helpers import cluster_client, gone, kurator
from tests.integration.operatorbed import install_crds, remove_crds

pytestmark = pytest.mark.e2e

KuratorCluster = create_namespaced_resource("cluster.kurator.dev", "v1alpha1", "Cluster", "clusters")
SECRET_KEY = "plan-test-secret-value-never-shown"


@pytest.fixture(scope="module")
def host(cluster_api_fleet: UpResult) -> Iterator[tuple[Client, str, list[str]]]:
    api = cluster_client(cluster_api_fleet, "host")
    namespace = f"aws-plan-{os.getpid()}"
    install_crds(api)
    api.create(Namespace(metadata=ObjectMeta(name=namespace)))
    data = {"AccessKeyID": "AKIAPLANTEST0000001", "SecretAccessKey": SECRET_KEY}
    api.create(
        Secret(
            metadata=ObjectMeta(name="aws-prod", namespace=namespace),
            data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        )
    )
    access = ["--kubeconfig", str(cluster_api_fleet.layout.kubeconfig("host"))]
    access += ["--context", context_name(cluster_api_fleet.config, "host")]
    try:
        yield api, namespace, access
    finally:
        remove_crds(api)
        api.delete(Namespace, namespace)


def _file(tmp_path: Path, namespace: str, name: str = "prod", **spec: Any) -> Path:
    doc = cases.aws(name, **({"credential": {"secretRef": "aws-prod"}} | spec))
    doc["metadata"]["namespace"] = namespace
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_new_aws_cluster_plans_its_objects_shows_no_credential_and_writes_nothing(
    host: tuple[Client, str, list[str]], tmp_path: Path
) -> None:
    api, namespace, access = host
    path = _file(tmp_path, namespace, workers=[cases.worker(replicas=3)])
    proc = kurator(*access, "cluster", "plan", "-f", str(path))
    assert proc.returncode == 0, proc.stderr
    assert f"plan: create Cluster {namespace}/prod (aws)" in proc.stdout
    identity = f"kurator-{namespace}-prod"
    for line in (
        f"+ create Secret capa-system/{identity}",
        f"+ create AWSClusterStaticIdentity {identity}",
        f"+ create AWSCluster {namespace}/prod",
        f"+ create KubeadmControlPlane {namespace}/prod-control-plane",
        f"+ create Cluster {namespace}/prod",
        f"+ create MachineDeployment {namespace}/prod-md-0",
    ):
        assert line in proc.stdout, (line, proc.stdout)
    assert proc.stdout.count("+ create AWSMachineTemplate") == 2  # the masters' and the pool's
    data = json.loads(kurator(*access, "cluster", "plan", "-f", str(path), "-o", "json").stdout)
    assert data[0]["exists"] is False and data[0]["problems"] == []
    assert {c["kind"] for c in data[0]["changes"]} >= {"Secret", "AWSCluster", "MachineDeployment"}
    shown = proc.stdout + proc.stderr + json.dumps(data)
    assert SECRET_KEY not in shown and base64.b64encode(SECRET_KEY.encode()).decode() not in shown
    assert gone(api, KuratorCluster, "prod", namespace)
    assert gone(api, CapiCluster, "prod", namespace)
    assert gone(api, AWSCluster, "prod", namespace)
    assert gone(api, StaticIdentity, identity)
    assert gone(api, Secret, identity, "capa-system")


def test_a_missing_credential_is_named_and_refusals_are_the_api_servers(
    host: tuple[Client, str, list[str]], tmp_path: Path
) -> None:
    api, namespace, access = host
    missing = _file(tmp_path, namespace, "nocred", credential={"secretRef": "no-such-secret"})
    proc = kurator(*access, "cluster", "plan", "-f", str(missing))
    assert proc.returncode == 0, proc.stderr
    assert (
        f"! Secret no-such-secret (credential.secretRef) does not exist in namespace {namespace}: "
        "nothing would be made until it is fixed"
    ) in " ".join(proc.stdout.split())
    even = _file(tmp_path, namespace, "even", master=cases.master(replicas=2))
    proc = kurator(*access, "cluster", "plan", "-f", str(even))
    assert proc.returncode == 2, proc.stdout
    assert "master.replicas must be odd" in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr
    theirs = tmp_path / "capi.yaml"
    theirs.write_text(
        yaml.safe_dump(
            {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": "x"}}
        )
    )
    proc = kurator(*access, "cluster", "plan", "-f", str(theirs))
    assert proc.returncode == 2
    assert "only CustomCluster, CustomMachine and Cluster objects of cluster.kurator.dev" in " ".join(
        proc.stderr.split()
    )
    assert not list(api.list(KuratorCluster, namespace=namespace))
