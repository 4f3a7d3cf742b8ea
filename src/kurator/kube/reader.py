"""Reading a target's live objects as plain dicts by ``apiVersion`` + ``kind`` (the fleet's health checks'
:class:`~kurator.fleet.component.Reader`), with lightkube kept inside kube/."""

from __future__ import annotations

from typing import Any

from lightkube import codecs
from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import async_load_in_cluster_generic_resources

from kurator.kube.client import AsyncClient
from kurator.kube.errors import NotFound
from kurator.kube.kinds import to_dict

Doc = dict[str, Any]


class LiveReader:
    """A :class:`~kurator.fleet.component.Reader` over one kube client; kinds lightkube does not ship
    are looked up in the target's discovery once."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._discovered = False

    async def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return codecs.resource_registry.load(api_version, kind)
        except LoadResourceError:
            if self._discovered:
                return None
        self._discovered = True
        await async_load_in_cluster_generic_resources(self._client)
        try:
            return codecs.resource_registry.load(api_version, kind)
        except LoadResourceError:
            return None

    async def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Doc | None:
        res = await self._resource(api_version, kind)
        if res is None:
            return None
        try:
            return to_dict(await self._client.get(res, name, namespace=namespace or None))
        except NotFound:
            return None

    async def list(
        self, api_version: str, kind: str, namespace: str = "", labels: dict[str, str] | None = None
    ) -> list[Doc]:
        res = await self._resource(api_version, kind)
        if res is None:
            return []
        selector: dict[str, Any] | None = dict(labels) if labels else None
        # A cluster-scoped kind (Node) takes no namespace at all: lightkube refuses "*" for it.
        where = (namespace or "*") if issubclass(res, NamespacedResource) else None
        found = self._client.list(res, namespace=where, labels=selector)
        try:
            return [to_dict(o) async for o in found]
        except NotFound:
            return []
