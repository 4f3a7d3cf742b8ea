"""Kubeconfig files: build, write (mode 0600: they hold private keys), merge, and locate.

Resolution follows kubectl: ``--kubeconfig`` (one file), else ``$KUBECONFIG`` (a list of files, merged as
kubectl merges them), else ``~/.kube/config``. There is no surprising product-specific default.
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
    """The kubeconfig file a command should use when the user did not name one (with several files in
    ``$KUBECONFIG``, the first: where kubectl writes)."""
    return resolve(explicit)[0]


def resolve(explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """The kubeconfig files a command reads: ``explicit`` alone, else every entry of ``$KUBECONFIG`` (empty
    entries skipped, each named once), else ``~/.kube/config``."""
    if explicit:
        return [Path(explicit).expanduser()]
    entries = [e for e in os.environ.get("KUBECONFIG", "").split(os.pathsep) if e.strip()]
    if entries:
        return list(dict.fromkeys(Path(e).expanduser() for e in entries))
    return [Path.home() / ".kube" / "config"]


def parse(text: str | bytes, source: str) -> dict[str, Any]:
    """A kubeconfig from its text (bounded as every input is: kurator.core.inputs); ``source`` names it."""
    label = f"kubeconfig {source}"
    if isinstance(text, bytes):
        text = inputs.decode(text, label, inputs.KUBECONFIG_LIMIT)
    data = inputs.load_yaml(text, label)
    if not isinstance(data, dict):
        raise InvalidInput(f"kubeconfig {source} is not a kubeconfig (a YAML mapping)")
    return data


def check_shape(data: dict[str, Any], source: str | Path) -> None:
    if not data.get("clusters") or not data.get("contexts"):
        raise InvalidInput(f"kubeconfig {source} has no clusters or contexts")


def load(path: Path) -> dict[str, Any]:
    """Read and sanity-check a kubeconfig file, with an error that names the file."""
    if not path.exists():
        raise InvalidInput(f"kubeconfig {path} does not exist", "pass --kubeconfig or set KUBECONFIG")
    data = parse(inputs.read_text(path, "kubeconfig", inputs.KUBECONFIG_LIMIT), str(path))
    check_shape(data, path)
    return data


_FILE_FIELDS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}


def _absolute(section: str, entry: dict[str, Any], base: Path) -> dict[str, Any]:
    """``entry`` with the relative file paths it names resolved against its file's folder (as kubectl does
    before merging, so a merged kubeconfig's paths still point where each file meant)."""
    key = "cluster" if section == "clusters" else "user"
    body = entry.get(key)
    if not isinstance(body, dict):
        return entry
    body = dict(body)
    for name in _FILE_FIELDS.get(section, ()):
        value = body.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            body[name] = str(base / value)
    return {**entry, key: body}


def load_merged(paths: list[Path]) -> dict[str, Any]:
    """The files of a ``$KUBECONFIG`` list merged as kubectl merges them: files that do not exist are
    skipped; for clusters, users and contexts the first file naming an entry wins; the current context is
    the first one set."""
    found = [p for p in paths if p.is_file()]
    if not found:
        listed = ", ".join(str(p) for p in paths)
        raise InvalidInput(
            f"none of the KUBECONFIG files exist ({listed})", "pass --kubeconfig or fix KUBECONFIG"
        )
    merged: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
    }
    for path in found:
        data = parse(inputs.read_text(path, "kubeconfig", inputs.KUBECONFIG_LIMIT), str(path))
        if not merged.get("current-context") and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for section in ("clusters", "users", "contexts"):
            have = {e.get("name") for e in merged[section]}
            for entry in data.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") not in have:
                    merged[section].append(_absolute(section, entry, path.parent.absolute()))
                    have.add(entry.get("name"))
    check_shape(merged, ":".join(str(p) for p in paths))
    return merged


def context_names(config: dict[str, Any]) -> list[str]:
    return [str(c.get("name")) for c in config.get("contexts") or []]


def check_context(config: dict[str, Any], context: str | None, path: Path | str) -> str:
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
