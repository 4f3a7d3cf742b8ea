"""An asynchronous Kubernetes API for callers that run many requests at once (the cluster operator): kinds
are named by plain descriptors (:class:`kurator.kube.resources.KindRef`), objects are plain dicts, and
failures are :mod:`kurator.kube.errors` exceptions, raised by the clients it spreads its calls over
(:class:`kurator.kube.client.AsyncClient`).

Every write is safe to repeat: creates of deterministic names treat "already exists" as done, deletes
treat "not found" as done, list fields of metadata (finalizers, owner references) are changed at the
resourceVersion they were read at (a conflict is retried on a fresh read), status is merge-patched whole.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from lightkube import ALL_NS, AsyncClient, codecs, operators
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event, Pod, Secret
from lightkube.types import CascadeType, PatchType

from kurator.kube.errors import AlreadyExists, Conflict, NotFound
from kurator.kube.resources import KindRef, cluster_scoped, namespaced

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 5


def _doc(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = obj.to_dict()
    return doc


class AsyncAPI:
    """The calls, spread over many clients in turn: httpcore matches every request against every pooled
    connection (and asks each whether its socket is readable), so one pool serving a burst's hundred calls
    at once spends more CPU than the calls do. Sixteen pools of ten connections took a thousand clusters
    to their Jobs in 10.3-11.3 s (four of 64: 10.9-11.9 s, with twice the latency after the burst)."""

    def __init__(
        self, *clients: AsyncClient, component: str = "kurator", guard: Callable[[], None] | None = None
    ) -> None:
        self.clients = clients
        self.component = component
        """Who the Events this client posts come from."""
        self._guard = guard
        self._turn = itertools.cycle(clients)

    def guard(self) -> None:
        """Raise unless writes are allowed now (the operator holds its Lease): asked before every write."""
        if self._guard is not None:
            self._guard()

    @property
    def client(self) -> AsyncClient:
        return next(self._turn)

    # -- reads -------------------------------------------------------------------------------------

    async def get(self, kind: KindRef, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when there is none of that name."""
        try:
            return _doc(await self.client.get(namespaced(kind), name, namespace=namespace))
        except NotFound:
            return None

    async def list_objects(
        self, kind: KindRef, namespace: str | None, labels: Mapping[str, str | None] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of ``kind`` in ``namespace`` (None: all), with ``labels`` (None: the label is
        present, whatever its value)."""
        selector: dict[str, Any] = {
            k: (operators.exists() if v is None else v) for k, v in (labels or {}).items()
        }
        async for obj in self.client.list(
            namespaced(kind), namespace=namespace or ALL_NS, labels=selector or None
        ):
            yield _doc(obj)

    async def secret_value(self, namespace: str, name: str, key: str) -> bytes | None:
        """One key of a Secret, decoded; None when the Secret or the key is missing."""
        try:
            secret = await self.client.get(Secret, name, namespace=namespace)
        except NotFound:
            return None
        data = secret.data or {}
        return base64.b64decode(data[key]) if key in data else None

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

    # -- writes ------------------------------------------------------------------------------------

    async def create(self, doc: Mapping[str, Any]) -> bool:
        """Create ``doc``; False when an object of that name already exists. (What the API server stored
        is not turned back into a dict: a burst creates a thousand Jobs.)"""
        return await self._create(doc) is not None

    async def created(self, doc: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create ``doc``: the object as stored, None when an object of that name already exists."""
        obj = await self._create(doc)
        return None if obj is None else _doc(obj)

    async def _create(self, doc: Mapping[str, Any]) -> Any:
        self.guard()
        try:
            return await self.client.create(codecs.from_dict(dict(doc)))
        except AlreadyExists:
            return None

    async def replace(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the object at the resourceVersion ``doc`` carries (a conflict is raised); the object
        written, as the API server returns it."""
        self.guard()
        return _doc(await self.client.replace(codecs.from_dict(dict(doc))))

    async def merge_patch(
        self, kind: KindRef, namespace: str, name: str, patch: Mapping[str, Any], status: bool = False
    ) -> None:
        """A JSON merge patch of the object (``status``: of its status subresource)."""
        self.guard()
        resource = namespaced(kind)
        await self.client.patch(
            resource.Status if status else resource,
            name,
            dict(patch),
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )

    async def delete(self, kind: KindRef, namespace: str, name: str) -> None:
        """Delete the object (its dependents in the background); gone already is done."""
        self.guard()
        with contextlib.suppress(NotFound):
            await self.client.delete(
                namespaced(kind), name, namespace=namespace, cascade=CascadeType.BACKGROUND
            )

    async def apply(self, doc: Mapping[str, Any], kind: KindRef, field_manager: str) -> None:
        """Server-side apply of ``doc`` (an object of ``kind``, cluster-scoped when it has no namespace):
        applying the same object again changes nothing."""
        self.guard()
        if (doc.get("metadata") or {}).get("namespace"):
            namespaced(kind)  # known to codecs from here on
        else:
            cluster_scoped(kind)
        obj: Any = codecs.from_dict(dict(doc))
        await self.client.apply(obj, field_manager=field_manager, force=True)

    async def delete_cluster_scoped(self, kind: KindRef, name: str) -> None:
        """Delete a cluster-scoped object; gone already is done."""
        self.guard()
        with contextlib.suppress(NotFound):
            await self.client.delete(cluster_scoped(kind), name)

    async def suspend_job(self, namespace: str, name: str) -> None:
        """Stop a run but keep its Job (the record that it ran): the Job controller deletes its Pods."""
        self.guard()
        with contextlib.suppress(NotFound):
            await self.client.patch(
                Job, name, {"spec": {"suspend": True}}, namespace=namespace, patch_type=PatchType.MERGE
            )

    async def replace_secret(self, doc: Mapping[str, Any]) -> None:
        """Create the Secret, or replace the content of the one that exists."""
        meta = doc["metadata"]
        if await self.create(doc):
            return
        self.guard()
        await self.client.patch(
            Secret, meta["name"], dict(doc), namespace=meta["namespace"], patch_type=PatchType.MERGE
        )

    async def set_finalizer(
        self, kind: KindRef, body: Mapping[str, Any], finalizer: str, present: bool
    ) -> list[str] | None:
        """Add or remove ``finalizer``; ``body`` is the object as last seen (its resourceVersion guards
        against dropping someone else's finalizer). Returns the finalizers written, None when nothing was
        (a 404 is raised when adding, nothing to do when removing)."""

        def change(have: list[Any]) -> list[Any] | None:
            if (finalizer in have) == present:
                return None
            return [*have, finalizer] if present else [f for f in have if f != finalizer]

        return await self.edit_list(kind, body, "finalizers", change, missing_ok=not present)

    async def add_owner(
        self, kind: KindRef, body: Mapping[str, Any], owner: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None:
        """Add ``owner`` to the object's ownerReferences (unless one of that uid is there); returns the
        references written, None when nothing was."""

        def change(have: list[Any]) -> list[Any] | None:
            return None if any(o.get("uid") == owner["uid"] for o in have) else [*have, dict(owner)]

        return await self.edit_list(kind, body, "ownerReferences", change, missing_ok=False)

    async def edit_list(
        self,
        kind: KindRef,
        body: Mapping[str, Any],
        field: str,
        change: Callable[[list[Any]], list[Any] | None],
        missing_ok: bool,
    ) -> list[Any] | None:
        """Write ``change`` of the object's ``metadata.<field>`` (a list a merge patch replaces whole) at
        the resourceVersion ``body`` was read at; a conflict is retried on a fresh read. A 404 is raised
        unless ``missing_ok``."""
        meta = body.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        for _ in range(CONFLICT_RETRIES):
            want = change(list(meta.get(field) or []))
            if want is None:
                return None
            patch = {"metadata": {field: want, "resourceVersion": meta.get("resourceVersion")}}
            try:
                await self.merge_patch(kind, namespace, name, patch)
                return want
            except NotFound:
                if not missing_ok:
                    raise
                return None
            except Conflict:
                pass  # changed since it was read: read it again
            fresh = await self.get(kind, namespace, name)
            if fresh is None:
                if not missing_ok:
                    raise RuntimeError(f"{kind.kind} {namespace}/{name} went while its {field} were set")
                return None
            meta = fresh.get("metadata") or {}
        raise RuntimeError(f"{kind.kind} {namespace}/{name} kept changing while its {field} were set")

    async def event(
        self, involved: Mapping[str, Any], type_: str, reason: str, message: str, now: dt.datetime
    ) -> None:
        """A Kubernetes Event about ``involved`` (an object's body); failures are logged, not raised: an
        Event is a courtesy, never a step."""
        self.guard()
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
            source=EventSource(component=self.component),
            firstTimestamp=now,
            lastTimestamp=now,
            count=1,
            reportingComponent=self.component,
        )
        try:
            await self.client.create(event)
        except Exception as exc:
            log.warning("could not post Event %s for %s/%s: %s", reason, namespace, meta.get("name"), exc)
