"""Thanos's object-store config file (``--objstore.config-file``): parsed and checked once, rendered for the
Secrets and files the components read, described without its secrets.

S3 (AWS, MinIO and other S3-compatible stores) is checked field by field, following what Thanos's S3 client
(minio-go) would refuse at start-up, and its bucket is asked for live; every other type Thanos supports
(GCS, AZURE, SWIFT, COS, ALIYUNOSS, BOS, OBS, OCI, FILESYSTEM: ``objstore_types``) is checked for the fields
its client needs and passed through as written. A bad file fails at ``kurator install`` time with a sentence
a person understands, not later in a pod's log. No message built here ever holds a credential: messages name
the field and the rule, not the value, and every one passes through ``_scrub`` as a second guard.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError
from kurator.monitoring import objstore_types

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


class OtherStore(BaseModel):
    """A store of another type than S3, as written (its fields checked by ``objstore_types``)."""

    model_config = ConfigDict(frozen=True)

    type: str
    config: dict[str, Any]
    prefix: str = ""

    @property
    def secrets(self) -> list[str]:
        return objstore_types.secrets(objstore_types.TYPES[self.type], self.config)


Store = ObjectStore | OtherStore


def _other(data: dict[str, Any], source_name: str) -> OtherStore | None:
    """The store when ``data`` names a type other than S3 that Thanos supports; None for S3."""
    raw = data.get("type")
    name = raw.upper() if isinstance(raw, str) else ""
    name = objstore_types.ALIASES.get(name, name)
    if name == "S3":
        return None
    kind = objstore_types.TYPES.get(name)
    config = data.get("config")
    hidden = _raw_secrets(data) + (
        objstore_types.secrets(kind, config) if kind and isinstance(config, dict) else []
    )

    def refuse(problem: str, hint: str = _HINT) -> InvalidInput:
        return InvalidInput(_scrub(f"{source_name}: {problem}", hidden), hint)

    if kind is None:
        shown = repr(raw)[:40] if isinstance(raw, str) else "missing" if raw is None else type(raw).__name__
        supported = ", ".join(["S3", *objstore_types.TYPES])
        raise refuse(f"type is {shown}, which Thanos does not support", f"supported: {supported}; {_HINT}")
    if not isinstance(config, dict):
        raise refuse(f"config must be a mapping of the {kind.title} store's fields")
    if extra := sorted(str(k) for k in set(data) - {"type", "config", "prefix"}):
        raise refuse(f"{', '.join(extra)[:60]} is not a field of an object-store config")
    prefix = data.get("prefix", "")
    if not isinstance(prefix, str):
        raise refuse("prefix must be a string")
    if found := objstore_types.problems(kind, config):
        raise refuse(f"not a usable {kind.title} ({kind.name}) config: " + "; ".join(found))
    return OtherStore(type=kind.name, config=config, prefix=prefix)


# ---- parsing ---------------------------------------------------------------------------------------------

_HINT = "the file is Thanos's object-store config: type: S3, config: {bucket, endpoint, access_key, ...}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses duplicate keys, as Thanos's strict YAML parsing does (PyYAML would keep the last one)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            continue  # construct_mapping below reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {str(key)[:40]} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    # Values shorter than four characters are no real credential, and replacing them would garble words.
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _raw_secrets(data: Any) -> list[str]:
    """Whatever stands under a credential key, even in a file that fails validation."""
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return []
    return [str(config[k]) for k in SECRET_FIELDS if config.get(k) not in (None, "")]


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _messages(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    missing = {_field(e["loc"]) for e in errors if e["type"] == "missing"}
    out: list[str] = []
    if {"config.access_key", "config.secret_key"} & missing:
        both = " and ".join(f for f in ("config.access_key", "config.secret_key") if f in missing)
        out.append(
            f"credentials are missing ({both}): kurator needs the store's access key and secret key in "
            "this file, as the same file serves pods and the local fleet"
        )
    for e in errors:
        where, kind = _field(e["loc"]), e["type"]
        if where in ("config.access_key", "config.secret_key") and kind == "missing":
            continue
        if kind == "missing":
            out.append(f"{where} is missing{_MISSING_HINT.get(where, '')}")
        elif kind == "extra_forbidden":
            out.append(f"{where[:60]} is not a field kurator knows (Thanos refuses unknown fields too)")
        elif kind == "value_error":
            out.append(f"{where} {e['msg'].removeprefix('Value error, ')}")
        else:
            msg = e["msg"]
            out.append(f"{where}: {msg[:1].lower()}{msg[1:]}")
    return out


_MISSING_HINT = {
    "type": ": it must be S3",
    "config": ": it holds bucket, endpoint, access_key and secret_key",
    "config.bucket": ": name the bucket Thanos keeps its blocks in",
    "config.endpoint": ": give the store's address as host or host:port",
}


def parse(text: str, source_name: str) -> Store:
    """The object store described by ``text`` (read from ``source_name``, which messages name).

    Raises InvalidInput with every problem found, in one message without any credential."""
    try:
        data = inputs.load_yaml(text, source_name, _UniqueKeyLoader)
    except InvalidInput as exc:  # its messages never quote the file (see inputs.yaml_problem)
        raise InvalidInput(exc.message, exc.hint or _HINT) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source_name} must be a mapping with the keys type and config, not "
            f"{'an empty file' if data is None else type(data).__name__}",
            _HINT,
        )
    if (other := _other(data, source_name)) is not None:
        return other
    try:
        return ObjectStore.model_validate(data)
    except ValidationError as exc:
        message = f"{source_name} is not a usable object-store config: " + "; ".join(_messages(exc))
        raise InvalidInput(_scrub(message, _raw_secrets(data)), _HINT) from None


def parse_s3(text: str, source_name: str) -> ObjectStore:
    """As ``parse``, for a caller that serves S3 only (the local fleet's stand-in store)."""
    store = parse(text, source_name)
    if not isinstance(store, ObjectStore):
        raise InvalidInput(f"{source_name} must be an S3 store, not {store.type}")
    return store


# ---- rendering -------------------------------------------------------------------------------------------


def to_dict(store: Store) -> dict[str, Any]:
    """The file as Thanos reads it, credentials in clear. Only the fields that were given, so the rendered
    text stays what the user wrote, in kurator's key order."""
    if isinstance(store, OtherStore):
        return {
            "type": store.type,
            "config": store.config,
            **({"prefix": store.prefix} if store.prefix else {}),
        }
    data = store.model_dump(exclude_unset=True, exclude_none=True)
    config = data["config"]
    for key in SECRET_FIELDS:
        if isinstance(config.get(key), SecretStr):
            config[key] = config[key].get_secret_value()
    out = {"type": store.type, "config": config}
    if "prefix" in data:
        out["prefix"] = data["prefix"]
    return out


def render(store: Store) -> str:
    """The YAML Thanos reads, credentials included: only for a Secret or a file of mode 0600."""
    return yaml.safe_dump(to_dict(store), sort_keys=False, default_flow_style=False)


def describe(store: Store) -> str:
    """One line about the store that is safe to print or log."""
    if isinstance(store, OtherStore):
        kind = objstore_types.TYPES[store.type]
        where = next(
            (
                str(store.config[k])
                for k in ("bucket", "container", "container_name", "directory")
                if store.config.get(k)
            ),
            "",
        )
        prefix = f", prefix {store.prefix!r}" if store.prefix else ""
        return _scrub(f"{kind.title} ({store.type}) {where!r}{prefix}; credentials hidden", store.secrets)
    c = store.config
    prefix = f", prefix {store.prefix!r}" if store.prefix else ""
    lookup = "virtual-hosted" if _virtual_hosted(c) else "path-style"
    return _scrub(
        f"S3 bucket {c.bucket!r} at {c.endpoint} ({'http' if c.insecure else 'https'}, {lookup}, region "
        f"{c.region or 'not set'}{prefix}; credentials hidden)",
        store.secrets,
    )


# ---- checking the bucket ---------------------------------------------------------------------------------


def _virtual_hosted(c: S3Config) -> bool:
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
    if _virtual_hosted(c):
        return f"{scheme}://{c.bucket}.{c.endpoint}/"
    return f"{scheme}://{c.endpoint}/{quote(c.bucket, safe='')}"


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
    url = bucket_url(store)
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
        reason = _scrub(exc.message, store.secrets)
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
