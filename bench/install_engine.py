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

`--component istio` measures `kurator install istio --primary member1 --remote member2,...` (istiod on
member1, every other member a remote reaching it at the fleet's address, one network; the pinned Istio
module zip taken from Go's module cache as an offline bundle). Both paths end in the same state: every
cluster ready, and istiod synced with each (it has published its root there). istiod is the fleet's real
process (`kurator local istiod`, pilot-discovery built from the module; the fleet needs its network
namespace, i.e. root), started during each timed path as soon as istiod's objects are on the primary, as
istiod's Pod would start: it cannot start earlier, since the reset removes its account, CA and config (a
restarted istiod is also the only way it forgets the remotes of the round before). Its start-up is timed in
both paths alike. Differences from the other components, and why:
  - A remote secret carries the token a remote's own token controller made for Istio's reader account, so an
    untimed warm-up install (the CLI's passes: accounts, then their tokens, then the remote secrets) makes
    the readers, and they are kept between rounds (below).
  - The direct path does in its own process what a user's script of `istioctl create-remote-secret`,
    `helm template` and `kubectl apply` would, by the CLI's own functions: read the mesh (the remotes'
    reader tokens; a new root CA, as the reset removed the old one), render each cluster's charts with Helm,
    apply every object in one pass, then wait as kurator does. What kurator's path adds is its own: the
    plan, the record, the install's three steps (CRDs before what needs them).
  - Kept between rounds, besides the CRDs: Istio's namespace and, in it, the reader account and its token
    Secret on every cluster, with their policies. So both paths find the readers and install in one pass, as
    a re-install does.
  - The reset stops istiod, removes the rest as `kurator uninstall` does (members clean, then Karmada's
    bindings of the removed objects released: a template made again before that is not propagated for
    minutes), then what istiod itself wrote in the kept namespace (its root ConfigMap, its leader-election
    locks), so that a round's health is the new istiod's.

Usage: .venv/bin/python bench/install_engine.py [--sizes 2,5,10] [--rounds 3]
       [--component standin|volcano|istio]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Only what the direct path needs is imported here: its process must not load more than it uses.
from kurator.components import get
from kurator.fleet import applying, artifacts, desired, readiness, record, render
from kurator.fleet.component import Component
from kurator.kube import apply
from kurator.kube.client import Access

KURATOR = [sys.executable, "-m", "kurator"]
BUNDLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "artifacts"
COMPONENT = "standin"  # set from --component
# istio: where remotes reach istiod, and the offline bundle of Istio's charts (the direct path renders them)
ISTIO: tuple[str, Path] | None = None
PRIMARY = "member1"  # istio: where istiod runs; every other member is a remote
ISTIOD_TIMEOUT = 300.0


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


def _istio_docs(access: Access, members: list[str]) -> desired.Desired:
    """istio: the mesh as the fleet holds it (readers, tokens) rendered by the component's own functions,
    as `kurator install istio` renders it, without its plan or record."""
    from kurator.components import istio
    from kurator.components.istio import mesh as istio_mesh
    from kurator.fleet import variants

    assert ISTIO is not None
    address, bundle = ISTIO
    remotes = [m for m in members if m != PRIMARY]
    mesh, _found = istio_mesh.discover(access, PRIMARY, remotes, [], [], None, address)
    assert mesh.complete, "the warm-up left a remote without its reader token"
    comp = istio.component(mesh)
    assert comp.variants is not None
    payload = artifacts.obtain(comp.artifact, bundle)
    return variants.build(comp, comp.variants(payload, comp.values, mesh.clusters), mesh.clusters)


def baseline(access: Access, members: list[str]) -> float:
    comp = _component()
    t = time.monotonic()
    if ISTIO is not None:
        want = _istio_docs(access, members)
        apply.apply_all(access.client(), want.all)
        expected = want.per_member or {}
    else:
        want = _component_docs(members)
        api = access.client()
        apply.apply_all(api, want.all)
        expected = {m: desired.for_member(comp, want, m) for m in members}
    states = readiness.wait_members(access, expected, 300, None, component=comp)
    assert all(s.done for s in states), states
    return time.monotonic() - t


