"""What ``kurator install istio`` finds in the fleet before it renders anything: the clusters (joined, ready,
their networks), the root of trust an earlier run made, each remote's reader token, and the address where
remotes reach istiod. Reads only; every refusal comes before the first write.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kurator.components import istio
from kurator.components.istio import Mesh, Reader
from kurator.components.istio.ca import FILES, CaFiles
from kurator.core.errors import InvalidInput, KuratorError
from kurator.fleet import plan, record, targets
from kurator.fleet.desired import COMPONENT_LABEL, Ref

if TYPE_CHECKING:
    from kurator.kube.client import Access, AsyncClient, Client

POLL = 0.5
CLUSTER_API = "cluster.karmada.io/v1alpha1"
POLICY_API = "policy.karmada.io/v1alpha1"
CRD_API = "apiextensions.k8s.io/v1"
SECRET = ("v1", "Secret")


def _ready(cluster: Any) -> bool:
    conditions = (cluster.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def clusters(api: Client, primary: str, remotes: list[str]) -> dict[str, dict[str, Any]]:
    """The Karmada Clusters of the mesh, checked: named once each, joined and ready."""
    if not primary:
        raise InvalidInput("--primary is required: the cluster where istiod runs")
    if primary in remotes:
        raise InvalidInput(f"{primary} cannot be both --primary and a --remote")
    if dupes := sorted({r for r in remotes if remotes.count(r) > 1}):
        raise InvalidInput(f"--remote names {', '.join(dupes)} twice")
    wanted = [primary, *remotes]
    joined = targets.choose(api, wanted)  # refuses members that are not joined
    found = {c: plan.get_live(api, Ref(CLUSTER_API, "Cluster", "", c)) or {} for c in joined}
    if not_ready := [c for c in joined if not _ready(found[c])]:
        raise InvalidInput(
            f"not ready in the fleet: {', '.join(not_ready)}",
            "`kurator get clusters` shows why; Istio is installed on ready clusters only",
        )
    return {c: found[c] for c in wanted}


def networks(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each cluster's network, from its label; across networks every cluster must have one."""
    nets = {
        c: ((data.get("metadata") or {}).get("labels") or {}).get(istio.NETWORK_LABEL, "")
        for c, data in found.items()
    }
    if len(set(nets.values())) > 1 and (unlabelled := sorted(c for c, n in nets.items() if not n)):
        labelled = next(f"{c} is on {n}" for c, n in nets.items() if n)
        raise InvalidInput(
            f"{', '.join(unlabelled)} has no {istio.NETWORK_LABEL} label while {labelled}: "
            "in a mesh across networks every cluster needs its network",
            f"label it on Karmada: kubectl label cluster {unlabelled[0]} {istio.NETWORK_LABEL}=<network>",
        )
    return nets


def installed_primary(api: Client) -> str | None:
    """The primary of an earlier install: where its policy sends Istio resources; None when not installed."""
    if record.load(api, istio.COMPONENT.name) is None:
        return None
    cpp = plan.get_live(api, Ref(POLICY_API, "ClusterPropagationPolicy", "", istio.RESOURCES_POLICY))
    names = (((cpp or {}).get("spec") or {}).get("placement") or {}).get("clusterAffinity") or {}
    chosen = names.get("clusterNames") or []
    return str(chosen[0]) if chosen else None


def user_resources(api: Client) -> list[str]:
    """``Kind namespace/name`` of every Istio resource on Karmada that kurator did not make."""
    labels = {COMPONENT_LABEL: istio.COMPONENT.name}
    crds = plan.list_live(api, CRD_API, "CustomResourceDefinition", labels)
    out = []
    for crd in crds:
        spec = crd["spec"]
        version = next((v["name"] for v in spec.get("versions", []) if v.get("storage")), None)
        if version is None:
            continue
        kind = spec["names"]["kind"]
        for obj in plan.list_live(api, f"{spec['group']}/{version}", kind):
            meta = obj.get("metadata") or {}
            if (meta.get("labels") or {}).get(COMPONENT_LABEL) != istio.COMPONENT.name:
                where = f"{meta['namespace']}/" if meta.get("namespace") else ""
                out.append(f"{kind} {where}{meta.get('name')}")
    return sorted(out)


def existing_ca(api: Client) -> CaFiles | None:
    """The root of trust an earlier install put on Karmada, so that a re-run keeps it."""
    secret = plan.get_live(api, Ref(*SECRET, istio.NAMESPACE, istio.CACERTS))
    if secret is None:
        return None
    labels = (secret.get("metadata") or {}).get("labels") or {}
    data = secret.get("data") or {}
    if labels.get(COMPONENT_LABEL) != istio.COMPONENT.name:
        raise InvalidInput(
            f"Karmada holds a Secret {istio.NAMESPACE}/{istio.CACERTS} that kurator did not make",
            "pass its files with --cacert DIR to use them, or remove it",
        )
    if any(f not in data for f in FILES):
        return None
    return CaFiles({f: base64.b64decode(data[f]).decode() for f in FILES})


async def _reader(member: str, client: AsyncClient, server: str) -> tuple[bool, Reader | None]:
    """Whether ``member`` has Istio's reader account yet, and its reader once the token is filled in."""
    refs = [
        Ref("v1", "ServiceAccount", istio.NAMESPACE, istio.READER),
        Ref(*SECRET, istio.NAMESPACE, istio.READER_TOKEN),
    ]
    got = await plan.read_all(client, refs)
    if isinstance(got, str):
        raise KuratorError(f"{member} cannot be read: {got}")
    account, secret = got
    data = (secret or {}).get("data") or {}
    if not data.get("token") or not data.get("ca.crt"):
        return account is not None, None
    reader = Reader(
        server=server,
        ca_pem=base64.b64decode(data["ca.crt"]).decode(),
        token=base64.b64decode(data["token"]).decode(),
    )
    return account is not None, reader


