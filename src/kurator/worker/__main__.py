"""``python -m kurator.worker [--termination-log PATH] ansible-playbook ARGS...``: what a Kubespray worker
Pod runs. Exits with ansible-playbook's exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kurator.worker.playbook import TERMINATION_LOG, TERMINATION_LOG_ENV, run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kurator.worker",
        description="Run ansible-playbook, stream its output, and write a JSON summary of why it failed "
        "to the container's termination message.",
    )
    parser.add_argument(
        "--termination-log",
        type=Path,
        default=Path(os.environ.get(TERMINATION_LOG_ENV) or TERMINATION_LOG),
        help=f"where the summary goes (${TERMINATION_LOG_ENV}, default {TERMINATION_LOG})",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="ansible-playbook and its arguments")
    args = parser.parse_args(argv)
    command: list[str] = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("give the command to run, e.g. ansible-playbook -i inventory cluster.yml")
    return run(command, args.termination_log).exit_code


if __name__ == "__main__":
    sys.exit(main())
