"""What the API server's validation of the largest allowed CustomMachine costs: 7 masters and 250 nodes (FQDN
host names), created on a local fleet's real kube-apiserver, accepted; and the same list with a node that
repeats another's hostName and privateIP, refused. Timed from the create call to its answer.

Three CRDs of the same schema run side by side (each in a group of its own), so the figures compare on
one API server in one run:
  shipped:  the CRD kurator generates (hostName is each list's map key; each uniqueness rule walks each
            list once and looks values up natively);
  pairwise: the same schema with the uniqueness rules as they were before (every pair of machines
            compared in CEL, no map keys): the reference;
  floor:    no uniqueness rules at all: what the rest of the schema and its rules cost.
Each figure is the median of --rounds interleaved creates; min and max beside it.
Target: the shipped CRD accepts or refuses the largest list in under 1 s.

Usage: .venv/bin/python bench/cel_validation.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lightkube import codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.core_v1 import Namespace
from tests import api_cases

from kurator.api import crds
from kurator.api.machine import MASTERS_MAX, NODES_MAX
from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS, resolve
from kurator.kube.apply import apply_all
from kurator.kube.client import Client, client
from kurator.kube.errors import Invalid, KubeError
from kurator.local import fleet
from kurator.local.kubeconfigs import context_name

NAME = "celbench"
NAMESPACE = "cel-bench"
TARGET_SECONDS = 1.0
FIELDS = ("hostName", "publicIP", "privateIP")


def _pairwise(field: str) -> list[str]:
    """The former rules: every machine compared with every other of its list, and masters with nodes."""
    same = f"b.{field} == a.{field}"
    return [
        f"!has(self.{role}) || self.{role}.all(a, self.{role}.exists_one(b, {same}))"
        for role in ("master", "node")
    ] + [f"!has(self.master) || !has(self.node) || self.master.all(a, !self.node.exists(b, {same}))"]


def _variant(group: str, rules: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    crd = copy.deepcopy(crds.crd(crds.KINDS[1]))
    crd["metadata"]["name"] = f"{crd['spec']['names']['plural']}.{group}"
    crd["spec"]["group"] = group
    rules(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"])
    return crd


def _unique_rules(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in spec["x-kubernetes-validations"] if "needs its own" in r["message"]]


def _as_before(spec: dict[str, Any]) -> None:
    kept = [r for r in spec["x-kubernetes-validations"] if "needs its own" not in r["message"]]
    unique = _unique_rules(spec)
    for field in FIELDS:
        message = next(r["message"] for r in unique if f"own {field}" in r["message"])
        kept += [{"rule": rule, "message": message} for rule in _pairwise(field)]
    spec["x-kubernetes-validations"] = kept
    for role in ("master", "node"):
        for key in ("x-kubernetes-list-type", "x-kubernetes-list-map-keys"):
            spec["properties"][role].pop(key, None)


def _without(spec: dict[str, Any]) -> None:
    _as_before(spec)
    spec["x-kubernetes-validations"] = [
        r for r in spec["x-kubernetes-validations"] if "needs its own" not in r["message"]
    ]


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "shipped": lambda spec: None,
    "pairwise": _as_before,
    "floor": _without,
}


def _largest() -> tuple[dict[str, Any], dict[str, Any]]:
    def name(role: str, i: int) -> str:
        return f"{role}-{i:04d}.rack-{i % 16:02d}.dc-1.cluster.example.com"

    masters = [api_cases.host(name("master", i), i + 1) for i in range(MASTERS_MAX)]
    nodes = [
        {
            **api_cases.host(name("node", i), 0),
            "publicIP": f"198.51.100.{i + 1}",
            "privateIP": f"10.1.0.{i + 1}",
        }
        for i in range(NODES_MAX)
    ]
    good = api_cases.machine(master=masters, node=nodes)
    bad = api_cases.with_host(
        good, "node", NODES_MAX - 1, hostName=nodes[0]["hostName"], privateIP="10.1.0.1"
    )
    return good, bad


def _established(api: Client, name: str) -> bool:
    crd = api.get(CustomResourceDefinition, name).to_dict()  # type: ignore[no-untyped-call]
    return any(
        c["type"] == "Established" and c["status"] == "True"
        for c in crd.get("status", {}).get("conditions", [])
    )


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.2)


def _served(api: Client, resource: Any) -> bool:
    try:
        list(api.list(resource, namespace=NAMESPACE))
    except KubeError:  # established, but its storage not ready yet
        return False
    return True


def _create(api: Client, group: str, doc: dict[str, Any], name: str, accepted: bool) -> float:
    doc = copy.deepcopy(doc)
    doc["apiVersion"] = f"{group}/v1alpha1"
    doc["metadata"] = {"name": name, "namespace": NAMESPACE}
    started = time.monotonic()
    try:
        api.create(codecs.from_dict(doc))
        ok = True
    except Invalid:
        ok = False
    seconds = time.monotonic() - started
    if ok != accepted:  # a rule that let the duplicate through, or refused the good list
        raise SystemExit(
            f"{group}: the {'good' if accepted else 'bad'} list was {'refused' if accepted else 'accepted'}"
        )
    return seconds


def _line(label: str, values: list[float]) -> str:
    return f"{label} {statistics.median(values):6.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    good, bad = _largest()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / NAME
        up = fleet.up(
            fleet.UpOptions(name=NAME, home=home, members=1, nodes=1, karmada=False, monitoring=False),
            lambda v, k, m: resolve(v, source="build", karmada=k, monitoring=m),
            SUPPORTED_KUBERNETES_VERSIONS,
        )
        try:
            api = client(up.layout.kubeconfig("host"), context_name(up.config, "host"), timeout=120)
            api.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
            groups = {label: f"{label}.bench.kurator.dev" for label in VARIANTS}
            for label, group in groups.items():
                crd = _variant(group, VARIANTS[label])
                apply_all(api, [crd])
                _wait(lambda n=crd["metadata"]["name"]: _established(api, n), f"CRD {group}")
                resource = create_namespaced_resource(group, "v1alpha1", "CustomMachine", "custommachines")
                _wait(lambda r=resource: _served(api, r), f"{group} served")
            times: dict[tuple[str, bool], list[float]] = {
                (label, ok): [] for label in VARIANTS for ok in (True, False)
            }
            for i in range(args.rounds):
                for label, group in groups.items():
                    times[(label, True)].append(_create(api, group, good, f"largest-{i}", True))
                    # Without uniqueness rules the duplicate is accepted: the floor times it all the same.
                    refused = label != "floor"
                    times[(label, False)].append(_create(api, group, bad, f"duplicate-{i}", not refused))
        finally:
            fleet.down(NAME, home, purge=True)
    print(f"the largest CustomMachine ({MASTERS_MAX} masters, {NODES_MAX} nodes), medians of {args.rounds}:")
    for label in VARIANTS:
        print(
            f"  {label:9}"
            + _line("accepted", times[(label, True)])
            + "; "
            + _line("refused" if label != "floor" else "duplicate", times[(label, False)])
        )
    shipped = max(statistics.median(times[("shipped", ok)]) for ok in (True, False))
    before = max(statistics.median(times[("pairwise", ok)]) for ok in (True, False))
    print(f"  shipped / pairwise: {shipped / before:.3f}")
    met = "met" if shipped < TARGET_SECONDS else "NOT met"
    print(f"  target: accepted and refused in under {TARGET_SECONDS:.0f} s: {met}")


if __name__ == "__main__":
    main()
