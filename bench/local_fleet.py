"""Bring-up time and memory of a local fleet (host + 2 members, 3 fake nodes each).

cold: `kurator local up` of a new fleet (binaries already cached: `kurator local fetch` first);
warm: `kurator local up` of the same fleet after `kurator local down` (data, certificates kept);
noop: `kurator local up` of a running fleet (nothing to do).
Memory: total resident memory of every process of the fleet once it is up.
Targets: warm bring-up <= 60 s, total RSS <= 3 GiB.

Usage: .venv/bin/python bench/local_fleet.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def kurator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kurator", *args], capture_output=True, text=True, check=True
    )


def timed(*args: str) -> float:
    t = time.monotonic()
    kurator(*args)
    return time.monotonic() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    kurator("local", "fetch")
    with tempfile.TemporaryDirectory() as tmp:
        fleet = ["--name", "bench", "--home", str(Path(tmp) / "bench")]
        cold, warm, noop, rss = [], [], [], []
        try:
            for _ in range(rounds):
                cold.append(timed("local", "up", *fleet, "--members", "2", "--nodes", "3"))
                status = json.loads(kurator("local", "status", *fleet, "-o", "json").stdout)
                assert status["healthy"], status
                rss.append(status["rssBytes"])
                noop.append(timed("local", "up", *fleet))
                kurator("local", "down", *fleet)
                warm.append(timed("local", "up", *fleet))
                kurator("local", "down", *fleet, "--purge")
        finally:
            subprocess.run(
                [sys.executable, "-m", "kurator", "local", "down", *fleet, "--purge"], capture_output=True
            )

    def med(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    print(f"local fleet bring-up, host + 2 members, median of {rounds} rounds")
    print(f"  cold up (new fleet):        {med(cold):6.1f} s")
    print(
        f"  warm up (after down):       {med(warm):6.1f} s   target <= 60 s  ({med(warm) / 60:.2f} of target)"
    )
    print(f"  up of a running fleet:      {med(noop):6.1f} s")
    print(f"  warm / cold:                {med(warm) / med(cold):6.2f}")
    gib = med([float(r) for r in rss]) / 2**30
    print(f"  total RSS of the fleet:     {gib:6.2f} GiB target <= 3 GiB ({gib / 3:.2f} of target)")


if __name__ == "__main__":
    main()
