"""The Kubespray Job's files as Ansible itself reads them (ansible-core 2.18, the Ansible of Kubespray
v2.31.0): the inventory's groups, the group vars found where the Job mounts them, and the summary that
the worker, run from the files the Job ships (nothing of kurator installed), writes of a real
ansible-playbook failure. Everything runs locally (``ansible_connection: local``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from kurator.api.machine import CustomMachine
from kurator.lifecycle import jobs
from kurator.lifecycle.actions import next_action
from tests import lifecycle_cases as lc

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is missing: install the dev extras (pip install -e '.[dev]')"
    return path


def _mount(objects: list[dict[str, Any]], volume_name: str, root: Path) -> None:
    """Write a volume's files where the kubelet would: a ConfigMap's keys (the shared worker ConfigMap is
    looked up by name), or the downward API's Pod annotations."""
    (job,) = objects
    worker = jobs.worker_configmap("default")
    (volume,) = [v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == volume_name]
    if "downwardAPI" in volume:
        annotations = job["spec"]["template"]["metadata"]["annotations"]
        files = {
            i["path"]: annotations[i["fieldRef"]["fieldPath"].split("'")[1]]
            for i in volume["downwardAPI"]["items"]
        }
    else:
        assert volume["configMap"]["name"] == worker["metadata"]["name"]
        files = {i["path"]: worker["data"][i["key"]] for i in volume["configMap"]["items"]}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _layout(objects: list[dict[str, Any]], root: Path) -> None:
    """The inventory and group vars where the Job's ``inventory`` volume puts them."""
    _mount(objects, "inventory", root)


def _shipped_worker(objects: list[dict[str, Any]], root: Path) -> Path:
    """The worker's files where the Job's ``worker`` volume puts them; returns the PYTHONPATH entry."""
    _mount(objects, "worker", root)
    return root


def _run_worker(objects: list[dict[str, Any]], tmp_path: Path, log: Path, *command: str) -> Any:
    pythonpath = _shipped_worker(objects, tmp_path / "opt")
    return subprocess.run(
        [sys.executable, "-m", "kurator.worker", "--termination-log", str(log), *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        # -I would drop PYTHONPATH too; a clean environment and cwd keep the installed kurator out.
        env={
            "PATH": f"{BIN}:/usr/bin:/bin",
            "ANSIBLE_NOCOLOR": "1",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(pythonpath),
            "PYTHONNOUSERSITE": "1",
        },
    )


def _inventory(root: Path, *args: str) -> Any:
    out = subprocess.run(
        [_tool("ansible-inventory"), "-i", str(root / "hosts.yaml"), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    return json.loads(out.stdout)


def test_ansible_reads_the_jobs_inventory_and_group_vars(tmp_path: Path) -> None:
    doc = lc.machine_doc(masters=3, nodes=(1, 2))
    doc["spec"]["node"][1]["sshKey"] = {"name": "other-key"}
    m = CustomMachine.model_validate(doc)
    c = lc.cluster(controlPlaneConfig={"address": "192.0.2.100"}, podCIDR="10.244.0.0/16")
    action = next_action(c, m, lc.status(), (), lc.T0)
    _layout(lc.manifests(action, c, m, None, ()), tmp_path)
    listed = _inventory(tmp_path, "--list")
    assert listed["kube_control_plane"]["hosts"] == ["master1", "master2", "master3"]
    assert listed["etcd"]["hosts"] == ["master1", "master2", "master3"]
    assert listed["kube_node"]["hosts"] == ["node1", "node2"]
    assert set(listed["k8s_cluster"]["children"]) == {"kube_control_plane", "kube_node", "calico_rr"}
    node2 = listed["_meta"]["hostvars"]["node2"]  # group vars included, as playbooks see them
    assert node2["kube_version"] == "1.34.3" and node2["kube_pods_subnet"] == "10.244.0.0/16"
    assert node2["loadbalancer_apiserver"] == {"address": "192.0.2.100", "port": 6443}
    assert node2["ansible_ssh_private_key_file"] == "/auth-keys/other-key/ssh-privatekey"
    assert (node2["ansible_host"], node2["ip"], node2["access_ip"]) == (
        "192.0.2.22",
        "10.0.0.22",
        "10.0.0.22",
    )


PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: A failure that is ignored
      ansible.builtin.command: /bin/false
      ignore_errors: true
    - name: kubeadm | Initialize first control plane node
      ansible.builtin.command: /bin/sh -c "echo 'port 6443 is in use' >&2; exit 3"
    - name: Never reached
      ansible.builtin.command: /bin/true
"""


def _job_objects() -> list[dict[str, Any]]:
    c, m = lc.cluster(), lc.machine()
    return lc.manifests(next_action(c, m, lc.status(), (), lc.T0), c, m, None, ())


def test_the_shipped_worker_summarizes_a_real_ansible_failure(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text(
        f"all:\n  hosts:\n    master1:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
    )
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    log = tmp_path / "termination-log"
    run = _run_worker(
        _job_objects(), tmp_path, log, _tool("ansible-playbook"), "-i", "hosts.yaml", "play.yml"
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "PLAY RECAP" in run.stdout  # the output is passed through
    summary = json.loads(log.read_text())
    assert summary["failed_host"] == "master1"
    assert summary["task"] == "kubeadm | Initialize first control plane node"
    assert "port 6443 is in use" in summary["message"]


def test_the_shipped_worker_summarizes_ansible_stopping_before_any_task(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    run = _run_worker(
        _job_objects(), tmp_path, log, _tool("ansible-playbook"), "-i", "localhost,", "missing.yml"
    )
    assert run.returncode != 0
    assert "missing.yml" in json.loads(log.read_text())["message"]
