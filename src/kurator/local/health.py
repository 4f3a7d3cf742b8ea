"""Waiting for the fleet's processes to serve, with errors that point at the right log."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import httpx

from kurator.core.errors import KuratorError
from kurator.local.config import FleetConfig
from kurator.local.control_plane import (
    APISERVER,
    ETCD,
    ETCD_KURATOR_CLIENT,
    etcd_pki,
    etcd_url,
    process_name,
)
from kurator.local.layout import FleetLayout
from kurator.local.pki import ClusterPKI

POLL_SECONDS = 0.25


def log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def poll(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    log: Path | None = None,
    retry_on: tuple[type[Exception], ...] = (),
) -> None:
    """Call ``check`` until it returns True; after ``timeout`` seconds fail naming ``what`` and its log.
    Connection errors (and ``retry_on``) count as "not yet": the server may still be starting."""
    deadline = time.monotonic() + timeout
    transient: tuple[type[Exception], ...] = (httpx.HTTPError, OSError, *retry_on)
    while True:
        try:
            if check():
                return
        except transient:
            pass
        if time.monotonic() > deadline:
            detail = f"\nlast lines of {log}:\n{log_tail(log)}" if log else ""
            raise KuratorError(f"{what} was not ready after {timeout:.0f}s{detail}")
        time.sleep(POLL_SECONDS)


def etcd_healthy(cfg: FleetConfig, layout: FleetLayout, timeout: float = 2.0) -> bool:
    """etcd's /health, asked with kurator's client certificate (etcd serves no one without one)."""
    pki = etcd_pki(layout)
    tls = client_tls(pki.ca_crt, pki.crt(ETCD_KURATOR_CLIENT), pki.key(ETCD_KURATOR_CLIENT))
    resp = httpx.get(f"{etcd_url(cfg)}/health", verify=tls, timeout=timeout, trust_env=False)
    return resp.status_code == 200 and resp.json().get("health") == "true"


def wait_etcd(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    poll(lambda: etcd_healthy(cfg, layout), timeout, "etcd", layout.log(ETCD))


def apiserver_get(
    cfg: FleetConfig, layout: FleetLayout, cluster: str, path: str, timeout: float = 2.0
) -> httpx.Response:
    """An anonymous GET (``/readyz``, ``/version``) that still verifies the server against the cluster CA."""
    ca = ClusterPKI(layout.pki(cluster)).ca_crt
    return httpx.get(f"{cfg.server(cluster)}{path}", verify=_tls(ca), timeout=timeout, trust_env=False)


@lru_cache(maxsize=64)
def _tls(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def client_tls(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """TLS that checks the server against ``ca`` and presents the client certificate ``cert``."""
    tls = ssl.create_default_context(cafile=str(ca))
    tls.load_cert_chain(str(cert), str(key))
    return tls


def apiserver_ready(cfg: FleetConfig, layout: FleetLayout, cluster: str) -> bool:
    return apiserver_get(cfg, layout, cluster, "/readyz").status_code == 200


def wait_apiserver(cfg: FleetConfig, layout: FleetLayout, cluster: str, timeout: float) -> None:
    name = process_name(cluster, APISERVER)
    poll(lambda: apiserver_ready(cfg, layout, cluster), timeout, name, layout.log(name))
