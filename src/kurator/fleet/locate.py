"""Which API server a fleet command talks to: Karmada's. People often point at the fleet's host instead
(a local fleet's merged kubeconfig makes the host its current context); a host that records the Karmada
serving it (``kube-system/kurator-karmada``, written by the local fleet and by `kurator install karmada`)
leads there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import kubeconfig
from kurator.kube.client import Access, Client
from kurator.kube.errors import NotFound
from kurator.kube.karmada import HOST_RECORD_NAME, HOST_RECORD_NAMESPACE, Cluster
from kurator.kube.records import read_data


class NotKarmada(InvalidInput):
    """The API server is not Karmada's and names no Karmada that serves it (a member, another cluster)."""


@dataclass(frozen=True)
class Found:
    access: Access
    via_host: bool = False  # found through the host's record
    fleet: str = ""  # the local fleet's name, when the record gives one


def context_of(access: Access) -> str:
    """The context ``access`` uses: the given one, else the kubeconfig's current context."""
    return access.context or kubeconfig.check_context(access.data(), None, access.source)


def serves_karmada(api: Client) -> bool:
    """Whether the API server serves Karmada's Cluster kind (an unserved kind answers a bare 404)."""
    try:
        next(iter(api.list(Cluster, chunk_size=1)), None)
    except NotFound:
        return False
    return True


def karmada(access: Access) -> Found:
    """Karmada's API server: ``access`` itself when it is Karmada's, else the Karmada its host records."""
    api = access.client()
    if serves_karmada(api):
        return Found(access)
    where = f"context {context_of(access)!r}"
    record = read_data(api, HOST_RECORD_NAMESPACE, HOST_RECORD_NAME)
    if record is None:
        raise NotKarmada(f"the API server of {where} is not Karmada's and records no Karmada that serves it")
    if record.get("mode") == "installing":
        raise KuratorError(
            f"Karmada's install into the host of {where} is unfinished",
            "run `kurator install karmada` against it again to finish it",
        )
    path = Path(record.get("kubeconfig", ""))
    if not path.is_file():
        raise KuratorError(
            f"the host of {where} records Karmada with the kubeconfig {path}, which is not on this machine",
            "point --kubeconfig at Karmada's API server",
        )
    return Found(Access(path, None, access.timeout), via_host=True, fleet=record.get("fleet", ""))
