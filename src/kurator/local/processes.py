"""Start, identify and stop the local fleet's processes.

Processes are daemonised with a double fork so they outlive the command that started them and are never
left as zombies of a long-lived parent (pytest, for one), which would otherwise look alive in ``/proc``.
Each one is recorded by PID *and* kernel start time, so a recycled PID is never mistaken for ours and
``down`` stops exactly what ``up`` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.kube import wait

# Set in the environment of every process a fleet starts: its fleet's id and its own name, so the fleet's
# processes are found from /proc even when the fleet's record of them is lost or damaged.
FLEET_ENV = "KURATOR_LOCAL_FLEET"
PROCESS_ENV = "KURATOR_LOCAL_PROCESS"


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process of the fleet."""

    name: str  # unique in the fleet, e.g. "member1/kube-apiserver"
    argv: list[str]
    log: Path
    netns: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Run with the namespace's own /etc/hosts and /etc/resolv.conf (iproute2's /etc/netns/<netns>/ files,
    # bind-mounted by `ip netns exec` into a mount namespace of the process's own).
    private_etc: bool = False
    cwd: Path | None = None  # for programs that keep files relative to where they run (istiod)


@dataclass(frozen=True)
class ProcessRecord:
    """A process the fleet started: enough to find it again and to know it is still the same one."""

    name: str
    pid: int
    start_time: int
    exe: str


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its closing one.
    return raw[raw.rindex(")") + 2 :].split()


def start_time_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_alive(rec: ProcessRecord) -> bool:
    """True while the recorded process runs (not a zombie, not a recycled PID)."""
    fields = _stat_fields(rec.pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return int(fields[19]) == rec.start_time


def _exec_argv(spec: ProcessSpec) -> list[str]:
    if spec.netns is None:
        return spec.argv
    if spec.private_etc:  # `ip` execs the command in place: the PID recorded stays the process's own
        return ["ip", "netns", "exec", spec.netns, *spec.argv]
    return ["nsenter", f"--net=/run/netns/{spec.netns}", "--", *spec.argv]


def spawn(spec: ProcessSpec) -> ProcessRecord:
    """Start ``spec`` as a daemon (own session, output to its log) and return its record."""
    spec.log.parent.mkdir(parents=True, exist_ok=True)
    argv = _exec_argv(spec)
    env = {**os.environ, **spec.env}
    pid_r, pid_w = os.pipe()
    err_r, err_w = os.pipe()
    os.set_inheritable(err_w, False)  # closed by a successful exec: EOF tells the parent exec worked
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(pid_r)
            os.close(err_r)
            os.setsid()
            grandchild = os.fork()
            if grandchild:
                os.write(pid_w, str(grandchild).encode())
                os._exit(0)
            log_fd = os.open(spec.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            null_fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null_fd, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            # Nothing else of the caller's goes with the daemon: an inherited lock (`flock lockfile
            # kurator local up`), a pipe or a test's capture file would stay open as long as it runs.
            os.closerange(3, err_w)
            os.closerange(err_w + 1, os.sysconf("SC_OPEN_MAX"))
            if spec.cwd is not None:
                os.chdir(spec.cwd)
            os.execvpe(argv[0], argv, env)  # noqa: S606 - argv is built by kurator, no shell involved
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.write(err_w, f"{type(exc).__name__}: {exc}".encode())
            os._exit(127)
    os.close(pid_w)
    os.close(err_w)
    os.waitpid(child, 0)
    with os.fdopen(pid_r, "rb") as fh:
        pid_text = fh.read().decode()
    with os.fdopen(err_r, "rb") as fh:
        error = fh.read().decode()
    if error or not pid_text:
        raise KuratorError(f"could not start {spec.name} ({argv[0]}): {error or 'no process started'}")
    pid = int(pid_text)
    started = start_time_of(pid)
    if started is None:
        raise KuratorError(f"{spec.name} exited at once; see its log {spec.log}")
    return ProcessRecord(name=spec.name, pid=pid, start_time=started, exe=spec.argv[0])


EXITING = wait.Backoff(first=0.02, factor=1.5, most=0.25)  # a stopped process is gone within milliseconds


def stop(rec: ProcessRecord, grace_seconds: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_seconds``; returns once the process is gone."""
    if not is_alive(rec):
        return
    for sig, seconds in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(rec.pid, sig)
        with contextlib.suppress(wait.WaitTimeout):
            wait.until(
                lambda: not is_alive(rec),
                timeout=seconds,
                what=f"{rec.name} to stop",
                backoff=EXITING,
                retry_on=(),
            )
            return
    raise KuratorError(f"{rec.name} (pid {rec.pid}) did not stop after SIGKILL")


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's: not ours either way
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def marked(fleet_id: str) -> list[ProcessRecord]:
    """Live processes started for the fleet ``fleet_id`` (found by the marker in their environment),
    oldest first."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        env = _environ(pid)
        if env.get(FLEET_ENV) != fleet_id:
            continue
        fields = _stat_fields(pid)
        if fields is None or fields[0] in ("Z", "X"):
            continue
        try:
            exe = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        found.append(ProcessRecord(env.get(PROCESS_ENV, "?"), pid, int(fields[19]), exe))
    return sorted(found, key=lambda r: r.start_time)


def rss_bytes(rec: ProcessRecord) -> int:
    """Resident memory of a live process (0 when it is gone)."""
    if not is_alive(rec):
        return 0
    try:
        for line in Path(f"/proc/{rec.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        return 0
    return 0
