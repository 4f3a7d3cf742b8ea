"""The object-store check: one signed request to the bucket, against a stand-in S3 endpoint on loopback
(tests/integration/s3_standin.py, written for these tests: not MinIO, not AWS), a port where nothing
listens and one that never answers; every failure named, no credential ever shown."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import yaml

from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import http
from kurator.monitoring import bucketcheck, objstore

from .s3_standin import StandinS3, serving

pytestmark = pytest.mark.integration

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
    config.update(fields)
    return yaml.safe_dump({"type": "S3", "config": config}, sort_keys=False)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinS3]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with serving(StandinS3(ACCESS, SECRET, region="us-east-1", buckets={"thanos"})) as server:
        yield server


def store_for(endpoint: str, **fields: object) -> objstore.ObjectStore:
    return objstore.parse(config_text(endpoint=endpoint, **fields), "objstore.yml")


def check_fails(store: objstore.ObjectStore, timeout: float = 5.0) -> KuratorError:
    with pytest.raises(KuratorError) as info:
        bucketcheck.check_bucket(store, http.sender(timeout=timeout))
    shown = f"{info.value} {info.value.message} {info.value.hint}"
    for credential in CREDENTIALS:
        assert credential not in shown
    return info.value


def test_check_passes_when_the_signed_request_finds_the_bucket(s3: StandinS3) -> None:
    bucketcheck.check_bucket(store_for(s3.endpoint), http.sender(timeout=5))
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
    bucketcheck.check_bucket(store_for(s3.endpoint), http.sender(timeout=5))
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
    assert err.message.startswith(
        f"cannot connect to http://127.0.0.1:{port} while checking bucket 'thanos' of the object store"
    )
    assert "nothing listens" in (err.hint or "")


def test_check_gives_up_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        err = check_fails(store_for(f"127.0.0.1:{port}"), timeout=0.3)
    assert err.message == (
        f"http://127.0.0.1:{port} did not answer checking bucket 'thanos' of the object store within 0.3s"
    )
    assert err.hint and "check config.endpoint" in err.hint


def test_check_explains_https_against_a_plain_http_endpoint(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, insecure=False))
    assert "cannot connect" in err.message
    assert err.hint == "the endpoint seems to speak plain HTTP: set config.insecure: true"


def test_credentials_are_not_shown_by_a_config_with_a_session_token(s3: StandinS3) -> None:
    err = check_fails(store_for(s3.endpoint, session_token=TOKEN, access_key="AKIAOTHERKEY0000"))
    assert "HTTP 403" in err.message


def test_check_names_tls_files_it_cannot_read(s3: StandinS3) -> None:
    store = store_for(
        s3.endpoint, insecure=False, http_config={"tls_config": {"ca_file": "/nonexistent/ca.crt"}}
    )
    err = check_fails(store)
    assert isinstance(err, InvalidInput)
    assert err.message.startswith("the TLS files named in config.http_config.tls_config cannot be used here")
