"""The operator's view of the API, fed with watch events: which clusters each event concerns, Jobs reduced to
what decisions need, Jobs of an earlier cluster of the same name left out, Cluster API values found by the
infrastructure reference."""

from __future__ import annotations

from typing import Any

from kurator.lifecycle.observed import ACTION_LABEL, ATTEMPT_LABEL, CLUSTER_LABEL, GENERATION_LABEL, Summary
from kurator.operator.kubespray.view import View


def _cluster(name: str, machine: str, uid: str = "u1") -> dict[str, Any]:
    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": name, "namespace": "ns", "uid": uid, "managedFields": [{"big": "x" * 100}]},
        "spec": {"machineRef": {"name": machine}, "cni": {"type": "calico"}},
    }


def _job(name: str, cluster: str, owner: str, state: str | None = None) -> dict[str, Any]:
    conditions = (
        [{"type": state, "status": "True", "lastTransitionTime": "2026-12-01T10:00:00Z"}] if state else []
    )
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"job-{name}",
            "creationTimestamp": "2026-12-01T09:00:00Z",
            "labels": {
                CLUSTER_LABEL: cluster,
                ACTION_LABEL: "create",
                GENERATION_LABEL: "1-1",
                ATTEMPT_LABEL: "0",
            },
            "ownerReferences": [{"kind": "CustomCluster", "name": cluster, "uid": owner}],
        },
        "status": {"conditions": conditions},
    }


def test_clusters_and_machines_queue_the_clusters_they_concern() -> None:
    v = View()
    assert v.on_cluster({"type": "ADDED", "object": _cluster("a", "m")}) == [("ns", "a")]
    assert v.on_cluster({"type": "ADDED", "object": _cluster("b", "other")}) == [("ns", "b")]
    assert "managedFields" not in v.clusters[("ns", "a")]["metadata"]
    assert v.on_machine({"type": "MODIFIED", "object": {"metadata": {"name": "m", "namespace": "ns"}}}) == [
        ("ns", "a")
    ]
    v.on_cluster({"type": "DELETED", "object": _cluster("a", "m")})
    assert ("ns", "a") not in v.clusters


def test_jobs_are_kept_reduced_and_only_for_the_cluster_that_owns_them() -> None:
    v = View()
    assert v.on_job({"type": "ADDED", "object": _job("a-create-1-1-0", "a", "old-uid", "Failed")}) == [
        ("ns", "a")
    ]
    v.on_job({"type": "ADDED", "object": _job("a-create-1-1-1", "a", "u1")})
    (mine,) = v.observed(("ns", "a"), "u1")
    assert (mine.name, mine.state) == ("a-create-1-1-1", "active")
    assert v.unread_failures(("ns", "a"), "old-uid") == [("a-create-1-1-0", "job-a-create-1-1-0")]
    v.summaries["job-a-create-1-1-0"] = Summary("m1", "t", "boom")
    (theirs,) = v.observed(("ns", "a"), "old-uid")
    assert theirs.summary == Summary("m1", "t", "boom") and v.unread_failures(("ns", "a"), "old-uid") == []
    v.on_job({"type": "DELETED", "object": _job("a-create-1-1-0", "a", "old-uid")})
    assert "job-a-create-1-1-0" not in v.summaries


def test_a_job_without_our_labels_is_ignored() -> None:
    v = View()
    assert v.on_job({"type": "ADDED", "object": {"metadata": {"name": "x", "namespace": "ns"}}}) == []
    bad = _job("x", "a", "u1")
    del bad["metadata"]["labels"][ACTION_LABEL]
    assert v.on_job({"type": "ADDED", "object": bad}) == []
    assert v.observed(("ns", "a"), "u1") == []


