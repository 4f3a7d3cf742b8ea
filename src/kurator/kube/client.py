"""Typed Kubernetes clients (lightkube) built from a kubeconfig file and context."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import httpx2
from lightkube import AsyncClient, Client
from lightkube.config.kubeconfig import KubeConfig, SingleConfig

from kurator.core.errors import KuratorError
from kurator.kube import kubeconfig

FIELD_MANAGER = "kurator"


def config(path: Path, context: str | None = None, server_suffix: str = "") -> SingleConfig:
    """The chosen context of the kubeconfig at ``path``; fails clearly on a bad file or context."""
    return _config(path, context, server_suffix)


def _config(path: Path, context: str | None, server_suffix: str) -> SingleConfig:
    data = kubeconfig.load(path)
    chosen = kubeconfig.check_context(data, context, path)
    if server_suffix:
        data = copy.deepcopy(data)
        ctx = next(c["context"] for c in data["contexts"] if c["name"] == chosen)
        for entry in data.get("clusters", []):
            if entry["name"] == ctx.get("cluster"):
                entry["cluster"]["server"] = entry["cluster"]["server"].rstrip("/") + server_suffix
    config = KubeConfig.from_dict(data, fname=str(path)).get(context_name=chosen)
    if config is None:
        raise KuratorError(f"context {chosen!r} of {path} cannot be used")
    return config


def client(path: Path, context: str | None = None, timeout: float = 10.0, server_suffix: str = "") -> Client:
    """A client for ``context`` in the kubeconfig at ``path``; fails clearly on a bad file or context.
    ``server_suffix`` is appended to the server URL (e.g. an API proxy path)."""
    return Client(
        config=_config(path, context, server_suffix),
        field_manager=FIELD_MANAGER,
        timeout=httpx2.Timeout(timeout),
        trust_env=False,
    )


def async_client(
    path: Path, context: str | None = None, timeout: float = 10.0, server_suffix: str = ""
) -> AsyncClient:
    """As ``client``, for many clusters at once in one thread."""
    return AsyncClient(
        config=_config(path, context, server_suffix),
        field_manager=FIELD_MANAGER,
        timeout=httpx2.Timeout(timeout),
        trust_env=False,
    )


@dataclass(frozen=True)
class Access:
    """How to reach one API server: a kubeconfig file and a context in it."""

    path: Path
    context: str | None = None

    def client(self, timeout: float = 10.0, server_suffix: str = "") -> Client:
        return client(self.path, self.context, timeout, server_suffix)

    def async_client(self, timeout: float = 10.0, server_suffix: str = "") -> AsyncClient:
        return async_client(self.path, self.context, timeout, server_suffix)
