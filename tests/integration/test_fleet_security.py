"""No port of the local fleet serves data to an anonymous local user.

For every socket the fleet's processes listen on (etcd's client and peer ports, every API server,
Karmada's servers, Prometheus, the Thanos sidecars, Query, Store Gateway and Compactor, the S3 stand-in),
an unprivileged user (``runuser -u nobody``, inside the fleet's network namespace when it runs in one) asks
for what those servers hold, in plain HTTP, in TLS without a certificate and in gRPC: no answer carries
data. A plain HTTP server started beside them is the probe's control: there, it must find data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kurator.local.fleet import UpResult, link_of, load_records

pytestmark = pytest.mark.integration

PROBE = Path(__file__).with_name("anonymous_probe.py")
_LISTEN = re.compile(r"^LISTEN\s+\S+\s+\S+\s+(?P<addr>\S+):(?P<port>\d+)\s+\S+\s*(?P<users>.*)$")


def _in_fleet(fleet: UpResult, argv: list[str]) -> list[str]:
    link = link_of(fleet.config)
    return ["ip", "netns", "exec", link.netns, *argv] if link else argv


def _listening(fleet: UpResult) -> dict[str, str]:
    """``address:port`` -> the fleet process listening there, for every listening TCP socket of the fleet."""
    by_pid = {rec.pid: name for name, rec in load_records(fleet.layout).items()}
    # A process that nsenter started is the process itself; Python's (the S3 stand-in) has no children.
    out = subprocess.run(_in_fleet(fleet, ["ss", "-ltnpH"]), capture_output=True, text=True, check=True)
    sockets = {}
    for line in out.stdout.splitlines():
        match = _LISTEN.match(line.strip())
        if match is None:
            continue
        pids = {int(p) for p in re.findall(r"pid=(\d+)", match["users"])}
        names = sorted(by_pid[p] for p in pids if p in by_pid)
        if names:
            sockets[f"{match['addr']}:{match['port']}"] = names[0]
    return sockets


def _for_all(path: Path, bits: int = 0o001) -> bool:
    """Whether any user reaches ``path`` (every folder on the way searchable) with ``bits`` on it (0o001:
    may run it, 0o004: may read it)."""
    real = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in real.parents) and bool(real.stat().st_mode & bits)


def _python_for_nobody() -> str:
    """A Python of this version that `nobody` may run (this one may live in root's home), with this
    environment's packages (httpx2, h2: pure Python) on PYTHONPATH."""
    for candidate in (
        Path(sys.executable),
        Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"),
    ):
        if candidate.exists() and _for_all(candidate):
            return str(candidate)
    raise AssertionError(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that `nobody` may run")


def _probe_as_nobody(fleet: UpResult, targets: list[str]) -> dict[str, list[str]]:
    packages = sysconfig.get_paths()["purelib"]
    assert _for_all(Path(packages), 0o005) and _for_all(PROBE, 0o004), "the probe must be readable by all"
    python = [_python_for_nobody(), str(PROBE), *targets]
    argv = ["runuser", "-u", "nobody", "--", "env", f"PYTHONPATH={packages}", *python]
    proc = subprocess.run(_in_fleet(fleet, argv), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["uid"] == int(subprocess.check_output(["id", "-u", "nobody"]))
    return report["targets"]  # type: ignore[no-any-return]


def _open_server(fleet: UpResult, folder: Path) -> tuple[subprocess.Popen[str], str]:
    """The probe's control: a plain HTTP server that hands anyone its files, beside the fleet."""
    (folder / "metrics").write_text("secret_metric 1\n")
    folder.chmod(0o755)
    address = fleet.config.address
    argv = [sys.executable, "-u", "-m", "http.server", "--bind", address, "0", "--directory", str(folder)]
    server = subprocess.Popen(_in_fleet(fleet, argv), stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()  # "Serving HTTP on <address> port <port> ..."
    port = re.search(r"port (\d+)", line)
    assert port, line
    return server, f"{address}:{port[1]}"


def _no_data(fleet: UpResult, sockets: dict[str, str], folder: Path) -> None:
    """Ask every socket as `nobody`: no answer carries data and every one was reached, while the same
    questions get data from the control."""
    server, control = _open_server(fleet, folder)
    try:
        found = _probe_as_nobody(fleet, [*sorted(sockets), control])
    finally:
        server.terminate()
        server.wait(10)
    leaked = found.pop(control)
    assert any(o.endswith("b'secret_metric 1\\n'") for o in leaked if "GET /metrics" in o), leaked
    leaks = {
        f"{sockets[target]} ({target})": [o for o in outcomes if ": DATA" in o]
        for target, outcomes in found.items()
    }
    assert {k: v for k, v in leaks.items() if v} == {}
    refused = [t for t, outcomes in found.items() if all("connect error" in o for o in outcomes)]
    assert refused == [], "the probe could not reach these listening ports at all"


def _needs_root() -> None:
    assert shutil.which("runuser") and shutil.which("ss"), "needs runuser and ss (util-linux, iproute2)"
    if os.geteuid() != 0:
        pytest.fail("this test runs as root: it becomes `nobody` to ask the fleet's ports")


def test_no_port_of_the_fleet_serves_data_to_an_anonymous_user(local_fleet: UpResult, tmp_path: Path) -> None:
    _needs_root()
    sockets = _listening(local_fleet)
    cfg = local_fleet.config
    # Every kind of server the fleet runs is among them (the test would prove little otherwise).
    listeners = set(sockets.values())
    assert {"etcd", "host/kube-apiserver", "member1/kube-apiserver", "karmada/kube-apiserver"} <= listeners
    assert {"karmada/karmada-aggregated-apiserver", "karmada/karmada-webhook"} <= listeners
    assert {"host/s3", "host/thanos-query", "host/thanos-store", "host/thanos-compactor"} <= listeners
    assert {"member1/prometheus-0", "member1/thanos-sidecar-0", "member2/prometheus-1"} <= listeners
    assert f"{cfg.address}:{cfg.etcd_client_port}" in sockets
    assert any(s.endswith(f":{cfg.etcd_peer_port}") for s in sockets), "etcd's peer port"
    _no_data(local_fleet, sockets, tmp_path)


def test_on_loopback_too_no_port_serves_data_to_another_user(tmp_path: Path) -> None:
    """Without a namespace (a fleet run by a user without root) every local user reaches its ports: a
    small fleet with monitoring on loopback, asked the same way."""
    from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS
    from kurator.local import fleet
    from tests.conftest import _resolver

    _needs_root()
    name, home = f"lb{os.getpid()}", tmp_path / "fleet"
    opts = fleet.UpOptions(name=name, home=home, members=1, nodes=1, network="loopback", karmada=False)
    try:
        up = fleet.up(opts, _resolver, SUPPORTED_KUBERNETES_VERSIONS)
        sockets = _listening(up)
        assert {"etcd", "member1/kube-apiserver", "host/s3", "host/thanos-query"} <= set(sockets.values())
        assert {"member1/prometheus-0", "member1/thanos-sidecar-0", "host/thanos-store"} <= set(
            sockets.values()
        )
        assert all(s.startswith("127.0.0.1:") for s in sockets)
        folder = tmp_path / "control"
        folder.mkdir()
        _no_data(up, sockets, folder)
    finally:
        fleet.down(name, home, purge=True)
