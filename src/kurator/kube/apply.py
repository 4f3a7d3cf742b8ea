"""Server-side apply of manifests given as plain dicts (CRDs, webhook configurations, APIServices …)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kurator.kube import kinds
from kurator.kube.client import FIELD_MANAGER, Client


def apply_all(api: Client, docs: Iterable[dict[str, Any]], field_manager: str = FIELD_MANAGER) -> int:
    """Apply every document with server-side apply (force: kurator owns these fields); returns the count."""
    count = 0
    for doc in docs:
        if not doc:
            continue
        api.apply(kinds.from_dict(doc, api), field_manager=field_manager, force=True)
        count += 1
    return count
