"""The writes and the few reads the operator makes beside what it watches, on one lightkube AsyncClient.

Every write is safe to repeat: creates of deterministic names treat "already exists" as done, deletes
treat "not found" as done, finalizers are changed with the resourceVersion they were read at (a conflict
is retried with a fresh read), status is merge-patched whole.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import logging
from collections.abc import Callable
from typing import Any

from lightkube import ApiError, AsyncClient, codecs
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event, Pod, Secret
from lightkube.types import CascadeType, PatchType

from kurator.lifecycle.resources import CustomClusterResource, CustomMachineResource

log = logging.getLogger(__name__)

COMPONENT = "kurator-cluster-operator"
CONFLICT_RETRIES = 5


def _code(exc: ApiError) -> int:
    return int(exc.status.code or 0)


class KubeAPI:
    """The calls, spread over many clients in turn: httpcore matches every request against every pooled
    connection (and asks each whether its socket is readable), so one pool serving a burst's hundred calls
    at once spends more CPU than the calls do. Sixteen pools of ten connections took a thousand clusters
    to their Jobs in 10.3-11.3 s (four of 64: 10.9-11.9 s, with twice the latency after the burst)."""

    def __init__(self, *clients: AsyncClient) -> None:
        self.clients = clients
        self._turn = itertools.cycle(clients)

    @property
    def client(self) -> AsyncClient:
        return next(self._turn)

    async def create(self, doc: dict[str, Any]) -> bool:
        """Create ``doc``; False when an object of that name already exists."""
        try:
            await self.client.create(codecs.from_dict(doc))
        except ApiError as exc:
            if _code(exc) == 409:
                return False
            raise
        return True

    async def _merge(self, resource: Any, namespace: str, name: str, patch: dict[str, Any]) -> None:
        await self.client.patch(resource, name, patch, namespace=namespace, patch_type=PatchType.MERGE)

    async def patch_cluster_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await self._merge(CustomClusterResource.Status, namespace, name, {"status": status})

    async def patch_cluster_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        await self._merge(CustomClusterResource, namespace, name, {"spec": spec})

    async def patch_machine_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await self._merge(CustomMachineResource.Status, namespace, name, {"status": status})

    async def _get(self, resource: Any, namespace: str, name: str) -> Any:
        """The object, or None when there is none of that name."""
        try:
            return await self.client.get(resource, name, namespace=namespace)
        except ApiError as exc:
            if _code(exc) == 404:
                return None
            raise

    async def cluster_exists(self, namespace: str, name: str) -> bool:
        return await self._get(CustomClusterResource, namespace, name) is not None

    async def set_finalizer(
        self, namespace: str, name: str, finalizer: str, present: bool, body: dict[str, Any]
    ) -> list[str] | None:
        """Add or remove ``finalizer`` on the CustomCluster; ``body`` is the object as last seen (its
        resourceVersion guards against dropping someone else's finalizer). Returns the finalizers written,
        None when nothing was."""

        def change(have: list[Any]) -> list[Any] | None:
            if (finalizer in have) == present:
                return None
            return [*have, finalizer] if present else [f for f in have if f != finalizer]

        return await self._edit_list(namespace, name, "finalizers", change, body, missing_ok=not present)

    async def add_owner(
        self, namespace: str, name: str, owner: dict[str, str], body: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """Add ``owner`` to the CustomCluster's ownerReferences (unless one of that uid is there); returns
        the references written, None when nothing was."""

        def change(have: list[Any]) -> list[Any] | None:
            return None if any(o.get("uid") == owner["uid"] for o in have) else [*have, owner]

        return await self._edit_list(namespace, name, "ownerReferences", change, body, missing_ok=False)

    async def _edit_list(
        self,
        namespace: str,
        name: str,
        field: str,
        change: Callable[[list[Any]], list[Any] | None],
        body: dict[str, Any],
        missing_ok: bool,
    ) -> list[Any] | None:
        """Write ``change`` of the CustomCluster's ``metadata.<field>`` (a list a merge patch replaces
        whole) at the resourceVersion it was read at; a conflict is retried on a fresh read. A 404 is
        raised unless ``missing_ok``."""
        meta = body.get("metadata") or {}
        for _ in range(CONFLICT_RETRIES):
            want = change(list(meta.get(field) or []))
            if want is None:
                return None
            patch = {"metadata": {field: want, "resourceVersion": meta.get("resourceVersion")}}
            try:
                await self.client.patch(
                    CustomClusterResource, name, patch, namespace=namespace, patch_type=PatchType.MERGE
                )
                return want
            except ApiError as exc:
                if _code(exc) == 404:
                    if not missing_ok:
                        raise
                    return None
                if _code(exc) != 409:
                    raise
            fresh = await self.client.get(CustomClusterResource, name, namespace=namespace)
            meta = fresh.metadata.to_dict() if fresh.metadata else {}
        raise RuntimeError(f"CustomCluster {namespace}/{name} kept changing while its {field} were set")

    async def suspend_job(self, namespace: str, name: str) -> None:
        """Stop a run but keep its Job (the record that it ran): the Job controller deletes its Pods."""
        try:
            await self.client.patch(
                Job, name, {"spec": {"suspend": True}}, namespace=namespace, patch_type=PatchType.MERGE
            )
        except ApiError as exc:
            if _code(exc) != 404:
                raise

    async def delete_job(self, namespace: str, name: str) -> None:
        """Stop a run: the Job and (in the background) its Pods."""
        try:
            await self.client.delete(Job, name, namespace=namespace, cascade=CascadeType.BACKGROUND)
        except ApiError as exc:
            if _code(exc) != 404:
                raise

    async def job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Job as a watch event would carry it; None when it is gone."""
        job = await self._get(Job, namespace, name)
        if job is None:
            return None
        doc: dict[str, Any] = job.to_dict()
        return doc

    async def secret_value(self, namespace: str, name: str, key: str) -> bytes | None:
        """One key of a Secret, decoded; None when the Secret or the key is missing."""
        secret = await self._get(Secret, namespace, name)
        if secret is None:
            return None
        data = secret.data or {}
        return base64.b64decode(data[key]) if key in data else None

    async def secret_annotations(self, namespace: str, name: str) -> dict[str, str] | None:
        secret = await self._get(Secret, namespace, name)
        if secret is None:
            return None
        return dict((secret.metadata.annotations if secret.metadata else None) or {})

    async def replace_secret(self, doc: dict[str, Any]) -> None:
        """Create the Secret, or replace the content of the one that exists."""
        meta = doc["metadata"]
        if await self.create(doc):
            return
        await self.client.patch(
            Secret, meta["name"], doc, namespace=meta["namespace"], patch_type=PatchType.MERGE
        )

    async def termination_message(self, namespace: str, job: str) -> str | None:
        """What the container of the Job's Pod left in its termination message (the latest Pod)."""
        pods = [p async for p in self.client.list(Pod, namespace=namespace, labels={"job-name": job})]
        pods.sort(key=lambda p: (p.metadata.creationTimestamp if p.metadata else None) or dt.datetime.min)
        for pod in reversed(pods):
            for cs in (pod.status.containerStatuses if pod.status else None) or ():
                terminated = cs.state.terminated if cs.state else None
                if terminated is not None and terminated.message:
                    return str(terminated.message)
        return None

    async def event(
        self, involved: dict[str, Any], type_: str, reason: str, message: str, now: dt.datetime
    ) -> None:
        """A Kubernetes Event about ``involved`` (a CustomCluster body); failures are logged, not raised:
        an Event is a courtesy, never a step."""
        meta = involved.get("metadata") or {}
        namespace = str(meta.get("namespace"))
        event = Event(
            metadata=ObjectMeta(generateName=f"{meta.get('name')}.", namespace=namespace),
            involvedObject=ObjectReference(
                apiVersion=involved.get("apiVersion"),
                kind=involved.get("kind"),
                name=meta.get("name"),
                namespace=namespace,
                uid=meta.get("uid"),
                resourceVersion=meta.get("resourceVersion"),
            ),
            reason=reason,
            message=message[:1024],
            type=type_,
            source=EventSource(component=COMPONENT),
            firstTimestamp=now,
            lastTimestamp=now,
            count=1,
            reportingComponent=COMPONENT,
        )
        try:
            await self.client.create(event)
        except Exception as exc:
            log.warning("could not post Event %s for %s/%s: %s", reason, namespace, meta.get("name"), exc)
