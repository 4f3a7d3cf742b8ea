"""The provider seam: what a cluster provider gives the operator, and what the operator gives it.

A provider reconciles one kind (Kubespray: ``CustomCluster``). It registers a :class:`Registration`: the
kind and its model, and a ``build`` function that, given the operator's shared :class:`Services`, returns
its :class:`Provider` parts: how events of its own kind and of each child kind it watches (its Jobs, its
machines, Cluster API's objects, ...) map to the keys of the objects to reconcile, and the reconcile
itself. The operator lists and watches every kind the registered providers name (each kind once, however
many providers watch it), queues the keys the mappers return in the provider's own work queue, and runs
its reconcile from there. Adding a provider is one registration in :mod:`kurator.operator.providers`.

The mappers are also where a provider keeps what it learns from events (its informer cache): they are
called once per event, in order, before anything reads the cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kurator.api.resources import ApiKind

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kurator.kube.asyncapi import AsyncAPI
    from kurator.operator.fleets import Fleets
    from kurator.operator.metrics import Metrics
    from kurator.operator.settings import Settings
    from kurator.operator.workqueue import WorkQueue

Key = tuple[str, str]
"""(namespace, name) of an object a provider reconciles."""

WatchEvent = Mapping[str, Any]
"""``{"type": "ADDED" | "MODIFIED" | "DELETED" | None, "object": body}``; None for an object of the first
listing."""

Mapper = Callable[[WatchEvent], Iterable[Key]]
"""Takes one event into the provider's cache; returns the keys of the objects it concerns."""


@dataclass(frozen=True)
class Watched:
    """A kind the operator lists and watches."""

    group: str
    """"" for Kubernetes' core group."""
    kind: str
    plural: str
    versions: tuple[str, ...]
    """Listed in this order at the start (the first one served counts); with one, it is also the one
    watched, with several the API server's preferred one is."""
    labels: Mapping[str, str | None] = field(default_factory=dict)
    """Only objects with these labels (None: the label is present, whatever its value)."""
    optional: bool = False
    """A kind whose CRD may be absent (another project's): skipped then, watched once it appears."""

    @classmethod
    def of(cls, kind: ApiKind, **options: Any) -> Watched:
        return cls(kind.group, kind.kind, kind.plural, (kind.version,), **options)

    @classmethod
    def versions_of(cls, kinds: Iterable[ApiKind], **options: Any) -> Watched:
        """One kind served in several versions, newest first (:data:`kurator.lifecycle.capi.SERVED`)."""
        listed = list(kinds)
        first = listed[0]
        return cls(first.group, first.kind, first.plural, tuple(k.version for k in listed), **options)

    def api_kinds(self) -> list[ApiKind]:
        return [ApiKind(self.group, v, self.kind, self.plural) for v in self.versions]

    @property
    def id(self) -> str:
        """Names the watch: the same kind with the same labels is one watch, whoever asks for it."""
        selector = ",".join(f"{k}" if v is None else f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{self.plural}.{self.group or 'core'}" + (f"[{selector}]" if selector else "")


@dataclass(frozen=True)
class Child:
    """A kind the provider watches for the objects it reconciles (their Jobs, machines, owners, ...)."""

    watched: Watched
    owners: Mapper
    """Which reconciled objects an event of this kind concerns."""


Reconcile = Callable[[Key], Awaitable[float | None]]
"""One idempotent reconcile of one object; returns when to look at it again (seconds), or None. It handles
its own errors: an exception escaping it is a bug and stops the operator."""


@dataclass(frozen=True)
class Provider:
    """A provider's parts, built by its registration once the operator runs."""

    on_event: Mapper
    """Events of the reconciled kind itself."""
    children: tuple[Child, ...]
    reconcile: Reconcile
    phases: Callable[[], Iterable[str]] = lambda: ()
    """The phase of each object, counted on /metrics."""


@dataclass(frozen=True)
class Services:
    """What the operator gives every provider."""

    api: AsyncAPI
    settings: Settings
    metrics: Metrics
    fleets: Fleets
    queue: WorkQueue[Key]
    """The provider's own work queue (the keys its mappers return land here)."""


@dataclass(frozen=True)
class Registration:
    """One provider, as :mod:`kurator.operator.providers` lists it."""

    name: str
    kind: ApiKind
    """The kind it reconciles."""
    model: type[BaseModel]
    """That kind's model (``kurator.api``): what its reconcile reads objects of the kind as."""
    build: Callable[[Services], Provider]

    @property
    def watched(self) -> Watched:
        return Watched.of(self.kind)
