"""Server-side apply of manifests given as plain dicts (CRDs, webhook configurations, APIServices …)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lightkube import Client, codecs
from lightkube.core.exceptions import LoadResourceError
from lightkube.generic_resource import load_in_cluster_generic_resources

from kurator.kube.client import FIELD_MANAGER


def apply_all(api: Client, docs: Iterable[dict[str, Any]], field_manager: str = FIELD_MANAGER) -> int:
    """Apply every document with server-side apply (force: kurator owns these fields); returns the count."""
    count = 0
    for doc in docs:
        if not doc:
            continue
        try:
            obj = codecs.from_dict(doc)
        except LoadResourceError:  # an unknown kind: its CRD may have been applied just before
            load_in_cluster_generic_resources(api)
            obj = codecs.from_dict(doc)
        api.apply(obj, field_manager=field_manager, force=True)
        count += 1
    return count
