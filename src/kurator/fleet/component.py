"""What a fleet component declares so the install engine can install it: a pinned artifact with its
checksum, values, per-member differences, the namespace it lives in, and what healthy means for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from kurator.fleet.desired import Ref

ArtifactKind = Literal["helm-chart", "manifests"]
# "members": applied to Karmada, which propagates it to every target member. "host": applied straight to
# one cluster (the fleet's host, where Karmada runs), for what serves the whole fleet from one place.
Placement = Literal["members", "host"]
HOST = "host"  # the name a host-placed component's single target goes by in plans and progress


@dataclass(frozen=True)
class Artifact:
    """Where a component's chart or manifests come from and the sha256 that proves them.

    ``source`` is an ``https://`` URL of a chart archive (``.tgz``), a manifest file or an archive of them, or
    ``package:<path>`` for a folder shipped inside the kurator package. A file's digest is the sha256 of its
    bytes; a folder's is the sha256 of its sorted ``<sha256>  <relative path>`` lines (see artifacts.digest).

    ``members``: for ``manifests`` whose payload is a ``.zip`` (a release archive, a Go module), the paths in
    the archive that hold the manifests; only those are rendered. The digest is still the whole archive's:
    what is pinned is the file exactly as published.
    """

    name: str
    version: str
    kind: ArtifactKind
    source: str
    sha256: str
    members: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class PerCluster:
    """A value that differs per member, applied with a Karmada OverridePolicy (plaintext replace)."""

    api_version: str
    kind: str
    name: str
    path: str  # JSON pointer, e.g. "/data/cluster"
    value: Callable[[str], Any]  # member name -> value


@dataclass(frozen=True)
class Check:
    """One thing a healthy component needs on one target, as found there (``detail`` says what was seen or
    what is missing, in a few words)."""

    name: str
    ok: bool
    detail: str = ""


class Reader(Protocol):
    """Reads live objects of one target (a member through Karmada's proxy, or the host)."""

    async def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The object, or None when it (or its kind) does not exist."""
        ...

    async def list(
        self, api_version: str, kind: str, namespace: str = "", labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The objects of a kind (in ``namespace``, or everywhere when empty), by label; [] for an unknown
        kind."""
        ...


@dataclass(frozen=True)
class Target:
    """What a health hook is given: one target, the component's objects placed there, and a reader."""

    name: str  # the member (or HOST for a component placed on the host)
    objects: tuple[Ref, ...]
    read: Reader
    members: tuple[str, ...] = ()  # every target of the install (a hook may look at the others' state)


# Checks beyond generic readiness (which the engine does for every component: workloads ready, CRDs
# Established, each webhook's service with a ready endpoint and a CA bundle). A hook may raise nothing: what
# it cannot read is a failed Check.
HealthHook = Callable[[Target], Awaitable[list[Check]]]


@dataclass(frozen=True)
class Variants:
    """Each member's own objects, for a component whose members hold different objects, or the same ones
    with different content (Istio's primary and remotes). The engine keeps one template per object on
    Karmada, places it on exactly the members that hold it, and overrides what differs on each member.

    The first member in ``members`` gives each object's template. ``karmada``: objects that stay on Karmada
    (policies of the component's own, such as one that places the custom resources users create)."""

    members: dict[str, list[dict[str, Any]]]
    karmada: list[dict[str, Any]] = field(default_factory=list)
    # What readiness compares of an object: the object, or a copy without the fields that controllers in
    # the member own (a webhook's CA bundle, patched in by the component itself, which Karmada is told to
    # keep). It must not change the object it is given.
    loosen: Callable[[dict[str, Any]], dict[str, Any]] | None = None


# (the verified artifact, the merged values, the target members) -> each member's objects
RenderVariants = Callable[[Path, dict[str, Any], list[str]], Variants]


@dataclass(frozen=True)
class Component:
    name: str
    description: str
    artifact: Artifact
    namespace: str  # "": a component of cluster-scoped objects only, which gets no namespace of its own
    values: dict[str, Any] = field(default_factory=dict)
    per_cluster: tuple[PerCluster, ...] = ()
    release: str | None = None  # Helm release name (default: the component's name)
    placement: Placement = "members"
    # For an artifact neither helm nor plain manifests describe (a release's kustomize folders): makes the
    # objects from the verified payload and the values.
    renderer: Callable[[Path, dict[str, Any]], list[dict[str, Any]]] | None = None
    health: HealthHook | None = None
    # Applied to the rendered objects before anything else (e.g. leave out what cannot serve on the targets).
    adapt: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    variants: RenderVariants | None = None  # set when members differ by more than a few values

    @property
    def version(self) -> str:
        return self.artifact.version
