"""Volcano: the pinned release file (kept under tests/fixtures as the upstream published it), what is
installed from it, and when its admission webhooks are left out."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kurator.components import volcano
from kurator.core.errors import InvalidInput
from kurator.fleet import artifacts, desired, render

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
PAYLOAD = BUNDLE / volcano.COMPONENT.artifact.key / "volcano-development.yaml"
# The git blob id of installer/volcano-development.yaml at Volcano's tag v1.15.1.
UPSTREAM_BLOB = "03fa2f268cd5ee69a75ef8b3d570ed74390f7958"


def test_the_fixture_is_the_upstream_release_file_and_matches_the_pin() -> None:
    data = PAYLOAD.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    assert blob == UPSTREAM_BLOB
    assert hashlib.sha256(data).hexdigest() == volcano.COMPONENT.artifact.sha256
    sums = (PAYLOAD.parent / "SHA256SUMS").read_text().split()
    assert sums == [volcano.COMPONENT.artifact.sha256, PAYLOAD.name]
    assert "Apache License" in (PAYLOAD.parent / "LICENSE").read_text()
    assert artifacts.obtain(volcano.COMPONENT.artifact, BUNDLE) == PAYLOAD
    assert volcano.COMPONENT.artifact.source.endswith("/volcano/v1.15.1/installer/volcano-development.yaml")


def _docs(admission: bool) -> list[desired.Doc]:
    comp = volcano.component(admission)
    docs = render.render(comp, PAYLOAD, {})
    return comp.adapt(docs) if comp.adapt else docs


def test_installed_objects_with_and_without_admission_webhooks() -> None:
    full, without = _docs(True), _docs(False)
    hooks = [d["metadata"]["name"] for d in full if d["kind"] in volcano.WEBHOOK_KINDS]
    assert len(hooks) == 7 and "volcano-admission-service-jobs-validate" in hooks
    assert [d for d in full if d["kind"] not in volcano.WEBHOOK_KINDS] == without
    want = desired.build(volcano.component(False), without, ["m1", "m2"])
    kinds = [d["kind"] for d in want.first]
    assert kinds[0] == "Namespace" and kinds[-1] == "ClusterPropagationPolicy"
    crds = {d["metadata"]["name"] for d in want.first if d["kind"] == "CustomResourceDefinition"}
    assert {"jobs.batch.volcano.sh", "queues.scheduling.volcano.sh", "podgroups.scheduling.volcano.sh"} <= (
        crds
    )
    deployments = {d["metadata"]["name"] for d in want.second if d["kind"] == "Deployment"}
    assert deployments == {"volcano-admission", "volcano-controllers", "volcano-scheduler"}
    assert ("batch.volcano.sh/v1alpha1", "Job") in want.crd_apis


def test_admission_is_left_out_only_where_every_target_has_fake_nodes() -> None:
    auto, on, off = volcano.Admission.auto, volcano.Admission.on, volcano.Admission.off
    assert volcano.decide(auto, ["m1", "m2"], []) == (True, None)
    register, note = volcano.decide(auto, ["m1", "m2"], ["m1", "m2"])
    assert not register and note is not None and "left out" in note
    register, note = volcano.decide(on, ["m1"], ["m1"])
    assert register and note is not None and "refuse Volcano Jobs" in note
    assert volcano.decide(off, ["m1"], [])[0] is False
    with pytest.raises(InvalidInput, match=r"m1 run fake .* but m2 do not"):
        volcano.decide(auto, ["m1", "m2"], ["m1"])


def test_webhooks_on_karmada_match_nothing_and_members_get_them_as_released() -> None:
    """Karmada's API server must not call Volcano's webhooks (their server runs in members), or Volcano Jobs
    made on Karmada to be propagated would be refused."""
    docs = _docs(True)
    want = desired.build(volcano.component(True), docs, ["m1", "m2"])
    on_karmada = [d for d in want.first if d["kind"] in volcano.WEBHOOK_KINDS]
    assert len(on_karmada) == 7
    for doc in on_karmada:
        assert all(h["objectSelector"] == desired.NO_OBJECT for h in doc["webhooks"])
    overrides = {d["metadata"]["name"]: d for d in want.first if d["kind"] == "ClusterOverridePolicy"}
    assert len(overrides) == 7
    jobs = overrides["kurator-volcano-validatingwebhookconfiguration-volcano-admission-service-jobs-validate"]
    rule = jobs["spec"]["overrideRules"][0]
    assert rule["targetCluster"] == {"clusterNames": ["m1", "m2"]}
    assert rule["overriders"]["plaintext"] == [
        {"path": "/webhooks/0/objectSelector", "operator": "replace", "value": {}}
    ]
    member = [
        d
        for d in desired.for_member(volcano.component(True), want, "m1")
        if d["kind"] in volcano.WEBHOOK_KINDS
    ]
    released = {d["metadata"]["name"]: d["webhooks"] for d in docs if d["kind"] in volcano.WEBHOOK_KINDS}
    assert {d["metadata"]["name"]: d["webhooks"] for d in member} == released  # as Volcano wrote them
