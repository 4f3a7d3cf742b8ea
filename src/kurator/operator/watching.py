"""kopf's part: the watches (list, watch, reconnect), the login with the operator's credentials, and the
settings that keep kopf from writing anything itself. Every event goes through its route (the providers'
mappers update their caches and queue the objects it concerns); the handlers do nothing else, so a slow
reconcile never holds up a watch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import kopf

from kurator.kube.connection import Connection
from kurator.operator.routes import Route


def registry(routes: Iterable[Route], connection: Connection) -> kopf.OperatorRegistry:
    reg = kopf.OperatorRegistry()

    def handler(route: Route) -> Callable[..., Any]:
        async def on_event(event: Mapping[str, Any], **_: Any) -> None:
            route.feed(event)

        return on_event

    @kopf.on.login(registry=reg)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(**connection.kopf_credentials())

    for route in routes:
        w = route.watched
        # One version: that one; several (another project's kinds): whichever the API server prefers,
        # watched once its CRD appears.
        version = w.versions[0] if len(w.versions) == 1 else None
        labels = {k: kopf.PRESENT if v is None else v for k, v in w.labels.items()} or None
        kopf.on.event(group=w.group, version=version, plural=w.plural, labels=labels, registry=reg, id=w.id)(
            handler(route)
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
    every login, botocore at DEBUG every request's headers (an AWS key's ID among them); the operator's own
    log says what matters (``--log-level debug`` is its own detail)."""
    for name in ("kopf", "httpx2", "httpcore2", "asyncssh", "aiohttp", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
