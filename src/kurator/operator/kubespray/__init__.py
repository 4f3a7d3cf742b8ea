"""The Kubespray provider: ``CustomCluster`` + ``CustomMachine`` built on your own machines by Kubespray
Jobs. It watches the CustomMachines (a cluster's hosts), the Jobs it starts (label ``kurator.dev/cluster``)
and Cluster API's ``Cluster`` and ``KubeadmControlPlane`` (which may supply a cluster's version and ranges),
keeps them in a :class:`~.view.View`, and reconciles each CustomCluster with :class:`~.reconcile.Reconciler`.
"""

from __future__ import annotations

from kurator.api.cluster import CustomCluster
from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE, JOB
from kurator.lifecycle import capi
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.operator.provider import Child, Provider, Registration, Services, Watched


def build(services: Services) -> Provider:
    from kurator.operator.kubespray.hostcheck import HostCheck
    from kurator.operator.kubespray.provisioned import Provisioned
    from kurator.operator.kubespray.reconcile import Reconciler
    from kurator.operator.kubespray.report import Reporter
    from kurator.operator.kubespray.view import View

    api, settings = services.api, services.settings
    view = View()
    hosts = HostCheck(api.secret_value, settings.ssh_user, settings.ssh_timeout, settings.preflight_ttl)
    reporter = Reporter(api, view, services.queue, settings)
    provisioned = Provisioned(api, hosts, services.fleets, settings, reporter)
    reconciler = Reconciler(view, api, settings, hosts, provisioned, reporter, services.metrics)
    return Provider(
        on_event=view.on_cluster,
        children=(
            Child(Watched.of(CUSTOM_MACHINE), view.on_machine),
            Child(Watched.of(JOB, labels={CLUSTER_LABEL: None}), view.on_job),
            # Cluster API's kinds in whichever version the API server serves; watched once their CRDs appear.
            Child(Watched.versions_of(capi.CLUSTER_VERSIONS, optional=True), view.on_capi_cluster),
            Child(Watched.versions_of(capi.KCP_VERSIONS, optional=True), view.on_kcp),
        ),
        reconcile=reconciler,
        phases=view.phases,
    )


REGISTRATION = Registration("kubespray", CUSTOM_CLUSTER, CustomCluster, build)
