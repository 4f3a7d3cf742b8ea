"""SSH preflight of a cluster's hosts against real sshd servers, each in a network namespace of its own
(the same test hosts as tests/integration/test_ssh_preflight.py).

  one:     preflight of the first host alone (connect, key login, the python3/sudo probe, close);
  all:     preflight of every host at once, as the cluster operator runs it before Kubespray;
  refused: a namespace where nothing listens (how fast a dead host is reported).
Each figure is the median of --rounds runs, interleaved; min and max beside it.
Target: all 20 hosts <= 5 s.

Usage: .venv/bin/python bench/ssh_preflight.py [--hosts 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.sshhosts import SshTestbed

from kurator.ssh.keys import PrivateKey, load_private_key
from kurator.ssh.preflight import Host, check_hosts

TARGET_SECONDS = 5.0
TIMEOUT = 10.0


def timed(hosts: list[Host], key: PrivateKey, expect_ok: bool) -> float:
    started = time.monotonic()
    results = asyncio.run(check_hosts(hosts, key, timeout_per_host=TIMEOUT))
    seconds = time.monotonic() - started
    assert all(r.ok == expect_ok for r in results), [r.message for r in results]
    return seconds


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values):.3f} s "
        f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SshTestbed(Path(tmp)) as bed:
        started = time.monotonic()
        for _ in range(args.hosts):
            bed.add_host()
        dead_ns = bed.add_host(sshd=False)
        print(
            f"{args.hosts} sshd hosts in network namespaces up in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        hosts = [Host(f"node{h.index}", h.address) for h in bed.hosts if h.sshd]
        dead = [Host("dead", dead_ns.address)]
        key = load_private_key(bed.private_key)
        timed(hosts, key, True)  # warm-up: imports, first forks of every sshd
        one, every, refused = [], [], []
        for _ in range(args.rounds):
            one.append(timed(hosts[:1], key, True))
            every.append(timed(hosts, key, True))
            refused.append(timed(dead, key, False))
        print(summary("one host", one), flush=True)
        print(summary(f"{len(hosts)} hosts at once", every), flush=True)
        print(summary("refused host", refused), flush=True)
        median = statistics.median(every)
        verdict = "met" if median <= TARGET_SECONDS else "NOT met"
        print(f"target: {len(hosts)} hosts <= {TARGET_SECONDS:g} s: {verdict} ({median:.2f} s)")


if __name__ == "__main__":
    main()
