"""Thanos's object-store types other than S3 (which ``objstore`` checks field by field and asks live):
each is accepted and passed through to Thanos as written, once the fields its Thanos client needs are there.

The rules follow the validation in Thanos's object-store clients (github.com/thanos-io/objstore, the version
Thanos 0.42 uses), so a file that would stop Thanos at start-up is refused at ``kurator install`` time with
every missing field named. Credentials are never part of a message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Config = dict[str, Any]


@dataclass(frozen=True)
class StoreType:
    name: str  # as Thanos spells the type
    title: str
    required: tuple[str, ...] = ()  # each must be a non-empty value
    secrets: tuple[str, ...] = ()  # fields whose values are credentials
    check: Callable[[Config], list[str]] = field(default=lambda _c: [])


def _set(c: Config, key: str) -> bool:
    value = c.get(key)
    return value not in (None, "") and not (isinstance(value, str) and not value.strip())


def _azure(c: Config) -> list[str]:
    out = []
    sp = [k for k in ("az_tenant_id", "client_id", "client_secret") if _set(c, k)]
    if sp and len(sp) < 3:
        out.append("config.az_tenant_id, client_id and client_secret must be set together")
    if _set(c, "storage_account_key") and _set(c, "storage_connection_string"):
        out.append("config.storage_account_key and storage_connection_string cannot both be set")
    if _set(c, "user_assigned_id") and any(
        _set(c, k) for k in ("storage_account_key", "storage_connection_string", "client_id")
    ):
        out.append("config.user_assigned_id cannot be set with another kind of credentials")
    return out


def _cos(c: Config) -> list[str]:
    # Without an endpoint, COS builds the bucket's address from bucket, app_id and region.
    needed = ("secret_id", "secret_key") + (() if _set(c, "endpoint") else ("bucket", "app_id", "region"))
    return [f"config.{k} is missing" for k in needed if not _set(c, k)]


def _swift(c: Config) -> list[str]:
    password = _set(c, "password") and (_set(c, "username") or _set(c, "user_id"))
    app = _set(c, "application_credential_secret") and (
        _set(c, "application_credential_id") or _set(c, "application_credential_name")
    )
    if not (password or app):
        return [
            "credentials are missing: give config.username (or user_id) and password, or an application "
            "credential (application_credential_id or _name, and application_credential_secret)"
        ]
    return []


def _oci(c: Config) -> list[str]:
    provider = str(c.get("provider") or "default").lower()
    if provider not in ("default", "instance-principal", "raw", "oke-workload-identity"):
        return ["config.provider must be one of default, instance-principal, raw, oke-workload-identity"]
    if provider == "raw":
        keys = ("tenancy_ocid", "user_ocid", "region", "fingerprint", "privatekey")
        return [f"config.{k} is missing (provider raw needs it)" for k in keys if not _set(c, k)]
    return []


def _obs(c: Config) -> list[str]:
    return [f"config.{k} is missing" for k in ("access_key", "secret_key") if not _set(c, k)]


TYPES = {
    t.name: t
    for t in (
        StoreType("GCS", "Google Cloud Storage", ("bucket",), ("service_account",)),
        StoreType(
            "AZURE",
            "Azure Blob Storage",
            ("storage_account", "container"),
            ("storage_account_key", "storage_connection_string", "client_secret"),
            _azure,
        ),
        StoreType(
            "SWIFT",
            "OpenStack Swift",
            ("auth_url", "container_name"),
            ("password", "application_credential_secret"),
            _swift,
        ),
        StoreType("COS", "Tencent Cloud COS", (), ("secret_key", "secret_id"), _cos),
        StoreType(
            "ALIYUNOSS",
            "Alibaba Cloud OSS",
            ("endpoint", "bucket", "access_key_id", "access_key_secret"),
            ("access_key_secret",),
        ),
        StoreType(
            "BOS", "Baidu Object Storage", ("bucket", "endpoint", "access_key", "secret_key"), ("secret_key",)
        ),
        StoreType("OBS", "Huawei Cloud OBS", ("endpoint",), ("secret_key",), _obs),
        StoreType("OCI", "Oracle Cloud Object Storage", (), ("privatekey", "passphrase"), _oci),
        StoreType("FILESYSTEM", "Local filesystem (one machine only)", ("directory",)),
    )
}
# Names people use that Thanos spells differently.
ALIASES = {"OSS": "ALIYUNOSS", "ALIYUN": "ALIYUNOSS", "AZUREBLOB": "AZURE"}


def problems(kind: StoreType, config: Config) -> list[str]:
    """Every reason Thanos's client for ``kind`` would refuse ``config`` (never quoting a value)."""
    return [f"config.{k} is missing" for k in kind.required if not _set(config, k)] + kind.check(config)


def hint(kind: StoreType) -> str:
    """What a file of this type looks like (the S3 hint would name fields this type does not have)."""
    fields = ", ".join([*kind.required, "..."])
    return f"the file is Thanos's object-store config: type: {kind.name}, config: {{{fields}}}"


def secrets(kind: StoreType, config: Config) -> list[str]:
    return [str(config[k]) for k in kind.secrets if _set(config, k)]
