"""What an API call's failure means."""

from __future__ import annotations

import httpx2
from lightkube import ApiError


def not_found(exc: Exception) -> bool:
    """A 404: the object is not there, or its kind is not served (an unserved kind, e.g. before its CRD,
    answers a bare 404 that lightkube raises as an HTTP error, not a Status)."""
    if isinstance(exc, ApiError):
        return exc.status.code == 404
    return isinstance(exc, httpx2.HTTPStatusError) and exc.response.status_code == 404
