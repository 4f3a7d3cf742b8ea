"""The object-store config: parsing, every error message, rendering, and that no credential ever appears in
a message or a description. (The bucket check, against a stand-in S3 endpoint on loopback, is in
tests/integration/test_objstore_check.py: a unit test starts no server.)"""

from __future__ import annotations

import re

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.monitoring import objstore, s3store

ACCESS = "AKIAKURATORTEST0001"
SECRET = "wJalrXUtnFEMI-kurator-secret-0001"
TOKEN = "session-token-kurator-0001"
CREDENTIALS = (ACCESS, SECRET, TOKEN)


def config_text(**fields: object) -> str:
    config: dict[str, object] = {
        "bucket": "thanos",
        "endpoint": "127.0.0.1:9000",
        "access_key": ACCESS,
        "secret_key": SECRET,
        "insecure": True,
    }
    for key, value in fields.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return yaml.safe_dump({"type": "S3", "config": config}, sort_keys=False)


def failure(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        objstore.parse(text, "objstore.yml")
    err = info.value
    shown = f"{err} {err.message} {err.hint}"
    for credential in CREDENTIALS:
        assert credential not in shown, f"a credential leaked into: {shown}"
    return err


def test_a_minio_config_parses_and_renders_back_with_its_secrets() -> None:
    store = objstore.parse(config_text(region="eu-west-1"), "objstore.yml")
    assert store.type == "S3"
    assert store.config.bucket == "thanos"
    assert store.config.secret_key.get_secret_value() == SECRET
    assert yaml.safe_load(objstore.render(store)) == {
        "type": "S3",
        "config": {
            "bucket": "thanos",
            "endpoint": "127.0.0.1:9000",
            "access_key": ACCESS,
            "secret_key": SECRET,
            "insecure": True,
            "region": "eu-west-1",
        },
    }
    assert objstore.parse(objstore.render(store), "again") == store


def test_type_is_case_insensitive_like_thanos_and_rendered_as_s3() -> None:
    store = objstore.parse(config_text().replace("type: S3", "type: s3"), "f")
    assert objstore.render(store).startswith("type: S3\n")


def test_thanos_fields_kurator_does_not_use_are_kept() -> None:
    text = config_text(
        http_config={"insecure_skip_verify": True, "tls_config": {"server_name": "minio"}},
        part_size=1024,
        sse_config={"type": "SSE-S3"},
        session_token=TOKEN,
    )
    text += "prefix: fleet-a\n"
    store = objstore.parse(text, "f")
    assert yaml.safe_load(objstore.render(store)) == yaml.safe_load(text)


def test_describe_and_repr_hide_every_credential() -> None:
    store = objstore.parse(config_text(session_token=TOKEN), "f")
    described = objstore.describe(store)
    assert described == (
        "S3 bucket 'thanos' at 127.0.0.1:9000 (http, path-style, region not set; credentials hidden)"
    )
    for text in (described, repr(store), str(store), str(store.config)):
        for credential in CREDENTIALS:
            assert credential not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("type: S3\nconfig: [unclosed\n", r"objstore\.yml is not valid YAML: .* at line 3, column 1"),
        ("", "must be a mapping with the keys type and config, not an empty file"),
        ("- S3\n", "must be a mapping with the keys type and config, not list"),
        (
            config_text().replace("type: S3", "type: NOSUCH"),
            "type is 'NOSUCH', which Thanos does not support",
        ),
        (config_text(bucket=None), "config.bucket is missing: name the bucket Thanos keeps its blocks in"),
        (config_text(bucket=""), "config.bucket is empty"),
        (config_text(bucket="a/b"), "config.bucket is not a valid bucket name"),
        (config_text(access_key=None), r"credentials are missing \(config\.access_key\)"),
        (
            config_text(access_key=None, secret_key=None),
            r"credentials are missing \(config\.access_key and config\.secret_key\)",
        ),
        (config_text(secret_key="  "), "config.secret_key is empty"),
        (
            config_text(endpoint=None),
            r"config\.endpoint is missing: give the store's address as host or host:port",
        ),
        (
            config_text(endpoint="https://minio:9000"),
            r"config\.endpoint must be host or host:port without a scheme",
        ),
        (config_text(endpoint="minio:9000/data"), "config.endpoint must be host or host:port only"),
        (
            config_text(endpoint="minio:99999"),
            "config.endpoint has a port that is not a number from 1 to 65535",
        ),
        (config_text(endpoint="min_io:9000"), "config.endpoint does not start with a valid host name"),
        (config_text(insecure="yes"), "config.insecure: input should be a valid boolean"),
        (config_text(bucket_lookup_type="dns"), "config.bucket_lookup_type: input should be 'auto'"),
        (config_text(aws_sdk_auth=True), "config.aws_sdk_auth is not supported"),
        (config_text(secret_access_key="x"), "config.secret_access_key is not a field kurator knows"),
        (
            "type: S3\nconfig:\n  bucket: a\n  bucket: b\n",
            "not valid YAML: the key bucket appears twice at line 4, column 3",
        ),
    ],
)
def test_each_problem_has_a_readable_message_without_credentials(text: str, expected: str) -> None:
    err = failure(text)
    assert err.exit_code == 2
    assert err.hint and "Thanos's object-store config" in err.hint
    assert re.search(expected, err.message), err.message