def direct(kubeconfig: Path, members: list[str]) -> float:
    t = time.monotonic()
    istio = ["--pilot-address", ISTIO[0], "--bundle", str(ISTIO[1])] if ISTIO is not None else []
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--direct",
            str(kubeconfig),
            "--members",
            ",".join(members),
            "--component",
            COMPONENT,
            *istio,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - t
    if proc.returncode != 0:
        # Its last lines say why (an exception naming objects or members; no object's content).
        raise SystemExit(f"the direct path failed: {proc.stderr.strip().splitlines()[-5:]}")
    return seconds


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


def _istio_bundle(into: Path) -> Path:
    """An offline bundle of the pinned Istio module zip, from Go's module cache (building pilot-discovery put
    it there), so that no path fetches it."""
    from kurator.components import istio

    entry = into / istio.COMPONENT.artifact.key
    target = entry / artifacts.payload_name(istio.COMPONENT.artifact)
    if not target.exists():
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests' helpers
        from tests.integration.helpers import istio_module_zip

        entry.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(istio_module_zip(), target)
    return into


def _kept(doc: desired.Doc) -> bool:
    """istio: what stays between rounds (see the module docstring)."""
    from kurator.components import istio

    kept = {
        ("Namespace", istio.NAMESPACE),
        ("ServiceAccount", istio.READER),
        ("Secret", istio.READER_TOKEN),
    }
    return doc["kind"] == "CustomResourceDefinition" or (doc["kind"], doc["metadata"]["name"]) in kept


def _selects(doc: desired.Doc, refs: set[desired.Ref]) -> bool:
    """Whether ``doc`` is a Karmada policy selecting one of ``refs`` by name."""
    if not desired.Ref.of(doc).is_policy:
        return False
    selectors = (doc.get("spec") or {}).get("resourceSelectors") or []
    return any(
        desired.Ref(s["apiVersion"], s["kind"], s.get("namespace", ""), s["name"]) in refs
        for s in selectors
        if s.get("name")
    )


