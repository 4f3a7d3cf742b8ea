"""What keeps an object an uninstall removes from going is named, in the API server's words."""

from __future__ import annotations

from typing import Any

from kurator.fleet import objects

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
