"""`kurator local` as a user runs it, when things go wrong: a folder that is not a fleet's, a record that
cannot be written, records that are damaged, two fleets of one name. Small fleets of their own (one
member, one node, no Karmada, no monitoring), each torn down by the test."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from kurator.core.paths import cache_home
from kurator.kube.client import client
from kurator.local import config, netns, processes, state
from kurator.local.fleet import link_of, load_records
from kurator.local.layout import FleetLayout
from tests.integration.helpers import kurator, wait_for

pytestmark = pytest.mark.e2e

SMALL = ["--members", "1", "--nodes", "1", "--no-karmada", "--no-monitoring"]


def _fleet_processes(layout: FleetLayout) -> list[processes.ProcessRecord]:
    marker = state.read_marker(layout)
    assert marker is not None
    return processes.marked(marker.id)


def _hinted_command(stderr: str) -> list[str]:
    """The `kurator local ...` command an error message offers as the way out."""
    match = re.search(r"`(kurator local [^`]+)`", stderr)
    assert match, stderr
    return shlex.split(match[1])[1:]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[list[str], FleetLayout]]:
    """A small running fleet; whatever the test leaves of it is stopped and purged at the end."""
    home = tmp_path / "f"
    args = ["--name", f"kr{os.getpid()}", "--home", str(home)]
    kurator("local", "up", *args, *SMALL, check=True)
    layout = FleetLayout(home)
    marker = state.read_marker(layout)
    assert marker is not None
    try:
        yield args, layout
    finally:
        subprocess.run(["chattr", "-i", str(layout.state)], capture_output=True, check=False)
        for rec in processes.marked(marker.id):
            processes.stop(rec)
        if home.exists():
            kurator("local", "down", *args, "--purge")


def test_down_purge_of_a_folder_that_holds_no_fleet_deletes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "beach.jpg").write_bytes(b"\xff\xd8")
    proc = kurator("local", "down", "--name", "x", "--home", str(folder), "--purge")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "is not a kurator fleet's folder" in proc.stderr and "nothing was stopped or deleted" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == ["2024", "2024/beach.jpg"]


def test_up_into_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    proc = kurator("local", "up", "--name", "x", "--home", str(folder), *SMALL)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is not a kurator fleet's folder" in proc.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.md"]


def test_a_process_whose_record_cannot_be_written_is_stopped_again(
    fleet: tuple[list[str], FleetLayout],
) -> None:
    """The record is made unwritable (immutable: root writes through plain permissions), a process dies,
    `up` starts it again: it cannot record it, so it stops it and says why; nothing runs unrecorded, and
    once the record is writable `up` completes the fleet."""
    args, layout = fleet
    victim = load_records(layout)["member1/kube-scheduler"]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: not processes.is_alive(victim), 10, "the scheduler gone")
    subprocess.run(["chattr", "+i", str(layout.state)], check=True)
    proc = kurator("local", "up", *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot write {layout.state}" in proc.stderr and "Traceback" not in proc.stderr
    recorded = {(r.pid, r.start_time) for r in load_records(layout).values()}
    running = {(r.pid, r.start_time) for r in _fleet_processes(layout)}
    assert running <= recorded, "a process runs that the fleet's record does not hold"
    assert not any(r.name == "member1/kube-scheduler" for r in _fleet_processes(layout))

    subprocess.run(["chattr", "-i", str(layout.state)], check=True)
    kurator("local", "up", *args, check=True)
    after = load_records(layout)
    assert processes.is_alive(after["member1/kube-scheduler"])
    assert {(r.pid, r.start_time) for r in _fleet_processes(layout)} == {
        (r.pid, r.start_time) for r in after.values()
    }
    assert kurator("local", "status", *args).returncode == 0


def test_damaged_records_say_how_to_recover_and_the_way_out_works(
    fleet: tuple[list[str], FleetLayout],
) -> None:
    args, layout = fleet
    kubeconfig = layout.kubeconfig("member1")
    kept = ConfigMap(metadata=ObjectMeta(name="kept", namespace="default"), data={"a": "1"})
    client(kubeconfig).create(kept)
    running = _fleet_processes(layout)
    assert len(running) == 1 + 2 * 4

    # A damaged process record: `status` and `up` say so and name the command that recovers.
    layout.state.write_text('{"etcd": {"pid": 12')
    for verb in ("status", "up"):
        proc = kurator("local", verb, *args)
        assert proc.returncode != 0 and "is damaged" in proc.stderr and "Traceback" not in proc.stderr
    way_out = _hinted_command(proc.stderr)
    assert way_out[:2] == ["local", "down"] and "--purge" not in way_out
    kurator(*way_out, check=True)
    assert _fleet_processes(layout) == [] and not any(processes.is_alive(r) for r in running)
    kurator("local", "up", *args, check=True)
    assert kurator("local", "status", *args).returncode == 0
    assert client(kubeconfig).get(ConfigMap, "kept", namespace="default").data == {"a": "1"}

    # A damaged fleet.json: the way out is `down --purge`, which finds the processes by their marker.
    cfg = config.load(layout.config, "")
    assert cfg is not None
    link = link_of(cfg)
    layout.config.write_text("{]")
    proc = kurator("local", "status", *args)
    assert proc.returncode == 2 and "is damaged" in proc.stderr
    way_out = _hinted_command(proc.stderr)
    assert "--purge" in way_out
    kurator(*way_out, check=True)
    assert not layout.root.exists()
    assert _processes_mentioning(layout.root) == []
    if link is not None:
        assert not netns.exists(link.netns)


def _processes_mentioning(folder: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(folder) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_fleets_of_one_name_in_different_homes_do_not_meet(tmp_path: Path) -> None:
    """One fleet in a --home folder, one of the same name under another HOME: both run at once, each in
    its own namespace on its own link, and taking one down leaves the other running."""
    name = f"tw{os.getpid()}"
    first = ["--name", name, "--home", str(tmp_path / "first")]
    other_home = tmp_path / "other-user"
    other_home.mkdir()
    # Another user's HOME, with this machine's binary cache (built once, not again for them).
    env = {"HOME": str(other_home), "KURATOR_CACHE": str(cache_home())}
    if "KURATOR_HOME" in os.environ:  # it would win over HOME: the other user's is under their HOME
        env["KURATOR_HOME"] = str(other_home / ".kurator")
    second_root = other_home / ".kurator" / "local" / name

    def second(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return kurator(*argv, "--name", name, env=env, check=check)

    try:
        kurator("local", "up", *first, *SMALL, "--api-port", "17443", check=True)
        second("local", "up", *SMALL, "--api-port", "18443")
        a = config.load(tmp_path / "first" / "fleet.json", "")
        b = config.load(second_root / "fleet.json", "")
        assert a is not None and b is not None
        assert a.fleet_id != b.fleet_id
        link_a, link_b = link_of(a), link_of(b)
        if os.geteuid() == 0:
            assert link_a is not None and link_b is not None
            assert link_a.netns != link_b.netns and link_a.host_if != link_b.host_if
            assert {link_a.host_addr, link_a.ns_addr}.isdisjoint({link_b.host_addr, link_b.ns_addr})
        else:  # no namespaces without root: the fleets stand apart by their ports
            assert a.network == b.network == "loopback"
        assert kurator("local", "status", *first).returncode == 0
        assert second("local", "status", check=False).returncode == 0

        kurator("local", "down", *first, "--purge", check=True)
        assert second("local", "status", check=False).returncode == 0, "taking one down hit the other"
        if link_a is not None and link_b is not None:
            assert netns.exists(link_b.netns) and not netns.exists(link_a.netns)
    finally:
        kurator("local", "down", *first, "--purge")
        second("local", "down", "--purge", check=False)
