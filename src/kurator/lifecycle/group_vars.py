"""Kubespray's ``k8s_cluster`` group variables for a CustomCluster, spelled as Kubespray v2.31.0 spells them
(``roles/kubespray_defaults/defaults/main/main.yml``, ``docs/ingress/kube-vip.md``).

Only what the spec decides is written; everything else keeps Kubespray's default. Two things differ from
Kurator: the kubeconfig is not copied to the Job's container (``kubeconfig_localhost`` off; the operator
fetches ``admin.conf`` over SSH), and the API server's certificate also names every master's public address,
so a kubeconfig rewritten to the address clients use passes TLS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from kurator.api.cluster import CustomCluster
from kurator.lifecycle.hosts import Host, masters

API_SERVER_PORT = 6443


def kubespray_version(version: str) -> str:
    """Kubespray v2.31.0 writes Kubernetes versions without the ``v`` (its checksum keys are ``1.35.4``)."""
    return version.removeprefix("v")


def _is_v6(cidr: str) -> bool:
    return ipaddress.ip_network(cidr, strict=False).version == 6


def _networks(cluster: CustomCluster) -> dict[str, Any]:
    """Pod and Service ranges, each into the IPv4 or IPv6 variable its family needs. The stacks follow:
    IPv6 as soon as one range is IPv6, IPv4 unless every given range is IPv6 (both: dual stack, with
    Kubespray's default range for the family not given)."""
    spec = cluster.spec
    given = [c for c in (spec.pod_cidr, spec.service_cidr) if c]
    out: dict[str, Any] = {}
    for cidr, v4_name, v6_name in (
        (spec.pod_cidr, "kube_pods_subnet", "kube_pods_subnet_ipv6"),
        (spec.service_cidr, "kube_service_addresses", "kube_service_addresses_ipv6"),
    ):
        if cidr:
            out[v6_name if _is_v6(cidr) else v4_name] = cidr
    if any(_is_v6(c) for c in given):
        out["ipv4_stack"] = not all(_is_v6(c) for c in given)
        out["ipv6_stack"] = True
    return out


def _control_plane(cluster: CustomCluster, hosts: Iterable[Host]) -> dict[str, Any]:
    """The API server's certificate names and, with a virtual IP, kube-vip in front of the masters."""
    cp = cluster.spec.control_plane_config
    sans: set[str] = {h.public_ip for h in masters(hosts)}
    out: dict[str, Any] = {}
    if cp is not None:
        sans.add(cp.address)
        sans.update(cp.cert_sans or ())
        out |= {
            "kube_vip_enabled": True,
            "kube_vip_controlplane_enabled": True,
            "kube_vip_address": cp.address,
            "kube_vip_arp_enabled": True,
            "kube_vip_services_enabled": False,
            # kube-vip's ARP mode needs strict ARP when kube-proxy runs in IPVS mode (Kubespray's default).
            "kube_proxy_strict_arp": True,
            "loadbalancer_apiserver": {"address": cp.address, "port": API_SERVER_PORT},
        }
        if cp.load_balancer_domain_name:
            sans.add(cp.load_balancer_domain_name)
            out["apiserver_loadbalancer_domain_name"] = cp.load_balancer_domain_name
    out["supplementary_addresses_in_ssl_keys"] = sorted(sans)
    return out


def group_vars(cluster: CustomCluster, version: str, hosts: Iterable[Host]) -> dict[str, Any]:
    """The variables of group ``k8s_cluster`` for installing ``version`` on ``hosts``."""
    return {
        "kube_version": kubespray_version(version),
        "kube_network_plugin": cluster.spec.cni.type,
        **_networks(cluster),
        **_control_plane(cluster, hosts),
        "kubeconfig_localhost": False,
    }


def api_endpoint(cluster: CustomCluster, hosts: Iterable[Host]) -> str:
    """Where clients reach the API server: the domain name or virtual IP if given, else the first master's
    public address (by name, as the inventory orders them)."""
    cp = cluster.spec.control_plane_config
    if cp is not None:
        host = cp.load_balancer_domain_name or cp.address
    else:
        ordered = sorted(masters(hosts), key=lambda h: h.name)
        if not ordered:
            raise ValueError("a cluster without masters has no API endpoint")
        host = ordered[0].public_ip
    shown = f"[{host}]" if ":" in host else host
    return f"https://{shown}:{API_SERVER_PORT}"
