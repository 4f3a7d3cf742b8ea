"""The components kurator installs into a fleet, by name."""

from __future__ import annotations

from kurator.components import standin
from kurator.core.errors import InvalidInput
from kurator.fleet.component import Component

COMPONENTS: dict[str, Component] = {c.name: c for c in (standin.COMPONENT,)}


def get(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown component {name!r}", f"known components: {', '.join(sorted(COMPONENTS))}"
        ) from None
