"""``volcano``: Volcano's batch scheduler, controllers and admission webhooks on the chosen members, from
the pinned release's all-in-one installer manifest (``installer/volcano-development.yaml`` at the release
tag), exactly as Volcano publishes it.

Volcano's admission server puts its CA into its webhook configurations when it starts, and its scheduler
makes the ``default`` queue: both are what "healthy" means here beyond objects that report ready. On members
whose nodes are all kwok's fake nodes (the local fleet) none of Volcano's pods ever runs, so its webhooks
(``failurePolicy: Fail``) would refuse every Volcano Job and Queue: ``auto`` leaves them out there, and says
so."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kurator.core.errors import InvalidInput
from kurator.fleet.component import Artifact, Check, Component, Target

if TYPE_CHECKING:
    from kurator.kube.client import Access, AsyncClient

VERSION = "v1.15.1"
NAMESPACE = "volcano-system"
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
FAKE_NODE = ("kwok.x-k8s.io/node", "fake")  # the annotation kwok's fake nodes carry


class Admission(StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


def _without_webhooks(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] not in WEBHOOK_KINDS]


async def _health(target: Target) -> list[Check]:
    """With its webhooks registered (the generic checks then want each with a CA bundle and an endpoint):
    the ``default`` queue the scheduler makes when it starts. Without them: what does not run, said."""
    if not any(r.kind in WEBHOOK_KINDS for r in target.objects):
        return [
            Check(
                "admission",
                True,
                "webhooks not registered (fake kwok nodes: Volcano's pods never run there)",
            )
        ]
    queue = await target.read.get("scheduling.volcano.sh/v1beta1", "Queue", "default")
    if queue is None:
        return [Check("default queue", False, "not made yet (volcano-scheduler makes it when it starts)")]
    return [Check("default queue", True, "present")]


COMPONENT = Component(
    name="volcano",
    description=f"Volcano {VERSION}: batch scheduling (scheduler, controllers, admission webhooks)",
    artifact=Artifact(
        name="volcano",
        version=VERSION.removeprefix("v"),
        kind="manifests",
        source=f"https://raw.githubusercontent.com/volcano-sh/volcano/{VERSION}/installer/volcano-development.yaml",
        # sha256 of the file at the release tag (git blob 03fa2f268cd5ee69a75ef8b3d570ed74390f7958).
        sha256="b5fb45a57bcd1132be7055354999d244266873710609afd1f162005772d15c41",
    ),
    namespace=NAMESPACE,
    health=_health,
)


def component(admission: bool) -> Component:
    """Volcano with its admission webhooks registered, or (``admission=False``) without them."""
    return dataclasses.replace(COMPONENT, adapt=None if admission else _without_webhooks)


async def _all_fake(member: str, client: AsyncClient) -> bool:
    from kurator.kube.resources import Node

    key, value = FAKE_NODE
    marks = [
        ((n.metadata.annotations if n.metadata else None) or {}).get(key) async for n in client.list(Node)
    ]
    return bool(marks) and all(mark == value for mark in marks)


def fake_members(karmada: Access, members: list[str]) -> list[str]:
    """The members whose every node is a kwok fake node (no pod's image ever runs there)."""
    from kurator.fleet import targets

    with targets.Members(karmada, members) as pool:
        found = pool.run(_all_fake)
    return sorted(m for m, fake in found.items() if fake)


def decide(admission: Admission, members: list[str], fake: list[str]) -> tuple[bool, str | None]:
    """Whether to register the webhooks, and what to tell the user about it."""
    if admission is Admission.on:
        if fake:
            return True, (
                f"{', '.join(fake)} run fake (kwok) nodes: Volcano's admission server never starts there, so "
                "its webhooks will not get a CA bundle and will refuse Volcano Jobs and Queues"
            )
        return True, None
    if admission is Admission.off:
        return False, "admission webhooks left out (--admission off): Volcano objects are not validated"
    if fake and len(fake) == len(members):
        return False, (
            f"{', '.join(fake)} run fake (kwok) nodes, where Volcano's pods never run: its admission "
            "webhooks are left out so that Volcano Jobs and Queues are still accepted "
            "(--admission on registers them)"
        )
    if fake:
        raise InvalidInput(
            f"{', '.join(fake)} run fake (kwok) nodes, where Volcano's admission webhooks could never "
            f"answer, but {', '.join(m for m in members if m not in fake)} do not",
            "choose with --admission on|off, or install on one kind with --clusters",
        )
    return True, None
