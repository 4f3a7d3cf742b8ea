"""Before Kubespray runs: can every host of a cluster be reached, does it accept the key, has it python3
(Ansible runs its modules with it), and can the user become root without a password?

All hosts are checked at once (at most ``concurrency`` connections open), each within its own deadline,
so a cluster of any size gets its answer in about one host's time, and one dead host costs only its
timeout. One remote command answers both python and sudo, to spend one round trip after the login.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Literal

from kurator.ssh.keys import PrivateKey, load_private_key
from kurator.ssh.session import Stage, Target, connect, explain

log = logging.getLogger(__name__)

# Where Ansible's interpreter discovery looks first: python3 on PATH, then the usual absolute paths.
PROBE = """\
version='import sys; print("%d.%d" % sys.version_info[:2])'
for p in python3 /usr/bin/python3 /usr/libexec/platform-python; do
  if command -v "$p" >/dev/null 2>&1 && v=$("$p" -c "$version" 2>/dev/null); then
    echo "python=$v"; break
  fi
done
if [ "$(id -u 2>/dev/null)" = 0 ]; then echo sudo=root
elif sudo -n true >/dev/null 2>&1; then echo sudo=yes
else echo sudo=no
fi
"""

Sudo = Literal["root", "yes", "no"]
_SUDO: dict[str, Sudo] = {"root": "root", "yes": "yes", "no": "no"}


@dataclass(frozen=True)
class Host:
    """A machine as the CustomMachine names it: ``name`` for the inventory, ``address`` to SSH to."""

    name: str
    address: str


@dataclass(frozen=True)
class HostResult:
    """What the preflight found on one host. ``stage`` is where it failed, or the last one passed."""

    host: Host
    ok: bool
    stage: Stage
    message: str
    python: str | None = None
    host_key: str | None = None  # SHA256 fingerprint the host presented, to pin on later runs
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host.name,
            "address": self.host.address,
            "ok": self.ok,
            "stage": self.stage,
            "message": self.message,
            "python": self.python,
            "hostKey": self.host_key,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Probe:
    python: str | None
    sudo: Sudo | None


def parse_probe(stdout: str) -> Probe:
    """The ``key=value`` lines PROBE prints; anything else (a login banner, a motd) is ignored."""
    values = dict(line.strip().split("=", 1) for line in stdout.splitlines() if "=" in line)
    python = values.get("python") or None
    return Probe(python, _SUDO.get(values.get("sudo", "")))


def judge(probe: Probe, target: Target, need_sudo: bool, output: str = "") -> tuple[bool, Stage, str]:
    """Whether the probe's answer lets Kubespray run, as (ok, stage, message). ``output`` is what the
    host printed (stderr, then stdout), quoted when the probe did not run."""
    if probe.sudo is None:  # its last line never came: the login shell did not run the probe
        # The shell's own words come last (after, say, sshd's "Could not chdir to home directory").
        detail = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "no output")
        return False, "python", f"{target}: the check for python3 could not run ({detail[:200]})"
    if probe.python is None:
        return False, "python", f"{target}: no python3 on the host (Kubespray needs it)"
    if not probe.python.startswith("3."):
        return False, "python", f"{target}: python3 answers as version {probe.python}, not 3.x"
    if need_sudo and probe.sudo != "root":
        if probe.sudo != "yes":
            return (
                False,
                "sudo",
                f"{target}: {target.user} cannot run sudo without a password "
                "(Kubespray needs it to become root: log in as root, or allow NOPASSWD sudo)",
            )
        return True, "sudo", f"{target}: ok (python {probe.python}, passwordless sudo)"
    return True, "python", f"{target}: ok (python {probe.python})"


async def _check(
    host: Host, key: PrivateKey, target: Target, timeout: float, known_hosts: str | None, need_sudo: bool
) -> HostResult:
    stage: Stage = "connect"
    fingerprint: str | None = None
    python: str | None = None
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            async with await connect(target, key, known_hosts) as conn:
                server_key = conn.get_server_host_key()
                fingerprint = server_key.get_fingerprint() if server_key else None
                stage = "python"
                proc = await conn.run(PROBE, check=False)
        stdout, stderr = (out if isinstance(out, str) else "" for out in (proc.stdout, proc.stderr))
        probe = parse_probe(stdout)
        python = probe.python
        ok, stage, message = judge(probe, target, need_sudo, key.redact(f"{stderr}\n{stdout}"))
    except Exception as exc:  # every way of failing becomes this host's result, never the whole check's
        ok = False
        stage, message = explain(exc, target, stage, timeout, key)
    result = HostResult(host, ok, stage, message, python, fingerprint, time.monotonic() - started)
    log.debug("preflight %s: %s", host.name, result.message)
    return result


async def check_hosts(
    hosts: list[Host],
    key: PrivateKey | bytes | str,
    user: str = "root",
    port: int = 22,
    timeout_per_host: float = 10.0,
    *,
    known_hosts: str | None = None,
    need_sudo: bool = True,
    concurrency: int = 50,
) -> list[HostResult]:
    """One result per host, in the order given. ``key`` is the Secret's private key (InvalidInput if it
    cannot be read); ``known_hosts`` is OpenSSH known_hosts text to verify host keys against, ``None`` to
    accept any (first contact with fresh machines, see ``kurator.ssh.session``)."""
    private = key if isinstance(key, PrivateKey) else load_private_key(key)
    gate = asyncio.Semaphore(concurrency)

    async def one(host: Host) -> HostResult:
        async with gate:  # the deadline starts once the connection may open, not while queued
            target = Target(host.address, port, user)
            return await _check(host, private, target, timeout_per_host, known_hosts, need_sudo)

    return list(await asyncio.gather(*(one(h) for h in hosts)))
