"""What ``kurator install cluster-api`` puts on a host cluster for each provider: the release's CRDs, RBAC
rules and webhook configurations (pointing at the provider's Service with the CA kurator made), and the
objects clusterctl's overlay adds around them, without cert-manager."""

from __future__ import annotations

import base64
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kurator.clusterapi import certs, install
from kurator.clusterapi.providers import AWS, BOOTSTRAP
from kurator.components import cluster_api_providers as cap
from kurator.core.errors import KuratorError
from tests.unit import capi_config


@pytest.fixture(scope="module")
def cert() -> install.WebhookCert:
    return certs.make("capi-kubeadm-bootstrap-webhook-service", "capi-kubeadm-bootstrap-system")


def _by(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_objects_of_a_provider(tmp_path: Path, cert: install.WebhookCert) -> None:
    docs = install.objects(BOOTSTRAP, capi_config.capi_like(tmp_path / "capi"), cert)
    ns = "capi-kubeadm-bootstrap-system"
    assert list(_by(docs, "Namespace")) == [ns]
    ca = base64.b64encode(cert.ca.encode()).decode()
    (crd, _) = _by(docs, "CustomResourceDefinition").values()
    assert crd["spec"]["conversion"]["webhook"]["clientConfig"] == {
        "service": {
            "name": "capi-kubeadm-bootstrap-webhook-service",
            "namespace": ns,
            "path": "/convert",
            "port": 443,
        },
        "caBundle": ca,
    }
    role = _by(docs, "ClusterRole")["capi-kubeadm-bootstrap-manager-role"]
    assert role["rules"] == [
        {
            "apiGroups": ["example.x-k8s.io"],
            "resources": ["things"],
            "verbs": ["get", "list", "watch", "patch"],
        }
    ]
    binding = _by(docs, "ClusterRoleBinding")["capi-kubeadm-bootstrap-manager-rolebinding"]
    assert binding["roleRef"]["name"] == "capi-kubeadm-bootstrap-manager-role"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "capi-kubeadm-bootstrap-manager", "namespace": ns}
    ]
    secret = _by(docs, "Secret")["capi-kubeadm-bootstrap-webhook-service-cert"]
    assert base64.b64decode(secret["data"]["tls.crt"]).decode() == cert.cert
    deployment = _by(docs, "Deployment")["capi-kubeadm-bootstrap-controller-manager"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.k8s.io/cluster-api/kubeadm-bootstrap-controller:v1.13.4"
    assert "--leader-elect" in container["args"]  # replicas elect a leader, as released
    assert "--webhook-port=9443" in container["args"]
    service = _by(docs, "Service")["capi-kubeadm-bootstrap-webhook-service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    hooks = [h for d in docs if d["kind"].endswith("WebhookConfiguration") for h in d["webhooks"]]
    assert {h["clientConfig"]["service"]["name"] for h in hooks} == {"capi-kubeadm-bootstrap-webhook-service"}
    assert all(h["clientConfig"]["caBundle"] == ca for h in hooks)


def test_capa_gets_its_credentials_secret_and_no_eks(tmp_path: Path) -> None:
    root = capi_config.capa_like(tmp_path / "capa")
    docs = install.objects(AWS, root, certs.make("capa-webhook-service", "capa-system"), "[default]\nk = v\n")
    assert _by(docs, "Role")["capa-leader-election-role"]["rules"][0]["resources"] == ["leases"]
    secret = _by(docs, "Secret")["capa-manager-bootstrap-credentials"]
    assert base64.b64decode(secret["data"]["credentials"]).decode() == "[default]\nk = v\n"
    container = _by(docs, "Deployment")["capa-controller-manager"]["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert "--feature-gates=EKS=false,MachinePool=false" in container["args"]
    assert {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/home/.aws/credentials"} in container["env"]


def test_a_release_that_names_its_objects_otherwise_is_refused(tmp_path: Path) -> None:
    root = capi_config.capi_like(tmp_path / "capi")
    with pytest.raises(KuratorError, match="not the one kurator pins"):
        install.objects(AWS, root, certs.make("x", "y"))


def test_webhook_certificates_are_kept_while_good() -> None:
    made = certs.make("capa-webhook-service", "capa-system")
    assert certs.still_good(made, "capa-webhook-service", "capa-system")
    assert not certs.still_good(made, "capi-webhook-service", "capi-system")  # another Service's
    late = dt.datetime.now(dt.UTC) + certs.VALIDITY - dt.timedelta(days=30)
    assert not certs.still_good(made, "capa-webhook-service", "capa-system", now=late)  # near its end
    other = certs.make("capa-webhook-service", "capa-system")
    assert not certs.still_good(
        install.WebhookCert(made.cert, made.key, other.ca), "capa-webhook-service", "capa-system"
    )


def test_the_module_zip_is_unpacked_only_into_the_folders_asked_for(tmp_path: Path) -> None:
    payload = tmp_path / "v1.zip"
    module = "sigs.k8s.io/cluster-api@v1.13.4"
    with zipfile.ZipFile(payload, "w") as z:
        z.writestr(f"{module}/config/crd/kustomization.yaml", "resources: []\n")
        z.writestr(f"{module}/main.go", "package main\n")
        z.writestr(f"{module}/config/../../escape.yaml", "x: 1\n")
        z.writestr("other@v1/config/x.yaml", "x: 1\n")
    out = cap._unpack(payload, module, ("config",), tmp_path / "out")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "config/crd/kustomization.yaml"
    ]
    assert not (tmp_path / "escape.yaml").exists()
