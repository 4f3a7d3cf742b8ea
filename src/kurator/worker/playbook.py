"""Run ``ansible-playbook`` the way a Kubespray worker Pod does, and say why it failed.

Kurator v0.2.0 ran the playbook as the Pod's command: a failed Pod was all the operator ever learned. Here
the playbook's output still streams to stdout (``kubectl logs``), secrets scrubbed; the shipped callback
plugin records failures and stats; and at the end a JSON summary goes to the termination-message file,
which Kubernetes copies into the Pod's status for the operator to read. The exit code is Ansible's.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from kurator.worker import summary as summaries
from kurator.worker.scrub import Scrubber, scrubber_for

TERMINATION_LOG = "/dev/termination-log"  # Kubernetes' default terminationMessagePath
TERMINATION_LOG_ENV = "KURATOR_TERMINATION_LOG"
EVENTS_FILE_ENV = "KURATOR_EVENTS_FILE"  # read by callback_plugins/kurator_events.py
PLUGINS = Path(__file__).parent / "callback_plugins"
OUTPUT_TAIL = 40  # lines of output kept for a failure that no task explains
NOT_FOUND = 127


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    summary: dict[str, Any]
    message: str  # the JSON text written to the termination log


# ansible-playbook's options that take a value (the next argument is never a playbook).
VALUE_OPTIONS = frozenset(
    {
        "-i",
        "--inventory",
        "--inventory-file",
        "-e",
        "--extra-vars",
        "-l",
        "--limit",
        "-t",
        "--tags",
        "--skip-tags",
        "-u",
        "--user",
        "--private-key",
        "--key-file",
        "-c",
        "--connection",
        "-T",
        "--timeout",
        "-f",
        "--forks",
        "-M",
        "--module-path",
        "--vault-id",
        "--vault-password-file",
        "--vault-pass-file",
        "--become-user",
        "--become-method",
        "--become-password-file",
        "--connection-password-file",
        "--start-at-task",
        "--ssh-common-args",
        "--ssh-extra-args",
        "--sftp-extra-args",
        "--scp-extra-args",
    }
)


def playbook_of(argv: Sequence[str]) -> str | None:
    """The playbook a command line names (its last ``.yml``/``.yaml`` argument that is no option's value),
    for when Ansible stops before it says which one it started."""
    found = None
    args = iter(argv[1:])
    for arg in args:
        if arg in VALUE_OPTIONS:
            next(args, None)
        elif arg.endswith((".yml", ".yaml")) and not arg.startswith("-"):
            found = arg
    return found


def ansible_environment(environ: Mapping[str, str], events_file: Path) -> dict[str, str]:
    """The environment Ansible runs with: ours plus the callback plugin's directory (before any the user
    set, after which Ansible's own default directories, which the variable would otherwise replace).
    A ``callback_plugins`` in an ansible.cfg is replaced too: Kubespray's sets none. The user's
    ``callbacks_enabled`` is left alone (the plugin needs no enabling), so Kubespray's profile_tasks stays."""
    env = dict(environ)
    default_dirs = [
        str(Path("~/.ansible/plugins/callback").expanduser()),
        "/usr/share/ansible/plugins/callback",
    ]
    existing = [d for d in env.get("ANSIBLE_CALLBACK_PLUGINS", "").split(os.pathsep) if d] or default_dirs
    env["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join([str(PLUGINS), *existing])
    env[EVENTS_FILE_ENV] = str(events_file)
    env["PYTHONUNBUFFERED"] = "1"  # progress reaches `kubectl logs` as it happens
    return env


def read_events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return events
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the last line of a run killed mid-write
        if isinstance(event, dict):
            events.append(event)
    return events


def _stream(source: IO[bytes], sink: IO[str], scrub: Scrubber, tail: collections.deque[str]) -> None:
    lines = scrub.lines()
    for raw in iter(source.readline, b""):
        line = lines(raw.decode("utf-8", errors="replace"))
        if line:
            sink.write(line)
            sink.flush()
            tail.append(line.rstrip("\n"))


def _exit_code(returncode: int) -> int:
    """A signal's death as a shell reports it (128 + signal), so the Pod's exit code means something."""
    return 128 - returncode if returncode < 0 else returncode


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def write_termination_log(path: Path, text: str) -> str | None:
    """Write the summary; a problem is returned, not raised: the playbook's exit code matters more."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return f"cannot write the summary to {path}: {exc.strerror or exc}"
    return None


def run(
    argv: Sequence[str],
    termination_log: Path,
    environ: Mapping[str, str] | None = None,
    stdout: IO[str] | None = None,
) -> Outcome:
    """Run ``argv`` (``ansible-playbook`` and its arguments), stream its output to ``stdout`` and write the
    summary to ``termination_log``. SIGTERM and SIGINT are passed on to Ansible (the Pod being deleted), and
    the summary is still written."""
    environ = dict(os.environ if environ is None else environ)
    sink = sys.stdout if stdout is None else stdout
    scrub = scrubber_for(argv, environ)
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL)
    with tempfile.TemporaryDirectory(prefix="kurator-worker-") as work:
        events_file = Path(work) / "events.jsonl"
        events_file.touch(mode=0o600)
        try:
            process = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=ansible_environment(environ, events_file),
                # A group of its own, so a stop reaches Ansible's forked workers and their ssh too: they
                # hold the output pipe, and the summary waits for it to close.
                start_new_session=True,
            )
        except OSError as exc:
            returncode = exit_code = NOT_FOUND
            tail.append(f"cannot run {argv[0] if argv else '(nothing)'}: {exc.strerror or exc}")
            events: list[dict[str, Any]] = []
        else:
            previous = _forward_signals(process)
            try:
                assert process.stdout is not None
                _stream(process.stdout, sink, scrub, tail)
                returncode = process.wait()
                exit_code = _exit_code(returncode)
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
            events = read_events(events_file)
    built = summaries.build(events, exit_code, playbook=playbook_of(argv), output_tail=list(tail))
    if returncode < 0 and not built.get("failed_host"):  # killed, not exited (250 is Ansible's own code)
        during = f" during task {built['task']!r}" if built.get("task") else ""
        built["message"] = f"ansible-playbook was stopped by {_signal_name(-returncode)}{during}"
    clean = summaries.scrubbed(built, scrub)
    text = summaries.bounded(clean)
    sink.write(f"kurator-worker summary: {text}\n")
    sink.flush()
    if problem := write_termination_log(termination_log, text):
        print(f"kurator-worker: {problem}", file=sys.stderr)
    return Outcome(exit_code, clean, text)


def _forward_signals(process: subprocess.Popen[bytes]) -> dict[int, Any]:
    def forward(signum: int, frame: FrameType | None) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, forward)
        except ValueError:  # not the main thread (a test calling run from a thread): nothing to forward
            break
    return previous
