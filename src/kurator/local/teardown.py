"""``kurator local down [--purge]``: stop exactly the fleet's processes, remove its network namespace and,
with ``--purge``, delete what kurator made in the fleet's folder: only in a folder that carries kurator's
marker, and only the entries kurator makes there. A folder that is not this fleet's is refused before
anything is stopped, written or deleted.

``down`` works from damaged records too: the fleet's processes carry its id in their environment
(local/processes.py), its namespace is named by that id, and both are found without the records.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.local import cluster_api, netns, processes, state
from kurator.local import config as fleet_config
from kurator.local.config import FleetConfig
from kurator.local.layout import FleetLayout, fleet_home
from kurator.local.state import Marker


@dataclass
class DownResult:
    stopped: list[str] = field(default_factory=list)
    # With --purge: entries of the folder kurator did not make, left in place (with the folder).
    kept: list[str] = field(default_factory=list)


def link_of(cfg: FleetConfig) -> netns.Link | None:
    """The fleet's namespace and link, when it runs in one."""
    if cfg.network != "netns" or cfg.link_index is None:
        return None
    return netns.Link.for_fleet(cfg.name, cfg.link_index, cfg.fleet_id)


def claim(layout: FleetLayout, name: str, home: Path | None) -> Marker:
    """The marker of fleet ``name``'s folder; a folder without it is refused, touching nothing.

    A fleet made before markers existed is recognised by its record (a valid ``fleet.json`` of this very
    fleet) and marked now."""
    marker = state.read_marker(layout)
    if marker is not None:
        if marker.name != name:
            raise KuratorError(
                f"{layout.root} holds the local fleet {marker.name!r}, not {name!r}; nothing was changed",
                f"use --name {marker.name}",
            )
        return marker
    try:
        cfg = fleet_config.load(layout.config, "")
    except KuratorError:
        cfg = None
    if cfg is None or cfg.name != name:
        raise KuratorError(
            f"{layout.root} is not a kurator fleet's folder (it has no {layout.marker.name} marker); "
            "nothing was stopped or deleted",
            "check --name and --home; kurator deletes only folders it made",
        )
    with state.fleet_lock(layout):
        return state.ensure_marker(layout, name)


def down(name: str, home: Path | None = None, purge: bool = False) -> DownResult:
    """Stop the fleet's processes (newest first), remove its namespace; keep its data unless ``purge``."""
    fleet_config.validate_name(name)
    layout = FleetLayout(fleet_home(name, home))
    if layout.root.exists() and not layout.root.is_dir():
        raise KuratorError(
            f"cannot use {layout.root}: it is a file, not a fleet's folder; nothing was changed"
        )
    if not layout.root.is_dir():
        raise KuratorError(f"there is no local fleet named {name!r} (looked in {layout.root})")
    marker = claim(layout, name, home)
    result = DownResult()
    with state.fleet_lock(layout):
        try:
            cfg = fleet_config.load(layout.config, "")
        except KuratorError:
            cfg = None  # damaged: the marker names the namespace, the processes carry the id
        try:
            records = state.load_records(layout, name, home)
        except state.DamagedRecord:
            records = {}
        for rec in reversed(list(records.values())):
            if processes.is_alive(rec):
                processes.stop(rec)
                result.stopped.append(rec.name)
        # Processes the record does not know (damaged, or a start whose record was never written).
        for rec in reversed(processes.marked(marker.id)):
            processes.stop(rec)
            result.stopped.append(rec.name)
        state.save_records(layout, {})
        link = link_of(cfg) if cfg is not None else netns.Link.for_fleet(name, 0, marker.id)
        if link is not None:
            leftover = netns.pids_inside(link.netns)
            if leftover:
                raise KuratorError(
                    f"processes {leftover} that kurator did not start still run in namespace {link.netns}",
                    "stop them, then run `kurator local down` again",
                )
            netns.delete(link)
            cluster_api.remove_files(link.netns)
        if purge:
            result.kept = _purge(layout)
    return result


def _purge(layout: FleetLayout) -> list[str]:
    """Delete the entries kurator makes in the fleet's folder, then the folder if nothing else is in it.
    Returns the names of what was left because kurator did not make it."""
    kept = state.foreign_entries(layout)
    last = (layout.lock, layout.marker)  # the marker goes last: a purge cut short can be run again
    for entry in sorted(layout.root.iterdir()):
        if entry.name in kept or entry in last:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in last:
        entry.unlink(missing_ok=True)
    if not kept and not layout.root.is_symlink():
        layout.root.rmdir()
    return kept
