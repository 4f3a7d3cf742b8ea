"""Once Kubespray installed a cluster and nothing runs: its admin kubeconfig, fetched over SFTP from the
first master into ``<cluster>-kubeconfig`` (after the create, and again after each upgrade), then its fleet
(``spec.fleet``: joined, moved, or left). When each is due is :mod:`kurator.lifecycle`'s to say."""

from __future__ import annotations

from kurator.api.resources import SECRET
from kurator.core.errors import KuratorError
from kurator.kube.asyncapi import AsyncAPI
from kurator.lifecycle import fleet
from kurator.lifecycle import kubeconfig as kc
from kurator.lifecycle import status as st
from kurator.lifecycle.events import joined_fleet, kubeconfig_stored, left_fleet
from kurator.lifecycle.group_vars import api_endpoint
from kurator.lifecycle.hosts import Host
from kurator.operator.fleets import Fleets
from kurator.operator.kubespray.hostcheck import HostCheck
from kurator.operator.kubespray.passes import Pass
from kurator.operator.kubespray.report import Reporter
from kurator.operator.provider import Key
from kurator.operator.settings import Settings
from kurator.ssh.fetch import ADMIN_CONF, fetch_file, with_server

RETRY = 30.0  # seconds before a failed fetch or join is tried again


class Provisioned:
    def __init__(
        self, api: AsyncAPI, hosts: HostCheck, fleets: Fleets, settings: Settings, reporter: Reporter
    ) -> None:
        self.api, self.hosts, self.fleets, self.settings, self.reporter = (
            api,
            hosts,
            fleets,
            settings,
            reporter,
        )
        self._fetched_after: dict[Key, str] = {}
        """The run after which each cluster's kubeconfig was fetched, as its Secret says."""

    def forget(self, key: Key) -> None:
        self._fetched_after.pop(key, None)

    async def __call__(self, p: Pass) -> None:
        if not p.snap.installed or any(j.state == "active" for j in p.snap.observed):
            return
        kubeconfig = await self._kubeconfig(p)
        if kubeconfig is not None:
            await self._fleet(p, kubeconfig)

    async def _fetched_after_of(self, p: Pass, secret: str) -> str | None:
        have = self._fetched_after.get(p.key)
        if have is None:
            doc = await self.api.get(SECRET, p.namespace, secret)
            if doc is not None:
                have = ((doc.get("metadata") or {}).get("annotations") or {}).get(kc.FETCHED_AFTER, "")
                self._fetched_after[p.key] = str(have)
        return have

    async def _kubeconfig(self, p: Pass) -> str | None:
        """The kubeconfig ("" when the cluster joins no fleet and it need not be read); None when there is
        none yet."""
        secret = kc.secret_name(p.key[1])
        latest = kc.renewed_by(p.snap.observed)
        if not kc.fetch_due(await self._fetched_after_of(p, secret), latest):
            if p.status.kubeconfig_secret_ref != secret:
                p.status = p.status.model_copy(update={"kubeconfig_secret_ref": secret})
            return await self._stored(p.namespace, secret) if p.cluster.spec.fleet else ""
        master = kc.source(p.snap.installed)
        return None if master is None else await self._fetch(p, master, latest)

    async def _fetch(self, p: Pass, master: Host, latest: str) -> str | None:
        secret = kc.secret_name(p.key[1])
        endpoint = api_endpoint(p.cluster, p.snap.installed)
        try:
            key = await self.hosts.key(p.namespace, master.ssh_key_secret)
            user, timeout = self.settings.ssh_user, self.settings.ssh_timeout * 3
            raw = await fetch_file(master.public_ip, key, ADMIN_CONF, user=user, timeout=timeout)
            text = with_server(raw, endpoint)
        except KuratorError as exc:
            p.status = st.with_condition(
                p.status, "KubeconfigReady", False, "FetchFailed", exc.message, p.snap.now, "Warning"
            )
            p.again_in(RETRY)
            return None
        capi_name = p.capi_cluster.name if p.capi_cluster else None
        await self.api.replace_secret(kc.secret(p.cluster, text, latest, capi_name))
        self._fetched_after[p.key] = latest
        p.status = p.status.model_copy(update={"kubeconfig_secret_ref": secret})
        p.event(kubeconfig_stored(endpoint, master.name, secret))
        return text

    async def _stored(self, namespace: str, secret: str) -> str | None:
        value = await self.api.secret_value(namespace, secret, kc.KEY)
        return value.decode() if value is not None else None

    async def _fleet(self, p: Pass, kubeconfig: str) -> None:
        steps = fleet.steps(p.cluster.spec.fleet, p.status.fleet)
        if steps.leave:
            await self.leave(p)
        if not steps.join:
            return
        if not kubeconfig:
            kubeconfig = await self._stored(p.namespace, kc.secret_name(p.key[1])) or ""
        try:
            await self.fleets.join(steps.join, p.key[1], kubeconfig)
        except KuratorError as exc:
            p.status = fleet.join_failed(p.status, str(exc), p.snap.now)
            p.again_in(RETRY)
            return
        p.status = fleet.joined(p.status, steps.join, p.key[1], p.snap.now)
        p.event(joined_fleet(steps.join, p.key[1]))
        await self.reporter.patch_status(p, {"fleet": steps.join})

    async def leave(self, p: Pass) -> None:
        """Take the cluster out of the fleet its status says it joined."""
        joined = p.status.fleet
        if not joined:
            return
        said = await self.fleets.leave(joined, p.key[1])
        p.status = fleet.left(p.status)
        p.event(left_fleet(joined, said))
        await self.reporter.patch_status(p, {"fleet": None})
