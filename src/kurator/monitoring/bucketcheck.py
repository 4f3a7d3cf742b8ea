"""Asking an S3 store, before anything is installed, whether the object-store config's bucket is there and its
credentials may use it: a SigV4-signed HEAD of the bucket, its answer turned into a sentence with the way
out (no such bucket, refused credentials, wrong region, no store at that address).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kurator.core.errors import InvalidInput, KuratorError
from kurator.monitoring import s3store
from kurator.monitoring.objstore import scrub
from kurator.monitoring.s3store import DEFAULT_REGION, HTTPConfig, ObjectStore, S3Config, TLSConfig


def _tls(c: S3Config) -> Any:
    """httpx's ``verify``: the system trust, or the CA and client certificate the config names."""
    http = c.http_config or HTTPConfig()
    tls = http.tls_config or TLSConfig()
    if http.insecure_skip_verify or tls.insecure_skip_verify:
        return False
    if not (tls.ca_file or tls.cert_file):
        return True
    import ssl

    try:
        ctx = ssl.create_default_context(cafile=tls.ca_file)
        if tls.cert_file:
            ctx.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(
            f"the TLS files named in config.http_config.tls_config cannot be used here: "
            f"{exc.strerror or exc}",
            "the check runs on this machine: the CA and client certificate files must exist here too",
        ) from None
    return ctx


class Send(Protocol):
    """Send one request and return (HTTP status, headers with lower-case names); no answer at all is a
    KuratorError naming what and where (kurator.kube.http.sender makes one)."""

    def __call__(
        self, method: str, url: str, *, what: str, headers: Mapping[str, str], verify: Any
    ) -> tuple[int, Mapping[str, str]]: ...


def _head(store: ObjectStore, region: str, send: Send) -> tuple[int, Mapping[str, str]]:
    # Imported here: botocore takes half a second to import, and only this check needs it.
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    c = store.config
    url = s3store.bucket_url(store)
    token = c.session_token.get_secret_value() if c.session_token else None
    request = AWSRequest(method="HEAD", url=url)
    credentials = Credentials(c.access_key.get_secret_value(), c.secret_key.get_secret_value(), token)
    S3SigV4Auth(credentials, "s3", region).add_auth(request)
    headers = dict(request.headers.items())
    return send(
        "HEAD", url, what=f"checking bucket {c.bucket!r} of the object store", headers=headers, verify=_tls(c)
    )


def check_bucket(store: ObjectStore, send: Send) -> None:
    """Ask the store, with a SigV4-signed HEAD of the bucket, whether the bucket exists and the credentials
    may use it. Returns quietly when they do; raises InvalidInput when the config is wrong (no such bucket,
    refused credentials, wrong region) and KuratorError when the store cannot be reached."""
    c = store.config
    region = c.region or DEFAULT_REGION
    try:
        status, headers = _head(store, region, send)
        told = headers.get("x-amz-bucket-region")
        # S3 names the bucket's region when the request was signed for another one; with no region in the
        # config, sign again for that one, as minio-go finds the region by itself.
        if status in (301, 400) and told and told != region and not c.region:
            region = told
            status, headers = _head(store, region, send)
    except InvalidInput:
        raise
    except KuratorError as exc:
        reason = scrub(exc.message, store.secrets)
        raise KuratorError(reason, _connect_hint(reason, c)) from None
    _judge(store, status, region, headers.get("x-amz-bucket-region"))


def _connect_hint(reason: str, c: S3Config) -> str:
    text = reason.lower()
    if "did not answer" in text:
        return "check config.endpoint, and that the store is running and reachable from this machine"
    if "wrong version number" in text or "record layer" in text:
        return "the endpoint seems to speak plain HTTP: set config.insecure: true"
    if "certificate" in text or "ssl" in text:
        return "the store's TLS certificate is not trusted: set config.http_config.tls_config.ca_file"
    if "refused" in text:
        return f"nothing listens at {c.endpoint}: check config.endpoint and that the store is running"
    return "check config.endpoint, and that the store is running and reachable from this machine"


def _judge(store: ObjectStore, status: int, region: str, told: str | None) -> None:
    c = store.config
    where = f"the object store at {c.endpoint}"
    bucket = repr(c.bucket)
    if 200 <= status < 300:
        return
    if status == 404:
        raise InvalidInput(
            f"bucket {bucket} does not exist at {c.endpoint}",
            "create the bucket, or fix config.bucket / config.endpoint",
        )
    if status == 403:
        raise InvalidInput(
            f"{where} refused access to bucket {bucket} (HTTP 403): the credentials are wrong or may not use "
            "this bucket",
            "check config.access_key and config.secret_key, and the key's permissions on the bucket",
        )
    if status in (301, 400) and told and told != region:
        raise InvalidInput(
            f"bucket {bucket} is in region {told}, but the config signs requests for {region}",
            f"set config.region: {told}",
        )
    if status in (301, 307):
        raise InvalidInput(
            f"{where} redirects requests for bucket {bucket} elsewhere (HTTP {status})",
            "use the bucket's own endpoint in config.endpoint, or set config.region",
        )
    if status == 400:
        raise InvalidInput(
            f"{where} rejected the request for bucket {bucket} (HTTP 400)",
            "check config.region and config.bucket_lookup_type",
        )
    raise KuratorError(
        f"{where} answered HTTP {status} for bucket {bucket}",
        "the store may be unhealthy; try again, or check its logs",
    )
