"""A stand-in for an S3 endpoint, written for these tests (not MinIO, not AWS): it answers ``HEAD /<bucket>``
on loopback and checks the request's AWS Signature V4 with its own implementation of the algorithm (AWS's
published SigV4 steps), independent of botocore, which signs kurator's requests."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/s3/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


@dataclass
class StandinS3:
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    buckets: set[str] = field(default_factory=set)
    port: int = 0
    seen: list[tuple[str, int]] = field(default_factory=list)  # (path, status) per request

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def status_for(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        match = AUTH.match(headers.get("authorization", ""))
        if match is None or match["key"] != self.access_key:
            return 403, {}  # InvalidAccessKeyId
        if match["region"] != self.region:
            return 400, {"x-amz-bucket-region": self.region}  # AuthorizationHeaderMalformed
        if not hmac.compare_digest(match["sig"], self._signature(method, path, headers, match)):
            return 403, {}  # SignatureDoesNotMatch
        bucket = unquote(path.lstrip("/").split("/", 1)[0])
        return (200, {"x-amz-bucket-region": self.region}) if bucket in self.buckets else (404, {})

    def _signature(self, method: str, path: str, headers: dict[str, str], m: re.Match[str]) -> str:
        signed = m["signed"].split(";")
        canonical = "\n".join(
            [
                method,
                path,
                "",  # no query string
                "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed),
                m["signed"],
                headers.get("x-amz-content-sha256", ""),
            ]
        )
        scope = f"{m['date']}/{m['region']}/s3/aws4_request"
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                headers.get("x-amz-date", ""),
                scope,
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (m["date"], m["region"], "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@contextmanager
def serving(s3: StandinS3) -> Iterator[StandinS3]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = s3.status_for("HEAD", self.path, headers)
            s3.seen.append((self.path, status))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    s3.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield s3
    finally:
        server.shutdown()
        server.server_close()
