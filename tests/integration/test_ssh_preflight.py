"""SSH preflight and SFTP fetch against real OpenSSH servers: each host is a network namespace of this
run with Debian's sshd in it (tests/integration/sshhosts.py). The one stand-in: the host "without python"
is a namespace whose python3 executables are covered by an empty file in its sshd's mount namespace, and
the admin.conf fetched is a file the test wrote, not one Kubespray made."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
import yaml

from kurator.core.errors import InvalidInput, KuratorError
from kurator.ssh import fetch
from kurator.ssh.keys import load_private_key
from kurator.ssh.preflight import Host, HostResult, check_hosts

from .sshhosts import NOLOGIN_USER, NON_ROOT_USER, SshHost, SshTestbed, SshTestbedError

pytestmark = pytest.mark.integration

TIMEOUT = 3.0
# Loose: a refused connection or a timed-out one must come back in seconds, not minutes.
BOUND = 10.0


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestbed]:
    """Three good hosts, one without python, one namespace where nothing listens."""
    try:
        bed = SshTestbed(tmp_path_factory.mktemp("sshhosts"))
    except SshTestbedError as exc:
        pytest.fail(f"SSH test hosts cannot be built: {exc}")
    try:
        try:
            for _ in range(3):
                bed.add_host()
            bed.add_host(python=False)
            bed.add_host(sshd=False)
        except SshTestbedError as exc:
            pytest.fail(f"SSH test hosts cannot be built: {exc}")
        yield bed
    finally:
        bed.close()


def _good(bed: SshTestbed) -> list[SshHost]:
    return [h for h in bed.hosts if h.sshd and h.python]


def _as_hosts(hosts: list[SshHost]) -> list[Host]:
    return [Host(f"node{h.index}", h.address) for h in hosts]


def _check(hosts: list[Host], key: str, **kwargs: object) -> tuple[list[HostResult], float]:
    started = time.monotonic()
    results = asyncio.run(check_hosts(hosts, key, timeout_per_host=TIMEOUT, **kwargs))  # type: ignore[arg-type]
    return results, time.monotonic() - started


def test_good_key_passes_on_every_host(testbed: SshTestbed) -> None:
    good = _good(testbed)
    assert len(good) >= 2, "the testbed has no good hosts to check"
    results, _ = _check(_as_hosts(good), testbed.private_key)
    assert [r.host.address for r in results] == [h.address for h in good]
    for result, host in zip(results, good, strict=True):
        assert result.ok, result.message
        assert result.stage == "python"
        assert result.python and result.python.startswith("3.")
        assert result.message == f"{host.address}:22: ok (python {result.python})"
        fingerprint = asyncssh.import_public_key(host.host_key_public).get_fingerprint()
        assert result.host_key == fingerprint


def test_wrong_key_fails_at_auth_on_every_host(testbed: SshTestbed) -> None:
    results, _ = _check(_as_hosts(_good(testbed)), testbed.wrong_key)
    assert len(results) >= 2, "no host was checked"
    for result in results:
        assert not result.ok
        assert result.stage == "auth"
        assert (
            result.message
            == f"{result.host.address}:22: authentication as root with the given key was refused"
        )


def test_nothing_listening_fails_at_connect_in_seconds(testbed: SshTestbed) -> None:
    dead = next(h for h in testbed.hosts if not h.sshd)
    results, seconds = _check(_as_hosts([dead]), testbed.private_key)
    assert not results[0].ok
    assert results[0].stage == "connect"
    assert results[0].message == f"{dead.address}:22: connection refused (no SSH server listens on that port)"
    assert seconds < BOUND


def test_silent_server_times_out_at_connect(testbed: SshTestbed) -> None:
    # A TCP listener on loopback that never sends an SSH banner: the connection opens, SSH never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        results, seconds = _check([Host("silent", "127.0.0.1")], testbed.private_key, port=port)
    assert not results[0].ok
    assert results[0].stage == "connect"
    assert results[0].message == f"127.0.0.1:{port}: no SSH answer within {TIMEOUT:g}s"
    assert TIMEOUT <= seconds < BOUND


def test_host_without_python_fails_at_python(testbed: SshTestbed) -> None:
    bare = next(h for h in testbed.hosts if not h.python)
    results, _ = _check(_as_hosts([bare]), testbed.private_key)
    assert not results[0].ok
    assert results[0].stage == "python"
    assert results[0].message == f"{bare.address}:22: no python3 on the host (Kubespray needs it)"


def test_user_without_passwordless_sudo_fails_at_sudo(testbed: SshTestbed) -> None:
    hosts = _as_hosts(_good(testbed)[:1])
    results, _ = _check(hosts, testbed.private_key, user=NON_ROOT_USER)
    assert (results[0].ok, results[0].stage) == (False, "sudo")
    assert results[0].message == (
        f"{hosts[0].address}:22: {NON_ROOT_USER} cannot run sudo without a password "
        "(Kubespray needs it to become root: log in as root, or allow NOPASSWD sudo)"
    )
    results, _ = _check(hosts, testbed.private_key, user=NON_ROOT_USER, need_sudo=False)
    assert (results[0].ok, results[0].stage) == (True, "python")


def test_user_whose_shell_runs_nothing_fails_at_python_with_the_shells_words(testbed: SshTestbed) -> None:
    hosts = _as_hosts(_good(testbed)[:1])
    results, _ = _check(hosts, testbed.private_key, user=NOLOGIN_USER)
    assert (results[0].ok, results[0].stage) == (False, "python")
    assert results[0].message == (
        f"{hosts[0].address}:22: the check for python3 could not run "
        "(This account is currently not available.)"
    )


def test_mixed_cluster_reports_each_host_in_order_within_one_timeout(testbed: SshTestbed) -> None:
    results, seconds = _check(_as_hosts(testbed.hosts), testbed.private_key)
    assert [(r.ok, r.stage) for r in results] == [
        (True, "python"),
        (True, "python"),
        (True, "python"),
        (False, "python"),
        (False, "connect"),
    ]
    assert seconds < BOUND


def test_known_hosts_pins_host_keys(testbed: SshTestbed) -> None:
    good = _good(testbed)
    results, _ = _check(_as_hosts(good), testbed.private_key, known_hosts=testbed.known_hosts())
    assert all(r.ok for r in results), [r.message for r in results]
    # The first host's key, claimed for the second host's address: the second host does not match.
    swapped = f"{good[1].address} {good[0].host_key_public}\n"
    results, _ = _check(_as_hosts(good[1:2]), testbed.private_key, known_hosts=swapped)
    assert (results[0].ok, results[0].stage) == (False, "hostkey")
    assert "host key is not the one in known hosts" in results[0].message


def _fragments(key: str) -> list[str]:
    """The key's body lines, and long slices of them: none may appear anywhere."""
    lines = [line for line in key.splitlines() if line and not line.startswith("-----")]
    return lines + [line[i : i + 24] for line in lines for i in range(0, max(len(line) - 24, 1), 12)]


