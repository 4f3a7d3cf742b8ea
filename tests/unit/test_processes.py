"""Daemonised processes: real short-lived `sleep` processes, no cluster needed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from kurator.core.errors import KuratorError
from kurator.kube import wait
from kurator.local import processes
from kurator.local.processes import ProcessRecord, ProcessSpec


def test_spawned_process_is_a_daemon_tracked_by_pid_and_start_time(tmp_path: Path) -> None:
    rec = processes.spawn(ProcessSpec("t/sleep", ["sleep", "30"], tmp_path / "log"))
    try:
        assert processes.is_alive(rec)
        # A new session, and not our child: it outlives the command that started it and never
        # lingers as our zombie.
        assert os.getsid(rec.pid) != os.getsid(0)
        ppid = int(Path(f"/proc/{rec.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert ppid != os.getpid()
        assert processes.rss_bytes(rec) > 0
        recycled = ProcessRecord(rec.name, rec.pid, rec.start_time + 1, rec.exe)
        assert not processes.is_alive(recycled)
    finally:
        processes.stop(rec)
    assert not processes.is_alive(rec)
    processes.stop(rec)  # stopping a stopped process is fine


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    script = "trap '' TERM; while true; do sleep 0.1; done"
    rec = processes.spawn(ProcessSpec("t/stubborn", ["bash", "-c", script], tmp_path / "log"))
    processes.stop(rec, grace_seconds=0.5)
    assert not processes.is_alive(rec)


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KuratorError, match="could not start t/missing"):
        processes.spawn(ProcessSpec("t/missing", [str(tmp_path / "nope")], tmp_path / "log"))


def test_killed_process_is_not_alive(tmp_path: Path) -> None:
    rec = processes.spawn(ProcessSpec("t/victim", ["sleep", "30"], tmp_path / "log"))
    os.kill(rec.pid, signal.SIGKILL)
    import time

    deadline = time.monotonic() + 5
    while processes.is_alive(rec) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes.is_alive(rec)


def _open_files(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out.add(os.readlink(fd))
        except FileNotFoundError:  # closed while we looked
            continue
    return out


def test_a_daemon_keeps_nothing_open_of_its_caller(tmp_path: Path) -> None:
    """An fd the caller holds (e.g. the lock of `flock lockfile kurator local up`) is not the daemon's."""
    import fcntl

    lock = (tmp_path / "lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.set_inheritable(lock.fileno(), True)
    try:
        rec = processes.spawn(ProcessSpec("t/sleep", ["sleep", "30"], tmp_path / "log"))
        try:
            expected = {os.devnull, str(tmp_path / "log")}
            seen: list[set[str]] = []

            def settled() -> bool:  # sleep itself opens and closes locale files while it starts
                seen.append(_open_files(rec.pid))
                return seen[-1] <= expected

            wait.until(settled, timeout=10, what="the daemon's start", retry_on=())
            assert all(str(tmp_path / "lock") not in held for held in seen)
        finally:
            processes.stop(rec)
    finally:
        lock.close()
