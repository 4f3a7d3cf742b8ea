"""istiod as a process of the local fleet, started on demand (`kurator local istiod`) against a mesh's
primary, and stopped with the fleet by ``down`` (it is in the fleet's process record like any other)."""

from __future__ import annotations

from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.local import config as fleet_config
from kurator.local import istiod, processes, state
from kurator.local.control_plane import process_name

# The fleet's own starter: a process is recorded the moment it exists, so `down` always finds it.
from kurator.local.fleet import _Starter
from kurator.local.layout import FleetLayout, fleet_home
from kurator.local.processes import ProcessRecord
from kurator.local.state import fleet_lock, load_records, save_records
from kurator.local.teardown import link_of


def up(
    name: str, home: Path | None, primary: str, binary: Path, timeout: float = 180.0, restart: bool = False
) -> ProcessRecord:
    """istiod against ``primary`` (local/istiod.py): waits for what `kurator install istio` puts there,
    then starts it, or keeps the one that runs (``restart``: start it again, e.g. with a new CA)."""
    layout = FleetLayout(fleet_home(name, home))
    cfg = fleet_config.load(layout.config, state.command("down", name, home, "--purge"))
    if cfg is None:
        raise KuratorError(f"there is no local fleet named {name!r} (looked in {layout.root})")
    istiod.check_fleet(cfg)
    with fleet_lock(layout):
        marker = state.ensure_marker(layout, name)
        records = load_records(layout, name, home)
        proc_name = process_name(primary, istiod.ISTIOD)
        running = records.get(proc_name)
        if running is not None and processes.is_alive(running) and not restart:
            return running
        launch = istiod.prepare(cfg, layout, primary, timeout)
        link = link_of(cfg)
        ns = link.netns if link else None
        spec = istiod.spec(cfg, layout, primary, binary, launch, ns)
        if running is not None:
            processes.stop(running)
            del records[proc_name]
        starter = _Starter(layout, records, marker.id)
        starter.ensure(spec)
        starter.ensure(istiod.proxy_spec(layout, primary, ns))
    istiod.wait_ready(cfg, layout, primary, timeout)
    return records[proc_name]


def down(name: str, home: Path | None, primary: str) -> bool:
    """Stop the fleet's istiod for ``primary``; False when none ran."""
    layout = FleetLayout(fleet_home(name, home))
    with fleet_lock(layout):
        records = load_records(layout, name, home)
        stopped = [records.pop(process_name(primary, p), None) for p in (istiod.PROXY, istiod.ISTIOD)]
        for rec in stopped:
            if rec is not None:
                processes.stop(rec)
        save_records(layout, records)
    return any(rec is not None for rec in stopped)
