"""Kubeconfig files of a local fleet: one per cluster and user, and one merged file for people."""

from __future__ import annotations

from kurator.kube import kubeconfig
from kurator.kube.kubeconfig import ClusterAccess
from kurator.local.config import FleetConfig
from kurator.local.layout import FleetLayout
from kurator.local.pki import ADMIN, CLIENTS, ClusterPKI


def context_name(cfg: FleetConfig, cluster: str) -> str:
    """Contexts carry the fleet's name so several fleets merge into one kubeconfig without clashes."""
    return f"{cfg.name}-{cluster}"


def access(cfg: FleetConfig, layout: FleetLayout, cluster: str, stem: str = ADMIN.file_stem) -> ClusterAccess:
    pki = ClusterPKI(layout.pki(cluster))
    return ClusterAccess(
        name=context_name(cfg, cluster),
        server=cfg.server(cluster),
        ca_pem=pki.ca_crt.read_bytes(),
        client_cert_pem=pki.crt(stem).read_bytes(),
        client_key_pem=pki.key(stem).read_bytes(),
    )


def write_kubeconfigs(cfg: FleetConfig, layout: FleetLayout) -> None:
    for cluster in cfg.control_planes:
        for ident in CLIENTS:
            entry = access(cfg, layout, cluster, ident.file_stem)
            kubeconfig.write(layout.kubeconfig(cluster, ident.file_stem), kubeconfig.build([entry]))
    admins = [access(cfg, layout, c) for c in cfg.control_planes]
    kubeconfig.write(layout.merged_kubeconfig, kubeconfig.build(admins))
