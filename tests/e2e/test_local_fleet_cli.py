"""`kurator local up`, `status` and `kubeconfig` as a user runs them, on the test run's local fleet: a second
`up` changes nothing, a killed API server shows as down and a new `up` restarts only it, kubeconfigs are
printed and private."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import yaml
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from kurator.local import processes
from kurator.local.fleet import UpResult, load_records
from tests.conftest import FLEET
from tests.integration.helpers import cluster_client, kurator, wait_for

pytestmark = pytest.mark.e2e


def _monitoring_data(path: Path) -> bool:
    """Prometheus's and Thanos's own data (TSDB, caches) change all the time; their config files do not."""
    return any(p.startswith("data-") or p in ("thanos-store", "thanos-compactor") for p in path.parts)


def test_second_up_changes_nothing(local_fleet: UpResult) -> None:
    before = load_records(local_fleet.layout)
    files = {
        p: p.stat().st_mtime_ns
        for p in local_fleet.layout.root.rglob("*")
        if p.is_file() and "etcd" not in p.parts and "logs" not in p.parts and not _monitoring_data(p)
    }
    proc = kurator("local", "up", "--name", FLEET, "--home", str(local_fleet.layout.root), check=True)
    assert "nothing to change" in proc.stdout
    assert load_records(local_fleet.layout) == before
    after = {p: p.stat().st_mtime_ns for p in files}
    changed = [str(p) for p in files if after[p] != files[p] and p.name != ".lock"]
    assert changed == []


def test_killed_apiserver_shows_down_and_up_restarts_only_it(local_fleet: UpResult) -> None:
    home = str(local_fleet.layout.root)
    api = cluster_client(local_fleet, "member2")
    api.create(ConfigMap(metadata=ObjectMeta(name="survivor", namespace="default"), data={"k": "v"}))
    records = load_records(local_fleet.layout)
    victim = records["member2/kube-apiserver"]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: not processes.is_alive(victim), 10, "apiserver gone")

    proc = kurator("local", "status", "--name", FLEET, "--home", home, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    member2 = next(c for c in data["clusters"] if c["name"] == "member2")
    assert member2["processes"]["kube-apiserver"] == "down"
    assert member2["version"] is None
    table = kurator("local", "status", "--name", FLEET, "--home", home)
    assert "down" in table.stdout

    kurator("local", "up", "--name", FLEET, "--home", home, check=True)
    after = load_records(local_fleet.layout)
    assert after["member2/kube-apiserver"].pid != victim.pid
    unchanged = {n: r for n, r in after.items() if n != "member2/kube-apiserver"}
    assert unchanged == {n: r for n, r in records.items() if n != "member2/kube-apiserver"}
    api = cluster_client(local_fleet, "member2")
    assert api.get(ConfigMap, "survivor", namespace="default").data == {"k": "v"}
    assert kurator("local", "status", "--name", FLEET, "--home", home).returncode == 0


def test_kubeconfig_command_prints_path_and_content(local_fleet: UpResult) -> None:
    home = str(local_fleet.layout.root)
    path = kurator("local", "kubeconfig", "member1", "--path", "--name", FLEET, "--home", home, check=True)
    assert Path(path.stdout.strip()) == local_fleet.layout.kubeconfig("member1")
    assert oct(Path(path.stdout.strip()).stat().st_mode & 0o777) == "0o600"
    merged = kurator("local", "kubeconfig", "--name", FLEET, "--home", home, check=True)
    contexts = [c["name"] for c in yaml.safe_load(merged.stdout)["contexts"]]
    assert contexts == [f"{FLEET}-host", f"{FLEET}-member1", f"{FLEET}-member2", f"{FLEET}-karmada"]
