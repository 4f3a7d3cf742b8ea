"""The local fleet's stand-in for object storage: moto's S3 server, behind a check that every request is
signed (AWS Signature Version 4, as Thanos's S3 client and botocore sign) with the fleet's credentials.

moto alone answers anyone: it lists buckets and takes uploads from anonymous requests, and serves its own
``/moto-api`` dashboard with every object in it. Here a request reaches moto only when its signature
is the fleet's: the access key, a scope of the right date, a time within 15 minutes, and an HMAC over the
request that only the secret key makes. A payload whose SHA-256 is declared must match it. (Chunked
uploads, ``STREAMING-*``, are authenticated by the signature of their headers, which covers the
declared chunked encoding; their per-chunk signatures are left to moto.)

Run as ``python -m kurator.local.s3standin --host H --port P --credentials FILE``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)"
    r"\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SPACES = re.compile(r"\s+")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")
    return None if value is None else str(value)


def _canonical_query(raw: str) -> str:
    pairs = []
    for item in raw.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _raw_target(environ: dict[str, Any]) -> tuple[str, str]:
    """The path and query as the client sent them (S3 signs the path as sent, never normalised)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path, _, query = str(raw).partition("?")
        return path, query
    return quote(str(environ.get("PATH_INFO", "/")), safe="/-_.~"), str(environ.get("QUERY_STRING", ""))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class SigV4Check:
    """WSGI middleware: requests signed with ``access_key``/``secret_key`` pass to ``app``, others get 403."""

    def __init__(self, app: App, access_key: str, secret_key: str) -> None:
        self.app = app
        self.access_key = access_key
        self.secret_key = secret_key

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            self.check(environ)
        except Refused as refused:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{refused.code}</Code><Message>{refused.message}</Message></Error>"
            ).encode()
            start_response(
                "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return self.app(environ, start_response)

    def check(self, environ: dict[str, Any], now: dt.datetime | None = None) -> None:
        auth = _header(environ, "authorization") or ""
        match = _AUTH.match(auth)
        if match is None:
            raise Refused("AccessDenied", "requests must be signed with AWS Signature Version 4")
        parts = match["cred"].split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise Refused("AuthorizationHeaderMalformed", "the credential scope is malformed")
        key_id, day, region, service, _ = parts
        if not hmac.compare_digest(key_id, self.access_key):
            raise Refused("InvalidAccessKeyId", "the access key is not this store's")
        amz_date = _header(environ, "x-amz-date") or ""
        try:
            when = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise Refused("AccessDenied", "x-amz-date is missing or malformed") from None
        if not amz_date.startswith(day) or abs((now or dt.datetime.now(dt.UTC)) - when) > MAX_SKEW:
            raise Refused("RequestTimeTooSkewed", "the request's time is too far from the store's")
        signed = match["signed"].split(";")
        if "host" not in signed:
            raise Refused("AccessDenied", "the Host header must be signed")
        payload = _header(environ, "x-amz-content-sha256")
        if not payload:
            raise Refused("AccessDenied", "x-amz-content-sha256 is missing")
        headers = []
        for name in signed:
            value = _header(environ, name)
            if value is None:
                raise Refused("AccessDenied", f"signed header {name} is missing")
            headers.append(f"{name}:{_SPACES.sub(' ', value.strip())}\n")
        path, query = _raw_target(environ)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        canonical = "\n".join(
            [method, path, _canonical_query(query), "".join(headers), match["signed"], payload]
        )
        scope = f"{day}/{region}/{service}/aws4_request"
        to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = _hmac(
            _hmac(_hmac(_hmac(f"AWS4{self.secret_key}".encode(), day), region), service), "aws4_request"
        )
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match["sig"]):
            raise Refused("SignatureDoesNotMatch", "the request's signature does not match")
        if _HEX64.match(payload):
            self._check_payload(environ, payload)

    @staticmethod
    def _check_payload(environ: dict[str, Any], declared: str) -> None:
        """Read the body once, check it against its declared hash, and hand moto a copy."""
        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        if not hmac.compare_digest(hashlib.sha256(body).hexdigest(), declared):
            raise Refused("XAmzContentSHA256Mismatch", "the body does not match its declared SHA-256")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kurator.local.s3standin")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", type=Path, required=True, help="JSON: access_key, secret_key")
    args = parser.parse_args(argv)
    creds = json.loads(args.credentials.read_text())

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = SigV4Check(
        DomainDispatcherApplication(create_backend_app), creds["access_key"], creds["secret_key"]
    )
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
