"""The AWS provider: the ``Cluster`` kind (``infraType: aws``) made through Cluster API and CAPA. It watches
the Cluster API and CAPA objects it makes (label ``cluster.kurator.dev/cluster-name``) and those Cluster API
makes for them (Machines, AWSMachines: label ``cluster.x-k8s.io/cluster-name``), keeps them in a
:class:`~.view.View`, and reconciles each Cluster with :class:`~.reconcile.Reconciler`."""

from __future__ import annotations

from kurator.api.aws_cluster import Cluster
from kurator.api.resources import CLUSTER, ApiKind
from kurator.lifecycle.aws import names as n
from kurator.operator.provider import Child, Provider, Registration, Services, Watched

# What is watched, in the versions Cluster API v1.13 and CAPA v2.13 store; watched once their CRDs appear.
CHILDREN = (
    (ApiKind(n.CAPI_GROUP, "v1beta2", "Cluster", "clusters"), n.NAME_LABEL),
    (ApiKind(n.INFRA_GROUP, "v1beta2", "AWSCluster", "awsclusters"), n.NAME_LABEL),
    (ApiKind(n.CONTROL_PLANE_GROUP, "v1beta2", "KubeadmControlPlane", "kubeadmcontrolplanes"), n.NAME_LABEL),
    (ApiKind(n.CAPI_GROUP, "v1beta2", "MachineDeployment", "machinedeployments"), n.NAME_LABEL),
    (ApiKind(n.CAPI_GROUP, "v1beta2", "Machine", "machines"), n.CAPI_CLUSTER_LABEL),
    (ApiKind(n.INFRA_GROUP, "v1beta2", "AWSMachine", "awsmachines"), n.CAPI_CLUSTER_LABEL),
)


def build(services: Services) -> Provider:
    from kurator.operator.aws.reconcile import Reconciler
    from kurator.operator.aws.view import View

    view = View()
    return Provider(
        on_event=view.on_cluster,
        children=tuple(
            Child(Watched.of(kind, labels={label: None}, optional=True), view.child(label))
            for kind, label in CHILDREN
        ),
        reconcile=Reconciler(view, services),
        phases=view.phases,
    )


REGISTRATION = Registration("aws", CLUSTER, Cluster, build)
