"""No call without a deadline, and every network failure in one sentence naming what and where: the CLI as
a user runs it against servers on 127.0.0.1 that misbehave (stand-ins for a stuck or dying API server or
Thanos Query, which a real one cannot be made to do on demand): one that trickles its answer a byte a
second, one that hangs up without answering, and a port where nothing listens."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.helpers import kurator

pytestmark = pytest.mark.e2e

DEADLINE = 3.0
SLACK = 20.0  # the CLI's start-up and a busy machine; without a deadline these commands ran for minutes


class Misbehaving:
    """A TCP server on 127.0.0.1 answering every connection with ``behave`` in its own thread."""

    def __init__(self, behave: Callable[[socket.socket, threading.Event], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(behave,), daemon=True)
        self.thread.start()

    def _serve(self, behave: Callable[[socket.socket, threading.Event], None]) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(behave, conn), daemon=True).start()

    def _one(self, behave: Callable[[socket.socket, threading.Event], None], conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            conn.recv(65536)  # the request
            behave(conn, self.stopped)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def trickle(conn: socket.socket, stopped: threading.Event) -> None:
    """A valid answer, one byte a second (600+ s in all): every read gets a byte well within any read
    timeout, so only an overall deadline ends the request."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n" + b" " * 600
    for byte in answer:
        if stopped.wait(1.0):
            return
        conn.sendall(bytes([byte]))


def hang_up(conn: socket.socket, stopped: threading.Event) -> None:
    """Read the request, answer nothing, close: what a dying API server does mid-request."""


@pytest.fixture
def slow() -> Iterator[Misbehaving]:
    server = Misbehaving(trickle)
    yield server
    server.close()


@pytest.fixture
def dying() -> Iterator[Misbehaving]:
    server = Misbehaving(hang_up)
    yield server
    server.close()


def _kubeconfig(folder: Path, server: str) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


def _timed(*args: str, env: dict[str, str] | None = None) -> tuple[float, str, int]:
    began = time.monotonic()
    proc = kurator(*args, timeout=120, env=env)
    return time.monotonic() - began, proc.stderr, proc.returncode


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["get", "clusters"], "listing clusters.cluster.karmada.io"),
        # fleet commands first ask whether the server is Karmada's (or records the Karmada serving it)
        (["get", "components"], "listing clusters.cluster.karmada.io"),
        (["query", "up"], "querying Thanos Query"),
    ],
)
def test_a_server_that_trickles_its_answer_is_given_up_on_at_the_deadline(
    slow: Misbehaving, tmp_path: Path, command: list[str], what: str
) -> None:
    kubeconfig = _kubeconfig(tmp_path, slow.url)
    extra = ["--url", slow.url] if command[0] == "query" else []
    took, err, code = _timed(
        "--kubeconfig", str(kubeconfig), "--request-timeout", f"{DEADLINE:g}s", *command, *extra
    )
    assert code == 1, err
    assert took < DEADLINE + SLACK, f"{command} took {took:.1f}s"
    assert f"{slow.url} did not answer {what} within {DEADLINE:g}s" in err, err
    assert "unexpected" not in err and "Traceback" not in err
    assert "not-a-real-token" not in err


def test_the_default_deadline_applies_without_the_flag(slow: Misbehaving, tmp_path: Path) -> None:
    took, err, code = _timed("--kubeconfig", str(_kubeconfig(tmp_path, slow.url)), "get", "components")
    assert code == 1, err
    assert 25 < took < 30 + SLACK, f"took {took:.1f}s"
    assert "did not answer listing clusters.cluster.karmada.io within 30s" in err, err


def test_a_server_that_hangs_up_is_named_with_what_was_being_done(dying: Misbehaving, tmp_path: Path) -> None:
    for command, what in (
        (["get", "clusters"], "listing clusters.cluster.karmada.io"),
        (["query", "up", "--url", dying.url], "querying Thanos Query"),
    ):
        _, err, code = _timed("--kubeconfig", str(_kubeconfig(tmp_path, dying.url)), *command)
        assert code == 1, err
        assert f"{dying.url} broke off {what}" in err, err
        assert "unexpected" not in err and "members" not in err


def test_nothing_listening_is_named_with_the_address(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    url = f"http://127.0.0.1:{port}"
    for command, what in (
        (["get", "components"], "listing clusters.cluster.karmada.io"),
        (["query", "up", "--url", url], "querying Thanos Query"),
    ):
        _, err, code = _timed("--kubeconfig", str(_kubeconfig(tmp_path, url)), *command)
        assert code == 1, err
        assert f"cannot connect to {url} while {what}" in err, err
        assert "unexpected" not in err


def test_kubeconfig_files_listed_in_KUBECONFIG_are_merged(dying: Misbehaving, tmp_path: Path) -> None:
    """The context and user come from one file, the cluster it names from the other (kubectl's merge)."""
    users = tmp_path / "users"
    users.write_text(
        yaml.safe_dump(
            {
                "current-context": "x",
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    clusters = tmp_path / "clusters"
    clusters.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": dying.url}}],
                "contexts": [{"name": "y", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    _, err, code = _timed(
        "get", "components", env={"KUBECONFIG": f"{users}:{tmp_path / 'missing'}:{clusters}"}
    )
    assert code == 1, err
    assert f"{dying.url} broke off listing clusters.cluster.karmada.io" in err, err
