"""The SSH preflight of a cluster's hosts (:mod:`kurator.ssh.preflight`) with each host's key read from the
Secret its CustomMachine names, and two economies: a host being checked for one cluster is not checked
again at the same time for another, and a host that passed is taken as passed for ``ttl`` seconds by
any cluster naming it with the same key (a burst of clusters on shared hosts costs one login per host).
Failures are never reused: the next attempt checks again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from kurator.core.errors import KuratorError
from kurator.lifecycle.hosts import Host
from kurator.lifecycle.jobs import SSH_KEY
from kurator.ssh.keys import PrivateKey, load_private_key
from kurator.ssh.preflight import Host as SshHost
from kurator.ssh.preflight import HostResult, check_hosts

SecretReader = Callable[[str, str, str], Awaitable[bytes | None]]
"""(namespace, name, key) -> the Secret's value, None when missing."""
Logins = Callable[[list[SshHost], PrivateKey, str, int, float], Awaitable[list[HostResult]]]
"""(hosts, key, user, port, timeout) -> one result per host: :func:`kurator.ssh.preflight.check_hosts`."""


@dataclass(frozen=True)
class Checked:
    """One host's result, under its inventory name."""

    host: str
    ok: bool
    message: str


_CacheKey = tuple[str, int, str, str]  # address, port, user, key fingerprint
PORT = 22  # CustomMachine has no port field: Kubespray's Ansible connects to 22 too
CONCURRENCY = 50  # SSH logins under way at once
KEY_TTL = 10.0  # seconds a key read from its Secret is used before it is read again


class HostCheck:
    def __init__(
        self,
        read_secret: SecretReader,
        user: str = "root",
        timeout: float = 10.0,
        ttl: float = 60.0,
        logins: Logins = check_hosts,
    ) -> None:
        self.read_secret, self.user, self.timeout, self.ttl = read_secret, user, timeout, ttl
        self.logins = logins
        self._passed: dict[_CacheKey, float] = {}
        self._running: dict[_CacheKey, asyncio.Future[HostResult]] = {}
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._keys: dict[tuple[str, str], tuple[float, PrivateKey]] = {}

    async def key(self, namespace: str, secret: str) -> PrivateKey:
        """The private key in ``secret``; KuratorError naming the Secret (never its content) otherwise.
        A key read is kept for KEY_TTL seconds: a burst of clusters sharing one Secret reads it once."""
        kept = self._keys.get((namespace, secret))
        if kept is not None and time.monotonic() - kept[0] <= KEY_TTL:
            return kept[1]
        key = await self._read_key(namespace, secret)
        self._keys[(namespace, secret)] = (time.monotonic(), key)
        return key

    async def _read_key(self, namespace: str, secret: str) -> PrivateKey:
        material = await self.read_secret(namespace, secret, SSH_KEY)
        if material is None:
            raise KuratorError(f"Secret {namespace}/{secret} with key {SSH_KEY} does not exist")
        try:
            return load_private_key(material)
        except KuratorError as exc:
            raise KuratorError(f"Secret {namespace}/{secret}: {exc.message}") from None

    async def check(self, namespace: str, hosts: Iterable[Host], reuse: bool = True) -> list[Checked]:
        """Every host at once; one result per host, in the order given. ``reuse=False``: no result of
        earlier checks counts (whether a host answers now)."""
        hosts = list(hosts)
        by_secret: dict[str, list[Host]] = {}
        for h in hosts:
            by_secret.setdefault(h.ssh_key_secret, []).append(h)
        results: dict[str, Checked] = {}

        async def one_secret(secret: str, group: list[Host]) -> None:
            try:
                key = await self.key(namespace, secret)
            except KuratorError as exc:
                for h in group:
                    results[h.name] = Checked(h.name, False, exc.message)
                return
            for h, r in zip(group, await self._check(group, key, reuse), strict=True):
                results[h.name] = Checked(h.name, r.ok, f"{h.name}: {r.message}" if not r.ok else r.message)

        await asyncio.gather(*(one_secret(s, g) for s, g in by_secret.items()))
        return [results[h.name] for h in hosts]

    async def _check(self, hosts: list[Host], key: PrivateKey, reuse: bool) -> list[HostResult]:
        return list(await asyncio.gather(*(self._one(h, key, reuse) for h in hosts)))

    async def _one(self, host: Host, key: PrivateKey, reuse: bool) -> HostResult:
        target = SshHost(host.name, host.public_ip)
        cache_key = (host.public_ip, PORT, self.user, key.fingerprint)
        passed = self._passed.get(cache_key)
        if reuse and passed is not None and time.monotonic() - passed <= self.ttl:
            return HostResult(target, True, "python", f"{host.public_ip}:{PORT}: ok (checked moments ago)")
        running = self._running.get(cache_key)
        if running is not None and reuse:
            return await asyncio.shield(running)
        future: asyncio.Future[HostResult] = asyncio.get_running_loop().create_future()
        self._running[cache_key] = future
        try:
            async with self._gate:
                (result,) = await self.logins([target], key, self.user, PORT, self.timeout)
            if result.ok:
                self._passed[cache_key] = time.monotonic()
            future.set_result(result)
            return result
        finally:
            if not future.done():
                future.cancel()
            self._running.pop(cache_key, None)