@dataclass
class IstioBed:
    """What the istio rounds need besides the fleet (see the module docstring)."""

    fleet: str  # the local fleet's name
    root: Path  # its folder
    members: list[str]
    kubeconfigs: dict[str, Path]  # each member's admin kubeconfig
    address: str  # where remotes reach istiod: the fleet's address, where istiod's process serves
    bundle: Path
    binary: Path  # pilot-discovery
    want: desired.Desired | None = None  # what a round installs, learnt after the warm-up

    def install_args(self) -> list[str]:
        remotes = [m for m in self.members if m != PRIMARY]
        return [
            "install",
            "istio",
            "--primary",
            PRIMARY,
            *(["--remote", ",".join(remotes)] if remotes else []),
            "--remote-pilot-address",
            self.address,
            "--artifacts-dir",
            str(self.bundle),
        ]

    @contextlib.contextmanager
    def istiod_follows(self) -> Iterator[None]:
        """istiod started while the body runs, once the install has put istiod's objects on the primary, as
        its Pod would start: the body's time includes istiod's start-up."""
        failed: list[Exception] = []
        thread = threading.Thread(target=self._start_istiod, args=(failed,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join(2 * ISTIOD_TIMEOUT)
        if failed:
            raise failed[0]

    def _start_istiod(self, failed: list[Exception]) -> None:
        from kurator.kube import wait
        from kurator.local import istiod, istiod_run

        try:
            api = Access(self.kubeconfigs[PRIMARY]).client()
            # The condition `istiod_run.up` waits for, polled at a steady 0.2 s rather than its growing pause
            # (up to 2 s): istiod then starts without a random delay of up to 2 s in either path.
            wait.until(
                lambda: istiod._installed(api),
                timeout=ISTIOD_TIMEOUT,
                what=f"istiod's objects on {PRIMARY}",
                backoff=wait.Backoff(first=0.2, factor=1.0, most=0.2),
            )
            istiod_run.up(self.fleet, self.root, PRIMARY, self.binary, timeout=ISTIOD_TIMEOUT, restart=True)
        except Exception as exc:
            failed.append(exc)

    def learn(self, access: Access) -> None:
        """What the rounds install, for the reset to remove: the fleet as the warm-up left it, rendered."""
        self.want = _istio_docs(access, self.members)

    def reset(self, access: Access, members: list[str]) -> None:
        """istiod stopped, then everything but what is kept removed as `kurator uninstall` removes it
        (templates, members clean, Karmada's bindings released, then policies), then what istiod wrote in
        the kept namespace, so that the next round's health is its own istiod's."""
        from kurator.fleet import removal
        from kurator.kube import wait
        from kurator.local import istiod_run

        assert self.want is not None
        istiod_run.down(self.fleet, self.root, PRIMARY)
        kept = {desired.Ref.of(d) for d in self.want.all if _kept(d)}
        gone = [desired.Ref.of(d) for d in self.want.all if not _kept(d) and not _selects(d, kept)]
        api = access.client()

        def released(refs: list[desired.Ref]) -> None:
            # A template made again while Karmada still holds its old binding is not propagated for
            # minutes (the uninstall waits for this too, fleet/removal.py): the next round must not meet it.
            wait.until(
                lambda: not removal.held(api, refs),
                timeout=300,
                what="Karmada to release the removed objects",
                backoff=readiness.STEADY,
            )

        objects = [r for r in gone if not r.is_policy]
        applying.delete(api, objects)
        templates = [desired.Ref.of(d) for d in self.want.templates if not _kept(d)]
        states = readiness.wait_gone(access, members, templates, 300, None)
        assert all(s.done for s in states), states
        released(objects)
        policies = [r for r in gone if r.is_policy]
        applying.delete(api, policies)
        released(policies)
        record.delete(api, "istio")
        for member in members:
            self._clear(member)

    def _clear(self, member: str) -> None:
        """What istiod wrote in the kept namespace of ``member``: its root ConfigMap (the health signal) and
        its leader-election locks. Kurator's own ConfigMaps there are gone already."""
        from kurator.components import istio
        from kurator.kube import kinds
        from kurator.kube.resources import ConfigMap

        api = Access(self.kubeconfigs[member]).client()
        lease = kinds.resource(api, "coordination.k8s.io/v1", "Lease")
        for res in (ConfigMap, lease):
            for obj in api.list(res, namespace=istio.NAMESPACE):
                name = obj.metadata.name
                if name != "kube-root-ca.crt":  # the cluster's own, in every namespace
                    api.delete(res, name, namespace=istio.NAMESPACE)
            left = [o.metadata.name for o in api.list(res, namespace=istio.NAMESPACE)]
            assert left in ([], ["kube-root-ca.crt"]), (member, left)


def _istio_bed(up: Any, members: list[str], home: Path) -> IstioBed:
    from kurator.binaries import ensure_binaries, istio_binaries

    global ISTIO
    bed = IstioBed(
        fleet=up.config.name,
        root=up.layout.root,
        members=members,
        kubeconfigs={m: up.layout.kubeconfig(m) for m in members},
        address=up.config.address,
        bundle=_istio_bundle(home / "istio-bundle"),
        binary=ensure_binaries(istio_binaries(), "build").paths["pilot-discovery"],
    )
    ISTIO = (bed.address, bed.bundle)
    return bed


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
        bed = _istio_bed(up, members, home) if COMPONENT == "istio" else None
        install = bed.install_args() if bed else _install_args()
        around: Callable[[], AbstractContextManager[None]] = (
            bed.istiod_follows if bed else contextlib.nullcontext
        )
        clean = bed.reset if bed else reset
        with around():
            run(*kc, *install, "--wait-timeout", "300")  # warm-up, see the module docstring
        if bed:
            bed.learn(access)
        clean(access, members)
        times: dict[str, list[float]] = {"ours": [], "direct": [], "inproc": []}
        paths = list(times)
        for i in range(rounds):
            # Rotate which path goes first, so drift in the machine's load falls on all alike.
            for path in paths[i % 3 :] + paths[: i % 3]:
                with around():  # istio: istiod starts during the timed path, and is waited for after it
                    if path == "inproc":
                        took = baseline(access, members)
                    elif path == "direct":
                        took = direct(up.layout.kubeconfig("karmada"), members)
                    else:
                        took = run(*kc, *install, "--wait-timeout", "300")
                times[path].append(took)
                clean(access, members)
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
    # istio, for the direct path's process: where remotes reach istiod, and the offline bundle
    parser.add_argument("--pilot-address", help=argparse.SUPPRESS)
    parser.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--component", choices=("standin", "volcano", "istio"), default="standin")
    args = parser.parse_args()
    global COMPONENT, ISTIO
    COMPONENT = args.component
    if args.direct:
        if args.pilot_address:
            ISTIO = (args.pilot_address, args.bundle)
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
