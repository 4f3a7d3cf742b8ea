"""One SSH connection to one machine, opened the same way by the preflight and the fetch, and the sentence
each way of failing turns into.

Host keys: by default nothing is verified (``known_hosts=None``). The machines are freshly installed and
their host keys are known to nobody yet, which is also why Kurator and Kubespray's Ansible skipped the
check. What is checked instead is what an install needs: the given key is accepted. Every preflight result
carries the fingerprint the host presented, so a caller can record it on first contact and pass it back as
``known_hosts`` on later runs, when a changed key means a reinstalled machine or someone in between.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Literal

import asyncssh

from kurator.ssh.keys import PrivateKey

Stage = Literal["connect", "hostkey", "auth", "python", "sudo", "fetch"]

_OS_ERRORS = {
    errno.ECONNREFUSED: "connection refused (no SSH server listens on that port)",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ENETUNREACH: "the network is unreachable",
    errno.ECONNRESET: "the connection was reset",
    errno.ETIMEDOUT: "the connection timed out",
}

# asyncssh.connect covers the handshake and the login; a timeout there is reported as "connect".
_TIMEOUTS: dict[Stage, str] = {
    "connect": "no SSH answer",
    "hostkey": "no SSH answer",
    "auth": "no answer to the login",
    "python": "the check for python3 did not finish",
    "sudo": "the check for sudo did not finish",
    "fetch": "the file did not arrive",
}


@dataclass(frozen=True)
class Target:
    address: str
    port: int = 22
    user: str = "root"

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


async def connect(
    target: Target, key: PrivateKey, known_hosts: str | None = None
) -> asyncssh.SSHClientConnection:
    """Public-key login with ``key`` only: no agent, no ~/.ssh/config, no default keys, no password, so the
    result depends on nothing but the arguments. Callers bound the time (``asyncio.timeout``)."""
    return await asyncssh.connect(
        target.address,
        target.port,
        username=target.user,
        client_keys=[key.key],
        known_hosts=asyncssh.import_known_hosts(known_hosts) if known_hosts is not None else None,
        config=None,
        agent_path=None,
        preferred_auth="publickey",
        password=None,
        gss_host=None,
        x509_trusted_certs=None,
        x509_trusted_cert_paths=None,
    )


def explain(
    exc: BaseException, target: Target, stage: Stage, timeout: float, key: PrivateKey
) -> tuple[Stage, str]:
    """The stage that failed and one sentence naming the host (``10.0.0.5:22: connection refused``)."""
    at: Stage = stage
    if isinstance(exc, TimeoutError):
        text = f"{_TIMEOUTS[stage]} within {timeout:g}s"
    elif isinstance(exc, asyncssh.HostKeyNotVerifiable):
        at = "hostkey"
        text = "its host key is not the one in known hosts (a reinstalled machine, or someone in between)"
    elif isinstance(exc, asyncssh.PermissionDenied):
        at = "auth"
        text = f"authentication as {target.user} with the given key was refused"
    elif isinstance(exc, asyncssh.ConnectionLost):
        text = "the connection was closed by the host"
    elif isinstance(exc, asyncssh.DisconnectError):
        text = f"the SSH server disconnected: {exc.reason}"
    elif isinstance(exc, socket.gaierror):
        text = f"the address cannot be resolved ({exc.strerror})"
    elif isinstance(exc, OSError):
        text = _OS_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}"
    return at, f"{target}: {key.redact(text)}"
