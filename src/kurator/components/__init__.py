"""The components kurator installs into a fleet, by name."""

from __future__ import annotations

from kurator.components import prometheus, standin, thanos
from kurator.core.errors import InvalidInput
from kurator.fleet.component import Component

COMPONENTS: dict[str, Component] = {
    c.name: c for c in (standin.COMPONENT, prometheus.COMPONENT, thanos.COMPONENT)
}
# Components whose install takes options of their own (an object store, labels): their commands are
# written out in kurator.cli, not made from the generic one.
WITH_OPTIONS = frozenset({prometheus.COMPONENT.name, thanos.COMPONENT.name})


def get(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown component {name!r}", f"known components: {', '.join(sorted(COMPONENTS))}"
        ) from None
