"""The plan's steps: the operator's own decision, a passing preflight assumed; the files it accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kurator.core.errors import InvalidInput
from kurator.lifecycle.actions import Policy
from kurator.lifecycle.observed import Summary
from kurator.lifecycle.plan import read_documents, steps
from tests import lifecycle_cases as lc

NOW = lc.T0 + timedelta(hours=1)


def test_a_new_cluster_is_checked_then_created_in_the_job_the_operator_would_make() -> None:
    found = steps(lc.cluster(), lc.machine(), None, (), NOW, Policy())
    assert [(s.kind, s.hosts) for s in found] == [
        ("preflight", ("master1", "node1", "node2")),
        ("create", ("master1", "node1", "node2")),
    ]
    assert (found[1].job, found[1].playbook) == ("cc-create-1-1-0", "cluster.yml")


def test_a_running_job_is_waited_for_and_a_failed_one_says_when_it_is_retried() -> None:
    running = (lc.job("create", "active"),)
    (wait,) = steps(lc.cluster(), lc.machine(), lc.status(), running, NOW, Policy())
    assert (wait.kind, wait.reason, wait.job) == ("wait", "JobRunning", "cc-create-1-1-0")
    assert wait.playbook is None
    failed = (lc.job("create", "failed", summary=Summary("node1", "kubeadm init", "boom")),)
    (stop,) = steps(lc.cluster(), lc.machine(), lc.status(), failed, NOW, Policy(retries=0))
    assert (stop.kind, stop.reason) == ("none", "RetryLimitReached")
    assert "boom" in stop.message


def test_only_custom_clusters_and_machines_are_read() -> None:
    text = "apiVersion: cluster.kurator.dev/v1alpha1\nkind: CustomCluster\nmetadata: {name: a}\n---\n"
    assert [d["kind"] for d in read_documents([("a.yaml", text)])] == ["CustomCluster"]
    with pytest.raises(InvalidInput, match=r"b\.yaml holds a Secret"):
        read_documents([("a.yaml", text), ("b.yaml", "kind: Secret\n")])
    with pytest.raises(InvalidInput, match="no CustomCluster"):
        read_documents([("m.yaml", "kind: CustomMachine\n")])
    aws = "apiVersion: cluster.kurator.dev/v1alpha1\nkind: Cluster\nmetadata: {name: a}\n"
    assert [d["kind"] for d in read_documents([("aws.yaml", aws)])] == ["Cluster"]  # the AWS kind
    capi = "apiVersion: cluster.x-k8s.io/v1beta2\nkind: Cluster\nmetadata: {name: a}\n"
    with pytest.raises(InvalidInput, match=r"capi\.yaml holds a Cluster: only CustomCluster, CustomMachine"):
        read_documents([("capi.yaml", capi)])
    with pytest.raises(InvalidInput, match=r"c\.yaml is not valid YAML"):
        read_documents([("c.yaml", "kind: [\n")])
    with pytest.raises(InvalidInput, match="a document without a kind"):
        read_documents([("d.yaml", "- 1\n- 2\n")])
