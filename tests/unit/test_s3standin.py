"""The local fleet's S3 stand-in (moto behind a SigV4 check) as a real process on loopback: it serves the
fleet's credentials and no one else. botocore signs as Thanos's S3 client does (SigV4)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import httpx2
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

KEY, SECRET = "KLTESTACCESSKEY00001", "the-fleets-own-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    creds = tmp_path_factory.mktemp("s3") / "credentials.json"
    creds.write_text(json.dumps({"access_key": KEY, "secret_key": SECRET}))
    port = _free_port()
    argv = [sys.executable, "-m", "kurator.local.s3standin", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*argv, "--credentials", str(creds)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(url, timeout=1)
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _client(url: str, key: str = KEY, secret: str = SECRET) -> Any:
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def test_the_fleets_credentials_read_and_write(standin: str) -> None:
    s3 = _client(standin)
    s3.create_bucket(Bucket="blocks")
    s3.put_object(Bucket="blocks", Key="01ABC/meta.json", Body=b'{"ulid": "01ABC"}')
    assert s3.get_object(Bucket="blocks", Key="01ABC/meta.json")["Body"].read() == b'{"ulid": "01ABC"}'
    listed = s3.list_objects_v2(Bucket="blocks", Prefix="01", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["01ABC/"]
    # the stand-in is shared by this module's tests: others may have made buckets of their own
    assert "blocks" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [(KEY, "a-guess", "SignatureDoesNotMatch"), ("AKIAOTHERKEY", SECRET, "InvalidAccessKeyId")],
)
def test_other_credentials_are_refused(standin: str, key: str, secret: str, code: str) -> None:
    with pytest.raises(ClientError) as err:
        _client(standin, key, secret).list_buckets()
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),  # list buckets
        ("GET", "/blocks?list-type=2"),
        ("PUT", "/blocks/anonymous"),
        ("GET", "/moto-api/data.json"),  # moto's dashboard: every object it holds
        ("POST", "/moto-api/reset"),
    ],
)
def test_anonymous_requests_get_nothing(standin: str, method: str, path: str) -> None:
    resp = httpx2.request(method, f"{standin}{path}", content=b"x" if method == "PUT" else None)
    assert resp.status_code == 403, resp.text
    assert b"<Code>AccessDenied</Code>" in resp.content
    assert b"blocks" not in resp.content


def _signed(url: str, method: str, body: bytes, **headers: str) -> AWSRequest:
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
    return req


def test_a_body_that_is_not_the_one_signed_is_refused(standin: str) -> None:
    _client(standin).create_bucket(Bucket="tamper")
    req = _signed(f"{standin}/tamper/key", "PUT", b"what was signed")
    resp = httpx2.put(str(req.url), headers=dict(req.headers.items()), content=b"something else!")
    assert resp.status_code == 403 and b"XAmzContentSHA256Mismatch" in resp.content
    ok = httpx2.put(str(req.url), headers=dict(req.headers.items()), content=b"what was signed")
    assert ok.status_code == 200


def test_a_replayed_signature_is_refused_for_another_request(standin: str) -> None:
    req = _signed(f"{standin}/tamper?list-type=2", "GET", b"")
    resp = httpx2.get(f"{standin}/?list-type=2", headers=dict(req.headers.items()))
    assert resp.status_code == 403 and b"SignatureDoesNotMatch" in resp.content


def test_a_signature_made_long_ago_is_refused(standin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    class LongAgo(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> LongAgo:
            return cls(2020, 1, 1, tzinfo=tz)

    monkeypatch.setattr(dt, "datetime", LongAgo)  # botocore.auth reads the clock through this module
    req = _signed(f"{standin}/", "GET", b"")
    monkeypatch.undo()
    assert req.headers["X-Amz-Date"] == "20200101T000000Z"
    resp = httpx2.get(f"{standin}/", headers=dict(req.headers.items()))
    assert resp.status_code == 403 and b"RequestTimeTooSkewed" in resp.content


def test_the_fleet_passes_its_secret_in_a_private_file_never_on_a_command_line(tmp_path: Path) -> None:
    """Every local user can read a process's command line: the secret stays in a 0600 file."""
    from kurator.local import config, monitoring
    from kurator.local import monitoring_access as access
    from kurator.local.layout import FleetLayout

    layout = FleetLayout(tmp_path)
    names = monitoring.port_names(["member1"], 1)
    cfg = config.FleetConfig(
        name="dev",
        members=1,
        nodes=1,
        kubernetes_version="1.35.4",
        network="loopback",
        address="127.0.0.1",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6443, "member1": 6444},
        monitoring=config.MonitoringConfig(ports={n: 20000 + i for i, n in enumerate(names)}),
    )
    access.ensure(cfg, layout)
    secret = access.s3_credentials(layout).secret_key
    assert access.s3_credentials_file(layout).stat().st_mode & 0o777 == 0o600
    bins = {"prometheus": Path("/bin/prometheus"), "thanos": Path("/bin/thanos")}
    specs = monitoring.specs(cfg, layout, bins, None)
    assert not any(secret in arg for spec in specs.values() for arg in spec.argv)
    s3 = specs["host/s3"].argv
    assert s3[1:3] == ["-m", "kurator.local.s3standin"]
    assert s3[s3.index("--credentials") + 1] == str(access.s3_credentials_file(layout))
