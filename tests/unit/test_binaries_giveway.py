"""A starved background build gives its lock to a test that waits for it; nothing else is ever stopped.
Real processes hold the lock (`gobuild.locked`, as `kurator local fetch` takes it); busy loops, bounded in
time, keep every core busy as another user's work would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kurator.binaries import giveway, gobuild
from kurator.binaries.catalog import GoBuildSpec

SPEC = GoBuildSpec(key="giveway-test", module="example.com/m", version="v1.0.0", packages=(("./cmd/x", "x"),))
# A holder as `kurator local fetch` holds the lock, blocked on its stdin (so using no CPU) until told to go.
HOLD = f"""
import sys
from kurator.binaries import gobuild
from kurator.binaries.catalog import GoBuildSpec
with gobuild.locked({SPEC!r}):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _busy_loop(seconds: float, **popen: Any) -> subprocess.Popen[bytes]:
    """A process keeping one core busy for at most ``seconds``."""
    loop = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", loop], **popen)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KURATOR_CACHE", str(tmp_path))
    monkeypatch.delenv(giveway.GIVES_WAY_ENV, raising=False)  # this process waits; it never gives way
    monkeypatch.setattr(giveway, "POLL", 0.05)
    return tmp_path


@pytest.fixture
def busy() -> Iterator[None]:
    """Every core kept busy at normal priority, for at most a minute."""
    burners = [_busy_loop(60) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.wait()


def _holder(cache: Path, gives_way: bool) -> subprocess.Popen[str]:
    env = {**os.environ, "KURATOR_CACHE": str(cache), giveway.GIVES_WAY_ENV: "1" if gives_way else "0"}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as scripts/test.sh starts it: setsid nice -n 19
        preexec_fn=lambda: os.nice(19),
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def _wait_in_thread(done: list[float]) -> threading.Thread:
    def take() -> None:
        with gobuild.locked(SPEC):
            done.append(time.monotonic())

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def test_a_starved_background_build_gives_way_to_a_waiter(
    cache: Path, busy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(giveway, "WINDOW", 0.5)
    holder = _holder(cache, gives_way=True)
    (cache / "build" / SPEC.key / ".out-left-by-it").mkdir()
    try:
        with gobuild.locked(SPEC):
            # the waiter holds the lock now, and what the stopped build left is gone
            assert holder.wait(30) == -signal.SIGTERM
            assert not list((cache / "build" / SPEC.key).glob(".out-*"))
    finally:
        holder.kill()


def test_a_holder_that_did_not_ask_keeps_its_lock(
    cache: Path, busy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(giveway, "WINDOW", 0.2)
    judged: list[giveway.Holder] = []
    real = giveway.may_stop
    monkeypatch.setattr(giveway, "may_stop", lambda h: judged.append(h) or real(h))
    holder = _holder(cache, gives_way=False)
    done: list[float] = []
    thread = _wait_in_thread(done)
    try:
        deadline = time.monotonic() + 30
        while len(judged) < 20 and time.monotonic() < deadline:  # about four windows of it
            time.sleep(0.05)
        assert len(judged) >= 20 and not done and holder.poll() is None
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.wait(30) == 0
        thread.join(30)
        assert done
    finally:
        holder.kill()


@pytest.mark.parametrize(
    ("cpu", "idle"),
    [
        ((10.0, 25.0), (500.0, 500.0)),  # 15 s of CPU in 20 s, though the machine had no idle core
        ((10.0, 10.0), (500.0, 520.0)),  # no CPU for it (downloading, say) while a core was idle
    ],
    ids=["gets its cpu", "machine has idle cores"],
)
def test_a_build_is_starved_only_without_cpu_on_a_busy_machine(
    monkeypatch: pytest.MonkeyPatch, cpu: tuple[float, float], idle: tuple[float, float]
) -> None:
    clock, cpus, idles = iter([100.0, 120.0]), iter(cpu), iter(idle)
    monkeypatch.setattr(giveway.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(giveway, "group_cpu_seconds", lambda pgid: next(cpus))
    monkeypatch.setattr(giveway, "idle_cpu_seconds", lambda: next(idles))
    assert not giveway.Watch.start(giveway.Holder(1, True)).starved()


def test_only_a_kurator_process_group_of_lower_priority_may_be_stopped() -> None:
    own = giveway.Holder(os.getpid(), True)
    assert not giveway.may_stop(own)
    assert not giveway.may_stop(giveway.Holder(2**22 + 1, True))  # no such process
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True, preexec_fn=lambda: os.nice(19))
    try:  # its own group, lower priority, but not kurator
        assert not giveway.may_stop(giveway.Holder(sleeper.pid, True))
    finally:
        sleeper.kill()
        sleeper.wait()


def test_group_cpu_counts_a_busy_group() -> None:
    child = _busy_loop(30, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while giveway.group_cpu_seconds(child.pid) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert giveway.group_cpu_seconds(child.pid) >= 0.2
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("content", [b"", b"\xff\xfe not text", b"{" * 100_000, b'{"pid": "x"}'])
def test_a_damaged_lock_file_names_no_holder_and_is_taken_over(cache: Path, content: bytes) -> None:
    lock = cache / "build" / SPEC.key / ".lock"
    lock.parent.mkdir(parents=True)
    lock.write_bytes(content)
    assert giveway.read_holder(lock) is None
    with gobuild.locked(SPEC):
        assert giveway.read_holder(lock) == giveway.Holder(os.getpid(), False)
