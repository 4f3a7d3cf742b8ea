"""Kubespray's inventory (``hosts.yaml``, Ansible's YAML inventory) for a set of hosts, laid out as Kubespray
v2.31.0's sample inventory: masters in ``kube_control_plane`` and ``etcd`` (etcd is stacked on them),
workers in ``kube_node``, ``k8s_cluster`` made of both, ``calico_rr`` present and empty.

The output is the same for the same hosts in any order (sorted), so an unchanged cluster gives an
unchanged ConfigMap; it holds names, addresses and key file paths, never a key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from kurator.lifecycle.hosts import Host, masters, nodes

# libyaml's emitter where PyYAML has it (its wheels do): the same text, ten times faster than the Python one,
# which a burst of clusters notices (every Job carries an inventory and group vars).
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

KEY_FILE = "/auth/ssh-privatekey"
"""Where the Job mounts the default SSH key (``--private-key``)."""
OTHER_KEYS_DIR = "/auth-keys"
"""Where the Job mounts the keys of hosts whose Secret differs from the default one, a directory each."""


def key_file(secret: str, default_secret: str) -> str:
    """The path of a host's key inside the Job's container."""
    return KEY_FILE if secret == default_secret else f"{OTHER_KEYS_DIR}/{secret}/ssh-privatekey"


def _host_vars(host: Host, default_secret: str) -> dict[str, Any]:
    # Kubespray binds to ``ip`` (IPv4) or ``ip6`` (IPv6) and tells other hosts ``access_ip``/``access_ip6``;
    # on these machines both are the private address. Ansible connects to ``ansible_host``.
    v6 = ipaddress.ip_address(host.private_ip).version == 6
    out: dict[str, Any] = {"ansible_host": host.public_ip}
    out["ip6" if v6 else "ip"] = host.private_ip
    out["access_ip6" if v6 else "access_ip"] = host.private_ip
    if host.ssh_key_secret != default_secret:
        out["ansible_ssh_private_key_file"] = key_file(host.ssh_key_secret, default_secret)
    if host.labels:
        out["node_labels"] = dict(sorted(host.labels.items()))
    return out


def _group(hosts: Iterable[Host]) -> dict[str, Any]:
    return {"hosts": {h.name: None for h in sorted(hosts, key=lambda h: h.name)}}


def inventory(hosts: Iterable[Host], default_secret: str) -> dict[str, Any]:
    """The inventory as data. Masters are workers too only when there are no workers (a one-host cluster
    must run pods somewhere); Kubespray then leaves them schedulable."""
    ordered = sorted(hosts, key=lambda h: h.name)
    control_plane = masters(ordered)
    workers = nodes(ordered) or control_plane
    return {
        "all": {
            "hosts": {h.name: _host_vars(h, default_secret) for h in ordered},
            "children": {
                "kube_control_plane": _group(control_plane),
                "etcd": _group(control_plane),
                "kube_node": _group(workers),
                "calico_rr": {"hosts": {}},
                "k8s_cluster": {
                    "children": {"kube_control_plane": None, "kube_node": None, "calico_rr": None}
                },
            },
        }
    }


def render(hosts: Iterable[Host], default_secret: str) -> str:
    """``hosts.yaml`` as text."""
    return dump(inventory(hosts, default_secret))


def dump(data: Mapping[str, Any]) -> str:
    """YAML as the ConfigMaps carry it: keys in the order built (already sorted where order is free)."""
    return yaml.dump(dict(data), Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
