"""What a cold set-up costs: wall time, CPU time and disk, from empty Go, pip and kurator caches.

fetch: `kurator local fetch --source build` (every binary: the fleet's, Karmada's, helm, Prometheus and
       Thanos) with empty GOCACHE, GOMODCACHE and KURATOR_CACHE.
istiod: istiod's `pilot-discovery` alone, built from Istio's pinned module with empty GOCACHE, GOMODCACHE
       and KURATOR_CACHE, as the first `kurator local istiod` (or the istio tests) on a fresh machine
       builds it.
cluster-api: Cluster API's three managers and CAPA's, as the first `kurator local up --cluster-api` (or the
       AWS tests) on a fresh machine builds them, with empty GOCACHE, GOMODCACHE and KURATOR_CACHE.
demo:  `scripts/demo.sh` in a fresh clone, as a new user runs it: its own .venv (pip downloads into an empty
       cache), empty Go caches and binary cache, a fleet of its own in a temporary home (purged afterwards).
ci:    `bash .ci/run` in a fresh clone with every cache empty, as CI on a fresh machine runs it: set-up, the
       quality gates and the whole suite, while scripts/test.sh builds Cluster API + CAPA and istiod in the
       background (a test that needs them first waits for that build). The figure the issue's "cold CI
       inside 60 minutes" is about.

Each run uses a clone of the given revision (default HEAD; uncommitted changes are not measured), so the
code before and after a change is measured by the same script: `--revs OLD,HEAD` runs both in turn and
prints the ratio. The machine's load is printed beside each figure: the CPU time that other processes
used during the run (all CPU time from /proc/stat minus this run's own), so a figure taken on a busy
machine says so. A run's own is what its process tree waited for: the daemons of the local fleets that
`demo` and `ci` start detach from it, so there the figure counts them too (~20% of 2 CPUs for `ci` on an
otherwise idle machine). The targets: cold demo.sh <= 15 min (README), cold CI <= 60 min, on a quiet
2-core machine.

Usage: .venv/bin/python bench/cold_setup.py [--what fetch|istiod|cluster-api|demo|ci] [--revs REV[,REV]]
       [--workdir DIR]
       [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def busy_jiffies() -> int:
    """CPU time the whole machine has spent busy since boot, in clock ticks (idle and iowait excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def du(path: Path) -> int:
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=False).stdout
    return int(out.split()[0]) if out else 0


