"""Waiting for the fleet's processes to serve, with errors that point at the right log."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.kube import http, wait
from kurator.kube.errors import Transient
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

# Processes start in a second or two: look often at first, then twice a second.
STARTING = wait.Backoff(first=0.1, factor=1.5, most=0.5)


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
    A server that does not answer yet (and ``retry_on``) counts as "not yet": it may still be starting."""
    try:
        wait.until(
            check,
            timeout=timeout,
            what=what,
            backoff=STARTING,
            retry_on=(Transient, OSError, *retry_on),
        )
    except wait.WaitTimeout as exc:
        last = f" (last error: {exc.last})" if exc.last else ""
        detail = f"\nlast lines of {log}:\n{log_tail(log)}" if log else ""
        raise KuratorError(f"{what} was not ready after {timeout:.0f}s{last}{detail}") from None


def etcd_healthy(cfg: FleetConfig, layout: FleetLayout, timeout: float = 2.0) -> bool:
    """etcd's /health, asked with kurator's client certificate (etcd serves no one without one)."""
    pki = etcd_pki(layout)
    tls = client_tls(pki.ca_crt, pki.crt(ETCD_KURATOR_CLIENT), pki.key(ETCD_KURATOR_CLIENT))
    url = f"{etcd_url(cfg)}/health"
    answer = http.get(url, what="asking etcd's health", verify=tls, timeout=timeout, check=False)
    return answer.ok and answer.json().get("health") == "true"


def wait_etcd(cfg: FleetConfig, layout: FleetLayout, timeout: float) -> None:
    poll(lambda: etcd_healthy(cfg, layout), timeout, "etcd", layout.log(ETCD))


def apiserver_get(
    cfg: FleetConfig, layout: FleetLayout, cluster: str, path: str, timeout: float = 2.0
) -> http.Answer:
    """An anonymous GET (``/readyz``, ``/version``) that still verifies the server against the cluster CA;
    the answer whatever its status."""
    ca = ClusterPKI(layout.pki(cluster)).ca_crt
    url = f"{cfg.server(cluster)}{path}"
    return http.get(url, what=f"GET {path} of {cluster}", verify=_tls(ca), timeout=timeout, check=False)


@lru_cache(maxsize=64)
def _tls(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def client_tls(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """TLS that checks the server against ``ca`` and presents the client certificate ``cert``."""
    tls = ssl.create_default_context(cafile=str(ca))
    tls.load_cert_chain(str(cert), str(key))
    return tls


def apiserver_ready(cfg: FleetConfig, layout: FleetLayout, cluster: str) -> bool:
    return apiserver_get(cfg, layout, cluster, "/readyz").ok


def wait_apiserver(cfg: FleetConfig, layout: FleetLayout, cluster: str, timeout: float) -> None:
    name = process_name(cluster, APISERVER)
    poll(lambda: apiserver_ready(cfg, layout, cluster), timeout, name, layout.log(name))
