"""Reads and a dry-run apply on plain dicts, for callers above :mod:`kurator.kube` that name kinds by plain
descriptors (:class:`kurator.kube.resources.KindRef`) and never touch the client library's types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightkube import codecs

from kurator.kube import ops
from kurator.kube.client import FIELD_MANAGER, Client
from kurator.kube.resources import KindRef, cluster_scoped, namespaced


def _doc(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = obj.to_dict()
    return doc


def get(api: Client, kind: KindRef, namespace: str, name: str) -> dict[str, Any] | None:
    """The object, or None when there is none of that name (or its kind is not served); ``namespace`` ""
    for a cluster-scoped kind."""
    if not namespace:
        obj = ops.get_or_none(api, cluster_scoped(kind), name)
    else:
        obj = ops.get_or_none(api, namespaced(kind), name, namespace)
    return None if obj is None else _doc(obj)


def list_all(
    api: Client, kind: KindRef, namespace: str, labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every object of ``kind`` in ``namespace`` with ``labels``; NotFound when the kind is not served."""
    return [_doc(o) for o in api.list(namespaced(kind), namespace=namespace, labels=dict(labels or {}))]


def dry_run_apply(api: Client, kind: KindRef, doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` as the API server would store it after ``kubectl apply --server-side`` (schema, CEL rules
    and admission run; nothing is stored)."""
    return dry_run_apply_as(api, kind, doc, FIELD_MANAGER)


def dry_run_apply_as(
    api: Client, kind: KindRef, doc: Mapping[str, Any], field_manager: str
) -> dict[str, Any]:
    """:func:`dry_run_apply` as ``field_manager`` (what that manager's next apply would make of it); a doc
    without a namespace is of a cluster-scoped kind."""
    if (doc.get("metadata") or {}).get("namespace"):
        namespaced(kind)  # known to the decoder from now on
    else:
        cluster_scoped(kind)
    obj = api.apply(codecs.from_dict(dict(doc)), field_manager=field_manager, force=True, dry_run=True)
    return _doc(obj)
