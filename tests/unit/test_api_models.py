"""The models of CustomCluster and CustomMachine: Kurator's example manifests parse, and kurator's Python
checks refuse what the API server's rules refuse, with the same messages (tests/api_cases.py is the table
the integration tests run against a real API server)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kurator.api import kubespray, manifests, names, rules
from kurator.api.cluster import CustomCluster
from kurator.api.machine import CustomMachine
from kurator.core.errors import InvalidInput
from tests import api_cases
from tests.api_cases import Bad, Update


@pytest.mark.parametrize("version", ["v0.2.0", "v0.6.0"])
def test_kurator_examples_parse_and_round_trip(version: str) -> None:
    machines = api_cases.filled(api_cases.kurator_example(version, "cc-custommachine"))
    cluster = api_cases.filled(api_cases.kurator_example(version, "cc-customcluster"))
    parsed_machines = CustomMachine.model_validate(machines)
    parsed_cluster = CustomCluster.model_validate(cluster)
    assert parsed_machines.manifest() == machines
    assert parsed_cluster.manifest() == cluster
    assert parsed_machines.spec.master[0].ssh_key.name == "cluster-secret"
    assert parsed_cluster.spec.cni.type == "cilium"
    assert parsed_cluster.spec.kubernetes_version is None  # Kurator takes it from the KubeadmControlPlane


def test_kurator_v020_example_keeps_its_extra_field() -> None:
    doc = api_cases.filled(api_cases.kurator_example("v0.2.0", "cc-custommachine"))
    assert CustomMachine.model_validate(doc).spec.master[0].instance_type == "node"


@pytest.mark.parametrize(("name", "doc"), api_cases.good(), ids=[n for n, _ in api_cases.good()])
def test_good_manifests_have_no_problems(name: str, doc: dict[str, Any]) -> None:
    assert manifests.problems(doc) == []
    assert manifests.parse(doc).manifest() == doc


@pytest.mark.parametrize("case", api_cases.bad(), ids=[c.id for c in api_cases.bad()])
def test_bad_manifests_are_refused_with_the_api_servers_message(case: Bad) -> None:
    found = manifests.problems(case.doc)
    assert any(case.says in p for p in found), found


@pytest.mark.parametrize("case", api_cases.updates(), ids=[u.id for u in api_cases.updates()])
def test_updates_follow_the_transition_rules(case: Update) -> None:
    found = manifests.update_problems(case.before, case.after)
    if case.says is None:
        assert found == []
    else:
        assert any(case.says in p for p in found), found


def test_problems_name_the_field_as_kubernetes_does() -> None:
    doc = api_cases.with_host(api_cases.machine(), "node", 1, publicIP="nope")
    assert manifests.problems(doc) == [
        "spec.node[1].publicIP: publicIP 'nope' is not an IP address: write an IPv4 address such as "
        "192.0.2.10 or an IPv6 address such as 2001:db8::10"
    ]


def test_parse_names_every_problem_in_one_error() -> None:
    doc = api_cases.with_host(api_cases.machine(), "node", 0, publicIP="x", privateIP="y")
    with pytest.raises(InvalidInput) as caught:
        manifests.parse(doc)
    assert "CustomMachine machines is invalid" in caught.value.message
    assert "publicIP 'x'" in caught.value.message and "privateIP 'y'" in caught.value.message


def test_unknown_fields_and_kinds_are_refused() -> None:
    typo = api_cases.with_host(api_cases.machine(), "master", 0, hostname="m1")
    assert any("spec.master[0].hostname: Extra inputs" in p for p in manifests.problems(typo))
    with pytest.raises(InvalidInput, match="kind 'AWSCluster' is not one of"):
        manifests.problems({"kind": "AWSCluster"})


def test_api_version_and_kind_are_kuratorss() -> None:
    doc = copy.deepcopy(api_cases.cluster())
    doc["apiVersion"] = "infrastructure.cluster.x-k8s.io/v1alpha1"
    assert any(p.startswith("apiVersion:") for p in manifests.problems(doc))
    assert CustomCluster.model_fields["api_version"].default == names.API_VERSION
    assert CustomMachine.model_fields["api_version"].default == names.API_VERSION


def test_status_reads_kurators_fields_and_conditions() -> None:
    doc = api_cases.cluster()
    doc["status"] = {
        "phase": "Provisioned",
        "apiEndpoint": "https://192.0.2.100:6443",
        "kubeconfigSecretRef": "cluster-kubeconfig",
        "observedGeneration": 2,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastTransitionTime": "2026-01-02T03:04:05Z",
                "reason": "Done",
            }
        ],
        "somethingNewer": 1,  # status readers ignore what they do not know
    }
    status = CustomCluster.model_validate(doc).status
    assert status is not None and status.phase == "Provisioned" and status.conditions
    assert status.conditions[0].last_transition_time.year == 2026


def test_versions_are_described_in_ranges() -> None:
    assert kubespray.describe_versions() == "v1.33.0 to v1.33.11, v1.34.0 to v1.34.7 or v1.35.0 to v1.35.4"
    assert kubespray.describe_versions(("v1.30.1", "v1.30.3", "v1.31.0")) == "v1.30.1, v1.30.3 or v1.31.0"
    # Three minors, so a test can skip one.
    assert len({v.rsplit(".", 1)[0] for v in kubespray.KUBERNETES_VERSIONS}) >= 3


def test_message_templates_become_cel_concatenations() -> None:
    say = rules.says('a "{self}" b\\c {kind}', kind=("self.kind", lambda v: v.upper()))
    assert say.cel() == '"a \\"" + self + "\\" b\\\\c " + self.kind'
    assert say.text("xy") == 'a "xy" b\\c XY'


@pytest.mark.parametrize(
    ("value", "ip"),
    [
        ("192.0.2.1", True),
        ("2001:db8::1", True),
        ("::", True),
        ("192.0.2.01", False),
        ("::ffff:192.0.2.1", False),
        ("fe80::1%eth0", False),
        ("192.0.2.1/32", False),
        ("", False),
    ],
)
def test_ip_twin_of_cel(value: str, ip: bool) -> None:
    assert rules.is_ip(value) is ip


@pytest.mark.parametrize(
    ("value", "cidr"),
    [
        ("10.0.0.0/8", True),
        ("10.0.0.1/8", True),  # a CIDR, with host bits set (another rule)
        ("fd00::/64", True),
        ("10.0.0.0/33", False),
        ("10.0.0.0/08", False),
        ("10.0.0.0", False),
        ("10.0.0.0/255.0.0.0", False),
    ],
)
def test_cidr_twin_of_cel(value: str, cidr: bool) -> None:
    assert rules.is_cidr(value) is cidr


def test_host_bits_and_overlap() -> None:
    assert rules.host_bits_clear("10.233.64.0/18") and not rules.host_bits_clear("10.233.64.1/18")
    assert rules.host_bits_clear("fd00:0::/64")  # not canonical, but no host bits: CEL compares prefixes
    assert rules.overlap("10.0.0.0/8", "10.1.0.0/16") and not rules.overlap("10.0.0.0/8", "fd00::/8")
