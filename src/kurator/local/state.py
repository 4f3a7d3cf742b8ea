"""What a fleet's folder says about it: kurator's marker, the process record and the lock.

The marker (``.kurator-fleet``) is written when kurator makes a fleet in a folder; nothing else of
``kurator local`` ever deletes a folder or stops a process without it. It also holds the fleet's id,
which names the fleet's network namespace and links and is set in the environment of every process the
fleet starts, so the fleet's processes are found even when its process record is damaged or missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError
from kurator.local.layout import FleetLayout
from kurator.local.processes import ProcessRecord

MARKER_KIND = "kurator-local-fleet"
# Entries kurator makes at the top of a fleet's folder; purge deletes these and nothing else.
OWN_ENTRIES = frozenset(
    {
        ".kurator-fleet",
        ".lock",
        "fleet.json",
        "processes.json",
        "kubeconfig",
        "kwok-stages.yaml",
        "clusters",
        "etcd",
        "logs",
        "istio",
        "cluster-api",
        "monitoring",
        "pki",
    }
)


class Marker(BaseModel):
    """The content of ``.kurator-fleet``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    name: str
    id: str


def command(verb: str, name: str, home: Path | None, *flags: str) -> str:
    """The ``kurator local`` command line that acts on this fleet, for hints."""
    parts = ["kurator", "local", verb, "--name", name]
    if home is not None:
        parts += ["--home", str(home)]
    return "`" + " ".join([*parts, *flags]) + "`"


def read_marker(layout: FleetLayout) -> Marker | None:
    """The fleet's marker; ``None`` when the folder has none (or one kurator did not write)."""
    try:
        raw = layout.marker.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KuratorError(f"cannot read {layout.marker}: {exc.strerror}") from None
    try:
        marker = Marker.model_validate_json(raw)
    except ValidationError:
        return None
    return marker if marker.kind == MARKER_KIND else None


def foreign_entries(layout: FleetLayout) -> list[str]:
    """Names at the top of the fleet's folder that kurator did not make."""
    if not layout.root.is_dir():
        return []
    return sorted(p.name for p in layout.root.iterdir() if not _own(p.name))


def _own(entry: str) -> bool:
    base = entry.removesuffix(".tmp")
    return base in OWN_ENTRIES


def ensure_marker(layout: FleetLayout, name: str, new_id: str | None = None) -> Marker:
    """Mark the folder as fleet ``name``'s (call with the fleet's lock held); an existing marker is kept.

    A folder that holds files kurator did not make is refused: it is not a fleet's folder, and a later
    ``down --purge`` must never be led to delete in it."""
    marker = read_marker(layout)
    if marker is not None:
        if marker.name != name:
            raise KuratorError(
                f"{layout.root} holds the local fleet {marker.name!r}, not {name!r}",
                f"use --name {marker.name}, or another --home for fleet {name!r}",
            )
        return marker
    if foreign := foreign_entries(layout):
        raise KuratorError(
            f"{layout.root} is not empty and is not a kurator fleet's folder (it holds {_listed(foreign)})",
            "choose an empty or new folder with --home",
        )
    marker = Marker(kind=MARKER_KIND, name=name, id=new_id or secrets.token_hex(4))
    write_private(layout.marker, marker.model_dump_json() + "\n")
    return marker


def _listed(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically (mode 0600); an OSError becomes an error that names the file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise KuratorError(
            f"cannot write {path}: {exc.strerror or exc}", f"make {path.parent} writable and run again"
        ) from None


# --- the process record -----------------------------------------------------------------------------


class DamagedRecord(KuratorError):
    """A record file of the fleet that cannot be read back."""


def load_records(
    layout: FleetLayout, name: str | None = None, home: Path | None = None
) -> dict[str, ProcessRecord]:
    """The processes ``up`` recorded; a damaged record is an error that says how to recover."""
    if not layout.state.exists():
        return {}
    label = f"the fleet's process record {layout.state}"
    try:
        data = inputs.load_json(
            inputs.read_text(layout.state, "the fleet's process record", inputs.MiB), label
        )
        return {key: ProcessRecord(**rec) for key, rec in data.items()}
    except (InvalidInput, ValueError, TypeError, AttributeError) as exc:
        detail = exc.message.removeprefix(label + " ") if isinstance(exc, InvalidInput) else str(exc)
        fleet = name or (read_marker(layout) or Marker(kind="", name="NAME", id="")).name
        raise DamagedRecord(
            f"{label} is damaged ({detail})",
            f"run {command('down', fleet, home)} to stop its processes (found by their marker) and "
            "reset the record; `up` then starts them again, with the fleet's data intact",
        ) from None


def save_records(layout: FleetLayout, records: dict[str, ProcessRecord]) -> None:
    write_private(layout.state, json.dumps({n: asdict(r) for n, r in records.items()}, indent=2) + "\n")


@contextlib.contextmanager
def fleet_lock(layout: FleetLayout) -> Iterator[None]:
    """One ``up``/``down`` at a time per fleet; a second one fails at once instead of racing."""
    layout.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KuratorError(
                f"another kurator command is working on the fleet in {layout.root}", "wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)
