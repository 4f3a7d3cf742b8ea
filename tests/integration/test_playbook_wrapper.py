"""The worker wrapper run for real: ``python -m kurator.worker ansible-playbook ...`` with ansible-core over
SSH to real OpenSSH servers, each in a network namespace of this run (tests/integration/sshhosts.py).

Stand-ins, named: the playbooks are small ones this project wrote (tests/data/playbooks), not Kubespray's,
and the termination-message file is a file of the test, not the kubelet's /dev/termination-log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .sshhosts import SshHost, SshTestbed, SshTestbedError

pytestmark = pytest.mark.integration

PLAYBOOKS = Path(__file__).parent.parent / "data" / "playbooks"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RUN_TIMEOUT = 180


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestbed]:
    """Two good hosts and one namespace of this run where nothing listens."""
    try:
        bed = SshTestbed(tmp_path_factory.mktemp("wrapperhosts"))
    except SshTestbedError as exc:
        pytest.fail(f"SSH test hosts cannot be built: {exc}")
    try:
        try:
            bed.add_host()
            bed.add_host()
            bed.add_host(sshd=False)
        except SshTestbedError as exc:
            pytest.fail(f"SSH test hosts cannot be built: {exc}")
        yield bed
    finally:
        bed.close()


@dataclass
class Run:
    exit_code: int
    output: str
    summary: dict[str, Any]
    raw: str


@dataclass
class Workspace:
    """What a Kubespray worker Pod would have mounted: an inventory, the private key, known hosts."""

    root: Path
    key_file: Path
    known_hosts: Path
    control_dir: Path

    def inventory(self, hosts: list[SshHost]) -> Path:
        lines = ["[all]"] + [f"node{h.index} ansible_host={h.address}" for h in hosts]
        path = self.root / "hosts.ini"
        path.write_text("\n".join(lines) + "\n")
        return path

    @property
    def termination_log(self) -> Path:
        return self.root / "termination-log"

    def environ(self, env: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            # Nothing of this machine's Ansible set-up plays a part; ControlPath sockets need a short path.
            "ANSIBLE_HOME": str(self.root / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.root / "ansible-tmp"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.control_dir),
            "ANSIBLE_SSH_ARGS": f"-o UserKnownHostsFile={self.known_hosts} -o ControlMaster=auto "
            "-o ControlPersist=10s -o BatchMode=yes",
            "ANSIBLE_REMOTE_USER": "root",
            # The hosts share this machine's filesystem (root's home is a tmpfs of each sshd's own): what
            # Ansible leaves on them, a stopped run's temporary files too, stays in the test's directory.
            "ANSIBLE_REMOTE_TMP": str(self.root / "remote-tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            "ANSIBLE_TIMEOUT": "5",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            **(env or {}),
        }

    def command(self, playbook: str, hosts: list[SshHost], *extra: str) -> list[str]:
        self.termination_log.unlink(missing_ok=True)
        return [
            sys.executable, "-m", "kurator.worker", "--termination-log", str(self.termination_log),
            str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory(hosts)), "--private-key", str(self.key_file),
            *extra, str(PLAYBOOKS / playbook),
        ]  # fmt: skip

    def result(self, exit_code: int, output: str) -> Run:
        raw = self.termination_log.read_text() if self.termination_log.exists() else ""
        assert raw, f"no summary written; output:\n{output}"
        return Run(exit_code, output, json.loads(raw), raw)

    def run(self, playbook: str, hosts: list[SshHost], *extra: str, env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            self.command(playbook, hosts, *extra),
            capture_output=True,
            text=True,
            env=self.environ(env),
            cwd=self.root,
            timeout=RUN_TIMEOUT,
        )
        return self.result(done.returncode, done.stdout + done.stderr)


@pytest.fixture
def workspace(testbed: SshTestbed, tmp_path: Path) -> Iterator[Workspace]:
    key_file = tmp_path / "ssh-privatekey"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(testbed.private_key)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(testbed.known_hosts())
    control_dir = Path(tempfile.mkdtemp(prefix="kw-cp-"))
    try:
        yield Workspace(tmp_path, key_file, known_hosts, control_dir)
    finally:
        # Stop the ssh control masters this test left (ControlPersist), then their directory.
        for socket in control_dir.iterdir():
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={socket}", "x"], capture_output=True)
        shutil.rmtree(control_dir, ignore_errors=True)


def _good(bed: SshTestbed) -> list[SshHost]:
    return [h for h in bed.hosts if h.sshd]


def _dead(bed: SshTestbed) -> SshHost:
    return next(h for h in bed.hosts if not h.sshd)


def _key_lines(bed: SshTestbed) -> list[str]:
    return [line for line in bed.private_key.splitlines() if len(line) > 20 and "PRIVATE KEY" not in line]


def _assert_no_key(bed: SshTestbed, *texts: str) -> None:
    for text in texts:
        assert "PRIVATE KEY-----" not in text
        for line in _key_lines(bed):
            assert line not in text


def test_a_passing_playbook_is_ok_with_stats_for_both_hosts(
    testbed: SshTestbed, workspace: Workspace
) -> None:
    good = _good(testbed)
    # The hosts share this machine's filesystem: a fresh directory makes the copy a change on each run.
    run = workspace.run("passes.yml", good, "-e", f"mark_dir={workspace.root}")
    assert run.exit_code == 0, run.output
    names = [f"node{h.index}" for h in good]
    assert run.summary == {
        "ok": True,
        "exit_code": 0,
        "playbook": str(PLAYBOOKS / "passes.yml"),
        "failed_host": None,
        "task": None,
        "message": None,
        "unreachable": [],
        "stats": {name: {"ok": 3, "changed": 1, "failed": 0, "unreachable": 0} for name in names},
    }
    # The output streamed as ansible-playbook printed it, ending with the summary line.
    assert "TASK [Reach the host and run python there]" in run.output
    assert "PLAY RECAP" in run.output
    assert f"kurator-worker summary: {run.raw}" in run.output
    _assert_no_key(testbed, run.raw, run.output)


def test_a_failure_on_one_host_names_the_host_the_task_and_the_message(
    testbed: SshTestbed, workspace: Workspace
) -> None:
    good = _good(testbed)
    failing = f"node{good[1].index}"
    run = workspace.run("fails_on_one_host.yml", good, "-e", f"failing_host={failing}", "-vvv")
    assert run.exit_code == 2, run.output
    summary = run.summary
    assert summary["ok"] is False
    assert summary["exit_code"] == 2
    assert summary["failed_host"] == failing
    assert summary["task"] == "Check the etcd data directory on purpose"
    assert summary["message"] == (
        f"non-zero return code (rc=7; stderr: etcd data directory is too small on {failing})"
    )
    assert summary["unreachable"] == []
    passed = f"node{good[0].index}"
    # ping and the last task; the check was skipped there
    assert summary["stats"][passed] == {"ok": 2, "changed": 0, "failed": 0, "unreachable": 0}
    assert summary["stats"][failing] == {"ok": 1, "changed": 0, "failed": 1, "unreachable": 0}
    assert len(run.raw.encode()) <= 4096
    # -vvv prints every SSH command and the key's path; never the key itself.
    assert str(workspace.key_file) in run.output
    _assert_no_key(testbed, run.raw, run.output)


def test_an_unreachable_host_is_listed(testbed: SshTestbed, workspace: Workspace) -> None:
    dead = _dead(testbed)
    hosts = [*_good(testbed), dead]
    run = workspace.run("passes.yml", hosts, "-e", f"mark_dir={workspace.root}")
    assert run.exit_code == 4, run.output  # ansible-playbook: some hosts unreachable
    name = f"node{dead.index}"
    summary = run.summary
    assert summary["ok"] is False
    assert summary["unreachable"] == [name]
    assert summary["failed_host"] == name
    assert summary["task"] == "Reach the host and run python there"
    assert dead.address in summary["message"]
    assert "Connection refused" in summary["message"]
    assert summary["stats"][name]["unreachable"] == 1
    for host in _good(testbed):
        assert summary["stats"][f"node{host.index}"]["ok"] == 3


def test_secrets_a_playbook_prints_stay_out_of_output_and_summary(
    testbed: SshTestbed, workspace: Workspace
) -> None:
    good = _good(testbed)[:1]
    password = "rEg1stry-pa55word"
    run = workspace.run(
        "leaks.yml",
        good,
        "-e",
        f"key_file={workspace.key_file} registry_password={password}",
        "-vvv",
        env={"REGISTRY_TOKEN": "tok-0123456789abcdef"},
    )
    assert run.exit_code == 2, run.output
    assert run.summary["task"] == "Fail with secrets in the message"
    assert run.summary["message"] == (
        "cannot log in to the registry with [redacted]; key was [private key redacted]"
    )
    assert password not in run.output + run.raw
    assert "[private key redacted]" in run.output
    _assert_no_key(testbed, run.raw, run.output)


def test_a_stopped_run_still_leaves_a_summary_naming_the_running_task(
    testbed: SshTestbed, workspace: Workspace
) -> None:
    """The Pod deleted or past its deadline: the kubelet sends SIGTERM to the wrapper (PID 1 in the
    container), which passes it on to ansible-playbook and still writes the summary."""
    process = subprocess.Popen(
        workspace.command("waits.yml", _good(testbed)[:1]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=workspace.environ(),
        cwd=workspace.root,
    )
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:  # until the long task has started on the host
            seen.append(line)
            if line.startswith("TASK [Wait on purpose]"):
                break
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    run = workspace.result(process.returncode, "".join(seen) + rest)
    assert run.exit_code == 128 + signal.SIGTERM, run.output
    assert run.summary["ok"] is False
    assert run.summary["task"] == "Wait on purpose"
    assert run.summary["message"] == "ansible-playbook was stopped by SIGTERM during task 'Wait on purpose'"


def test_a_playbook_ansible_cannot_parse_is_explained_by_its_error(
    testbed: SshTestbed, workspace: Workspace
) -> None:
    broken = workspace.root / "broken.yml"
    broken.write_text("- hosts: all\n  tasks:\n    - ansible.builtin.no_such_module: {}\n")
    run = workspace.run(str(broken), _good(testbed))
    assert run.exit_code == 4, run.output
    assert run.summary["ok"] is False
    assert run.summary["failed_host"] is None
    assert run.summary["playbook"] == str(broken)
    assert run.summary["message"].startswith("ansible-playbook could not parse its input: ")
    assert "no_such_module" in run.summary["message"]


def test_a_missing_ansible_playbook_is_reported(tmp_path: Path) -> None:
    termination = tmp_path / "termination-log"
    done = subprocess.run(
        [sys.executable, "-m", "kurator.worker", "--termination-log", str(termination),
         str(tmp_path / "no-ansible-playbook"), "site.yml"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 127
    summary = json.loads(termination.read_text())
    assert summary["ok"] is False
    assert summary["playbook"] == "site.yml"
    assert summary["message"].startswith("ansible-playbook exited with 127: cannot run ")


@pytest.mark.parametrize(
    ("script", "exit_code", "message"),
    [
        ("echo 'ERROR! Unexpected Exception: boom'; exit 250", 250,
         "ansible-playbook hit an unexpected error: ERROR! Unexpected Exception: boom"),
        ("kill -KILL $$", 128 + 9, "ansible-playbook was stopped by SIGKILL"),
    ],
)  # fmt: skip
def test_exit_codes_and_signals_are_told_apart(
    tmp_path: Path, script: str, exit_code: int, message: str
) -> None:
    """A stand-in for ansible-playbook (a shell script) that exits 250, Ansible's code for an unexpected
    error, or is killed: only the second was stopped by a signal."""
    fake = tmp_path / "ansible-playbook"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    termination = tmp_path / "termination-log"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kurator.worker",
            "--termination-log",
            str(termination),
            str(fake),
            "site.yml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == exit_code
    summary = json.loads(termination.read_text())
    assert (summary["exit_code"], summary["message"]) == (exit_code, message)
