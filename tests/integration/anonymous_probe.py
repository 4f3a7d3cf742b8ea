"""What an anonymous local user gets from a port: run as an unprivileged user (``runuser -u nobody``) with
``host:port`` arguments; prints JSON ``{"uid": N, "targets": {"host:port": [outcome, ...]}}``.

Each target is asked, in plain HTTP/1.1, in TLS without a client certificate (not checking the server),
and in gRPC over h2c and over TLS, for what the fleet's servers hold: Kubernetes objects, etcd keys,
metrics and queries, the bucket and moto's dashboard, profiles. An outcome starting with ``DATA`` is an
answer with content to one of those questions; health and version endpoints are not asked.
"""

from __future__ import annotations

import json
import os
import ssl
import sys

import httpx2

HTTP_PROBES: list[tuple[str, str, bytes | None]] = [
    ("GET", "/", None),
    ("GET", "/metrics", None),
    ("GET", "/api/v1/query?query=up", None),
    ("GET", "/api/v1/targets", None),
    ("GET", "/api/v1/status/config", None),
    ("GET", "/federate?match[]=up", None),
    ("GET", "/api", None),
    ("GET", "/apis", None),
    ("GET", "/api/v1/namespaces/kube-system/secrets", None),
    ("GET", "/apis/cluster.karmada.io/v1alpha1/clusters", None),
    ("GET", "/debug/pprof/", None),
    ("GET", "/loaded", None),
    ("GET", "/api/v1/blocks", None),
    ("POST", "/v3/kv/range", b'{"key": "AA==", "range_end": "AA=="}'),
    ("GET", "/v2/keys/", None),
    ("GET", "/kurator-metrics?list-type=2", None),
    ("PUT", "/kurator-metrics/anonymous-probe", b"x"),
    ("GET", "/moto-api/data.json", None),
]
# gRPC methods that answer an empty request with data: Thanos's InfoAPI and StoreAPI info, etcd's status.
GRPC_PROBES = ["/thanos.info.Info/Info", "/thanos.Store/Info", "/etcdserverpb.Maintenance/Status"]
EMPTY_GRPC_MESSAGE = b"\x00\x00\x00\x00\x00"


def _insecure_tls() -> ssl.SSLContext:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    return tls


def _outcome(resp: httpx2.Response, grpc: bool) -> str:
    if grpc:
        served = resp.status_code == 200 and resp.headers.get("content-type", "").startswith(
            "application/grpc"
        )
        status = resp.headers.get("grpc-status")
        if served and status in (None, "0") and len(resp.content) > 5:
            return f"DATA grpc {len(resp.content)} bytes"
        return f"grpc status {resp.status_code} grpc-status {status}"
    if 200 <= resp.status_code < 300 and resp.content:
        return f"DATA {resp.status_code} {len(resp.content)} bytes: {resp.content[:80]!r}"
    return f"status {resp.status_code}"


def _ask(client: httpx2.Client, method: str, url: str, body: bytes | None, grpc: bool) -> str:
    headers = {"content-type": "application/grpc", "te": "trailers"} if grpc else {}
    try:
        return _outcome(client.request(method, url, content=body, headers=headers), grpc)
    except httpx2.ConnectError as exc:
        return f"connect error: {exc}"
    except (httpx2.HTTPError, ssl.SSLError, OSError) as exc:
        return f"error: {type(exc).__name__}: {exc}"[:200]


def probe(target: str) -> list[str]:
    out = []
    tls = _insecure_tls()
    for scheme, verify in (("http", True), ("https", tls)):
        with httpx2.Client(verify=verify, timeout=3.0, trust_env=False) as client:
            for method, path, body in HTTP_PROBES:
                answer = _ask(client, method, f"{scheme}://{target}{path}", body, False)
                out.append(f"{scheme} {method} {path}: {answer}")
        with httpx2.Client(verify=verify, http1=False, http2=True, timeout=3.0, trust_env=False) as client:
            for method in GRPC_PROBES:
                url = f"{scheme}://{target}{method}"
                out.append(f"grpc+{scheme} {method}: {_ask(client, 'POST', url, EMPTY_GRPC_MESSAGE, True)}")
    return out


def main() -> None:
    print(json.dumps({"uid": os.getuid(), "targets": {t: probe(t) for t in sys.argv[1:]}}))


if __name__ == "__main__":
    main()
