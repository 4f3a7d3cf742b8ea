"""Thanos's S3 object-store config (``type: S3``) as a model checked field by field, following what
Thanos's S3 client (minio-go) would refuse at start-up, and how requests address its bucket. No message
built here holds a credential: messages name the field and the rule, not the value.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

SUPPORTED_TYPES = ("S3",)
DEFAULT_REGION = "us-east-1"  # what S3 clients sign with when no region is given (minio-go and botocore)
REDACTED = "<redacted>"
SECRET_FIELDS = ("access_key", "secret_key", "session_token")

LookupType = Literal["auto", "virtual-hosted", "path"]

# minio-go's (non-strict) bucket name rule, which Thanos's S3 client applies.
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{1,61}[A-Za-z0-9]")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class _Strict(BaseModel):
    # Strict like Thanos (yaml.UnmarshalStrict): unknown fields are errors, `insecure: "yes"` is no bool.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TLSConfig(_Strict):
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool | None = None


class HTTPConfig(_Strict):
    idle_conn_timeout: str | None = None
    response_header_timeout: str | None = None
    insecure_skip_verify: bool | None = None
    tls_handshake_timeout: str | None = None
    expect_continue_timeout: str | None = None
    max_idle_conns: int | None = None
    max_idle_conns_per_host: int | None = None
    max_conns_per_host: int | None = None
    tls_config: TLSConfig | None = None
    disable_compression: bool | None = None


class SSEConfig(_Strict):
    type: Literal["SSE-S3", "SSE-KMS", "SSE-C"]
    kms_key_id: str | None = None
    kms_encryption_context: dict[str, str] | None = None
    encryption_key: str | None = None  # a path to the key file, not the key


class TraceConfig(_Strict):
    enable: bool = False


class S3Config(_Strict):
    """The ``config`` block of ``type: S3``, field names as Thanos spells them."""

    bucket: str
    endpoint: str
    access_key: SecretStr
    secret_key: SecretStr
    session_token: SecretStr | None = None
    region: str = ""
    insecure: bool = False
    bucket_lookup_type: LookupType = "auto"
    signature_version2: bool = False
    disable_dualstack: bool = False
    aws_sdk_auth: bool = False
    put_user_metadata: dict[str, str] | None = None
    http_config: HTTPConfig | None = None
    trace: TraceConfig | None = None
    list_objects_version: Literal["", "v1", "v2"] = ""
    send_content_md5: bool | None = None
    disable_multipart: bool | None = None
    part_size: int | None = Field(default=None, ge=0)
    sse_config: SSEConfig | None = None
    sts_endpoint: str | None = None
    max_retries: int | None = Field(default=None, ge=0)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not value:
            raise ValueError("is empty: name the bucket Thanos keeps its blocks in")
        if not _BUCKET.fullmatch(value) or ".." in value or _is_ip(value):
            raise ValueError(
                "is not a valid bucket name: 3 to 63 letters, digits, '.', '-', '_' or ':', "
                "starting and ending with a letter or digit"
            )
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        check_endpoint(value)
        return value

    @field_validator("access_key", "secret_key")
    @classmethod
    def _credential(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty: kurator needs the store's access key and secret key in this file")
        return value

    @field_validator("aws_sdk_auth")
    @classmethod
    def _no_sdk_auth(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "is not supported: kurator runs the same file in pods and on the local fleet, so the "
                "credentials must be in the file (access_key, secret_key)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value != value.strip() or any(c.isspace() for c in value):
            raise ValueError("must not contain spaces")
        return value


class ObjectStore(_Strict):
    """The whole file: ``type``, ``config`` and the optional key ``prefix`` inside the bucket."""

    type: Literal["S3"]
    config: S3Config
    prefix: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        # Thanos compares the type case-insensitively; keep one spelling in what kurator renders.
        if isinstance(value, str) and value.upper() in SUPPORTED_TYPES:
            return value.upper()
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise ValueError(
            f"is {shown}, which kurator does not support: only S3 (AWS S3, MinIO and other "
            "S3-compatible stores)"
        )

    @property
    def secrets(self) -> list[str]:
        c = self.config
        values = [c.access_key, c.secret_key, c.session_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def check_endpoint(value: str) -> None:
    """Raise ValueError unless ``value`` is ``host[:port]`` as minio-go takes it. The message never holds the
    value (a URL pasted here may carry a user and password)."""
    if not value:
        raise ValueError("is empty: give the store's address as host or host:port")
    if "://" in value:
        raise ValueError("must be host or host:port without a scheme (for plain HTTP, set `insecure: true`)")
    if any(c in value for c in "/?#@\\") or any(c.isspace() for c in value):
        raise ValueError("must be host or host:port only, without a path, a user or spaces")
    parts = urlsplit("//" + value)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError("has a port that is not a number from 1 to 65535")
    host = parts.hostname or ""
    if not host or not (_is_ip(host) or all(_DNS_LABEL.fullmatch(label) for label in host.split("."))):
        raise ValueError("does not start with a valid host name or IP address")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def virtual_hosted(c: S3Config) -> bool:
    """Whether requests name the bucket in the host (bucket.endpoint) rather than the path, as minio-go
    decides for ``auto``: virtual-hosted on AWS, path-style elsewhere (MinIO and most S3-like stores)."""
    if c.bucket_lookup_type != "auto":
        return c.bucket_lookup_type == "virtual-hosted"
    host = urlsplit("//" + c.endpoint).hostname or ""
    aws = host == "s3.amazonaws.com" or (host.startswith("s3") and host.endswith(".amazonaws.com"))
    return aws and ("." not in c.bucket or c.insecure)  # dotted names break TLS on wildcard certificates


def bucket_url(store: ObjectStore) -> str:
    c = store.config
    scheme = "http" if c.insecure else "https"
    if virtual_hosted(c):
        return f"{scheme}://{c.bucket}.{c.endpoint}/"
    return f"{scheme}://{c.endpoint}/{quote(c.bucket, safe='')}"
