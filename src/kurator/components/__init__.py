"""The components kurator installs into a fleet, by name."""

from __future__ import annotations

from kurator.components import (
    cluster_api,
    cluster_api_providers,
    cluster_operator,
    istio,
    pixie,
    prometheus,
    standin,
    thanos,
    volcano,
)
from kurator.core.errors import InvalidInput
from kurator.fleet.component import Component

COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        standin.COMPONENT,
        prometheus.COMPONENT,
        thanos.COMPONENT,
        cluster_api.COMPONENT,
        cluster_operator.COMPONENT,
        cluster_api_providers.CLUSTER_API,
        cluster_api_providers.CLUSTER_API_AWS,
        volcano.COMPONENT,
        pixie.COMPONENT,
        istio.COMPONENT,
    )
}
# Components whose commands are written out in kurator.cli, not made from the generic one: their install
# takes options of their own (an object store, labels, fleets, admission webhooks), or they are installed as
# part of another (the Cluster API CRDs, by `kurator install cluster-operator`).
WITH_OPTIONS = frozenset(
    {
        prometheus.COMPONENT.name,
        thanos.COMPONENT.name,
        cluster_api.COMPONENT.name,
        cluster_operator.COMPONENT.name,
        cluster_api_providers.CLUSTER_API.name,
        cluster_api_providers.CLUSTER_API_AWS.name,
        volcano.COMPONENT.name,
        pixie.COMPONENT.name,
        istio.COMPONENT.name,
    }
)


def get(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown component {name!r}", f"known components: {', '.join(sorted(COMPONENTS))}"
        ) from None
