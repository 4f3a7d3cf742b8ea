"""Where kurator keeps its state, caches and downloaded tools.

Every location can be moved with an environment variable so tests and CI never touch a user's own files.
"""

from __future__ import annotations

import os
from pathlib import Path


def kurator_home() -> Path:
    """State that belongs to the user: local fleets, artifacts (``$KURATOR_HOME``, default ``~/.kurator``)."""
    return Path(os.environ.get("KURATOR_HOME") or Path.home() / ".kurator")


def cache_home() -> Path:
    """Rebuildable caches: binaries, Go build trees (``$KURATOR_CACHE``, default ``~/.cache/kurator``)."""
    if env := os.environ.get("KURATOR_CACHE"):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kurator"


def bin_cache() -> Path:
    """Version-keyed binaries: ``<bin_cache>/<name>/<version>/<name>``."""
    return cache_home() / "bin"


def build_cache() -> Path:
    """Go helper modules used to build binaries from the Go module proxy."""
    return cache_home() / "build"
