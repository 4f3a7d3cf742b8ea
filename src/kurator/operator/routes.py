"""Where each watched kind's events go: every kind the registered providers watch, once, with the mappers
of every provider watching it and the work queue each mapper's keys go to. The first listing (:mod:`.sync`)
and kopf's watches (:mod:`.watching`) both feed events through these routes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from kurator.operator.provider import Key, Mapper, Provider, Watched, WatchEvent
from kurator.operator.workqueue import WorkQueue


@dataclasses.dataclass
class Route:
    watched: Watched
    feeds: list[tuple[Mapper, WorkQueue[Key]]] = dataclasses.field(default_factory=list)

    def feed(self, event: WatchEvent) -> None:
        for mapper, queue in self.feeds:
            for key in mapper(event):
                queue.add(key)


def routes(active: Iterable[tuple[Watched, Provider, WorkQueue[Key]]]) -> list[Route]:
    """The routes of the providers in ``active`` (the kind each reconciles, its parts, its queue): child
    kinds first, then the reconciled kinds, so that a provider has seen every child of an object by the
    time the first listing queues the object."""
    children: dict[str, Route] = {}
    owners: dict[str, Route] = {}
    for watched, provider, queue in active:
        for child in provider.children:
            children.setdefault(child.watched.id, Route(child.watched)).feeds.append((child.owners, queue))
        owners.setdefault(watched.id, Route(watched)).feeds.append((provider.on_event, queue))
    both = set(children) & set(owners)
    for id_ in both:  # one kind that is one provider's child and another's object: listed once
        owners[id_].feeds[:0] = children.pop(id_).feeds
    return [*children.values(), *owners.values()]
