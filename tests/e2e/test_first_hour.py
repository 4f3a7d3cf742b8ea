"""A new user's first hour: demo.sh ends with lines that work when copied, and fleet commands pointed at
the wrong cluster of a fleet either find the right one or say which to use."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from kurator.kube.karmada import HOST_RECORD_NAME, HOST_RECORD_NAMESPACE
from kurator.kube.resources import ConfigMap
from kurator.local.fleet import UpResult
from tests.integration.helpers import cluster_client, gone, kurator, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def test_demo_shows_the_status_once_then_lines_that_work_when_copied(tmp_path: Path) -> None:
    name = f"dm{os.getpid()}"
    bin_dir = REPO / ".venv" / "bin"
    # A shell where kurator is not on PATH yet, as on a fresh machine.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != bin_dir)
    env = {
        **os.environ,
        "PATH": path,
        "KURATOR_FLEET": name,
        "KURATOR_HOME": str(tmp_path / "kurator"),
        "NO_COLOR": "1",
        "COLUMNS": "80",
    }
    env.pop("KUBECONFIG", None)
    args = ["--members", "1", "--nodes", "1", "--no-monitoring"]
    try:
        demo = subprocess.run(
            ["bash", "scripts/demo.sh", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=1200,
            check=False,
        )
        assert demo.returncode == 0, demo.stdout
        out = demo.stdout
        assert out.count(f"fleet {name} (") == 1, out  # the status table, once
        # At 80 columns the real fleet's status fits, one line per cluster (only a long path may not).
        status = out[out.index(f"fleet {name} (") : out.index("next (copy into your shell):")]
        widths = [len(line) for line in status.splitlines() if not line.startswith("kubeconfig ")]
        assert max(widths) <= 80, status
        assert re.search(r"^\s*member1\s.*\b(\d+)/\1 up\b", status, re.M), status
        assert "set-up took" in out
        tail = out[out.index("next (copy into your shell):") :].splitlines()[1:]
        lines = [line.strip() for line in tail if line.strip()]
        assert lines[-1] == "kurator get clusters", out  # nothing after the lines to copy
        assert f'export PATH="{bin_dir}:$PATH"' in lines
        commands = [line for line in lines if not line.startswith("#")]
        script = "\n".join(["set -e", *commands, "kubectl version --client"])
        copied = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert copied.returncode == 0, copied.stdout + copied.stderr
        assert re.search(r"^\s*member1\s+v1\.35\.4\s+Push\s+True", copied.stdout, re.M), copied.stdout
        assert "Client Version: v1.35.4" in copied.stdout  # the fleet's own kubectl, by name
    finally:
        subprocess.run(
            [str(bin_dir / "kurator"), "local", "down", "--purge"], env=env, capture_output=True, check=False
        )


def _merged(fleet: UpResult) -> dict[str, str]:
    return {"KUBECONFIG": str(fleet.layout.merged_kubeconfig)}


def test_fleet_commands_from_the_host_context_use_its_karmada(local_fleet: UpResult) -> None:
    fleet = local_fleet
    env = _merged(fleet)  # current context: the host
    listed = kurator("get", "clusters", "-o", "json", env=env)
    assert listed.returncode == 0, listed.stderr

    def member1_row() -> subprocess.CompletedProcess[str] | None:
        query = kurator("query", "up", env=env)
        assert query.returncode == 0, query.stderr  # Thanos Query found and asked
        return query if re.search(r"^\s*member1\s+up\s", query.stdout, re.M) else None

    # A fleet brought up moments ago has no scrape yet ("no series"), and each member's first scrape
    # reaches Thanos Query on its own time: wait for member1's.
    rows = wait_for(member1_row, timeout=180, what="member1's first scrapes through Thanos Query")
    assert rows.stdout.split()[:2] == ["CLUSTER", "METRIC"], rows.stdout


def test_a_member_context_is_told_which_context_to_use(local_fleet: UpResult, tmp_path: Path) -> None:
    fleet = local_fleet
    name = fleet.config.name
    # Where kurator looks for local fleets; the test fleet lives in a folder of its own.
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / name).symlink_to(fleet.layout.root)
    env = {**_merged(fleet), "KURATOR_HOME": str(tmp_path)}
    proc = kurator("--context", f"{name}-member1", "get", "clusters", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"the API server of context '{name}-member1' is not Karmada's" in proc.stderr
    assert f"it is member1 of local fleet '{name}': use --context {name}-karmada" in proc.stderr
    elsewhere = kurator("--context", f"{name}-member1", "get", "clusters", env=_merged(fleet))
    # without the fleet's folder at hand, the kubeconfig's own Karmada context
    assert elsewhere.returncode == 2 and f"hint: use --context {name}-karmada" in elsewhere.stderr


def test_install_karmada_refuses_to_plan_karmada_inside_itself(local_fleet: UpResult) -> None:
    karmada = ["--kubeconfig", str(local_fleet.layout.kubeconfig("karmada"))]
    for extra in (["--dry-run"], []):
        proc = kurator(*karmada, "install", "karmada", *extra)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "is a Karmada API server: Karmada is installed into a host cluster" in proc.stderr
    api = cluster_client(local_fleet, "karmada")
    assert gone(api, ConfigMap, HOST_RECORD_NAME, HOST_RECORD_NAMESPACE)  # nothing written


def test_cluster_plan_against_a_server_without_the_crds_says_to_install_them(
    local_fleet: UpResult, tmp_path: Path
) -> None:
    plan = tmp_path / "cluster.yaml"
    plan.write_text(
        "apiVersion: cluster.kurator.dev/v1alpha1\nkind: CustomCluster\nmetadata: {name: prod}\n"
        "spec: {machineRef: {name: prod-hosts}, cni: {type: calico}, kubernetesVersion: v1.34.3}\n"
    )
    karmada = ["--kubeconfig", str(local_fleet.layout.kubeconfig("karmada"))]  # serves no CustomCluster
    proc = kurator(*karmada, "cluster", "plan", "-f", str(plan))
    assert proc.returncode != 0, proc.stdout
    assert "does not serve CustomClusters" in proc.stderr
    assert "kurator install cluster-operator" in proc.stderr