def test_cluster_api_objects_reach_the_custom_cluster_they_name() -> None:
    v = View()
    capi = {
        "metadata": {"name": "capi", "namespace": "ns"},
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": ["10.1.0.0/16"]},
                "services": {"cidrBlocks": ["10.2.0.0/16"]},
            },
            "controlPlaneRef": {
                "apiGroup": "controlplane.cluster.x-k8s.io",
                "kind": "KubeadmControlPlane",
                "name": "kcp",
            },
            "infrastructureRef": {"apiGroup": "cluster.kurator.dev", "kind": "CustomCluster", "name": "a"},
        },
    }
    assert v.on_capi_cluster({"type": "ADDED", "object": capi}) == [("ns", "a")]
    kcp = {"metadata": {"name": "kcp", "namespace": "ns"}, "spec": {"version": "v1.35.2"}}
    assert v.on_kcp({"type": "ADDED", "object": kcp}) == [("ns", "a")]
    found, version = v.capi_for(("ns", "a"))
    assert found is not None and (found.pod_cidr, found.service_cidr, version) == (
        "10.1.0.0/16",
        "10.2.0.0/16",
        "v1.35.2",
    )
    # renamed to point at another CustomCluster: both are queued
    capi["spec"]["infrastructureRef"]["name"] = "b"
    assert sorted(v.on_capi_cluster({"type": "MODIFIED", "object": capi})) == [("ns", "a"), ("ns", "b")]
    assert v.capi_for(("ns", "a")) == (None, None)


def test_a_machine_concerns_exactly_the_clusters_naming_it_now() -> None:
    v = View()
    v.on_cluster({"type": "ADDED", "object": _cluster("a", "m")})
    v.on_cluster({"type": "ADDED", "object": _cluster("b", "m")})
    machine = {"type": "MODIFIED", "object": {"metadata": {"name": "m", "namespace": "ns"}}}
    assert v.on_machine(machine) == [("ns", "a"), ("ns", "b")]
    v.on_cluster({"type": "MODIFIED", "object": _cluster("b", "other")})
    v.on_cluster({"type": "DELETED", "object": _cluster("a", "m")})
    assert v.on_machine(machine) == []
    v.forget_cluster(("ns", "b"))
    other = {"type": "MODIFIED", "object": {"metadata": {"name": "other", "namespace": "ns"}}}
    assert v.on_machine(other) == []


def test_the_watch_bringing_a_job_the_operator_just_made_is_no_news() -> None:
    """The operator records its Job as it made it (its own guess of the creation time); the Job's ADDED
    event changes nothing else, so it queues nothing; a change of state does."""
    from dataclasses import replace

    from kurator.lifecycle.observed import observe

    v = View()
    job = _job("a-create-1-1-0", "a", "u1")
    made = replace(observe(job), created=observe(job).created.replace(second=7))
    v.started(("ns", "a"), made, "u1")
    assert v.on_job({"type": "ADDED", "object": job}) == []
    assert v.on_job({"type": "MODIFIED", "object": _job("a-create-1-1-0", "a", "u1", "Complete")}) == [
        ("ns", "a")
    ]


def test_a_cluster_api_cluster_names_itself_as_the_owner_of_its_custom_cluster() -> None:
    from kurator.lifecycle import capi

    doc = {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": "prod", "namespace": "ns", "uid": "cluster-uid"},
        "spec": {
            "infrastructureRef": {
                "apiVersion": "cluster.kurator.dev/v1alpha1",
                "kind": "CustomCluster",
                "name": "cc",
            }
        },
    }
    read = capi.read_cluster(doc)
    assert read.infrastructure == "cc"
    assert read.owner_reference() == {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "name": "prod",
        "uid": "cluster-uid",
    }
    assert capi.read_cluster({**doc, "metadata": {"name": "prod"}}).owner_reference() is None
    # where Cluster API's controller runs (it has written the Cluster's status), it sets the reference
    reconciled = {**doc, "status": {"observedGeneration": 1, "phase": "Provisioning"}}
    assert capi.read_cluster(reconciled).managed
    assert capi.read_cluster(reconciled).owner_reference() is None
