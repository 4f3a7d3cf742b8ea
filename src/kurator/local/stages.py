"""The kwok stage file of a fleet: how fake nodes and pods move through their lives."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

KUBELET_VERSION_PLACEHOLDER = "@KUBELET_VERSION@"


def render(kubernetes_version: str) -> str:
    text = resources.files("kurator.local").joinpath("data/kwok-stages.yaml").read_text()
    return text.replace(KUBELET_VERSION_PLACEHOLDER, f"v{kubernetes_version}")


def write_stages(path: Path, kubernetes_version: str) -> None:
    text = render(kubernetes_version)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
