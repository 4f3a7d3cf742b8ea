"""Reading a Cluster API provider's config folder as its kustomizations complete it: contract labels,
conversion stanzas, the provider's label and name prefix, webhooks pointed at where the manager serves them.
The folders are small copies of the releases' layout (tests/unit/capi_config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurator.clusterapi import kustomize, manifests
from kurator.clusterapi.regions import REGIONS, service_endpoints
from kurator.core.errors import KuratorError
from tests.unit import capi_config


@pytest.fixture
def capi_like(tmp_path: Path) -> Path:
    return capi_config.capi_like(tmp_path / "capi")


@pytest.fixture
def capa_like(tmp_path: Path) -> Path:
    return capi_config.capa_like(tmp_path / "capa")


URL = manifests.at_url("https://10.255.0.2:17443")


def test_crds_get_the_contract_labels_and_conversion_of_the_kustomization(capi_like: Path) -> None:
    crds = {d["metadata"]["name"]: d for d in manifests.crds(capi_like, URL, "Q0E=")}
    things, others = crds["things.example.x-k8s.io"], crds["others.example.x-k8s.io"]
    for crd in (things, others):
        assert crd["metadata"]["labels"] == {
            "cluster.x-k8s.io/v1beta1": "v1beta1",
            "cluster.x-k8s.io/v1beta2": "v1beta2",
            "cluster.x-k8s.io/provider": "bootstrap-kubeadm",
        }
        assert crd["spec"]["group"] == "example.x-k8s.io"  # the base itself is kept
    assert things["spec"]["conversion"] == {
        "strategy": "Webhook",
        "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {"url": "https://10.255.0.2:17443/convert", "caBundle": "Q0E="},
        },
    }
    assert "conversion" not in others["spec"]  # no patch for it: served without conversion


def test_capa_spelling_common_labels_strategic_merge_and_no_cert_manager(capa_like: Path) -> None:
    (crd,) = manifests.crds(capa_like, manifests.at_service("capa-webhook-service", "capa-system"), "Q0E=")
    assert crd["metadata"]["labels"] == {
        "cluster.x-k8s.io/v1beta1": "v1beta1_v1beta2",
        "clusterctl.cluster.x-k8s.io/move-hierarchy": "",
        "cluster.x-k8s.io/provider": "infrastructure-aws",
    }
    # cert-manager's injection annotation goes (kurator sets caBundle itself); other annotations stay
    assert crd["metadata"]["annotations"] == {"controller-gen.kubebuilder.io/version": "v0.19.0"}
    assert crd["spec"]["conversion"]["webhook"]["clientConfig"] == {
        "service": {
            "name": "capa-webhook-service",
            "namespace": "capa-system",
            "path": "/convert",
            "port": 443,
        },
        "caBundle": "Q0E=",
    }


def test_webhook_configurations_are_prefixed_and_pointed_at_the_manager(capi_like: Path) -> None:
    docs = manifests.webhook_configurations(capi_like, URL, "Q0E=")
    assert manifests.names(docs, "MutatingWebhookConfiguration") == [
        "capi-kubeadm-bootstrap-mutating-webhook-configuration"
    ]
    assert manifests.names(docs, "ValidatingWebhookConfiguration") == [
        "capi-kubeadm-bootstrap-validating-webhook-configuration"
    ]
    hooks = [h["clientConfig"] for d in docs for h in d["webhooks"]]
    assert hooks == [
        {"url": "https://10.255.0.2:17443/mutate-thing", "caBundle": "Q0E="},
        {"url": "https://10.255.0.2:17443/validate-thing", "caBundle": "Q0E="},
    ]
    assert all(d["metadata"]["labels"] == {"cluster.x-k8s.io/provider": "bootstrap-kubeadm"} for d in docs)


def test_manager_arguments_with_clusterctl_variables(capa_like: Path) -> None:
    assert kustomize.manager_args(capa_like, {"CAPA_EKS": "false"}) == [
        "--leader-elect",
        "--feature-gates=EKS=false,MachinePool=false",
        "--diagnostics-address=:8443",
    ]
    with pytest.raises(KuratorError, match=r"need a value for \$\{AWS_B64ENCODED_CREDENTIALS\}"):
        kustomize.substitute("credentials: ${AWS_B64ENCODED_CREDENTIALS}", {})


def test_a_patch_of_an_unknown_crd_is_an_error(capi_like: Path) -> None:
    (capi_like / "crd/patches/webhook_in_things.yaml").write_text(
        capi_config.CONVERSION.format(name="gone.example.x-k8s.io")
    )
    with pytest.raises(KuratorError, match=r"which .* does not define"):
        manifests.crds(capi_like, URL, "")


def test_capa_reaches_the_stand_in_in_every_region() -> None:
    flag = service_endpoints("http://10.255.0.2:17480")
    per_region = flag.split(";")
    assert len(per_region) == len(REGIONS) and "us-west-2" in REGIONS
    region, _, services = per_region[REGIONS.index("us-west-2")].partition(":")
    assert region == "us-west-2"
    assert dict(s.split("=") for s in services.split(",")) == {
        s: "http://10.255.0.2:17480"
        for s in ("ec2", "elasticloadbalancing", "tagging", "secretsmanager", "sts", "ssm", "s3")
    }
