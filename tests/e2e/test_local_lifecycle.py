"""`kurator local` as a user runs it: a fleet of its own, brought up, stopped, resumed and purged."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import yaml
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from kurator.kube.client import client
from kurator.local import config, netns, processes
from kurator.local.fleet import link_of, load_records
from tests.integration.helpers import kurator

pytestmark = pytest.mark.e2e

NAME = f"kd{os.getpid()}"


def _our_processes(home: Path) -> list[int]:
    """PIDs of any process whose command line mentions the fleet's folder."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(home) in cmdline:
                pids.append(int(entry.name))
    return pids


def test_up_down_resume_purge(tmp_path: Path) -> None:
    home = tmp_path / NAME
    args = ["--name", NAME, "--home", str(home)]
    kurator(
        "local",
        "up",
        *args,
        "--members",
        "1",
        "--nodes",
        "1",
        "--api-port",
        "16443",
        "--no-karmada",
        "--no-monitoring",
        check=True,
    )
    kubeconfig = home / "clusters" / "member1" / "admin.kubeconfig"
    api = client(kubeconfig)
    api.create(ConfigMap(metadata=ObjectMeta(name="kept", namespace="default"), data={"a": "1"}))
    records = load_records_from(home)
    assert len(records) == 1 + 2 * 4  # etcd + 4 processes in each of 2 clusters
    link = link_of(config.load(home / "fleet.json", ""))  # type: ignore[arg-type]

    kurator("local", "down", *args, check=True)
    assert not any(processes.is_alive(r) for r in records.values())
    assert _our_processes(home) == []
    if link is not None:
        assert not netns.exists(link.netns)
    assert home.exists(), "down keeps the data"

    kurator("local", "up", *args, check=True)
    assert client(kubeconfig).get(ConfigMap, "kept", namespace="default").data == {"a": "1"}

    kurator("local", "down", *args, "--purge", check=True)
    assert not home.exists()
    assert _our_processes(home) == []
    if link is not None:
        assert not netns.exists(link.netns)


def load_records_from(home: Path) -> dict[str, processes.ProcessRecord]:
    from kurator.local.layout import FleetLayout

    return load_records(FleetLayout(home))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--members", "0"], "Invalid value for '--members': 0 is not between 1 and 20"),
        (["--members", "-3"], "Invalid value for '--members': -3 is not between 1 and 20"),
        (["--members", "100000"], "Invalid value for '--members': 100000 is not between 1 and 20"),
        (["--nodes", "0"], "Invalid value for '--nodes': 0 is not between 1 and 100"),
        (["--kubernetes-version", "1.99.0"], "Kubernetes version '1.99.0' is not supported"),
        (["--name", "Bad_Name!"], "fleet name 'Bad_Name!' is not valid"),
        (["--api-port", "80"], "Invalid value for '--api-port': 80 is not between 1024 and 65471"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(tmp_path: Path, extra: list[str], message: str) -> None:
    home = tmp_path / "fleet"
    args = ["local", "up", "--home", str(home), "--name", "bad", *extra]
    proc = kurator(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2  # one line, and maybe a hint
    assert not home.exists()


def test_taken_port_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "fleet"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = kurator(
            "local",
            "up",
            "--home",
            str(home),
            "--name",
            "busy",
            "--network",
            "loopback",
            "--api-port",
            str(port),
        )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"port {port} on 127.0.0.1 is already taken" in proc.stderr
    assert not home.exists()


def test_version_and_errors_without_traceback() -> None:
    out = kurator("version", "-o", "json", check=True)
    assert yaml.safe_load(out.stdout)["version"]
    missing = kurator("local", "status", "--name", "nosuchfleet")
    assert missing.returncode == 1
    assert "there is no local fleet named 'nosuchfleet'" in missing.stderr
    assert "Traceback" not in missing.stderr
    verbose = kurator("--verbose", "local", "status", "--name", "nosuchfleet")
    assert "Traceback" in verbose.stderr


def test_shell_completion_offers_commands() -> None:
    import subprocess
    import sys

    env = {
        **os.environ,
        "_KURATOR_COMPLETE": "complete_bash",
        "COMP_WORDS": "kurator local ",
        "COMP_CWORD": "2",
    }
    script = str(Path(sys.executable).parent / "kurator")  # the installed console script, as a shell runs it
    proc = subprocess.run([script], env=env, capture_output=True, text=True, check=True)
    assert {"up", "down", "status", "kubeconfig", "fetch"} <= set(proc.stdout.split())
