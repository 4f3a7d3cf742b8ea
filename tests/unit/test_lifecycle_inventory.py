"""Kubespray's inventory and group vars: golden outputs in Kubespray v2.31.0's layout and names, the same
for the same hosts in any order, and never anything but names, addresses and paths."""

from __future__ import annotations

import yaml

from kurator.lifecycle import group_vars, inventory
from kurator.lifecycle.hosts import Host, desired
from tests import lifecycle_cases as lc

GOLDEN = """\
all:
  hosts:
    master1:
      ansible_host: 192.0.2.11
      ip: 10.0.0.11
      access_ip: 10.0.0.11
    node1:
      ansible_host: 192.0.2.21
      ip: 10.0.0.21
      access_ip: 10.0.0.21
    node2:
      ansible_host: 192.0.2.22
      ip: 10.0.0.22
      access_ip: 10.0.0.22
  children:
    kube_control_plane:
      hosts:
        master1: null
    etcd:
      hosts:
        master1: null
    kube_node:
      hosts:
        node1: null
        node2: null
    calico_rr:
      hosts: {}
    k8s_cluster:
      children:
        kube_control_plane: null
        kube_node: null
        calico_rr: null
"""


def test_inventory_golden() -> None:
    assert inventory.render(desired(lc.machine()), "cluster-secret") == GOLDEN


def test_inventory_is_sorted_whatever_the_order() -> None:
    hosts = desired(lc.machine(masters=3, nodes=(3, 1, 2)))
    assert inventory.render(hosts, "k") == inventory.render(tuple(reversed(hosts)), "k")
    doc = yaml.safe_load(inventory.render(hosts, "k"))
    assert list(doc["all"]["hosts"]) == sorted(doc["all"]["hosts"])
    assert list(doc["all"]["children"]["etcd"]["hosts"]) == ["master1", "master2", "master3"]


def test_masters_are_workers_only_without_workers() -> None:
    doc = inventory.inventory(desired(lc.machine(nodes=())), "k")
    assert doc["all"]["children"]["kube_node"] == {"hosts": {"master1": None}}
    doc = inventory.inventory(desired(lc.machine()), "k")
    assert "master1" not in doc["all"]["children"]["kube_node"]["hosts"]


def test_ipv6_hosts_other_keys_and_labels() -> None:
    hosts = (
        Host("m", "master", "2001:db8::1", "fd00::1", "key-a"),
        Host("n", "node", "192.0.2.5", "10.0.0.5", "key-b", {"zone": "a", "disk": "ssd"}),
    )
    doc = inventory.inventory(hosts, "key-a")["all"]["hosts"]
    assert doc["m"] == {"ansible_host": "2001:db8::1", "ip6": "fd00::1", "access_ip6": "fd00::1"}
    assert doc["n"]["ansible_ssh_private_key_file"] == "/auth-keys/key-b/ssh-privatekey"
    assert list(doc["n"]["node_labels"]) == ["disk", "zone"]


VARS_GOLDEN = """\
kube_version: 1.34.3
kube_network_plugin: calico
kube_pods_subnet: 10.244.0.0/16
kube_service_addresses: 10.96.0.0/16
supplementary_addresses_in_ssl_keys:
- 192.0.2.11
kubeconfig_localhost: false
"""


def test_group_vars_golden() -> None:
    c = lc.cluster(podCIDR="10.244.0.0/16", serviceCIDR="10.96.0.0/16")
    out = inventory.dump(group_vars.group_vars(c, lc.VERSION, desired(lc.machine())))
    assert out == VARS_GOLDEN


def test_group_vars_leave_kubespray_defaults_alone() -> None:
    out = group_vars.group_vars(lc.cluster(), "v1.35.4", desired(lc.machine()))
    assert out["kube_version"] == "1.35.4"  # Kubespray v2.31.0 spells versions without the v
    assert not {"kube_pods_subnet", "kube_service_addresses", "ipv6_stack", "loadbalancer_apiserver"} & set(
        out
    )


def test_group_vars_with_a_virtual_ip() -> None:
    cp = {
        "address": "192.0.2.100",
        "certSANs": ["api.example.com", "198.51.100.7"],
        "loadBalancerDomainName": "k8s.example.com",
    }
    out = group_vars.group_vars(lc.cluster(controlPlaneConfig=cp), lc.VERSION, desired(lc.machine(masters=3)))
    assert out["loadbalancer_apiserver"] == {"address": "192.0.2.100", "port": 6443}
    assert (
        out["kube_vip_enabled"]
        and out["kube_vip_controlplane_enabled"]
        and out["kube_vip_address"] == "192.0.2.100"
    )
    assert out["apiserver_loadbalancer_domain_name"] == "k8s.example.com"
    assert out["supplementary_addresses_in_ssl_keys"] == sorted(
        [
            "192.0.2.100",
            "api.example.com",
            "198.51.100.7",
            "k8s.example.com",
            "192.0.2.11",
            "192.0.2.12",
            "192.0.2.13",
        ]
    )
    c = lc.cluster(controlPlaneConfig=cp)
    assert group_vars.api_endpoint(c, desired(lc.machine())) == "https://k8s.example.com:6443"


def test_api_endpoint_without_a_virtual_ip_is_the_first_master() -> None:
    assert group_vars.api_endpoint(lc.cluster(), desired(lc.machine(masters=3))) == "https://192.0.2.11:6443"
    v6 = (Host("m", "master", "2001:db8::1", "fd00::1", "k"),)
    assert group_vars.api_endpoint(lc.cluster(), v6) == "https://[2001:db8::1]:6443"


def test_ipv6_ranges_go_to_the_ipv6_variables() -> None:
    only6 = group_vars.group_vars(
        lc.cluster(podCIDR="fd85:ee78:d8a6:8607::1:0/112", serviceCIDR="fd85:ee78:d8a6:8607::1000/116"),
        lc.VERSION,
        (),
    )
    assert only6["kube_pods_subnet_ipv6"] == "fd85:ee78:d8a6:8607::1:0/112"
    assert only6["kube_service_addresses_ipv6"] == "fd85:ee78:d8a6:8607::1000/116"
    assert (only6["ipv4_stack"], only6["ipv6_stack"]) == (False, True)
    assert "kube_pods_subnet" not in only6
    dual = group_vars.group_vars(
        lc.cluster(podCIDR="10.244.0.0/16", serviceCIDR="fd00:10::/112"), lc.VERSION, ()
    )
    assert (dual["ipv4_stack"], dual["ipv6_stack"]) == (True, True)
    assert (
        dual["kube_pods_subnet"] == "10.244.0.0/16" and dual["kube_service_addresses_ipv6"] == "fd00:10::/112"
    )
