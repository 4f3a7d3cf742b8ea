"""After Kubespray created a cluster: its ``admin.conf``, read over SFTP from the first master, and pointed
at the address the cluster is reached by.

Kurator v0.2.0 left the kubeconfig in the installer pod, where it was lost (users ssh'd to a master); this
is the building block that fixes that. Kubespray's ``admin.conf`` names the API server as the master sees
it, often ``https://127.0.0.1:6443``; ``with_server`` rewrites it to the cluster's API endpoint, whose
address must be among the API server certificate's SANs (Kubespray's
``supplementary_addresses_in_ssl_keys``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import stat
from typing import Any
from urllib.parse import urlsplit

import asyncssh
import yaml

from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError
from kurator.ssh.keys import PrivateKey, load_private_key
from kurator.ssh.session import Stage, Target, connect, explain

ADMIN_CONF = "/etc/kubernetes/admin.conf"
# An admin.conf is a few KiB; a much larger file is not one, and is not read into memory.
MAX_BYTES = 1 << 20
API_PORT = 6443


def _sftp_problem(exc: asyncssh.SFTPError, user: str) -> str:
    if isinstance(exc, asyncssh.SFTPNoSuchFile | asyncssh.SFTPNoSuchPath):
        return "it does not exist (has the cluster been created on this host?)"
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return f"permission denied ({user} may not read it)"
    return exc.reason or type(exc).__name__


async def _read(conn: asyncssh.SSHClientConnection, target: Target, path: str, max_bytes: int) -> bytes:
    async with conn.start_sftp_client() as sftp:
        attrs = await sftp.stat(path)
        if attrs.permissions is not None and not stat.S_ISREG(attrs.permissions):
            raise KuratorError(f"{target}: cannot fetch {path}: it is not a regular file")
        if attrs.size is not None and attrs.size > max_bytes:
            raise KuratorError(
                f"{target}: cannot fetch {path}: it has {attrs.size} bytes, more than the {max_bytes} allowed"
            )
        async with sftp.open(path, "rb") as remote:
            read = await remote.read(max_bytes + 1)
    data = read if isinstance(read, bytes) else read.encode()  # "rb" gives bytes; the type says AnyStr
    if len(data) > max_bytes:  # it grew after the stat
        raise KuratorError(f"{target}: cannot fetch {path}: it has more than the {max_bytes} bytes allowed")
    return data


async def fetch_file(
    address: str,
    key: PrivateKey | bytes | str,
    path: str = ADMIN_CONF,
    *,
    user: str = "root",
    port: int = 22,
    timeout: float = 30.0,
    max_bytes: int = MAX_BYTES,
    known_hosts: str | None = None,
) -> bytes:
    """The content of ``path`` (absolute) on the host; KuratorError naming the host and the file otherwise.
    The content is never logged: an admin.conf holds the cluster's admin credentials."""
    private = key if isinstance(key, PrivateKey) else load_private_key(key)
    target = Target(address, port, user)
    stage: Stage = "connect"
    try:
        async with asyncio.timeout(timeout), await connect(target, private, known_hosts) as conn:
            stage = "fetch"
            return await _read(conn, target, path, max_bytes)
    except KuratorError:
        raise
    except asyncssh.SFTPError as exc:
        failure = f"{target}: cannot fetch {path}: {private.redact(_sftp_problem(exc, user))}"
    except Exception as exc:
        failure = f"cannot fetch {path} from {explain(exc, target, stage, timeout, private)[1]}"
    raise KuratorError(failure)


def api_server_url(endpoint: str) -> str:
    """``https://host:port`` from ``host``, ``host:port``, ``[v6]:port`` or an https URL (port 6443 by
    default)."""
    text = endpoint.strip()
    if "://" not in text:
        with contextlib.suppress(ValueError):  # a bare IPv6 address has colons but no port
            text = f"[{ipaddress.IPv6Address(text)}]"
        text = f"https://{text}"
    parts = urlsplit(text)
    try:
        port = parts.port or API_PORT
    except ValueError:
        port = 0
    if parts.scheme != "https" or not parts.hostname or not 0 < port < 65536 or parts.path.strip("/"):
        raise InvalidInput(
            f"API endpoint {endpoint!r} is not an address to reach an API server by",
            "give host, host:port or https://host:port",
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"https://{host}:{port}"


def with_server(kubeconfig: str | bytes, endpoint: str) -> str:
    """``kubeconfig`` with the server of its current context's cluster (or of its only cluster) set to
    ``endpoint``; everything else is kept. Errors never quote the file: it holds credentials."""
    server = api_server_url(endpoint)
    label = "the fetched kubeconfig"
    text = inputs.decode(kubeconfig, label, MAX_BYTES) if isinstance(kubeconfig, bytes) else kubeconfig
    try:
        doc: Any = inputs.load_yaml(text, label)
    except inputs.NotYaml:
        doc = None
    clusters = doc.get("clusters") if isinstance(doc, dict) else None
    if not isinstance(clusters, list) or not clusters:
        raise InvalidInput("the fetched file is not a kubeconfig: it has no clusters")
    wanted = _current_cluster(doc)
    if wanted is None and len(clusters) > 1:
        raise InvalidInput("the kubeconfig has several clusters and no current context to choose one")
    for entry in clusters:
        if isinstance(entry, dict) and (wanted is None or entry.get("name") == wanted):
            cluster = entry.setdefault("cluster", {})
            if isinstance(cluster, dict):
                cluster["server"] = server
                return yaml.safe_dump(doc, sort_keys=False)
    raise InvalidInput(f"the kubeconfig's current context names cluster {wanted!r}, which it does not define")


def _current_cluster(doc: dict[str, Any]) -> str | None:
    current = doc.get("current-context")
    for entry in doc.get("contexts") or []:
        if (
            isinstance(entry, dict)
            and entry.get("name") == current
            and isinstance(entry.get("context"), dict)
        ):
            name = entry["context"].get("cluster")
            return str(name) if name else None
    return None
