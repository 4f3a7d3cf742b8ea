"""Every object-store type Thanos supports is accepted, passed through as written, and checked for the
fields its Thanos client needs, without a credential in any message."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.monitoring import objstore, objstore_types

SECRET = "kurator-secret-value-0001"

VALID: dict[str, dict[str, Any]] = {
    "GCS": {"bucket": "thanos", "service_account": SECRET},
    "AZURE": {"storage_account": "acct", "storage_account_key": SECRET, "container": "thanos"},
    "SWIFT": {
        "auth_url": "https://keystone:5000/v3",
        "username": "u",
        "password": SECRET,
        "container_name": "thanos",
    },
    "COS": {
        "bucket": "thanos-1250000000",
        "region": "ap-beijing",
        "app_id": "1250000000",
        "secret_id": "id",
        "secret_key": SECRET,
    },
    "ALIYUNOSS": {
        "endpoint": "oss-cn-hangzhou.aliyuncs.com",
        "bucket": "thanos",
        "access_key_id": "id",
        "access_key_secret": SECRET,
    },
    "BOS": {"bucket": "thanos", "endpoint": "bj.bcebos.com", "access_key": "ak", "secret_key": SECRET},
    "OBS": {
        "bucket": "thanos",
        "endpoint": "obs.cn-north-4.myhuaweicloud.com",
        "access_key": "ak",
        "secret_key": SECRET,
    },
    "OCI": {
        "provider": "raw",
        "bucket": "thanos",
        "tenancy_ocid": "t",
        "user_ocid": "u",
        "region": "r",
        "fingerprint": "f",
        "privatekey": SECRET,
    },
    "FILESYSTEM": {"directory": "/var/thanos"},
}


def _text(kind: str, config: dict[str, Any], **extra: Any) -> str:
    return yaml.safe_dump({"type": kind, "config": config, **extra}, sort_keys=False)


def _refused(text: str) -> str:
    with pytest.raises(InvalidInput) as info:
        objstore.parse(text, "objstore.yml")
    shown = f"{info.value.message} {info.value.hint}"
    assert SECRET not in shown, shown
    return info.value.message


def test_every_type_thanos_supports_is_known() -> None:
    assert set(objstore_types.TYPES) | {"S3"} == {
        "S3", "GCS", "AZURE", "SWIFT", "COS", "ALIYUNOSS", "BOS", "OBS", "OCI", "FILESYSTEM"
    }  # fmt: skip
    assert set(VALID) == set(objstore_types.TYPES)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_config_is_passed_through_as_written(kind: str) -> None:
    text = _text(kind.lower(), VALID[kind], prefix="fleet-a")
    store = objstore.parse(text, "objstore.yml")
    assert isinstance(store, objstore.OtherStore) and store.type == kind
    assert yaml.safe_load(objstore.render(store)) == {
        "type": kind,
        "config": VALID[kind],
        "prefix": "fleet-a",
    }
    described = objstore.describe(store)
    assert SECRET not in described and "credentials hidden" in described
    assert SECRET in store.secrets or kind == "FILESYSTEM"  # known, so every message can hide them


@pytest.mark.parametrize(
    ("kind", "drop", "expected"),
    [
        ("GCS", ("bucket",), ["config.bucket is missing"]),
        (
            "AZURE",
            ("storage_account", "container"),
            ["config.storage_account is missing", "config.container is missing"],
        ),
        ("SWIFT", ("password",), ["credentials are missing: give config.username"]),
        ("SWIFT", ("auth_url",), ["config.auth_url is missing"]),
        ("COS", ("secret_key", "app_id"), ["config.secret_key is missing", "config.app_id is missing"]),
        ("ALIYUNOSS", ("access_key_secret",), ["config.access_key_secret is missing"]),
        ("BOS", ("endpoint", "secret_key"), ["config.endpoint is missing", "config.secret_key is missing"]),
        ("OBS", ("access_key",), ["config.access_key is missing"]),
        ("OCI", ("fingerprint",), ["config.fingerprint is missing (provider raw needs it)"]),
        ("FILESYSTEM", ("directory",), ["config.directory is missing"]),
    ],
)
def test_missing_required_fields_are_all_named(kind: str, drop: tuple[str, ...], expected: list[str]) -> None:
    config = {k: v for k, v in VALID[kind].items() if k not in drop}
    message = _refused(_text(kind, config))
    assert message.startswith(
        f"objstore.yml: not a usable {objstore_types.TYPES[kind].title} ({kind}) config: "
    )
    for part in expected:
        assert part in message
    with pytest.raises(InvalidInput) as info:
        objstore.parse(_text(kind, config), "objstore.yml")
    assert f"type: {kind}, config: {{" in (info.value.hint or "")  # the type's own fields, not S3's


def test_rules_beyond_presence() -> None:
    azure = {**VALID["AZURE"], "storage_connection_string": SECRET + "x"}
    assert "cannot both be set" in _refused(_text("AZURE", azure))
    partial = {**VALID["AZURE"], "client_id": "c"}
    assert "must be set together" in _refused(_text("AZURE", partial))
    assert "provider must be one of" in _refused(_text("OCI", {"provider": "magic"}))
    assert objstore.parse(_text("OCI", {"provider": "instance-principal", "bucket": "b"}), "f").type == "OCI"
    cos = {"endpoint": "https://b.cos.ap-beijing.myqcloud.com", "secret_id": "i", "secret_key": SECRET}
    assert objstore.parse(_text("COS", cos), "f").type == "COS"  # with an endpoint, no app_id or region


def test_aliases_and_unknown_types() -> None:
    assert objstore.parse(_text("OSS", VALID["ALIYUNOSS"]), "f").type == "ALIYUNOSS"
    message = _refused(_text("DROPBOX", {"token": SECRET}))
    assert message == "objstore.yml: type is 'DROPBOX', which Thanos does not support"
    assert "not a field" in _refused(_text("GCS", VALID["GCS"], extra=1))
    assert "config must be a mapping" in _refused("type: GCS\nconfig: [a]\n")
