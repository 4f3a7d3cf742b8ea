"""What a provider's reconcile pass does with an error: count it, log it and say when to look again.

Every provider shares the rule so that an error never escapes a worker (it would stop the operator's
workers for every cluster) and the messages name requests, never their bodies.
"""

from __future__ import annotations

import logging

from kurator.core.errors import KuratorError
from kurator.kube.errors import Conflict, RequestFailed
from kurator.operator.provider import Key


def after_failure(key: Key, exc: Exception, log: logging.Logger) -> tuple[str, float]:
    """The result to count and the seconds until the cluster is looked at again."""
    if isinstance(exc, Conflict):
        return "conflict", 1.0
    if isinstance(exc, RequestFailed):
        log.warning("%s/%s: the API refused: %s", *key, exc.detail or exc)
        return "error", 10.0
    if isinstance(exc, KuratorError | OSError):
        log.warning("%s/%s: %s", *key, exc)
        return "error", 10.0
    log.error("%s/%s: reconcile failed", *key, exc_info=exc)
    return "error", 30.0
