"""How long a CLI command takes to give up on a server that trickles its answer a byte a second (only an
overall deadline ends such a request), against the same command refused at once by a port where nothing
listens (the CLI's start-up and the error: the reference). The difference is the wait, which must be the
deadline asked for (`--request-timeout 3s`), whatever the server does.

  get clusters, get components: a kubeconfig naming the server; query up: `--url` naming it.

Usage: .venv/bin/python bench/request_deadline.py [--rounds 3] [--deadline 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.test_request_deadline import Misbehaving, _kubeconfig, trickle
from tests.integration.helpers import kurator

COMMANDS = (["get", "clusters"], ["get", "components"], ["query", "up"])


def _closed_port() -> str:
    with socket.socket() as s:  # bound, never listening: connections are refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _took(url: str, command: list[str], deadline: float, folder: Path) -> float:
    extra = ["--url", url] if command[0] == "query" else []
    args = ["--kubeconfig", str(_kubeconfig(folder, url)), "--request-timeout", f"{deadline:g}s"]
    began = time.monotonic()
    proc = kurator(*args, *command, *extra, timeout=120)
    took = time.monotonic() - began
    assert proc.returncode == 1, proc.stderr  # both must fail, with the CLI's sentence
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=3.0)
    args = parser.parse_args()
    slow = Misbehaving(trickle)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            print(f"--request-timeout {args.deadline:g}s, medians of {args.rounds} (interleaved)")
            for command in COMMANDS:
                trickled, refused = [], []
                for _ in range(args.rounds):
                    trickled.append(_took(slow.url, command, args.deadline, folder))
                    refused.append(_took(_closed_port(), command, args.deadline, folder))
                t, r = statistics.median(trickled), statistics.median(refused)
                print(
                    f"  {' '.join(command):15} trickling {t:5.2f} s, refused {r:5.2f} s (reference): "
                    f"waited {t - r:4.2f} s = {(t - r) / args.deadline:.2f}x the deadline"
                )
    finally:
        slow.close()


if __name__ == "__main__":
    main()
