"""Small copies of the layout of Cluster API's and CAPA's release config folders (the real ones are checked
by the integration tests, which install them)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    controller-gen.kubebuilder.io/version: v0.19.0
  name: {name}
spec:
  group: example.x-k8s.io
"""
CONVERSION = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {name}
spec:
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: ["v1"]
      clientConfig:
        service:
          namespace: system
          name: webhook-service
          path: /convert
"""
CA_INJECTION = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    cert-manager.io/inject-ca-from: $(CERTIFICATE_NAMESPACE)/$(CERTIFICATE_NAME)
  name: {name}
"""
WEBHOOKS = """\
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: mutating-webhook-configuration
webhooks:
- name: default.thing.example.x-k8s.io
  clientConfig:
    service: {name: webhook-service, namespace: system, path: /mutate-thing}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: validating-webhook-configuration
webhooks:
- name: validation.thing.example.x-k8s.io
  clientConfig:
    service: {name: webhook-service, namespace: system, path: /validate-thing}
"""
RBAC = {
    "rbac/kustomization.yaml": """\
        resources:
        - role.yaml
        - leader_election_role.yaml
        """,
    "rbac/role.yaml": """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: manager-role
        rules:
        - apiGroups: [example.x-k8s.io]
          resources: [things]
          verbs: [get, list, watch, patch]
        """,
    "rbac/leader_election_role.yaml": """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: leader-election-role
        rules:
        - apiGroups: [coordination.k8s.io]
          resources: [leases]
          verbs: [get, create, update]
        """,
}
MANAGER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller-manager, namespace: system}
spec:
  template:
    spec:
      containers:
      - name: manager
        args:
        - "--leader-elect"
        - "--feature-gates=EKS=${CAPA_EKS:=true},MachinePool=${EXP_MACHINE_POOL:=false}"
        - "--diagnostics-address=${CAPA_DIAGNOSTICS_ADDRESS:=:8443}"
"""


def capi_like(root: Path) -> Path:
    """The layout of Cluster API's kubeadm providers: ``labels``/``patches`` (kustomize v5 spelling)."""
    return _write(
        root,
        {
            "crd/kustomization.yaml": """\
                labels:
                - pairs:
                    cluster.x-k8s.io/v1beta1: v1beta1
                    cluster.x-k8s.io/v1beta2: v1beta2
                resources:
                - bases/things.yaml
                - bases/others.yaml
                patches:
                - path: patches/webhook_in_things.yaml
                configurations:
                - kustomizeconfig.yaml
                """,
            "crd/bases/things.yaml": CRD.format(name="things.example.x-k8s.io"),
            "crd/bases/others.yaml": CRD.format(name="others.example.x-k8s.io"),
            "crd/patches/webhook_in_things.yaml": CONVERSION.format(name="things.example.x-k8s.io"),
            "default/kustomization.yaml": """\
                namespace: capi-kubeadm-bootstrap-system
                namePrefix: capi-kubeadm-bootstrap-
                labels:
                - includeSelectors: true
                  pairs:
                    cluster.x-k8s.io/provider: bootstrap-kubeadm
                """,
            "webhook/manifests.yaml": WEBHOOKS,
            "manager/manager.yaml": MANAGER,
            **RBAC,
        },
    )


def capa_like(root: Path) -> Path:
    """The layout of CAPA's: ``commonLabels``/``patchesStrategicMerge`` (kustomize v4 spelling), CA injection
    and label patches."""
    return _write(
        root,
        {
            "crd/kustomization.yaml": """\
                commonLabels:
                  cluster.x-k8s.io/v1beta1: v1beta1_v1beta2
                resources:
                - bases/things.yaml
                patchesStrategicMerge:
                - patches/webhook_in_things.yaml
                - patches/cainjection_in_things.yaml
                - patches/label_in_things.yaml
                """,
            "crd/bases/things.yaml": CRD.format(name="things.example.x-k8s.io"),
            "crd/patches/webhook_in_things.yaml": CONVERSION.format(name="things.example.x-k8s.io"),
            "crd/patches/cainjection_in_things.yaml": CA_INJECTION.format(name="things.example.x-k8s.io"),
            "crd/patches/label_in_things.yaml": """\
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  labels:
                    clusterctl.cluster.x-k8s.io/move-hierarchy: ""
                  name: things.example.x-k8s.io
                """,
            "default/kustomization.yaml": """\
                namePrefix: capa-
                namespace: capa-system
                commonLabels:
                  cluster.x-k8s.io/provider: "infrastructure-aws"
                """,
            "webhook/manifests.yaml": WEBHOOKS,
            "manager/manager.yaml": MANAGER,
            **RBAC,
            # CAPA names its leader election Role otherwise than Cluster API
            "rbac/leader_election_role.yaml": RBAC["rbac/leader_election_role.yaml"].replace(
                "leader-election-role", "leader-elect-role"
            ),
        },
    )
