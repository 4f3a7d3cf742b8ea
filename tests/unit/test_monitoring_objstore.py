"""The object-store config: parsing, every error message, rendering, and that no credential ever appears in
a message or a description. The bucket check runs against a stand-in S3 endpoint on loopback."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
import yaml

from kurator.core.errors import InvalidInput, KuratorError
from kurator.monitoring import objstore
from tests.unit.s3_standin import StandinS3, serving

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
            config_text().replace("type: S3", "type: GCS"),
            "type is 'GCS', which kurator does not support: only S3",
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
    assert objstore.bucket_url(minio) == "http://127.0.0.1:9000/thanos"
    aws = objstore.parse(config_text(endpoint="s3.eu-west-1.amazonaws.com", insecure=False), "f")
    assert objstore.bucket_url(aws) == "https://thanos.s3.eu-west-1.amazonaws.com/"
    dotted = objstore.parse(config_text(endpoint="s3.amazonaws.com", insecure=False, bucket="a.b"), "f")
    assert objstore.bucket_url(dotted) == "https://s3.amazonaws.com/a.b"
    forced = objstore.parse(config_text(bucket_lookup_type="virtual-hosted"), "f")
    assert objstore.bucket_url(forced) == "http://thanos.127.0.0.1:9000/"


# ---- the bucket check, against the stand-in S3 endpoint --------------------------------------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinS3]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with serving(StandinS3(ACCESS, SECRET, region="us-east-1", buckets={"thanos"})) as server:
        yield server


def store_for(endpoint: str, **fields: object) -> objstore.ObjectStore:
    return objstore.parse(config_text(endpoint=endpoint, **fields), "objstore.yml")


def check_fails(store: objstore.ObjectStore, timeout: float = 5.0) -> KuratorError:
    with pytest.raises(KuratorError) as info:
        objstore.check_bucket(store, timeout=timeout)
    shown = f"{info.value} {info.value.message} {info.value.hint}"
    for credential in CREDENTIALS:
        assert credential not in shown
    return info.value


def test_check_passes_when_the_signed_request_finds_the_bucket(s3: StandinS3) -> None:
    objstore.check_bucket(store_for(s3.endpoint), timeout=5)
    assert s3.seen == [("/thanos", 200)]  # one request, and its SigV4 signature verified


def test_check_names_a_missing_bucket(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, bucket="other"))
    assert isinstance(err, InvalidInput)
    assert err.message == f"bucket 'other' does not exist at {s3.endpoint}"


def test_check_reports_refused_credentials_without_showing_them(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, secret_key=SECRET + "-wrong"))
    assert isinstance(err, InvalidInput)
    assert "refused access to bucket 'thanos' (HTTP 403)" in err.message
    assert "config.access_key and config.secret_key" in (err.hint or "")
    assert SECRET + "-wrong" not in str(err)


def test_check_finds_the_region_by_itself_when_none_is_set(s3: StandinS3) -> None:
    s3.region = "eu-central-1"
    objstore.check_bucket(store_for(s3.endpoint), timeout=5)
    assert [status for _, status in s3.seen] == [400, 200]


def test_check_reports_a_wrong_region_that_was_set(s3: StandinS3) -> None:
    s3.region = "eu-central-1"
    err = check_fails(store_for(s3.endpoint, region="us-west-2"))
    assert (
        err.message
        == "bucket 'thanos' is in region eu-central-1, but the config signs requests for us-west-2"
    )
    assert err.hint == "set config.region: eu-central-1"


def test_check_reports_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    err = check_fails(store_for(f"127.0.0.1:{port}"))
    assert not isinstance(err, InvalidInput)
    assert err.message.startswith(f"cannot connect to the object store at 127.0.0.1:{port}")
    assert "nothing listens" in (err.hint or "")


def test_check_gives_up_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        err = check_fails(store_for(f"127.0.0.1:{port}"), timeout=0.3)
    assert err.message == f"the object store at 127.0.0.1:{port} did not answer within 0.3s"


def test_check_explains_https_against_a_plain_http_endpoint(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, insecure=False))
    assert "cannot connect" in err.message
    assert err.hint == "the endpoint seems to speak plain HTTP: set config.insecure: true"


def test_credentials_are_not_shown_by_a_config_with_a_session_token(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, session_token=TOKEN, access_key="AKIAOTHERKEY0000"))
    assert "HTTP 403" in err.message


def test_the_object_store_module_does_not_import_botocore_at_start() -> None:
    import subprocess
    import sys

    code = "import sys, kurator.monitoring.objstore; print('botocore' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_yaml_errors_keep_a_quoted_character_but_no_longer_text() -> None:
    err = failure("type: S3\nconfig:\n\tbucket: x\n")
    assert err.message == (
        "objstore.yml is not valid YAML: found character '\\t' that cannot start any token "
        "at line 3, column 1"
    )


def test_check_names_tls_files_it_cannot_read(s3: StandinS3) -> None:
    store = store_for(
        s3.endpoint, insecure=False, http_config={"tls_config": {"ca_file": "/nonexistent/ca.crt"}}
    )
    err = check_fails(store)
    assert isinstance(err, InvalidInput)
    assert err.message.startswith("the TLS files named in config.http_config.tls_config cannot be used here")