def test_private_key_never_appears_in_results_or_logs(
    testbed: SshTestbed, caplog: pytest.LogCaptureFixture
) -> None:
    previous = logging.getLogger("asyncssh").level
    asyncssh.set_debug_level(2)
    caplog.set_level(logging.DEBUG)
    asyncssh.set_log_level(logging.DEBUG)
    try:
        texts: list[str] = []
        for key in (testbed.private_key, testbed.wrong_key):
            results, _ = _check(_as_hosts(testbed.hosts), key)
            texts += [json.dumps(r.as_dict()) for r in results] + [repr(r) for r in results]
        texts.append(repr(load_private_key(testbed.private_key)))
        lines = testbed.private_key.splitlines()
        broken = "\n".join([*lines[:2], lines[-1]])  # armour and the first body line only
        with pytest.raises(InvalidInput) as excinfo:
            load_private_key(broken)
        texts += [str(excinfo.value), repr(excinfo.value), str(excinfo.value.__context__)]
        log = caplog.text
    finally:
        asyncssh.set_debug_level(1)
        asyncssh.set_log_level(previous)
    assert "Auth for user root succeeded" in log  # asyncssh's own log was captured, at debug level
    fragments = _fragments(testbed.private_key) + _fragments(testbed.wrong_key)
    assert len(fragments) > 10 and len(texts) > 4, "nothing to look for, or nowhere to look"
    for fragment in fragments:
        assert fragment not in log
        for text in texts:
            assert fragment not in text


def test_sftp_fetch_returns_the_file_and_rewrite_points_it_at_the_endpoint(testbed: SshTestbed) -> None:
    host = _good(testbed)[0]
    admin_conf = testbed.workdir / "admin.conf"
    admin_conf.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "cluster.local", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "contexts": [{"name": "admin", "context": {"cluster": "cluster.local", "user": "admin"}}],
                "current-context": "admin",
                "users": [{"name": "admin", "user": {"client-key-data": "c2VjcmV0"}}],
            }
        )
    )
    data = asyncio.run(fetch.fetch_file(host.address, testbed.private_key, str(admin_conf), timeout=TIMEOUT))
    assert data == admin_conf.read_bytes()

    rewritten = yaml.safe_load(fetch.with_server(data, host.address))
    assert rewritten["clusters"][0]["cluster"]["server"] == f"https://{host.address}:6443"
    assert rewritten["users"] == yaml.safe_load(data)["users"]


def test_sftp_fetch_failures_name_host_and_file(testbed: SshTestbed, tmp_path: Path) -> None:
    host, dead = _good(testbed)[0], next(h for h in testbed.hosts if not h.sshd)
    missing = str(tmp_path / "admin.conf")
    big = testbed.workdir / "big.conf"
    big.write_bytes(b"x" * 100)

    def failure(address: str, path: str, **kwargs: object) -> str:
        with pytest.raises(KuratorError) as excinfo:
            asyncio.run(fetch.fetch_file(address, testbed.private_key, path, timeout=TIMEOUT, **kwargs))  # type: ignore[arg-type]
        return str(excinfo.value)

    assert failure(host.address, missing) == (
        f"{host.address}:22: cannot fetch {missing}: "
        "it does not exist (has the cluster been created on this host?)"
    )
    assert failure(host.address, str(big), max_bytes=10) == (
        f"{host.address}:22: cannot fetch {big}: it has 100 bytes, more than the 10 allowed"
    )
    assert failure(dead.address, missing) == (
        f"cannot fetch {missing} from {dead.address}:22: "
        "connection refused (no SSH server listens on that port)"
    )
