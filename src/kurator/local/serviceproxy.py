"""A stand-in for kube-proxy, for istiod's Services only. The local fleet runs no kube-proxy, so nothing
answers at a Service's cluster IP; yet an API server calls an admission webhook at the cluster IP of the
webhook's Service (kube-apiserver's default way to reach a Service). So that istiod's webhooks (sidecar
injection, validation of Istio resources) answer for real, this process, in the fleet's network namespace,
gives each member's ``istio-system/istiod`` Service its cluster IP on the namespace's loopback and forwards
port 443 there to the istiod process's webhook port (on the namespace's own loopback too).

Nothing outside the namespace reaches these addresses: cluster IPs are routed nowhere but inside it. The
members' Services are looked up every few seconds, so a remote installed after istiod started is served
too. Run as ``python -m kurator.local.serviceproxy <fleet folder> <target port>`` by ``kurator local istiod``.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from kurator.kube import ops
from kurator.kube.client import client
from kurator.kube.errors import KubeError
from kurator.kube.resources import Service
from kurator.local import config as fleet_config
from kurator.local.kubeconfigs import context_name
from kurator.local.layout import FleetLayout

SERVICE, NAMESPACE, PORT = "istiod", "istio-system", 443
LOOK_EVERY = 2.0  # seconds between looks at the members' Services
BUFFER = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _forward(target: tuple[str, int]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return handle


def cluster_ips(root: Path) -> set[str]:
    """The cluster IP of every member's istiod Service (members without one are skipped)."""
    layout = FleetLayout(root)
    cfg = fleet_config.load(layout.config, "`kurator local down --purge`")
    if cfg is None:
        return set()
    found = set()
    for member in cfg.clusters[1:]:
        try:
            api = client(layout.kubeconfig(member), context_name(cfg, member), timeout=3)
            svc = ops.get_or_none(api, Service, SERVICE, NAMESPACE)
        except KubeError:
            continue
        ip = svc.spec.clusterIP if svc is not None and svc.spec is not None else None
        if ip and ip != "None":
            found.add(ip)
    return found


async def serve(root: Path, target_port: int) -> None:
    servers: dict[str, asyncio.Server] = {}
    handle = _forward(("127.0.0.1", target_port))
    while True:
        for ip in sorted(await asyncio.to_thread(cluster_ips, root) - set(servers)):
            # The address on the namespace's loopback, then a listener on it (both idempotent over restarts).
            subprocess.run(
                ["ip", "addr", "replace", f"{ip}/32", "dev", "lo"], check=False, capture_output=True
            )
            try:
                servers[ip] = await asyncio.start_server(handle, ip, PORT)
            except OSError as exc:
                print(f"cannot listen on {ip}:{PORT}: {exc}", file=sys.stderr, flush=True)
                continue
            print(f"forwarding {ip}:{PORT} to istiod's webhooks on 127.0.0.1:{target_port}", flush=True)
        await asyncio.sleep(LOOK_EVERY)


def main() -> None:
    asyncio.run(serve(Path(sys.argv[1]), int(sys.argv[2])))


if __name__ == "__main__":
    main()
