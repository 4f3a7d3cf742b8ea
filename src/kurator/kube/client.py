"""Typed Kubernetes clients (lightkube) built from a kubeconfig file and context."""

from __future__ import annotations

from pathlib import Path

import httpx2
from lightkube import Client
from lightkube.config.kubeconfig import KubeConfig

from kurator.kube import kubeconfig

FIELD_MANAGER = "kurator"


def client(path: Path, context: str | None = None, timeout: float = 10.0) -> Client:
    """A client for ``context`` in the kubeconfig at ``path``; fails clearly on a bad file or context."""
    data = kubeconfig.load(path)
    chosen = kubeconfig.check_context(data, context, path)
    config = KubeConfig.from_dict(data, fname=str(path)).get(context_name=chosen)
    return Client(
        config=config,
        field_manager=FIELD_MANAGER,
        timeout=httpx2.Timeout(timeout),
        trust_env=False,
    )
