"""The preflight's economies: one login per host for clusters checked at the same time, a passed host
reused for a while, a failed one checked again; a missing or unreadable key named, never quoted."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncssh
import pytest

from kurator.lifecycle.hosts import Host
from kurator.operator.kubespray import hostcheck
from kurator.ssh.preflight import HostResult

KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh")


class _Logins:
    """Stands in for kurator.ssh.preflight.check_hosts (given to HostCheck as its ``logins``): counts
    logins; hosts named bad* fail."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(
        self, hosts: list[Any], key: Any, user: str, port: int, timeout: float
    ) -> list[HostResult]:
        self.count += len(hosts)
        await asyncio.sleep(0.05)
        return [
            HostResult(h, not h.name.startswith("bad"), "python", f"{h.address}:22: checked") for h in hosts
        ]


@pytest.fixture
def logins() -> _Logins:
    return _Logins()


async def _secret(namespace: str, name: str, key: str) -> bytes | None:
    return {"key": KEY, "junk": b"not a key"}.get(name)


def _host(name: str, ip: str, secret: str = "key") -> Host:
    return Host(name, "master", ip, ip, secret)


def test_clusters_checked_at_once_share_one_login_per_host(logins: _Logins) -> None:
    check = hostcheck.HostCheck(_secret, ttl=60, logins=logins)

    async def main() -> list[list[hostcheck.Checked]]:
        return list(await asyncio.gather(*(check.check("ns", [_host("m", "10.0.0.1")]) for _ in range(50))))

    results = asyncio.run(main())
    assert logins.count == 1 and all(r[0].ok for r in results)


def test_a_passed_host_is_reused_and_a_failed_one_checked_again(logins: _Logins) -> None:
    check = hostcheck.HostCheck(_secret, ttl=60, logins=logins)

    async def main() -> None:
        await check.check("ns", [_host("m", "10.0.0.1"), _host("bad", "10.0.0.2")])
        again = await check.check("ns", [_host("m", "10.0.0.1"), _host("bad", "10.0.0.2")])
        assert [r.ok for r in again] == [True, False]
        assert again[1].message == "bad: 10.0.0.2:22: checked"

    asyncio.run(main())
    assert logins.count == 3  # m once, bad twice


def test_nothing_is_reused_after_the_ttl(logins: _Logins) -> None:
    check = hostcheck.HostCheck(_secret, ttl=0, logins=logins)

    async def main() -> None:
        await check.check("ns", [_host("m", "10.0.0.1")])
        await check.check("ns", [_host("m", "10.0.0.1")])

    asyncio.run(main())
    assert logins.count == 2


def test_a_missing_or_unreadable_key_fails_its_hosts_with_the_secret_named(logins: _Logins) -> None:
    check = hostcheck.HostCheck(_secret, logins=logins)
    results = asyncio.run(
        check.check(
            "ns", [_host("a", "10.0.0.1", "gone"), _host("b", "10.0.0.2", "junk"), _host("c", "10.0.0.3")]
        )
    )
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].message == "Secret ns/gone with key ssh-privatekey does not exist"
    assert results[1].message.startswith("Secret ns/junk: the SSH private key cannot be read")
    assert "not a key" not in results[1].message
    assert logins.count == 1
