"""Taking a build's lock from a starved background build. `scripts/test.sh` builds the binaries only some
tests need at the lowest CPU priority while the suite runs; on a machine whose cores something else keeps
busy at normal priority that build gets almost no CPU, and a test waiting for its lock would wait for
hours. A build that asked for it (``KURATOR_BUILD_GIVES_WAY=1``) is therefore stopped when a process of
higher priority waits for its lock and it was starved for a whole window: little CPU for itself while the
machine had no idle core. The waiter then builds at its own priority, going on from what Go's build cache
kept. Nothing else is ever stopped: a holder that did not ask, that is not a process group of its own (its
whole group goes), or that is not kurator keeps its lock as long as it likes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

GIVES_WAY_ENV = "KURATOR_BUILD_GIVES_WAY"
WINDOW = 20.0  # seconds a holder is watched before it is judged
POLL = 1.0  # seconds between tries of the lock
STARVED_SHARE = 0.1  # of one core: less than this for the holder's whole group, over the window
BUSY_IDLE = 0.25  # cores: the machine had less idle than this over the window
RECORD_LIMIT = 4096  # bytes of the holder's record read at most


@dataclass(frozen=True)
class Holder:
    pid: int
    gives_way: bool


def note_holder(fh: IO[str]) -> None:
    """Write who holds the lock into its file (``fh``, locked by this process)."""
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps({"pid": os.getpid(), "givesWay": os.environ.get(GIVES_WAY_ENV) == "1"}))
    fh.flush()


def read_holder(path: Path) -> Holder | None:
    """Who holds the lock, as it wrote; None for a file it did not write (damaged, or too large)."""
    # Read here, not with kurator.core.inputs: that loads YAML, and this module loads with the CLI.
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError), path.open("rb") as fh:
        data = fh.read(RECORD_LIMIT + 1)
        if len(data) > RECORD_LIMIT:
            return None
        doc = json.loads(data.decode())
        return Holder(int(doc["pid"]), doc["givesWay"] is True)
    return None


def _is_kurator(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"kurator" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def may_stop(holder: Holder) -> bool:
    """Whether this process may stop ``holder``: it asked to give way, leads a process group of its own
    (the builds it started go with it), is kurator, and runs at a lower priority than this process."""
    if not holder.gives_way or holder.pid == os.getpid():
        return False
    try:
        own_group = os.getpgid(holder.pid) == holder.pid
        lower = os.getpriority(os.PRIO_PROCESS, holder.pid) > os.getpriority(os.PRIO_PROCESS, 0)
    except OSError:  # gone already
        return False
    return own_group and lower and _is_kurator(holder.pid)


def group_cpu_seconds(pgid: int) -> float:
    """CPU time of every process of group ``pgid``, with that of its children waited for (Go's compiler
    runs as short-lived children), in seconds."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
            # stime cutime cstime
            if int(fields[2]) == pgid:
                ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_cpu_seconds() -> float:
    """Idle time of all cores together since boot (idle and iowait), in seconds."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Watch:
    """A holder watched from ``began``: what its group and the machine's idle cores had then."""

    holder: Holder
    began: float
    cpu: float
    idle: float

    @classmethod
    def start(cls, holder: Holder) -> Watch:
        return cls(holder, time.monotonic(), group_cpu_seconds(holder.pid), idle_cpu_seconds())

    def starved(self) -> bool:
        span = time.monotonic() - self.began
        own = (group_cpu_seconds(self.holder.pid) - self.cpu) / span
        idle = (idle_cpu_seconds() - self.idle) / span
        return own < STARVED_SHARE and idle < BUSY_IDLE


def acquire(fh: IO[str], path: Path, what: str) -> None:
    """Lock ``fh`` (the lock file at ``path``) for a build of ``what``, waiting for whoever holds it, and
    stopping a holder that may be stopped (:func:`may_stop`) once it was starved for ``WINDOW`` seconds."""
    watch: Watch | None = None
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_holder(path)
        if holder is None or not may_stop(holder):
            watch = None
        elif watch is None or watch.holder != holder:
            watch = Watch.start(holder)
        elif time.monotonic() - watch.began >= WINDOW:
            if watch.starved():
                log.warning("a background build of %s got no CPU for %.0fs: it gives way", what, WINDOW)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(holder.pid, signal.SIGTERM)
            watch = None
        time.sleep(POLL)
