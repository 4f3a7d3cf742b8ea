"""Real SSH test hosts: each one a network namespace with a veth link to this machine and a real OpenSSH
``sshd`` (Debian's openssh-server) listening on the namespace's address, logging in root by key only.

What makes each namespace look like a fresh machine, and how it differs from one:
- it shares this machine's filesystem, so python3 is there; a host made with ``python=False`` runs its sshd
  in a private mount namespace where every python3 executable is covered by an empty, non-executable file,
  so nothing on that host (the preflight's probe included) can start a python3;
- root's home is an empty tmpfs on every host (private mount namespace), so this machine's ``~/.bashrc``
  (pyenv) and ``~/.ssh`` play no part; the authorized key is in a file of the testbed's own;
- every host also has a user ``deploy`` (NON_ROOT_USER) who is not root and has no passwordless sudo
  (no sudoers entry), and a user ``svc`` (NOLOGIN_USER) whose shell is nologin: both are in a copy of
  /etc/passwd and in a shadow file of the testbed's own (root and them, no passwords), bind-mounted in
  the sshd's mount namespace, so this machine's accounts never change.

Addresses: /30 links carved from 10.254.0.0/16 (the local fleet uses 10.255.0.0/16), skipping any range
this machine already routes. Tests only ever connect to the namespace end of links this testbed created.
Names carry a per-run tag (``kurator-ssh-<tag>-<i>``), so a run never meets what an interrupted one left.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import asyncssh

from kurator.local import netns

SSHD = Path("/usr/sbin/sshd")
POOL = ipaddress.IPv4Network("10.254.0.0/16")
PRIVSEP_DIR = Path("/run/sshd")  # compiled into Debian's sshd; the ssh service creates it at boot
# Where a login shell on the host would look for python3 (sshd's default PATH, and Ansible's extra paths).
PYTHON_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/libexec")
START_TIMEOUT = 10.0
NON_ROOT_USER = "deploy"
NOLOGIN_USER = "svc"  # a service account whose shell is nologin: it accepts the key, then runs nothing

SSHD_CONFIG = """\
ListenAddress {address}:22
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
# The testbed's files live under /tmp, which is world-writable: sshd's ownership checks would refuse them.
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
"""


class SshTestbedError(RuntimeError):
    """The testbed could not be built: the message says why and what to do."""


@dataclass
class SshHost:
    index: int
    link: netns.Link
    host_key_public: str  # OpenSSH public key line of the host key
    python: bool
    sshd: bool
    log: Path
    process: subprocess.Popen[bytes] | None = None
    shared: bool = False  # in a namespace the testbed did not make (and must not delete)
    etc_kubernetes: Path | None = None  # this host's /etc/kubernetes (a folder of the testbed)

    @property
    def address(self) -> str:
        return self.link.ns_addr

    @property
    def known_hosts_line(self) -> str:
        return f"{self.address} {self.host_key_public}"


def _openssh_private(key: asyncssh.SSHKey) -> str:
    return key.export_private_key("openssh").decode()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _routed_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 range this machine routes or has an address in, except the default route."""
    out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True)
    out_addr = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True)
    found = re.findall(r"\b(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", out.stdout + out_addr.stdout)
    return [ipaddress.IPv4Network(n, strict=False) for n in found]


def _python_executables() -> list[str]:
    found: set[str] = set()
    for directory in PYTHON_DIRS:
        base = Path(directory)
        if not base.is_dir():
            continue
        for path in base.iterdir():
            if path.name.startswith(("python3", "platform-python")):
                real = path.resolve()
                if real.is_file() and os.access(real, os.X_OK):
                    found.add(str(real))
    return sorted(found)


