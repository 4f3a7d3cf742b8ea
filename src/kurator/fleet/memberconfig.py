"""A member cluster's kubeconfig as join reads it: from a file (``kurator join --cluster-kubeconfig``) or
held in memory (the operator's fetched kubeconfig, which never touches disk)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput
from kurator.kube import client as kube_client
from kurator.kube import kubeconfig
from kurator.kube.client import Client


@dataclass(frozen=True)
class MemberKubeconfig:
    """A member's kubeconfig, read from a file or held in memory (the operator's fetched one never
    touches disk); ``source`` names it in errors, ``file`` resolves the relative paths it holds."""

    data: dict[str, Any]
    source: str
    file: Path | None = None

    @staticmethod
    def read(path: Path) -> MemberKubeconfig:
        return MemberKubeconfig(kubeconfig.load(path), str(path), path)

    @staticmethod
    def of(text: str | bytes, source: str) -> MemberKubeconfig:
        data = kubeconfig.parse(text, source)
        kubeconfig.check_shape(data, source)
        return MemberKubeconfig(data, source)

    def cluster(self, context: str | None) -> tuple[dict[str, Any], str]:
        """The cluster entry ``context`` (default: the current one) uses, and the context's name."""
        ctx_name = kubeconfig.check_context(self.data, context, self.source)
        ctx = next(c["context"] for c in self.data["contexts"] if c["name"] == ctx_name)
        entries = self.data.get("clusters") or []
        cluster = next((c["cluster"] for c in entries if c["name"] == ctx.get("cluster")), None)
        if cluster is None or not cluster.get("server"):
            raise InvalidInput(f"context {ctx_name!r} of {self.source} names no cluster with a server")
        return cluster, ctx_name

    def server(self, context: str | None = None) -> str:
        return str(self.cluster(context)[0]["server"])

    def ca_bundle(self, cluster: dict[str, Any]) -> str | None:
        """The cluster's CA (base64), inline or from the file it names."""
        if cluster.get("certificate-authority-data"):
            return str(cluster["certificate-authority-data"])
        if cluster.get("certificate-authority"):
            ca = Path(cluster["certificate-authority"])
            if not ca.is_absolute() and self.file is not None:
                ca = self.file.parent / ca
            return base64.b64encode(ca.read_bytes()).decode()
        return None


def member_client(
    member: MemberKubeconfig, context: str | None, timeout: float
) -> tuple[Client, dict[str, Any], str]:
    """A client for the member, the kubeconfig's cluster entry it uses, and the chosen context."""
    cluster, ctx_name = member.cluster(context)
    config = kube_client.config_of(member.data, ctx_name, source=member.source, file=member.file)
    return Client(config, timeout), cluster, ctx_name
