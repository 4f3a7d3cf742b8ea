"""How fast kurator refuses hostile input files, against reading a real one.

Each case runs `kurator cluster plan -f FILE` as a process of its own (memory capped at 1 GiB, so a
loader that expanded the file would fail instead of swapping), against a kubeconfig whose server is never
reached: every file here is refused (or, for the reference, parsed and checked) before any request.

  reference: a real plan (a CustomCluster and a CustomMachine of 7 masters and 250 nodes, ~60 KiB)
  bomb:      the issue's case, 9 levels of 9 nested YAML anchors in a CustomCluster (< 800 bytes)
  20 MB:     a 20 MB YAML file
  /dev/zero: an endless device, read only up to the limit

The loader alone is timed too, in this process.
Target: a 20 MB file refused in under a second (process start included), the bomb at once.
Usage: .venv/bin/python bench/bounded_input.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
"""


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _plan(kubeconfig: Path, path: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "kurator", "--kubeconfig", str(kubeconfig), "cluster", "plan", "-f", path],
        capture_output=True,
        text=True,
        preexec_fn=_cap,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
        check=False,
    )
    return time.perf_counter() - began, proc


def _real_plan() -> str:
    host = "{{hostName: {n}{i}, publicIP: 10.0.{a}.{b}, privateIP: 10.1.{a}.{b}, sshKey: {{name: k}}}}"
    masters = [host.format(n="m", i=i, a=0, b=i + 1) for i in range(7)]
    nodes = [host.format(n="n", i=i, a=1 + i // 200, b=1 + i % 200) for i in range(250)]
    return (
        "apiVersion: cluster.kurator.dev/v1alpha1\nkind: CustomMachine\nmetadata: {name: big}\nspec:\n"
        f"  master: [{', '.join(masters)}]\n  node: [{', '.join(nodes)}]\n---\n"
        "apiVersion: cluster.kurator.dev/v1alpha1\nkind: CustomCluster\nmetadata: {name: big}\n"
        "spec: {machineRef: {name: big}, cni: {type: calico}, kubernetesVersion: v1.34.3}\n"
    )


def med(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def in_process(files: dict[str, Path], rounds: int) -> None:
    """The loader alone (no process start): read and parse, or refuse, each file."""
    from kurator.core import inputs
    from kurator.core.errors import InvalidInput

    print(f"kurator.core.inputs alone (read + parse or refuse), medians of {rounds} rounds")
    ref = 0.0
    for name, path in files.items():
        xs = []
        for _ in range(rounds):
            began = time.perf_counter()
            try:
                inputs.load_yaml_all(inputs.read_text(path, "plan file"), str(path))
            except InvalidInput:
                assert name != "reference"
            xs.append(time.perf_counter() - began)
        ref = ref or med(xs)
        print(f"  {name:<10} {med(xs) * 1000:8.2f} ms  ({med(xs) / ref:5.2f}x reference)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.unit.test_bounded_input import BOMB_PLAN

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kubeconfig = root / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG)
        files = {"reference": root / "plan.yaml", "bomb": root / "bomb.yaml", "20 MB": root / "big.yaml"}
        files["reference"].write_text(_real_plan())
        files["bomb"].write_text(BOMB_PLAN)
        files["20 MB"].write_text("spec: '" + "x" * (20 * 10**6) + "'\n")
        in_process(files, rounds * 4)
        paths = {**{k: str(v) for k, v in files.items()}, "/dev/zero": "/dev/zero"}
        times: dict[str, list[float]] = {k: [] for k in paths}
        for _ in range(rounds):
            for name, path in paths.items():
                seconds, proc = _plan(kubeconfig, path)
                refused = proc.returncode == 2 and "plan file" in proc.stderr
                # The reference passes the loader and stops at the unreachable API server.
                assert refused == (name != "reference"), proc.stderr
                times[name].append(seconds)
        sizes = {name: Path(p).stat().st_size for name, p in paths.items() if name != "/dev/zero"}

    ref = med(times["reference"])
    print(f"`kurator cluster plan -f FILE`, a process each, medians of {rounds} rounds")
    for name, xs in times.items():
        size = f"{sizes[name]:>10,} bytes" if name in sizes else "   endless      "
        verdict = "parsed, then stops at the API" if name == "reference" else "refused"
        print(f"  {name:<10} {size}  {med(xs):6.3f} s  ({med(xs) / ref:4.2f}x reference)  {verdict}")
    print(f"  target: 20 MB refused in < 1 s: {med(times['20 MB']):.3f} s")


if __name__ == "__main__":
    main()
