"""The whole test suite, as the README runs it (`./scripts/test.sh`), several times in a row while other
processes keep every core busy, started as a background job starts it (SIGINT ignored). Prints, per run,
its wall time, the suite's own summary line and the tests that failed; exits non-zero when any run failed.

    .venv/bin/python bench/suite_under_load.py --runs 2 --burners 2

The burners are plain busy loops at normal priority, each bounded by --limit so none outlives a killed
bench; they are stopped when the runs are done.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^=+ (.*(passed|failed|error).*) in [0-9.]+s", re.MULTILINE)
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def _burner(limit: float) -> subprocess.Popen[bytes]:
    loop = f"import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", loop])


def _as_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell's `cmd &` gives a non-interactive job


def _one_run(number: int, log_dir: Path) -> bool:
    log = log_dir / f"run-{number}.log"
    began = time.monotonic()
    with log.open("wb") as out:
        rc = subprocess.call(
            ["bash", "scripts/test.sh"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_as_background_job,  # this process runs no threads
        )
    minutes = (time.monotonic() - began) / 60
    text = log.read_text(errors="replace")
    summary = SUMMARY.findall(text)
    print(f"run {number}: exit {rc}, {minutes:.1f} min, {summary[-1][0] if summary else 'no pytest summary'}")
    for test in sorted(set(FAILED.findall(text))):
        print(f"  failed: {test}")
    print(f"  log: {log}", flush=True)
    return rc == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--limit", type=float, default=4 * 3600.0, help="seconds a burner runs at most")
    parser.add_argument("--logs", type=Path, default=Path("/tmp/kurator-suite-under-load"))
    args = parser.parse_args()
    if not 1 <= args.runs <= 5 or not 0 <= args.burners <= 16 or not 0 < args.limit <= 12 * 3600:
        parser.error("--runs 1..5, --burners 0..16, --limit up to 12 hours")
    args.logs.mkdir(parents=True, exist_ok=True)
    burners = [_burner(args.limit) for _ in range(args.burners)]
    print(
        f"{args.burners} busy loops on {os.cpu_count()} cores; {args.runs} runs of ./scripts/test.sh",
        flush=True,
    )
    try:
        results = [_one_run(n, args.logs) for n in range(1, args.runs + 1)]
    finally:
        for b in burners:
            b.kill()
            b.wait()
    print(f"{sum(results)} of {len(results)} runs passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