def preconditions() -> None:
    """What the testbed needs, as one failure message each (the tests fail, never skip, without them)."""
    if os.geteuid() != 0:
        raise SshTestbedError("SSH test hosts need root (network namespaces, veth links, sshd as root)")
    if not SSHD.exists():
        raise SshTestbedError(f"{SSHD} is missing: install openssh-server (scripts/setup.sh does)")
    for tool in ("ip", "unshare", "mount"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            raise SshTestbedError(
                f"`{tool}` is missing: install iproute2 / util-linux (scripts/setup.sh does)"
            )


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (sshd's per-connection children start sessions of their own, so
    neither a session nor a process group finds them)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class SshTestbed:
    """SSH hosts for one test run. Use as a context manager: ``close`` always tears everything down."""

    workdir: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    hosts: list[SshHost] = field(default_factory=list)

    def __post_init__(self) -> None:
        preconditions()
        self.workdir.mkdir(parents=True, exist_ok=True)
        client = asyncssh.generate_private_key("ssh-ed25519", comment="kurator-test")
        stranger = asyncssh.generate_private_key("ssh-ed25519", comment="not-authorized")
        self.private_key = _openssh_private(client)  # authorized on every host
        self.wrong_key = _openssh_private(stranger)  # authorized nowhere
        # sshd reads authorized keys as the user logging in: pytest's temporary directories are root's
        # only, so the (public) key lives in a directory anyone may read, removed by close().
        self._public_dir = Path(tempfile.mkdtemp(prefix=f"kurator-ssh-{self.tag}-"))
        self._public_dir.chmod(0o755)
        self.authorized_keys = self._public_dir / "authorized_keys"
        self.authorized_keys.write_bytes(client.export_public_key("openssh"))
        self.authorized_keys.chmod(0o644)
        # An empty, non-executable file to cover python3 with on hosts made without it.
        self._no_exec = self.workdir / "no-python"
        self._no_exec.write_text("")
        self._no_exec.chmod(0o644)
        # Accounts files with the two test users; shadow holds only root and them ('*': no password, but
        # not locked, which sshd would refuse even for a key login).
        self._passwd = self.workdir / "passwd"
        self._passwd.write_text(
            Path("/etc/passwd").read_text()
            + f"{NON_ROOT_USER}:x:4242:65534:kurator test user:/:/bin/sh\n"
            + f"{NOLOGIN_USER}:x:4243:65534:kurator test service:/:/usr/sbin/nologin\n"
        )
        self._shadow = self.workdir / "shadow"
        _write_private(
            self._shadow,
            "".join(f"{u}:*:19000:0:99999:7:::\n" for u in ("root", NON_ROOT_USER, NOLOGIN_USER)),
        )
        self._subnets = self._free_subnets()

    def _free_subnets(self) -> list[ipaddress.IPv4Network]:
        taken = _routed_networks()
        slots = list(POOL.subnets(new_prefix=30))
        start = random.randrange(len(slots))
        ordered = slots[start:] + slots[:start]
        return [s for s in ordered[:4096] if not any(s.overlaps(t) for t in taken)]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_host(self, *, python: bool = True, sshd: bool = True) -> SshHost:
        """A new namespace with its link; with a running sshd unless ``sshd=False`` (then nothing listens
        there, and a connection is refused)."""
        index = len(self.hosts)
        if not self._subnets:
            raise SshTestbedError(f"no free /30 left in {POOL}")
        host_addr, ns_addr = (str(a) for a in self._subnets.pop(0).hosts())
        link = netns.Link(
            f"kurator-ssh-{self.tag}-{index}",
            f"ks{self.tag}h{index}",
            f"ks{self.tag}n{index}",
            host_addr,
            ns_addr,
        )
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        host = SshHost(
            index,
            link,
            host_key.export_public_key("openssh").decode().strip(),
            python,
            sshd,
            self.workdir / f"sshd-{index}.log",
        )
        self.hosts.append(host)  # from here on, close() takes it down even if the rest fails
        netns.ensure(link)
        if sshd:
            self._start_sshd(host, self._sshd_config(index, ns_addr, host_key))
        return host

    def _sshd_config(self, index: int, address: str, host_key: asyncssh.SSHKey) -> Path:
        key_path = self.workdir / f"host-key-{index}"
        _write_private(key_path, _openssh_private(host_key))
        config = self.workdir / f"sshd-{index}.conf"
        config.write_text(
            SSHD_CONFIG.format(
                address=address,
                host_key=key_path,
                pid_file=self.workdir / f"sshd-{index}.pid",
                authorized_keys=self.authorized_keys,
            )
        )
        return config

    def add_host_in(self, link: netns.Link) -> SshHost:
        """An sshd in a namespace that exists already (e.g. the local fleet's), at its end of ``link``:
        a "master" whose address is also where that namespace's API servers answer. Its /etc/kubernetes
        is a folder of the testbed (``etc_kubernetes``), for the test to put an admin.conf in. Only the
        sshd and its sessions are stopped at close; the namespace stays."""
        index = len(self.hosts)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        host = SshHost(
            index,
            link,
            host_key.export_public_key("openssh").decode().strip(),
            True,
            True,
            self.workdir / f"sshd-{index}.log",
            shared=True,
            etc_kubernetes=self.workdir / f"etc-kubernetes-{index}",
        )
        assert host.etc_kubernetes is not None
        host.etc_kubernetes.mkdir(mode=0o755)
        self.hosts.append(host)
        self._start_sshd(host, self._sshd_config(index, link.ns_addr, host_key))
        return host

    def _start_sshd(self, host: SshHost, config: Path) -> None:
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        check = subprocess.run([str(SSHD), "-t", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise SshTestbedError(f"sshd refuses its test configuration {config}: {check.stderr.strip()}")
        mounts = [
            "mount -t tmpfs -o mode=0700 kurator-test-root /root",
            f"mount --bind {self._passwd} /etc/passwd",
            f"mount --bind {self._shadow} /etc/shadow",
        ]
        if not host.python:
            mounts += [f"mount --bind {self._no_exec} {exe}" for exe in _python_executables()]
        if host.etc_kubernetes is not None:
            mounts += [f"mkdir -p /etc/kubernetes && mount --bind {host.etc_kubernetes} /etc/kubernetes"]
        script = " && ".join(mounts) + ' && exec "$@"'
        command = [
            "ip", "netns", "exec", host.link.netns,
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", script, "sh",
            str(SSHD), "-D", "-e", "-f", str(config),
        ]  # fmt: skip
        with host.log.open("wb") as log:
            host.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if host.process.poll() is not None:
                raise SshTestbedError(
                    f"sshd for {host.link.netns} exited with {host.process.returncode}: {self.log_tail(host)}"
                )
            try:
                with socket.create_connection((host.address, 22), timeout=0.5) as conn:
                    if conn.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SshTestbedError(
            f"sshd for {host.link.netns} did not answer within {START_TIMEOUT}s: {self.log_tail(host)}"
        )

    def stop_sshd(self, host: SshHost) -> None:
        """The host dies: its sshd stops (the namespace stays, so its address now refuses connections)."""
        if host.process is not None and host.process.poll() is None:
            host.process.terminate()
            host.process.wait(10)

    @staticmethod
    def log_tail(host: SshHost, lines: int = 20) -> str:
        try:
            return "\n".join(host.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def known_hosts(self) -> str:
        return "".join(f"{h.known_hosts_line}\n" for h in self.hosts if h.sshd)

    def close(self) -> None:
        """Stop every sshd, then delete every namespace (its veth pair goes with it). Every host is tried
        even when one fails; the first failure is raised at the end."""
        problems: list[str] = []
        for host in reversed(self.hosts):
            try:
                # Found before the listener stops: then its children are no longer below it.
                sessions = _descendants(host.process.pid) if host.shared and host.process else []
                if host.process is not None and host.process.poll() is None:
                    host.process.terminate()
                    try:
                        host.process.wait(5)
                    except subprocess.TimeoutExpired:
                        host.process.kill()
                        host.process.wait(5)
                if host.shared:
                    # Only this sshd's own processes: the namespace belongs to someone else.
                    for pid in sessions:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    continue
                # Per-connection sshd children outlive the listener; only processes in a namespace this
                # testbed created are signalled.
                for pid in netns.pids_inside(host.link.netns):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                netns.delete(host.link)
            except Exception as exc:
                problems.append(f"{host.link.netns}: {exc}")
        self.hosts.clear()
        shutil.rmtree(self._public_dir, ignore_errors=True)
        if problems:
            raise SshTestbedError("SSH testbed teardown left things behind: " + "; ".join(problems))