def test_all_problems_are_reported_at_once() -> None:
    err = failure(config_text(bucket=None, endpoint="http://x", insecure="no"))
    assert err.message.count(";") == 2
    for part in ("config.bucket is missing", "config.endpoint must be", "config.insecure:"):
        assert part in err.message


@pytest.mark.parametrize(
    "text",
    [
        # The YAML error points at the secret's line: PyYAML would quote it.
        f"type: S3\nconfig:\n  secret_key: {SECRET}: oops\n  access_key: {ACCESS}\n",
        f"type: S3\nconfig:\n  secret_key: '{SECRET}\n",
        f"type: S3\nconfig:\n  secret_key: *{SECRET}\n",
        # Credentials in the wrong place or of the wrong type.
        config_text(endpoint=f"http://{ACCESS}:{SECRET}@minio:9000"),
        config_text(endpoint=f"{ACCESS}:{SECRET}@minio:9000"),
        config_text(bucket=SECRET + "/x"),
        config_text(secret_key=[SECRET]),
        config_text(session_token={"value": TOKEN}),
        config_text(region=f"{SECRET} x"),
        config_text().replace("type: S3", f"type: {SECRET}"),
    ],
)
def test_no_message_ever_holds_a_credential(text: str) -> None:
    failure(text)  # asserts it


def test_bucket_url_follows_the_lookup_type() -> None:
    minio = objstore.parse(config_text(), "f")
    assert s3store.bucket_url(minio) == "http://127.0.0.1:9000/thanos"
    aws = objstore.parse(config_text(endpoint="s3.eu-west-1.amazonaws.com", insecure=False), "f")
    assert s3store.bucket_url(aws) == "https://thanos.s3.eu-west-1.amazonaws.com/"
    dotted = objstore.parse(config_text(endpoint="s3.amazonaws.com", insecure=False, bucket="a.b"), "f")
    assert s3store.bucket_url(dotted) == "https://s3.amazonaws.com/a.b"
    forced = objstore.parse(config_text(bucket_lookup_type="virtual-hosted"), "f")
    assert s3store.bucket_url(forced) == "http://thanos.127.0.0.1:9000/"


def test_the_object_store_module_does_not_import_botocore_at_start() -> None:
    import subprocess
    import sys

    loaded = "print('botocore' in sys.modules, 'httpx2' in sys.modules)"
    code = f"import sys, kurator.monitoring.objstore; {loaded}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_yaml_errors_keep_a_quoted_character_but_no_longer_text() -> None:
    err = failure("type: S3\nconfig:\n\tbucket: x\n")
    assert err.message == (
        "objstore.yml is not valid YAML: found character '\\t' that cannot start any token "
        "at line 3, column 1"
    )
