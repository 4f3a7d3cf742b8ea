"""Install engine against its baseline, and the CLI's read paths.

For 2, 5 and 10 members (a local fleet of that size with real Karmada, every member joined):
  kurator:  `kurator install standin` (a subprocess, as a user runs it) until every member is ready;
  direct:   the same rendered objects and propagation policies applied straight to Karmada with
            server-side apply in one pass (what `kubectl apply -f` of the rendered files does), then the
            same readiness wait on every member, also as a process of its own (this script with --direct),
            as a user's `kubectl apply` is: both pay for starting a process and loading a client;
  in-process: the direct path run inside this process, for reference (no start-up cost at all).
  ratio = kurator / direct (target <= 1.10), medians over the rounds; kurator / in-process is printed
  beside it. Each path is followed by a clean removal; the order of the paths rotates between rounds.
The component's CRD is installed once (an untimed warm-up install) and kept between rounds, everything
else is removed and created again: Karmada 1.18's resource detector looks for new kinds only every 30 s (a
fixed period), so a freshly created CRD adds a random 0-30 s to whichever path creates it, which would
drown what is measured here. Each round removes the rest and waits until members are clean.
Also: `kurator get clusters` with 10 members (target <= 1 s) and `kurator --help` cold (target <= 300 ms).

`--component volcano` measures `kurator install volcano` the same way (Volcano v1.15.1's release manifest
from the offline bundle in tests/fixtures; on kwok members its admission webhooks are left out, by both
paths), with the component's health checks in both paths' readiness wait.

Usage: .venv/bin/python bench/install_engine.py [--sizes 2,5,10] [--rounds 3] [--component standin|volcano]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Only what the direct path needs is imported here: its process must not load more than it uses.
from kurator.components import get
from kurator.fleet import applying, artifacts, desired, readiness, record, render
from kurator.fleet.component import Component
from kurator.kube import apply
from kurator.kube.client import Access

KURATOR = [sys.executable, "-m", "kurator"]
BUNDLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "artifacts"
COMPONENT = "standin"  # set from --component


def _component() -> Component:
    if COMPONENT == "volcano":
        from kurator.components import volcano

        return volcano.component(admission=False)  # every member of the bench's fleet has kwok nodes only
    return get(COMPONENT)


def _install_args() -> list[str]:
    return ["install", COMPONENT, *(["--artifacts-dir", str(BUNDLE)] if COMPONENT == "volcano" else [])]


def run(*args: str) -> float:
    t = time.monotonic()
    subprocess.run([*KURATOR, *args], check=True, capture_output=True, text=True)
    return time.monotonic() - t


def _component_docs(members: list[str]) -> desired.Desired:
    comp = _component()
    bundle = BUNDLE if COMPONENT == "volcano" else None
    rendered = render.render(comp, artifacts.obtain(comp.artifact, bundle), comp.values)
    if comp.adapt is not None:
        rendered = comp.adapt(rendered)
    return desired.build(comp, rendered, members)


def baseline(access: Access, members: list[str]) -> float:
    comp = _component()
    t = time.monotonic()
    want = _component_docs(members)
    api = access.client()
    apply.apply_all(api, want.all)
    expected = {m: desired.for_member(comp, want, m) for m in members}
    states = readiness.wait_members(access, expected, 300, None, component=comp)
    assert all(s.done for s in states), states
    return time.monotonic() - t


def direct(kubeconfig: Path, members: list[str]) -> float:
    t = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--direct",
            str(kubeconfig),
            "--members",
            ",".join(members),
            "--component",
            COMPONENT,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.monotonic() - t


def reset(access: Access, members: list[str]) -> None:
    """Remove the component but keep its CRD (see the module docstring), and kurator's record of it."""
    want = _component_docs(members)
    keep = [d for d in want.all if d["kind"] == "CustomResourceDefinition"]
    refs = [desired.Ref.of(d) for d in reversed(want.all) if d not in keep]
    api = access.client()
    applying.delete(api, refs)
    record.delete(api, COMPONENT)
    templates = [desired.Ref.of(d) for d in want.templates if d not in keep]
    states = readiness.wait_gone(access, members, templates, 300, None)
    assert all(s.done for s in states), states


def one_size(size: int, rounds: int, home: Path) -> dict[str, float]:
    from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS, resolve
    from kurator.fleet import membership
    from kurator.local import fleet

    name = f"bench{size}"
    try:
        up = fleet.up(
            # Without monitoring: what is measured here is propagation, and nothing else shares the CPU.
            fleet.UpOptions(name=name, home=home / name, members=size, nodes=2, monitoring=False),
            lambda v, k, m: resolve(v, source="build", karmada=k, monitoring=m),
            SUPPORTED_KUBERNETES_VERSIONS,
        )
        access = Access(up.layout.kubeconfig("karmada"))
        api = access.client()
        members = [f"member{i}" for i in range(1, size + 1)]
        for m in members:
            membership.join(api, m, up.layout.kubeconfig(m))
        for m in members:
            membership.wait_ready(api, m, 60)
        kc = ["--kubeconfig", str(up.layout.kubeconfig("karmada"))]
        run(*kc, *_install_args(), "--wait-timeout", "300")  # warm-up, see the module docstring
        reset(access, members)
        times: dict[str, list[float]] = {"ours": [], "direct": [], "inproc": []}
        paths = list(times)
        for i in range(rounds):
            # Rotate which path goes first, so drift in the machine's load falls on all alike.
            for path in paths[i % 3 :] + paths[: i % 3]:
                if path == "inproc":
                    times[path].append(baseline(access, members))
                elif path == "direct":
                    times[path].append(direct(up.layout.kubeconfig("karmada"), members))
                else:
                    times[path].append(run(*kc, *_install_args(), "--wait-timeout", "300"))
                reset(access, members)
        result = {
            "kurator_s": statistics.median(times["ours"]),
            "direct_s": statistics.median(times["direct"]),
            "inproc_s": statistics.median(times["inproc"]),
        }
        if size >= 10:
            run(*kc, "get", "clusters")  # warm the page cache once
            result["get_clusters_s"] = statistics.median(run(*kc, "get", "clusters") for _ in range(5))
        return result
    finally:
        fleet.down(name, home / name, purge=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2,5,10")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)  # the direct path's own process
    parser.add_argument("--members", help=argparse.SUPPRESS)
    parser.add_argument("--component", choices=("standin", "volcano"), default="standin")
    args = parser.parse_args()
    global COMPONENT
    COMPONENT = args.component
    if args.direct:
        baseline(Access(args.direct), args.members.split(","))
        return
    help_s = statistics.median(run("--help") for _ in range(5))
    print(f"kurator --help (cold process): {help_s * 1000:.0f} ms (target <= 300 ms)")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            r = one_size(size, args.rounds, Path(tmp))
            ratio = r["kurator_s"] / r["direct_s"]
            print(
                f"{size:>2} members: kurator install {COMPONENT} {r['kurator_s']:.2f} s, "
                f"direct apply {r['direct_s']:.2f} s, ratio {ratio:.2f} (target <= 1.10); "
                f"in-process direct apply {r['inproc_s']:.2f} s, ratio {r['kurator_s'] / r['inproc_s']:.2f}",
                flush=True,
            )
            if "get_clusters_s" in r:
                print(
                    f"kurator get clusters, {size} members: "
                    f"{r['get_clusters_s'] * 1000:.0f} ms (target <= 1000 ms)"
                )


if __name__ == "__main__":
    main()
