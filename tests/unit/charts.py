"""What the chart tests share: the pinned helm (in the binary cache) and checks every chart must pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HELM = Path.home() / ".cache" / "kurator" / "bin" / "helm" / "3.20.2" / "helm"
# helm is part of every set-up (`kurator local fetch`); a missing one fails the chart tests, never skips them
# (the fixture is in conftest.py).
needs_helm = pytest.mark.usefixtures("helm_in_cache")


def no_wildcards(objs: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (kind, _), obj in objs.items():
        if kind in ("ClusterRole", "Role"):
            for rule in obj["rules"]:
                for key in ("apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"):
                    assert "*" not in rule.get(key, []), f"{kind} {obj['metadata']['name']} has a wildcard"
