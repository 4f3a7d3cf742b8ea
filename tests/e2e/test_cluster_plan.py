"""``kurator cluster plan`` on the local fleet's host: the operator's next steps for edited CustomCluster and
CustomMachine files, checked by the real API server in a dry run, and nothing written. No operator runs
here: where a plan needs a cluster that was already built, the test writes the status an operator leaves
after a create (a stand-in for that run, named as such)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from kurator.kube import wait
from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name
from tests.integration.helpers import cluster_client, kurator, wait_for
from tests.integration.operatorbed import (
    CustomClusterResource,
    CustomMachineResource,
    install_crds,
    remove_crds,
)

pytestmark = pytest.mark.e2e


def _host(ip: str, name: str) -> dict[str, Any]:
    return {"hostName": name, "publicIP": ip, "privateIP": ip, "sshKey": {"name": "key"}}


def _docs(namespace: str, nodes: int = 1, version: str = "v1.34.3") -> list[dict[str, Any]]:
    machine = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomMachine",
        "metadata": {"name": "m1", "namespace": namespace},
        "spec": {
            "master": [_host("192.0.2.10", "master1")],
            "node": [_host(f"192.0.2.{20 + i}", f"node{i + 1}") for i in range(nodes)],
        },
    }
    cluster = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": "c1", "namespace": namespace},
        "spec": {"machineRef": {"name": "m1"}, "cni": {"type": "calico"}, "kubernetesVersion": version},
    }
    return [machine, cluster]


@pytest.fixture(scope="module")
def host(local_fleet: UpResult) -> Iterator[tuple[Client, str, list[str]]]:
    api = cluster_client(local_fleet, "host")
    namespace = f"cluster-plan-{os.getpid()}"
    install_crds(api)
    api.create(Namespace(metadata=ObjectMeta(name=namespace)))
    # CRDs made moments ago answer 429 "storage is (re)initializing" for a while: a test that lists first
    # (any order) must not see that.
    wait.until(lambda: (_written(api, namespace),), timeout=60, what="the kinds listed")
    access = ["--kubeconfig", str(local_fleet.layout.kubeconfig("host"))]
    access += ["--context", context_name(local_fleet.config, "host")]
    try:
        yield api, namespace, access
    finally:
        remove_crds(api)
        api.delete(Namespace, namespace)


def _plan(access: list[str], path: Path, *extra: str) -> Any:
    return kurator(*access, "cluster", "plan", "-f", str(path), *extra)


def _written(api: Client, namespace: str) -> list[tuple[str, str | None]]:
    """Every CustomCluster, CustomMachine and Job of the namespace, with its resourceVersion."""
    out = []
    for res in (CustomClusterResource, CustomMachineResource, Job):
        for obj in api.list(res, namespace=namespace):
            meta = obj.metadata
            assert meta is not None
            out.append((f"{res.__name__}/{meta.name}", meta.resourceVersion))
    return sorted(out)


def test_a_new_cluster_plans_its_preflight_and_create_and_writes_nothing(
    host: tuple[Client, str, list[str]], tmp_path: Path
) -> None:
    api, namespace, access = host
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(_docs(namespace)))
    proc = _plan(access, path)
    assert proc.returncode == 0, proc.stderr
    assert f"plan: create CustomCluster {namespace}/c1" in proc.stdout
    assert "SSH preflight for master1, node1" in proc.stdout
    assert "create: Job c1-create-1-1-0 runs cluster.yml for master1, node1" in proc.stdout
    data = json.loads(_plan(access, path, "-o", "json").stdout)
    assert [s["kind"] for s in data[0]["steps"]] == ["preflight", "create"]
    assert data[0]["exists"] is False
    assert _written(api, namespace) == []


def test_an_added_node_plans_a_scale_up_and_an_upgrade_plans_one_minor(
    host: tuple[Client, str, list[str]], tmp_path: Path
) -> None:
    api, namespace, access = host
    for doc in _docs(namespace):
        api.create(codecs.from_dict(doc))
    try:
        _plans_of_a_provisioned_cluster(api, namespace, access, tmp_path)
    finally:  # the other tests plan c1 as a new cluster
        api.delete(CustomClusterResource, "c1", namespace=namespace)
        api.delete(CustomMachineResource, "m1", namespace=namespace)
        wait_for(lambda: _written(api, namespace) == [], 60, "c1 and m1 deleted")


def _plans_of_a_provisioned_cluster(api: Client, namespace: str, access: list[str], tmp_path: Path) -> None:
    # Stand-in for the operator's create run: the status it leaves when cluster.yml succeeded.
    provisioned = [
        {**_host("192.0.2.10", "master1"), "role": "master"},
        {**_host("192.0.2.20", "node1"), "role": "node"},
    ]
    for h in provisioned:
        h["sshKeySecret"] = h.pop("sshKey")["name"]
    status = {
        "phase": "Provisioned",
        "kubernetesVersion": "v1.34.3",
        "provisionedHosts": provisioned,
        "hostsCheckedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Provisioned",
                "lastTransitionTime": "2026-12-01T10:00:00Z",
            }
        ],
    }
    api.patch(
        CustomClusterResource.Status,
        "c1",
        {"status": status},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    before = _written(api, namespace)

    scale = tmp_path / "scale.yaml"
    scale.write_text(yaml.safe_dump_all(_docs(namespace, nodes=2)))
    proc = _plan(access, scale)
    assert proc.returncode == 0, proc.stderr
    assert f"plan: change CustomCluster {namespace}/c1" in proc.stdout
    assert "CustomMachine/m1 spec.node" in proc.stdout
    assert "SSH preflight for node2" in proc.stdout
    # The machine's next generation is 2: the Job the operator would make carries it.
    assert "scale-up: Job c1-scale-up-1-2-0 runs scale.yml for node2" in proc.stdout

    upgrade = tmp_path / "upgrade.yaml"
    upgrade.write_text(yaml.safe_dump_all(_docs(namespace, version="v1.35.0")))
    proc = _plan(access, upgrade)
    assert proc.returncode == 0, proc.stderr
    assert "upgrade to v1.35.0: Job c1-upgrade-v1-35-0-2-1-0 runs upgrade-cluster.yml" in proc.stdout

    downgrade = tmp_path / "downgrade.yaml"
    downgrade.write_text(yaml.safe_dump_all(_docs(namespace, version="v1.33.0")))
    proc = _plan(access, downgrade)
    assert proc.returncode == 2
    assert "kubernetesVersion cannot go down from v1.34.3 to v1.33.0" in " ".join(proc.stderr.split())

    unchanged = tmp_path / "same.yaml"
    unchanged.write_text(yaml.safe_dump_all(_docs(namespace)))
    proc = _plan(access, unchanged)
    assert "no spec change" in proc.stdout
    assert "none (UpToDate)" in proc.stdout
    assert _written(api, namespace) == before


def test_what_the_api_server_would_refuse_is_said_in_its_words_and_nothing_is_written(
    host: tuple[Client, str, list[str]], tmp_path: Path
) -> None:
    api, namespace, access = host
    before = _written(api, namespace)
    bad_ip = _docs(namespace)
    bad_ip[0]["spec"]["node"][0]["publicIP"] = "192.0.2.999"
    cases = {
        "bad-ip.yaml": (yaml.safe_dump_all(bad_ip), "publicIP '192.0.2.999' is not an IP address"),
        "cm.yaml": (
            "kind: ConfigMap\nmetadata: {name: x}\n",
            "only CustomCluster, CustomMachine and Cluster",
        ),
        "broken.yaml": ("kind: [\n", "is not valid YAML"),
        "machine-only.yaml": (yaml.safe_dump(_docs(namespace)[0]), "the files hold no CustomCluster"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        proc = _plan(access, path)
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert message in " ".join(proc.stderr.split()), (name, proc.stderr)
        assert "Traceback" not in proc.stderr
    missing = _plan(access, tmp_path / "nothing-here.yaml")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert _written(api, namespace) == before


def test_an_api_server_without_the_operators_crds_says_to_install_them(
    local_fleet: UpResult, tmp_path: Path
) -> None:
    """Karmada's API server never serves CustomClusters: its 404 becomes the way to get them."""
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(_docs("default")))
    proc = kurator(
        "--kubeconfig", str(local_fleet.layout.kubeconfig("karmada")), "cluster", "plan", "-f", str(path)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = " ".join(proc.stderr.split())
    assert "the API server does not serve CustomClusters" in err
    assert "install the cluster operator's CRDs: `kurator install cluster-operator`" in err
    assert "unexpected" not in err
