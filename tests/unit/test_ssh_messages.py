"""The sentences the SSH preflight turns failures and probe answers into, and the guard that keeps the
private key out of them."""

from __future__ import annotations

import errno
import json
import socket

import asyncssh
import pytest

from kurator.core.errors import InvalidInput
from kurator.ssh.keys import REDACTED, PrivateKey, load_private_key
from kurator.ssh.preflight import Host, HostResult, Probe, judge, parse_probe
from kurator.ssh.session import Target, explain

KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh").decode()
BODY = [line for line in KEY.splitlines() if not line.startswith("-----")]
TARGET = Target("10.0.0.5")


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return load_private_key(KEY)


@pytest.mark.parametrize(
    ("exc", "stage", "message"),
    [
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            "connect",
            "10.0.0.5:22: connection refused (no SSH server listens on that port)",
        ),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "connect", "10.0.0.5:22: no route to the host"),
        (
            OSError(errno.ENETUNREACH, "Network is unreachable"),
            "connect",
            "10.0.0.5:22: the network is unreachable",
        ),
        (OSError(errno.EACCES, "Permission denied"), "connect", "10.0.0.5:22: Permission denied"),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "connect",
            "10.0.0.5:22: the address cannot be resolved (Name or service not known)",
        ),
        (TimeoutError(), "connect", "10.0.0.5:22: no SSH answer within 5s"),
        (
            asyncssh.PermissionDenied("Permission denied"),
            "auth",
            "10.0.0.5:22: authentication as root with the given key was refused",
        ),
        (
            asyncssh.HostKeyNotVerifiable("Host key is not trusted"),
            "hostkey",
            "10.0.0.5:22: its host key is not the one in known hosts "
            "(a reinstalled machine, or someone in between)",
        ),
        (asyncssh.ConnectionLost("closed"), "connect", "10.0.0.5:22: the connection was closed by the host"),
        (
            asyncssh.DisconnectError(asyncssh.DISC_TOO_MANY_CONNECTIONS, "Too many connections"),
            "connect",
            "10.0.0.5:22: the SSH server disconnected: Too many connections",
        ),
    ],
)
def test_connect_failures_read_as_one_sentence_naming_the_host(
    exc: BaseException,
    stage: str,
    message: str,
    key: PrivateKey,
) -> None:
    assert explain(exc, TARGET, "connect", 5, key) == (stage, message)


def test_timeouts_name_the_stage_that_did_not_finish(key: PrivateKey) -> None:
    assert explain(TimeoutError(), TARGET, "python", 2.5, key) == (
        "python",
        "10.0.0.5:22: the check for python3 did not finish within 2.5s",
    )


def test_ipv6_hosts_are_bracketed() -> None:
    assert str(Target("fd00::5", 2222)) == "[fd00::5]:2222"


def test_text_from_elsewhere_is_scrubbed_of_the_key(key: PrivateKey) -> None:
    reason = f"server says: {BODY[1]} and {KEY}"
    _, message = explain(
        asyncssh.DisconnectError(asyncssh.DISC_BY_APPLICATION, reason), TARGET, "auth", 5, key
    )
    assert REDACTED in message
    assert all(line not in message for line in BODY)
    _, message = explain(RuntimeError(BODY[2]), TARGET, "connect", 5, key)
    assert message == f"10.0.0.5:22: RuntimeError: {REDACTED}"


def test_key_repr_shows_only_its_public_fingerprint(key: PrivateKey) -> None:
    text = repr(key)
    assert text.startswith("PrivateKey(ssh-ed25519, SHA256:")
    assert all(line not in text for line in BODY)


@pytest.mark.parametrize(
    ("material", "problem"),
    [
        ("hello", "it is not an OpenSSH, PEM or PKCS#8 private key"),
        (
            "\n".join([*KEY.splitlines()[:2], KEY.splitlines()[-1]]),
            "it is not an OpenSSH, PEM or PKCS#8 private key",
        ),
        (b"\xff\x00" * 40, "it is not an OpenSSH, PEM or PKCS#8 private key"),
        (
            asyncssh.import_private_key(KEY).export_public_key("openssh").decode(),
            "it is a public key; the Secret must hold the private one",
        ),
        (
            asyncssh.import_private_key(KEY).export_private_key("pkcs8-pem", passphrase="pw").decode(),
            "it is protected by a passphrase",
        ),
    ],
)
def test_unreadable_keys_say_why_without_quoting_the_key(material: str | bytes, problem: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_private_key(material)
    assert excinfo.value.message == f"the SSH private key cannot be read: {problem}"
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None
    text = material.decode(errors="replace") if isinstance(material, bytes) else material
    body = [line for line in text.splitlines() if len(line) >= 16 and not line.startswith("-----")]
    assert all(line not in str(excinfo.value) for line in body)


def test_probe_output_is_read_past_banners() -> None:
    assert parse_probe("Welcome to node1!\npython=3.11\nsudo=root\n") == Probe("3.11", "root")
    assert parse_probe("sudo=no\n") == Probe(None, "no")
    assert parse_probe("") == Probe(None, None)
    assert parse_probe("python=3.6\nsudo=maybe\n") == Probe("3.6", None)


@pytest.mark.parametrize(
    ("probe", "user", "need_sudo", "verdict"),
    [
        (Probe("3.11", "root"), "root", True, (True, "python", "10.0.0.5:22: ok (python 3.11)")),
        (
            Probe(None, "root"),
            "root",
            True,
            (False, "python", "10.0.0.5:22: no python3 on the host (Kubespray needs it)"),
        ),
        (
            Probe("2.7", "root"),
            "root",
            True,
            (False, "python", "10.0.0.5:22: python3 answers as version 2.7, not 3.x"),
        ),
        (
            Probe("3.9", "yes"),
            "ubuntu",
            True,
            (True, "sudo", "10.0.0.5:22: ok (python 3.9, passwordless sudo)"),
        ),
        (
            Probe("3.9", "no"),
            "ubuntu",
            True,
            (
                False,
                "sudo",
                "10.0.0.5:22: ubuntu cannot run sudo without a password "
                "(Kubespray needs it to become root: log in as root, or allow NOPASSWD sudo)",
            ),
        ),
        (Probe("3.9", "no"), "ubuntu", False, (True, "python", "10.0.0.5:22: ok (python 3.9)")),
    ],
)
def test_probe_answers_are_judged_for_kubespray(
    probe: Probe, user: str, need_sudo: bool, verdict: tuple[bool, str, str]
) -> None:
    assert judge(probe, Target("10.0.0.5", 22, user), need_sudo) == verdict


def test_a_probe_the_shell_did_not_run_says_so() -> None:
    target = Target("10.0.0.5", 22, "svc")
    assert judge(Probe(None, None), target, True, "\nThis account is currently not available.\n") == (
        False,
        "python",
        "10.0.0.5:22: the check for python3 could not run (This account is currently not available.)",
    )
    assert judge(Probe(None, None), target, True) == (
        False,
        "python",
        "10.0.0.5:22: the check for python3 could not run (no output)",
    )


def test_results_serialise_for_a_status() -> None:
    result = HostResult(Host("node1", "10.0.0.5"), True, "python", "ok", "3.11", "SHA256:abc", 0.12345)
    assert json.loads(json.dumps(result.as_dict())) == {
        "host": "node1",
        "address": "10.0.0.5",
        "ok": True,
        "stage": "python",
        "message": "ok",
        "python": "3.11",
        "hostKey": "SHA256:abc",
        "seconds": 0.123,
    }
