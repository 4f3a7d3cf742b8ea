"""Runs ansible-playbook inside the Kubespray Job, passing its output through, and when it fails writes a
one-line JSON summary ``{"failed_host", "task", "message"}`` to the container's termination log, where the
operator reads why a run failed without reading its logs.

Shipped to the Job in its inventory ConfigMap and run by the image's python3: standard library only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable

TERMINATION_LOG = "/dev/termination-log"
MESSAGE_MAX = 2000  # the kubelet keeps at most 4096 bytes of the termination log

_TASK = re.compile(r"^TASK \[(?P<task>.*?)\] \**\s*$")
_FATAL = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: (?:FAILED|UNREACHABLE)! => (?P<rest>.*)$")
_IGNORING = "...ignoring"


def _message(rest: str) -> str:
    try:
        doc = json.loads(rest)
    except ValueError:
        return rest.strip()
    if not isinstance(doc, dict):
        return rest.strip()
    said = [str(doc[k]).strip() for k in ("msg", "reason", "stderr") if doc.get(k)]
    # A failed command says only "non-zero return code"; what it wrote to stderr says why.
    return ": ".join(dict.fromkeys(said)) or rest.strip()


class Summary:
    """Follows ansible's output line by line and keeps the first failure it did not ignore: on which host,
    in which task, with what message."""

    def __init__(self) -> None:
        self.task: str | None = None
        self.failure: dict[str, str | None] | None = None
        self._pending: dict[str, str | None] | None = None

    def feed(self, raw: str) -> None:
        line = raw.rstrip("\n")
        if self._pending is not None:
            if line.strip() != _IGNORING and self.failure is None:
                self.failure = self._pending
            self._pending = None
        if m := _TASK.match(line):
            self.task = m["task"]
        elif m := _FATAL.match(line):
            host = m["host"].split(" -> ")[0]  # "node1 -> master1": the task ran for node1, delegated
            self._pending = {"failed_host": host, "task": self.task, "message": _message(m["rest"])}
        elif line.startswith("ERROR! ") and self.failure is None:  # ansible stopped before any task
            self.failure = {"failed_host": None, "task": self.task, "message": line.removeprefix("ERROR! ")}

    def result(self, returncode: int) -> dict[str, str | None]:
        found = self.failure or self._pending or {"failed_host": None, "task": self.task, "message": None}
        message = found["message"] or f"ansible-playbook exited with code {returncode}"
        return {**found, "message": message[:MESSAGE_MAX]}


def summarize(lines: Iterable[str], returncode: int = 2) -> dict[str, str | None]:
    summary = Summary()
    for line in lines:
        summary.feed(line)
    return summary.result(returncode)


def main(argv: list[str]) -> int:
    """``[--termination-log PATH] [--] COMMAND...``: run COMMAND; on failure write its summary to PATH."""
    log = TERMINATION_LOG
    if argv[:1] == ["--termination-log"]:
        log, argv = argv[1], argv[2:]
    command = argv[1:] if argv[:1] == ["--"] else argv
    summary = Summary()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            summary.feed(line)
    if proc.returncode != 0:
        with open(log, "w", encoding="utf-8") as out:  # noqa: PTH123
            json.dump(summary.result(proc.returncode), out)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
