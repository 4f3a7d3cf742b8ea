"""The idempotent forms of the calls every caller wants: read an object that may be absent, create one
that may exist already, delete one that may be gone. Each takes "absent" / "already there" as an answer,
not an error; every other failure is raised as :mod:`kurator.kube.errors` has it."""

from __future__ import annotations

from typing import Any

from lightkube import AsyncClient, Client
from lightkube.types import PatchType

from kurator.kube.errors import Conflict, NotFound


def get_or_none(api: Client, res: Any, name: str, namespace: str | None = None) -> Any:
    """The object, or None when there is none of that name (or its kind is not served)."""
    try:
        return api.get(res, name, namespace=namespace)
    except NotFound:
        return None


def create_if_absent(api: Client, obj: Any) -> bool:
    """Create ``obj``; False when an object of that name exists already (it is left as it is)."""
    try:
        api.create(obj)
    except Conflict:
        return False
    return True


def delete_if_present(api: Client, res: Any, name: str, namespace: str | None = None) -> bool:
    """Delete the object; False when it was not there (or its kind is not served any more)."""
    try:
        api.delete(res, name, namespace=namespace)
    except NotFound:
        return False
    return True


async def aget_or_none(api: AsyncClient, res: Any, name: str, namespace: str | None = None) -> Any:
    try:
        return await api.get(res, name, namespace=namespace)
    except NotFound:
        return None


async def acreate_if_absent(api: AsyncClient, obj: Any) -> bool:
    try:
        await api.create(obj)
    except Conflict:
        return False
    return True


async def adelete_if_present(api: AsyncClient, res: Any, name: str, namespace: str | None = None) -> bool:
    try:
        await api.delete(res, name, namespace=namespace)
    except NotFound:
        return False
    return True


async def aannotate_if_present(
    api: AsyncClient, res: Any, name: str, annotations: dict[str, str], namespace: str | None = None
) -> bool:
    """Merge ``annotations`` into the object's; False when it is gone already."""
    try:
        await api.patch(
            res,
            name,
            {"metadata": {"annotations": annotations}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
    except NotFound:
        return False
    return True
