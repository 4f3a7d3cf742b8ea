"""Joining provisioned clusters to a fleet and taking them out again, with :mod:`kurator.fleet.membership`
(the same code as ``kurator join`` / ``unjoin``).

A fleet is registered with the operator as a Secret ``kurator-fleet-<name>`` in the operator's namespace,
holding the kubeconfig of the fleet's Karmada API server under ``value`` (``kurator install
cluster-operator --fleet NAME=KUBECONFIG`` writes it); Karmada's client is made from it in memory, and so
is the member's from its fetched kubeconfig: neither is written to disk.
"""

from __future__ import annotations

import asyncio

from kurator.core.errors import KuratorError
from kurator.fleet import membership
from kurator.fleet.memberconfig import MemberKubeconfig
from kurator.kube import client as kube_client
from kurator.kube import ops
from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.client import Client
from kurator.kube.karmada import Cluster

REGISTRATION_PREFIX = "kurator-fleet-"
KUBECONFIG_FIELD = "value"
TIMEOUT = 30.0


def secret_name(fleet: str) -> str:
    return f"{REGISTRATION_PREFIX}{fleet}"


class Fleets:
    def __init__(self, api: AsyncAPI, namespace: str) -> None:
        self.api, self.namespace = api, namespace

    async def _karmada(self, fleet: str) -> bytes:
        text = await self.api.secret_value(self.namespace, secret_name(fleet), KUBECONFIG_FIELD)
        if text is None:
            raise KuratorError(
                f"fleet {fleet!r} is not registered with the operator: there is no Secret "
                f"{self.namespace}/{secret_name(fleet)} holding its Karmada kubeconfig "
                f"under {KUBECONFIG_FIELD!r}",
                f"kurator install cluster-operator --fleet {fleet}=<karmada kubeconfig>",
            )
        return text

    async def join(self, fleet: str, name: str, kubeconfig: str) -> None:
        """Join the cluster (reached with ``kubeconfig``) to ``fleet`` as ``name``; a cluster already
        joined under that name at the same address counts as joined."""
        self.api.guard()
        karmada_text = await self._karmada(fleet)
        await asyncio.to_thread(self._join, karmada_text, name, kubeconfig)

    def _join(self, karmada_text: bytes, name: str, kubeconfig: str) -> None:
        karmada = _karmada_client(karmada_text)
        member = MemberKubeconfig.of(kubeconfig, f"(fetched from {name})")
        server = member.server()
        existing = _existing(karmada, name)
        if existing is not None:
            if existing == server:
                return
            raise KuratorError(
                f"fleet already has a cluster named {name!r} at {existing}, not this one at {server}",
                "rename one of them, or unjoin the other",
            )
        membership.join(karmada, name, member, timeout=TIMEOUT)

    async def leave(self, fleet: str, name: str) -> str:
        """Take ``name`` out of ``fleet``; a member that no longer answers is forgotten (``--force``), since
        the cluster is going. Returns what happened, for the Event."""
        self.api.guard()
        karmada_text = await self._karmada(fleet)
        return await asyncio.to_thread(self._leave, karmada_text, name)

    def _leave(self, karmada_text: bytes, name: str) -> str:
        karmada = _karmada_client(karmada_text)
        if _existing(karmada, name) is None:
            return f"{name} was not in the fleet"
        try:
            membership.unjoin(karmada, name, timeout=TIMEOUT)
            return f"{name} left the fleet"
        except KuratorError:
            membership.unjoin(karmada, name, timeout=TIMEOUT, force=True)
            return f"{name} left the fleet (it did not answer: forgotten without cleaning it up)"


def _karmada_client(text: bytes) -> Client:
    return kube_client.from_kubeconfig(text, timeout=TIMEOUT, source="the fleet's Karmada kubeconfig")


def _existing(karmada: Client, name: str) -> str | None:
    """The API endpoint of the fleet's cluster ``name``, None when there is none."""
    obj = ops.get_or_none(karmada, Cluster, name)
    if obj is None:
        return None
    return str((obj.spec or {}).get("apiEndpoint") or "")
