"""What keeps an object an uninstall removes from going is named, in the API server's words."""

from __future__ import annotations

import asyncio
from typing import Any

from kurator.fleet import objects, readiness
from kurator.fleet.desired import Ref
from tests.unit.fakeapi import FakeAPI

REASON = 'could not list instances: conversion webhook for AWSCluster failed: service "capa" not found'


def _crd(**status: Any) -> dict[str, Any]:
    meta = {
        "name": "awsclusters.infrastructure.cluster.x-k8s.io",
        "deletionTimestamp": "2026-12-06T20:00:00Z",
        "finalizers": ["customresourcecleanup.apiextensions.k8s.io"],
    }
    return {"metadata": meta, "status": status}


def test_a_crd_whose_instances_could_not_be_deleted_says_why() -> None:
    terminating = {"type": "Terminating", "status": "True", "reason": "InstanceDeletionFailed"}
    terminating["message"] = REASON
    crd = _crd(conditions=[{"type": "Established", "status": "True"}, terminating])
    assert objects.why_not_gone(crd) == f"being deleted: InstanceDeletionFailed: {REASON}"


def test_an_object_held_by_finalizers_names_them() -> None:
    expected = "being deleted, waiting for customresourcecleanup.apiextensions.k8s.io"
    assert objects.why_not_gone(_crd()) == expected


def test_an_object_nobody_deletes_says_so() -> None:
    assert objects.why_not_gone({"metadata": {"name": "x"}}) == "still there, not being deleted"


def _terminating(reason: str) -> dict[str, Any]:
    cond = {"type": "Terminating", "status": "True", "reason": reason, "message": "could not list instances"}
    return _crd(conditions=[cond])


def test_only_a_crd_whose_instance_deletion_failed_counts_as_stalled() -> None:
    assert objects.deletion_stalled(_terminating("InstanceDeletionFailed"))
    assert not objects.deletion_stalled(_terminating("InstanceDeletionInProgress"))
    not_deleted = _terminating("InstanceDeletionFailed")
    del not_deleted["metadata"]["deletionTimestamp"]
    assert not objects.deletion_stalled(not_deleted)


CRDS = ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions")
CRD_REF = Ref(
    "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "awsclusters.infrastructure.cluster.x-k8s.io"
)


def _rounds(reason: str, rounds: int) -> tuple[FakeAPI, list[readiness.MemberState]]:
    """``rounds`` rounds of the uninstall's wait against the in-process API stand-in holding a CRD in
    deletion whose Terminating condition has ``reason``."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        **_terminating(reason),
    }
    names = {"kind": "AWSCluster", "plural": "awsclusters"}
    crd["spec"] = {
        "group": "infrastructure.cluster.x-k8s.io",
        "names": names,
        "scope": "Namespaced",
        "versions": [],
    }
    fake = FakeAPI()
    fake.put(*CRDS, crd)
    nudged: dict[Ref, float] = {}

    async def run() -> list[readiness.MemberState]:
        client = fake.client()
        try:
            return [
                await readiness.gone_state("host", client, [CRD_REF], set(), nudged) for _ in range(rounds)
            ]
        finally:
            await client.close()

    return fake, asyncio.run(run())


def test_a_stalled_crd_deletion_is_retried_at_once_and_not_on_every_round() -> None:
    fake, states = _rounds("InstanceDeletionFailed", 3)
    patches = fake.writes("PATCH", CRD_REF.name)
    assert len(patches) == 1  # rounds come every quarter second; the retry at most every NUDGE_EVERY
    crd = fake.get("customresourcedefinitions", "", CRD_REF.name)
    assert crd is not None and readiness.NUDGED in crd["metadata"]["annotations"]
    assert all("InstanceDeletionFailed" in s.waiting[0] for s in states)


def test_a_crd_deletion_in_progress_is_left_alone() -> None:
    fake, states = _rounds("InstanceDeletionInProgress", 2)
    assert fake.writes("PATCH") == [] and len(states[-1].waiting) == 1
