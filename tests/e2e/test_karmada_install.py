"""`kurator install karmada`: on the local fleet it finds the running Karmada; into another cluster it runs
the pinned `karmadactl init` against a real API server (a member of the local fleet playing a host).

Stand-in, named: kwok runs no container image, so the Karmada pods karmadactl creates report Running but
never serve, and the install cannot reach "serving" here. These tests prove the rest: the plan, the real
installer run against a real API server with its objects created, a clear failure that names where to look,
no secret in the log, a resumable record, and refusal to touch a Karmada kurator did not install."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment, StatefulSet
from lightkube.resources.core_v1 import ConfigMap, Namespace

from kurator.local.fleet import UpResult
from tests.integration.helpers import cluster_client, gone, kurator, wait_for

pytestmark = pytest.mark.e2e


def _host_args(fleet: UpResult, cluster: str) -> list[str]:
    return ["--kubeconfig", str(fleet.layout.kubeconfig(cluster))]


def _free_node_port() -> int:
    """A NodePort (30000-32767) that nothing on loopback listens at: karmadactl's dial fails at once."""
    for port in random.sample(range(30000, 32768), 50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free NodePort on loopback")


def _drop_karmada(fleet: UpResult, cluster: str) -> None:
    api = cluster_client(fleet, cluster)
    for name, ns, kind in (
        ("kurator-karmada", "kube-system", ConfigMap),
        ("karmada-system", None, Namespace),
    ):
        if not gone(api, kind, name, ns):
            api.delete(kind, name, namespace=ns) if ns else api.delete(kind, name)
    wait_for(lambda: gone(api, Namespace, "karmada-system"), 120, "karmada-system removed")


@pytest.fixture
def member_host(local_fleet: UpResult) -> Iterator[UpResult]:
    yield local_fleet
    for cluster in ("member1", "member2"):
        _drop_karmada(local_fleet, cluster)


def test_on_the_local_fleet_the_running_karmada_is_found(local_fleet: UpResult) -> None:
    proc = kurator(*_host_args(local_fleet, "host"), "install", "karmada")
    assert proc.returncode == 0, proc.stderr
    assert f"it is the local fleet {local_fleet.config.name!r}'s" in proc.stdout
    assert "nothing was installed" in proc.stdout
    assert f"Karmada kubeconfig: {local_fleet.layout.kubeconfig('karmada')}" in proc.stdout
    dry = kurator(*_host_args(local_fleet, "host"), "install", "karmada", "--dry-run")
    assert dry.returncode == 0 and "already serves this cluster (local-fleet): nothing to do" in dry.stdout


def test_dry_run_on_another_cluster_plans_and_writes_nothing(member_host: UpResult, tmp_path: Path) -> None:
    proc = kurator(
        *_host_args(member_host, "member1"),
        "install",
        "karmada",
        "--dry-run",
        "--data-dir",
        str(tmp_path / "k"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "install Karmada v1.18.2 into namespace karmada-system" in proc.stdout
    assert f"Karmada kubeconfig: {tmp_path / 'k' / 'karmada' / 'karmada-apiserver.config'}" in proc.stdout
    api = cluster_client(member_host, "member1")
    assert gone(api, Namespace, "karmada-system") and gone(api, ConfigMap, "kurator-karmada", "kube-system")
    assert not (tmp_path / "k").exists()


def test_install_runs_karmadactl_against_a_real_api_server(member_host: UpResult, tmp_path: Path) -> None:
    data = tmp_path / "karmada"
    args = [*_host_args(member_host, "member1"), "install", "karmada", "--data-dir", str(data)]
    args += ["--api-address", "127.0.0.1", "--port", str(_free_node_port()), "--wait-timeout", "20"]
    proc = kurator(*args, timeout=400)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Karmada was not installed: karmadactl init failed" in proc.stderr
    assert f"its log is {data / 'karmadactl.log'}" in proc.stderr
    api = cluster_client(member_host, "member1")
    record = api.get(ConfigMap, "kurator-karmada", namespace="kube-system")
    assert record.data["mode"] == "installing"  # the next run resumes instead of refusing
    assert api.get(StatefulSet, "etcd", namespace="karmada-system")  # the real installer made its objects
    assert api.get(Deployment, "karmada-apiserver", namespace="karmada-system")
    log = (data / "karmadactl.log").read_text()
    assert log.strip()
    for text in (log, proc.stdout, proc.stderr):  # no bootstrap token, no key material
        assert not re.search(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", text)
        assert "PRIVATE KEY" not in text
    assert (data / "karmada" / "pki").is_dir()


def test_a_karmada_not_installed_by_kurator_is_left_alone(member_host: UpResult) -> None:
    api = cluster_client(member_host, "member2")
    api.create(Namespace(metadata=ObjectMeta(name="karmada-system")))
    proc = kurator(*_host_args(member_host, "member2"), "install", "karmada")
    assert proc.returncode == 2
    assert "already has a namespace karmada-system that kurator did not create" in proc.stderr
    assert gone(api, ConfigMap, "kurator-karmada", "kube-system")


def test_a_recorded_install_is_found_again_and_checked(member_host: UpResult) -> None:
    """Stand-in for a finished install (which kwok cannot reach): the record an install writes once
    Karmada serves, pointing at a Karmada that does serve (the local fleet's)."""
    api = cluster_client(member_host, "member1")
    serving = str(member_host.layout.kubeconfig("karmada"))
    record = {"mode": "in-cluster", "version": "1.18.2", "kubeconfig": serving}
    api.create(ConfigMap(metadata=ObjectMeta(name="kurator-karmada", namespace="kube-system"), data=record))
    proc = kurator(*_host_args(member_host, "member1"), "install", "karmada")
    assert proc.returncode == 0, proc.stderr
    assert "is already installed in this cluster: nothing to do" in proc.stdout
    assert f"Karmada kubeconfig: {serving}" in proc.stdout
    assert gone(api, Namespace, "karmada-system")  # nothing was installed beside it
    cm = api.get(ConfigMap, "kurator-karmada", namespace="kube-system")
    cm.data = {**record, "kubeconfig": "/nonexistent/karmada.config"}
    api.replace(cm)
    proc = kurator(*_host_args(member_host, "member1"), "install", "karmada")
    assert proc.returncode == 1
    assert "is recorded as installed here, but its API server" in proc.stderr
