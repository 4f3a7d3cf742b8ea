"""kopf's part: the watches (list, watch, reconnect), the login with the operator's credentials, and the
settings that keep kopf from writing anything itself. Every event updates the view and queues the
clusters it concerns; the handlers do nothing else, so a slow reconcile never holds up a watch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from kurator.api.names import GROUP, VERSION
from kurator.lifecycle import capi
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.operator.connection import Connection
from kurator.operator.view import Key, View
from kurator.operator.workqueue import WorkQueue


def registry(view: View, queue: WorkQueue[Key], connection: Connection) -> kopf.OperatorRegistry:
    reg = kopf.OperatorRegistry()

    def feed(update: Callable[[Mapping[str, Any]], list[Key]]) -> Callable[..., Any]:
        async def handler(event: Mapping[str, Any], **_: Any) -> None:
            for key in update(event):
                queue.add(key)

        return handler

    @kopf.on.login(registry=reg)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(**connection.kopf_credentials())

    kopf.on.event(GROUP, VERSION, "customclusters", registry=reg, id="customclusters")(feed(view.on_cluster))
    kopf.on.event(GROUP, VERSION, "custommachines", registry=reg, id="custommachines")(feed(view.on_machine))
    kopf.on.event("batch", "v1", "jobs", labels={CLUSTER_LABEL: kopf.PRESENT}, registry=reg, id="jobs")(
        feed(view.on_job)
    )
    # Cluster API's kinds in whichever version the API server prefers; watched once their CRDs appear.
    kopf.on.event(capi.CAPI_GROUP, "clusters", registry=reg, id="capi-clusters")(feed(view.on_capi_cluster))
    kopf.on.event(capi.CONTROL_PLANE_GROUP, "kubeadmcontrolplanes", registry=reg, id="kcps")(
        feed(view.on_kcp)
    )
    return reg


class _NoDiffBase(kopf.DiffBaseStorage):
    """The operator registers no change-detecting handlers, so kopf needs no "essence" of each object to
    diff against; kopf's own builds one for every event by deep-copying the body (a third of the
    operator's CPU in a burst of a thousand clusters)."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        pass


def settings() -> kopf.OperatorSettings:
    s = kopf.OperatorSettings()
    s.persistence.diffbase_storage = _NoDiffBase()
    s.posting.enabled = False  # kopf would turn its log lines into Events; the reconcile posts its own
    s.watching.server_timeout = 300
    s.watching.client_timeout = 330
    s.watching.connect_timeout = 10
    s.networking.request_timeout = 60.0
    return s


def quiet_libraries() -> None:
    """kopf says at INFO what each handler did for each event, httpx every request, asyncssh every step of
    every login; the operator's own log says what matters (``--log-level debug`` is its own detail)."""
    for name in ("kopf", "httpx2", "httpcore2", "asyncssh", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
