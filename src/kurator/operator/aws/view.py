"""What the AWS provider knows of its Clusters and their Cluster API objects, kept from the watch events
(an informer cache): each event is taken in before anything reads it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kurator.lifecycle.aws import names as n
from kurator.operator.provider import Key, WatchEvent

Obj = Mapping[str, Any]


@dataclass
class Children:
    """One Cluster's Cluster API and CAPA objects, by kind and name."""

    by_kind: dict[str, dict[str, Obj]] = field(default_factory=dict)

    def one(self, kind: str, name: str) -> Obj | None:
        return self.by_kind.get(kind, {}).get(name)

    def all(self, kind: str) -> list[Obj]:
        return sorted(self.by_kind.get(kind, {}).values(), key=lambda o: str(o["metadata"]["name"]))


class View:
    def __init__(self) -> None:
        self.clusters: dict[Key, Obj] = {}
        self.children: dict[Key, Children] = {}

    @staticmethod
    def _key(obj: Obj) -> Key:
        meta = obj.get("metadata") or {}
        return str(meta.get("namespace") or ""), str(meta.get("name") or "")

    def on_cluster(self, event: WatchEvent) -> Iterable[Key]:
        obj = event["object"]
        key = self._key(obj)
        if event.get("type") == "DELETED":
            self.clusters.pop(key, None)
            self.children.pop(key, None)
        else:
            self.clusters[key] = obj
        return [key]

    def owner_of(self, obj: Obj, label: str) -> Key | None:
        meta = obj.get("metadata") or {}
        name = (meta.get("labels") or {}).get(label)
        return (str(meta.get("namespace") or ""), str(name)) if name else None

    def child(self, label: str) -> Any:
        """A mapper for a child kind found by ``label`` (its Cluster's name), in the Cluster's namespace."""

        def on_event(event: WatchEvent) -> Iterable[Key]:
            obj = event["object"]
            key = self.owner_of(obj, label)
            if key is None:
                return []
            kind, name = str(obj.get("kind")), str(obj["metadata"]["name"])
            kids = self.children.setdefault(key, Children()).by_kind.setdefault(kind, {})
            if event.get("type") == "DELETED":
                kids.pop(name, None)
            else:
                kids[name] = obj
            return [key] if key in self.clusters else []

        return on_event

    def phases(self) -> Iterable[str]:
        return [str(((c.get("status") or {}).get("phase")) or "Pending") for c in self.clusters.values()]


OURS = n.NAME_LABEL  # what the operator made
CAPIS = n.CAPI_CLUSTER_LABEL  # what Cluster API made for a cluster (Machines, AWSMachines)
