"""join / unjoin / get clusters against the fleet's real Karmada and real member API servers."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding

from kurator.kube.karmada import Cluster, PropagationPolicy
from kurator.local.fleet import UpResult, load_records
from tests.integration.helpers import cluster_client, kurator, wait_for
from tests.integration.helpers import gone as _gone
from tests.integration.helpers import join as _join
from tests.integration.helpers import karmada_args as _karmada_args

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def joined(local_fleet: UpResult) -> Iterator[UpResult]:
    # Joins from scratch, whatever a module run before this one left joined on the shared fleet.
    for member in ("member1", "member2"):
        kurator(*_karmada_args(local_fleet), "unjoin", member, "--force")
    for member in ("member1", "member2"):
        proc = _join(local_fleet, member)
        assert proc.returncode == 0, proc.stderr
        assert f"cluster {member} joined" in proc.stdout
    yield local_fleet
    for member in ("member1", "member2"):
        kurator(*_karmada_args(local_fleet), "unjoin", member, "--force")


def test_get_clusters_shows_both_members_ready(joined: UpResult) -> None:
    data = json.loads(kurator(*_karmada_args(joined), "get", "clusters", "-o", "json", check=True).stdout)
    assert [c["name"] for c in data] == ["member1", "member2"]
    for c in data:
        assert (c["version"], c["mode"], c["ready"], c["nodesReady"], c["nodes"]) == (
            "v1.35.4",
            "Push",
            True,
            3,
            3,
        )
    table = kurator(*_karmada_args(joined), "get", "clusters", check=True).stdout
    assert "NAME" in table and "member2" in table and "Push" in table
    assert "kurator-kt" not in table
    yaml_out = kurator(*_karmada_args(joined), "get", "clusters", "-o", "yaml", check=True).stdout
    assert "name: member1" in yaml_out


def test_karmada_propagates_to_the_joined_members(joined: UpResult) -> None:
    karmada = cluster_client(joined, "karmada")
    karmada.create(ConfigMap(metadata=ObjectMeta(name="fleet-wide", namespace="default"), data={"x": "1"}))
    karmada.create(
        PropagationPolicy(
            metadata=ObjectMeta(name="fleet-wide", namespace="default"),
            spec={
                "resourceSelectors": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "fleet-wide"}],
                "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}},
            },
        )
    )
    for member in ("member1", "member2"):
        api = cluster_client(joined, member)
        wait_for(
            lambda api=api: not _gone(api, ConfigMap, "fleet-wide", "default"), 60, f"ConfigMap on {member}"
        )
        assert api.get(ConfigMap, "fleet-wide", namespace="default").data == {"x": "1"}
    karmada.delete(PropagationPolicy, "fleet-wide", namespace="default")
    karmada.delete(ConfigMap, "fleet-wide", namespace="default")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cluster-kubeconfig", "/nonexistent/kubeconfig"],
            "kubeconfig /nonexistent/kubeconfig does not exist",
        ),
        (["--cluster-context", "no-such-context"], "context 'no-such-context' is not in kubeconfig"),
    ],
)
def test_bad_member_kubeconfig_is_refused_and_changes_nothing(
    joined: UpResult, tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["join", "extra", "--cluster-kubeconfig", str(joined.layout.kubeconfig("member1"))]
    if args[0] == "--cluster-kubeconfig":
        base = ["join", "extra"]
    proc = kurator(*_karmada_args(joined), *base, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    karmada = cluster_client(joined, "karmada")
    assert _gone(karmada, Cluster, "extra")
    assert _gone(karmada, Secret, "extra", "karmada-cluster")


def test_invalid_yaml_kubeconfig_and_bad_name_are_refused(joined: UpResult, tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("clusters: [broken")
    proc = kurator(*_karmada_args(joined), "join", "extra", "--cluster-kubeconfig", str(bad))
    assert proc.returncode == 2 and "is not valid YAML" in proc.stderr
    member1 = str(joined.layout.kubeconfig("member1"))
    proc = kurator(*_karmada_args(joined), "join", "Bad_Name", "--cluster-kubeconfig", member1)
    assert proc.returncode == 2 and "cluster name 'Bad_Name' is not valid" in proc.stderr
    assert _gone(cluster_client(joined, "karmada"), Cluster, "bad-name")


def test_duplicate_name_is_refused_and_changes_nothing(joined: UpResult) -> None:
    karmada = cluster_client(joined, "karmada")
    before = karmada.get(Cluster, "member1").metadata.resourceVersion
    proc = _join(joined, "member1")
    assert proc.returncode == 2
    assert "a cluster named 'member1' is already joined" in proc.stderr
    assert karmada.get(Cluster, "member1").metadata.resourceVersion == before


def test_unjoin_removes_what_join_created(joined: UpResult) -> None:
    karmada = cluster_client(joined, "karmada")
    member = cluster_client(joined, "member1")
    role = "karmada-controller-manager:karmada-member1"
    assert not _gone(member, ClusterRole, role)
    proc = kurator(*_karmada_args(joined), "unjoin", "member1", check=True)
    assert "cluster member1 unjoined" in proc.stdout
    assert _gone(karmada, Cluster, "member1")
    assert _gone(karmada, Secret, "member1", "karmada-cluster")
    assert _gone(karmada, Secret, "member1-impersonator", "karmada-cluster")
    wait_for(
        lambda: all(
            (
                _gone(member, ClusterRole, role),
                _gone(member, ClusterRoleBinding, role),
                _gone(member, ServiceAccount, "karmada-member1", "karmada-cluster"),
                _gone(member, Secret, "karmada-member1", "karmada-cluster"),
            )
        ),
        30,
        "member1 free of kurator's credentials",
    )
    assert _join(joined, "member1").returncode == 0  # and it can join again


def test_unjoin_of_an_unreachable_member_never_hangs(joined: UpResult) -> None:
    apiserver = load_records(joined.layout)["member2/kube-apiserver"]
    os.kill(apiserver.pid, signal.SIGSTOP)  # the member stops answering, as in a network partition
    try:
        t = time.monotonic()
        proc = kurator(*_karmada_args(joined), "unjoin", "member2", "--wait-timeout", "20")
        assert time.monotonic() - t < 30
        assert proc.returncode == 1
        assert "cannot unjoin 'member2': the member does not answer" in proc.stderr
        assert "--force" in proc.stderr
        assert not _gone(cluster_client(joined, "karmada"), Cluster, "member2")  # nothing changed

        t = time.monotonic()
        proc = kurator(*_karmada_args(joined), "unjoin", "member2", "--force", "--wait-timeout", "20")
        assert time.monotonic() - t < 30
        assert proc.returncode == 0, proc.stderr
        assert "unjoined (forced)" in proc.stdout
        assert _gone(cluster_client(joined, "karmada"), Cluster, "member2")
    finally:
        os.kill(apiserver.pid, signal.SIGCONT)
    wait_for(lambda: _join(joined, "member2").returncode == 0, 60, "member2 joins again")


def _clusters(fleet: UpResult) -> dict[str, dict[str, object]]:
    proc = kurator(*_karmada_args(fleet), "get", "clusters", "-o", "json", check=True)
    return {c["name"]: c for c in json.loads(proc.stdout)}


def test_a_member_whose_api_server_stopped_is_shown_stale_not_ready(joined: UpResult) -> None:
    """Karmada keeps saying Ready, 3/3 nodes for a minute after a member stops answering (push mode has no
    heartbeat); get clusters asks the member itself and says its status is stale."""
    wait_for(lambda: all(c["answers"] for c in _clusters(joined).values()), 60, "both members answering")
    apiserver = load_records(joined.layout)["member2/kube-apiserver"]
    os.kill(apiserver.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        by_name = _clusters(joined)
        assert time.monotonic() - began < 20  # one short deadline for the member that hangs
        member2 = by_name["member2"]
        assert (member2["answers"], member2["stale"], member2["ready"]) == (False, True, False), member2
        assert member2["statusUpdated"] is not None and member2["error"]
        assert by_name["member1"]["answers"] and by_name["member1"]["ready"]
        proc = kurator(*_karmada_args(joined), "get", "clusters")
        assert proc.returncode == 0, proc.stderr
        [row] = [line for line in proc.stdout.splitlines() if line.split()[:1] == ["member2"]]
        assert "Unknown" in row and "3/3" not in row and " no " in f"{row} ", row
        err = " ".join(proc.stderr.split())
        assert "member2 does not answer through Karmada" in err and "is stale" in err
    finally:
        os.kill(apiserver.pid, signal.SIGCONT)
    wait_for(lambda: _clusters(joined)["member2"]["answers"], 60, "member2 answering again")
