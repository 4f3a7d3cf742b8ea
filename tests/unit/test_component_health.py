"""The health checks every component gets (CRDs, webhooks, aggregated APIs) and the component's own hook,
against a reader of canned objects."""

from __future__ import annotations

import asyncio
from typing import Any

from kurator.fleet import health
from kurator.fleet.component import Artifact, Check, Component, Target
from kurator.fleet.desired import Ref
from kurator.kube.errors import Unreachable

Doc = dict[str, Any]
WEBHOOK = Ref("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "hooks")
CRD = Ref("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")


class Canned:
    """A Reader over objects held in a dict; ``broken`` makes every read fail as an unreachable member."""

    def __init__(self, objs: list[Doc], broken: bool = False) -> None:
        self.objs = objs
        self.broken = broken

    def _match(self, doc: Doc, api_version: str, kind: str) -> bool:
        return bool(doc["apiVersion"] == api_version and doc["kind"] == kind)

    async def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Doc | None:
        if self.broken:
            raise Unreachable("cannot connect to https://127.0.0.1:1: connection refused")
        for d in self.objs:
            meta = d["metadata"]
            same = meta["name"] == name and meta.get("namespace", "") == namespace
            if same and self._match(d, api_version, kind):
                return d
        return None

    async def list(
        self, api_version: str, kind: str, namespace: str = "", labels: dict[str, str] | None = None
    ) -> list[Doc]:
        out = []
        for d in self.objs:
            meta = d["metadata"]
            if not self._match(d, api_version, kind):
                continue
            if namespace and meta.get("namespace") != namespace:
                continue
            if labels and any(meta.get("labels", {}).get(k) != v for k, v in labels.items()):
                continue
            out.append(d)
        return out


def _webhook(ca: str = "Q0E=") -> Doc:
    client = {"service": {"name": "svc", "namespace": "ns", "path": "/validate"}}
    if ca:
        client["caBundle"] = ca
    return {
        "apiVersion": WEBHOOK.api_version,
        "kind": WEBHOOK.kind,
        "metadata": {"name": "hooks"},
        "webhooks": [{"name": "validate.example.com", "clientConfig": client}],
    }


def _slice(ready: bool) -> Doc:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "svc-x", "namespace": "ns", "labels": {"kubernetes.io/service-name": "svc"}},
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": ready}}],
    }


def _crd(established: bool) -> Doc:
    status = "True" if established else "False"
    return {
        "apiVersion": CRD.api_version,
        "kind": CRD.kind,
        "metadata": {"name": CRD.name},
        "status": {"conditions": [{"type": "Established", "status": status}]},
    }


COMP = Component("demo", "demo", Artifact("demo", "1", "manifests", "package:x", "0" * 64), "ns")


def _report(objs: list[Doc], refs: tuple[Ref, ...], comp: Component = COMP, **kw: Any) -> health.Report:
    target = Target("m1", refs, Canned(objs, **kw), ("m1",))
    return asyncio.run(health.check(comp, target))


def test_a_webhook_is_healthy_with_a_ca_bundle_and_a_ready_endpoint() -> None:
    rep = _report([_webhook(), _slice(True), _crd(True)], (WEBHOOK, CRD))
    assert rep.healthy, rep.summary()
    assert rep.summary() == "CRDs: 1 Established; webhooks: 1 with endpoints"


def test_a_webhook_without_ca_bundle_or_ready_endpoint_is_named() -> None:
    rep = _report([_webhook(ca=""), _slice(False)], (WEBHOOK,))
    assert not rep.healthy
    assert rep.failing() == [
        "webhooks: validate.example.com has no CA bundle yet; "
        "validate.example.com: service ns/svc has no ready endpoint"
    ]


def test_crds_not_established_and_missing_webhook_configuration() -> None:
    rep = _report([_crd(False)], (CRD, WEBHOOK))
    assert rep.failing() == [f"CRDs: not Established: {CRD.name}", "webhooks: hooks missing"]


def test_the_components_own_hook_adds_its_checks() -> None:
    async def hook(target: Target) -> list[Check]:
        live = await target.read.get("v1", "ConfigMap", "state", "ns")
        return [Check("state", live is not None, "present" if live else "no state ConfigMap")]

    comp = Component(COMP.name, "", COMP.artifact, "ns", health=hook)
    rep = _report([], (), comp)
    assert rep.failing() == ["state: no state ConfigMap"]
    assert health.needed(comp, [])
    assert not health.needed(COMP, [CRD])
    assert health.needed(COMP, [WEBHOOK])


def test_an_unreachable_target_is_an_error_not_a_crash() -> None:
    rep = _report([], (CRD,), broken=True)
    assert not rep.healthy
    assert rep.error is not None and rep.error.startswith("unreachable")


def test_istio_is_healthy_on_a_cluster_once_istiod_has_published_its_root_there() -> None:
    from kurator.components import istio
    from kurator.components.istio import health as istio_health

    root = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
        "data": {"root-cert.pem": "-----BEGIN CERTIFICATE-----"},
    }
    synced = asyncio.run(istio.COMPONENT.health(Target("r1", (), Canned([root]))))  # type: ignore[misc]
    assert [c.ok for c in synced] == [True]
    waiting = asyncio.run(istio_health.check(Target("r1", (), Canned([]))))
    assert [c.ok for c in waiting] == [False] and "not synced" in waiting[0].detail
