"""Credentials of the local fleet's monitoring: nothing it serves answers a client without them.

- Prometheus and every Thanos component serve HTTP and gRPC over TLS only, and ask every client for a
  certificate of the fleet's monitoring CA (Prometheus's and Thanos's web config file, Thanos's gRPC TLS
  flags). Thanos Query presents the ``thanos`` client certificate to the sidecars and the Store Gateway,
  each sidecar presents it to its Prometheus; kurator (its readiness checks, ``kurator query``, ``get
  clusters``) presents ``kurator``, which fleet commands read from a Secret on the fleet's Karmada.
- The S3 stand-in takes only requests signed with the fleet's own credentials, made at random per fleet.

Every file here is private (mode 0600) and rewritten only when its content would change.
"""

from __future__ import annotations

import json
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

import yaml

from kurator.local import state
from kurator.local.config import FleetConfig
from kurator.local.health import client_tls
from kurator.local.layout import FleetLayout
from kurator.local.pki import ClusterPKI, ensure_service_pki

SERVICE = "monitoring"
THANOS_CLIENT = "thanos"  # Query -> sidecars and Store Gateway; sidecar -> Prometheus
KURATOR_CLIENT = "kurator"  # kurator's readiness checks and fleet commands
REQUIRE_CLIENT_CERT = "RequireAndVerifyClientCert"


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str


def pki(layout: FleetLayout) -> ClusterPKI:
    return ClusterPKI(layout.service_pki(SERVICE))


def _dir(layout: FleetLayout) -> Path:
    return layout.root / "monitoring"


def web_config_file(layout: FleetLayout) -> Path:
    """Prometheus's ``--web.config.file`` and Thanos's ``--http.config``: TLS, client certificates only."""
    return _dir(layout) / "web.yml"


def prometheus_client_file(layout: FleetLayout) -> Path:
    """The sidecar's ``--prometheus.http-client-file``: how it reaches its Prometheus."""
    return _dir(layout) / "prometheus-client.yml"


def s3_credentials_file(layout: FleetLayout) -> Path:
    return _dir(layout) / "s3-credentials.json"


def ensure(cfg: FleetConfig, layout: FleetLayout) -> None:
    """The monitoring CA and certificates, the web and client config files and the S3 credentials."""
    addresses = sorted({cfg.address, "127.0.0.1"})
    p = ensure_service_pki(
        layout.service_pki(SERVICE), "kurator-monitoring-ca", addresses, (THANOS_CLIENT, KURATOR_CLIENT)
    )
    web = {
        "tls_server_config": {
            "cert_file": str(p.crt("server")),
            "key_file": str(p.key("server")),
            "client_auth_type": REQUIRE_CLIENT_CERT,
            "client_ca_file": str(p.ca_crt),
        }
    }
    write_private(web_config_file(layout), yaml.safe_dump(web, sort_keys=False))
    client = {
        "tls_config": {
            "ca_file": str(p.ca_crt),
            "cert_file": str(p.crt(THANOS_CLIENT)),
            "key_file": str(p.key(THANOS_CLIENT)),
        }
    }
    write_private(prometheus_client_file(layout), yaml.safe_dump(client, sort_keys=False))
    if not s3_credentials_file(layout).exists():
        # An access key ID looks like AWS's (20 upper-case letters and digits); the secret is random.
        creds = {"access_key": "KL" + secrets.token_hex(9).upper(), "secret_key": secrets.token_urlsafe(30)}
        write_private(s3_credentials_file(layout), json.dumps(creds) + "\n")


def s3_credentials(layout: FleetLayout) -> S3Credentials:
    data = json.loads(s3_credentials_file(layout).read_text())
    return S3Credentials(str(data["access_key"]), str(data["secret_key"]))


def grpc_server_flags(layout: FleetLayout) -> list[str]:
    """Thanos's gRPC servers (StoreAPI): TLS, and only clients with a certificate of the monitoring CA."""
    p = pki(layout)
    return [
        f"--grpc-server-tls-cert={p.crt('server')}",
        f"--grpc-server-tls-key={p.key('server')}",
        f"--grpc-server-tls-client-ca={p.ca_crt}",
    ]


def grpc_client_flags(layout: FleetLayout) -> list[str]:
    """Thanos Query's gRPC client: TLS to its endpoints, checked against the CA, with Thanos's certificate."""
    p = pki(layout)
    return [
        "--grpc-client-tls-secure",
        f"--grpc-client-tls-cert={p.crt(THANOS_CLIENT)}",
        f"--grpc-client-tls-key={p.key(THANOS_CLIENT)}",
        f"--grpc-client-tls-ca={p.ca_crt}",
    ]


def http_flags(layout: FleetLayout) -> list[str]:
    return [f"--http.config={web_config_file(layout)}"]


def kurator_tls(layout: FleetLayout) -> ssl.SSLContext:
    """What kurator presents to Prometheus and Thanos (readiness checks, queries from tests and benches)."""
    p = pki(layout)
    return client_tls(p.ca_crt, p.crt(KURATOR_CLIENT), p.key(KURATOR_CLIENT))


def client_credentials(layout: FleetLayout) -> dict[str, bytes]:
    """The CA and kurator's client certificate and key, as fleet commands read them back."""
    p = pki(layout)
    return {
        "ca.crt": p.ca_crt.read_bytes(),
        "tls.crt": p.crt(KURATOR_CLIENT).read_bytes(),
        "tls.key": p.key(KURATOR_CLIENT).read_bytes(),
    }


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    state.write_private(path, text)