def readers(karmada: Access, found: dict[str, dict[str, Any]], mesh: Mesh) -> Mesh:
    """``mesh`` with each remote's reader account and token as its cluster has them now."""
    if not mesh.remotes:
        return mesh
    servers = {r: (found[r].get("spec") or {}).get("apiEndpoint", "") for r in mesh.remotes}
    with targets.Members(karmada, list(mesh.remotes)) as pool:
        got = pool.run(lambda m, client: _reader(m, client, servers[m]))
    accounts = frozenset(m for m, (account, _r) in got.items() if account)
    known = {m: r for m, (_a, r) in got.items() if r is not None}
    return dataclasses.replace(mesh, accounts=accounts, readers=known)


def _gateway_address(service: Any) -> str | None:
    ingress = (((service.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
    for entry in ingress:
        if entry.get("ip") or entry.get("hostname"):
            return str(entry.get("ip") or entry.get("hostname"))
    return None


def gateway_address(karmada: Access, primary: str) -> str | None:
    """The load-balancer address of the primary's east-west gateway, once its cloud has given it one."""

    async def read(member: str, client: AsyncClient) -> str | None:
        got = await plan.read_all(client, [Ref("v1", "Service", istio.NAMESPACE, istio.EASTWEST)])
        if isinstance(got, str):
            raise KuratorError(f"{member} cannot be read: {got}")
        return _gateway_address(got[0]) if got[0] else None

    with targets.Members(karmada, [primary]) as pool:
        return pool.run(read)[primary]


def advance(
    karmada: Access,
    mesh: Mesh,
    found: dict[str, dict[str, Any]],
    timeout: float,
    waiting: Callable[[str], None],
) -> Mesh:
    """``mesh`` once more of it can be rendered than before: the primary's gateway address (unless given),
    a remote's reader account (then its token Secret), a remote's token (then its remote secret). Waits up
    to ``timeout``, telling ``waiting`` what for."""
    deadline = time.monotonic() + timeout
    told: set[str] = set()
    while True:
        now = readers(karmada, found, mesh)
        now = dataclasses.replace(
            now, pilot_address=mesh.pilot_address or gateway_address(karmada, mesh.primary)
        )
        if _renders_more(mesh, now):
            return now
        lacking = _lacking(now)
        for what in lacking:
            if what not in told:
                waiting(what)
                told.add(what)
        if time.monotonic() >= deadline:
            raise KuratorError(
                f"Istio is in place but the remotes cannot be configured yet: no {'; no '.join(lacking)} "
                f"after {timeout:.0f}s",
                "run the same command again once it is there (what was applied stays)",
            )
        time.sleep(POLL)


def _renders_more(before: Mesh, now: Mesh) -> bool:
    return (
        (before.pilot_address is None and now.pilot_address is not None)
        or not now.accounts <= before.accounts | frozenset(before.readers)
        or not set(now.readers) <= set(before.readers)
    )


def _lacking(mesh: Mesh) -> list[str]:
    out = []
    if mesh.pilot_address is None:
        out.append(
            f"load-balancer address of {istio.EASTWEST} on {mesh.primary} "
            "(where remotes reach istiod; --remote-pilot-address gives it)"
        )
    if missing := [r for r in mesh.remotes if r not in mesh.accounts and r not in mesh.readers]:
        out.append(f"{istio.READER} on {', '.join(missing)} yet (its token Secret follows)")
    if missing := [r for r in mesh.remotes if r in mesh.accounts and r not in mesh.readers]:
        out.append(f"token of {istio.READER} on {', '.join(missing)} (its remote secret follows)")
    return out


def discover(
    karmada: Access,
    primary: str,
    remotes: list[str],
    files: list[Path],
    sets: list[str],
    cacert: Path | None,
    pilot_address: str | None,
) -> tuple[Mesh, dict[str, dict[str, Any]]]:
    """The mesh to install, from the flags and what the fleet holds; refuses bad input before any write."""
    from kurator.components.istio import ca as istio_ca
    from kurator.components.istio import values as istio_values

    settings = istio_values.settings(files, sets)
    api = karmada.client()
    found = clusters(api, primary, remotes)
    nets = networks(found)
    earlier = installed_primary(api)
    if earlier and earlier != primary:
        raise InvalidInput(
            f"Istio is installed with {earlier} as its primary, not {primary}",
            "moving istiod to another cluster is not done in place: `kurator uninstall istio` first",
        )
    ca = istio_ca.load(cacert) if cacert else existing_ca(api) or istio_ca.generate(primary)
    mesh_id = str(settings.values.get("global", {}).get("meshID") or istio.MESH_ID)
    mesh = istio.Mesh(
        primary,
        tuple(dict.fromkeys(remotes)),
        nets,
        ca,
        settings,
        pilot_address=pilot_address,
        given_address=pilot_address is not None,
        mesh_id=mesh_id,
    )
    # What an earlier run made (a re-run then renders everything in one pass): the gateway's address, and
    # the reader accounts and tokens, which a remote keeps as long as it is in the mesh.
    address = pilot_address or gateway_address(karmada, primary)
    return readers(karmada, found, dataclasses.replace(mesh, pilot_address=address)), found
