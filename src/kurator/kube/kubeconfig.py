"""Kubeconfig files: build, write (mode 0600: they hold private keys), merge, and locate.

Resolution order for the file a command uses follows kubectl: ``--kubeconfig``, then ``$KUBECONFIG``
(first entry), then ``~/.kube/config``. There is no surprising product-specific default.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kurator.core import inputs
from kurator.core.errors import InvalidInput


@dataclass(frozen=True)
class ClusterAccess:
    """Everything needed to reach one cluster as one user, as PEM bytes."""

    name: str
    server: str
    ca_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build(entries: list[ClusterAccess], current: str | None = None) -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context per entry (all named after the entry)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": e.name, "cluster": {"server": e.server, "certificate-authority-data": _b64(e.ca_pem)}}
            for e in entries
        ],
        "users": [
            {
                "name": e.name,
                "user": {
                    "client-certificate-data": _b64(e.client_cert_pem),
                    "client-key-data": _b64(e.client_key_pem),
                },
            }
            for e in entries
        ],
        "contexts": [{"name": e.name, "context": {"cluster": e.name, "user": e.name}} for e in entries],
        "current-context": current or (entries[0].name if entries else ""),
    }


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, config: dict[str, Any]) -> bool:
    """Write atomically with mode 0600; returns False (and writes nothing) when the content is unchanged."""
    text = dump(config)
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.replace(path)
    return True


def default_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The kubeconfig file a command should use when the user did not name one."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0]).expanduser()
    return Path.home() / ".kube" / "config"


def load(path: Path) -> dict[str, Any]:
    """Read and sanity-check a kubeconfig file, with an error that names the file."""
    if not path.exists():
        raise InvalidInput(f"kubeconfig {path} does not exist", "pass --kubeconfig or set KUBECONFIG")
    label = f"kubeconfig {path}"
    data = inputs.load_yaml(inputs.read_text(path, "kubeconfig", inputs.KUBECONFIG_LIMIT), label)
    if not isinstance(data, dict) or not data.get("clusters") or not data.get("contexts"):
        raise InvalidInput(f"kubeconfig {path} has no clusters or contexts")
    return data


def context_names(config: dict[str, Any]) -> list[str]:
    return [str(c.get("name")) for c in config.get("contexts") or []]


def check_context(config: dict[str, Any], context: str | None, path: Path) -> str:
    """Return the context to use, or fail clearly if it does not exist."""
    names = context_names(config)
    chosen = context or str(config.get("current-context") or "")
    if not chosen:
        raise InvalidInput(f"kubeconfig {path} has no current context", f"pass --context, one of {names}")
    if chosen not in names:
        raise InvalidInput(
            f"context {chosen!r} is not in kubeconfig {path}", f"known contexts: {', '.join(names)}"
        )
    return chosen