def run_logged(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[int, list[str]]:
    """Run ``args``, echoing and keeping its output; returns the exit code and the output's lines, each
    prefixed with the minutes since the start at which it came."""
    lines: list[str] = []
    t0 = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            print(f"    | {line}", end="", flush=True)
            lines.append(f"[{(time.monotonic() - t0) / 60:5.1f} min] {line.rstrip()}")
        return proc.wait(), lines


def clone(rev: str, dest: Path) -> str:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", rev], check=True)
    return subprocess.run(
        ["git", "-C", str(dest), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def measure(what: str, rev: str, work: Path, ncpu: int) -> dict[str, object]:
    work.mkdir(parents=True)
    repo = work / "repo"
    commit = clone(rev, repo)
    caches = {
        "GOCACHE": work / "go-build",
        "GOMODCACHE": work / "go-mod",
        "KURATOR_CACHE": work / "kurator-cache",
        "PIP_CACHE_DIR": work / "pip-cache",
    }
    env = {**os.environ, **{k: str(v) for k, v in caches.items()}}
    env.pop("KUBECONFIG", None)
    fleet = ["--name", f"cold{os.getpid()}", "--home", str(work / "fleet")]
    if what == "fetch":
        env["PYTHONPATH"] = str(repo / "src")
        args = [sys.executable, "-m", "kurator", "local", "fetch", "--source", "build"]
    elif what in ("istiod", "cluster-api"):
        env["PYTHONPATH"] = str(repo / "src")
        specs = "istio_binaries" if what == "istiod" else "cluster_api_binaries"
        build = (
            f"from kurator.binaries.catalog import {specs} as specs; from kurator.binaries import "
            "ensure_binaries; from kurator.cli.render import ConsoleReporter; "
            "print(ensure_binaries(specs(), 'build', ConsoleReporter()).paths)"
        )
        args = [sys.executable, "-c", build]
    elif what == "ci":
        args = ["bash", ".ci/run"]
    else:
        args = ["bash", "scripts/demo.sh", *fleet]
    print(f"\n== cold {what} of {commit} in {work}", flush=True)
    cpu0, busy0, t0 = children_cpu(), busy_jiffies(), time.monotonic()
    code, lines = run_logged(args, repo, env, work / f"{what}.log")
    wall, own = time.monotonic() - t0, children_cpu() - cpu0
    busy1 = busy_jiffies()
    hz = os.sysconf("SC_CLK_TCK")
    others = max(0.0, (busy1 - busy0) / hz - own)
    if what == "demo":
        kurator = repo / ".venv" / "bin" / "kurator"
        subprocess.run([str(kurator), "local", "down", *fleet, "--purge"], capture_output=True, check=False)
    disk = {name: du(path) for name, path in caches.items()}
    disk["venv"] = du(repo / ".venv")
    result: dict[str, object] = {
        "what": what,
        "rev": commit,
        "ok": code == 0,
        "wallSeconds": round(wall, 1),
        "cpuSeconds": round(own, 1),
        "othersCpuSeconds": round(others, 1),
        "machineBusyByOthers": round(others / (wall * ncpu), 3) if wall else 0.0,
        "cpus": ncpu,
        "diskBytes": disk,
        "steps": [line for line in lines if _is_step(line.split("] ", 1)[1].strip())],
    }
    return result


def _is_step(line: str) -> bool:
    """The lines that mark progress: a binary made, a set-up or CI phase begun or ended, pytest's summary."""
    return line.startswith(("✓", "==>", "set-up took", "total:")) or (
        line.startswith("=") and (" passed" in line or " failed" in line or " error" in line)
    )


def report(r: dict[str, object]) -> None:
    gib = 2**30
    disk = r["diskBytes"]
    assert isinstance(disk, dict)
    print(f"\ncold {r['what']} of {r['rev']}: {'ok' if r['ok'] else 'FAILED'}")
    print(f"  wall {float(r['wallSeconds']) / 60:.1f} min, CPU {float(r['cpuSeconds']) / 60:.1f} min")  # type: ignore[arg-type]
    print(
        f"  load: processes outside this run's tree (other work, and fleet daemons it started) used "
        f"{r['othersCpuSeconds']} CPU-s meanwhile "
        f"({100 * float(r['machineBusyByOthers']):.0f}% of {r['cpus']} CPUs)"  # type: ignore[arg-type]
    )
    print(
        "  disk: "
        + ", ".join(f"{k} {v / gib:.2f} GiB" for k, v in disk.items())
        + f"; total {sum(disk.values()) / gib:.2f} GiB"
    )
    for step in r["steps"]:  # type: ignore[attr-defined]
        print(f"  {step}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--what", choices=("fetch", "istiod", "cluster-api", "demo", "ci"), default="demo")
    parser.add_argument("--revs", default="HEAD", help="revision(s) to measure, comma-separated, in order")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the caches go (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the caches and clones afterwards")
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kurator-cold-", dir=opts.workdir))
    # mkdtemp makes it 0700: the suite's security tests probe the fleet as user nobody with the clone's
    # venv, which must be readable as in any checkout.
    base.chmod(0o755)
    ncpu = os.cpu_count() or 1
    results = []
    try:
        for i, rev in enumerate(opts.revs.split(",")):
            results.append(measure(opts.what, rev, base / f"run{i}", ncpu))
            if not opts.keep:
                shutil.rmtree(base / f"run{i}", ignore_errors=True)
    finally:
        if not opts.keep:
            shutil.rmtree(base, ignore_errors=True)
    for r in results:
        report(r)
    if len(results) == 2:
        a, b = (float(r["wallSeconds"]) for r in results)  # type: ignore[arg-type]
        print(f"\n{results[1]['rev']} / {results[0]['rev']}: wall {b / a:.2f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
