"""What to type after `kurator local up`: lines to copy into a shell, for this fleet (its name and home
spelled out when they are not the defaults)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

from kurator.local.config import KARMADA, FleetConfig
from kurator.local.layout import FleetLayout

DEFAULT_FLEET = "kurator"


def commands_dir() -> Path | None:
    """The folder holding this kurator's command (a virtualenv's bin/) when ``kurator`` by its bare name
    is not this one; ``None`` when it already is."""
    here = Path(sys.executable).parent
    if not (here / "kurator").exists():
        return None
    found = shutil.which("kurator")
    return None if found and Path(found).resolve() == (here / "kurator").resolve() else here


def lines(cfg: FleetConfig, layout: FleetLayout, home_given: bool, bin_dir: Path | None) -> list[str]:
    flags = "" if cfg.name == DEFAULT_FLEET else f" --name {cfg.name}"
    flags += f" --home {shlex.quote(str(layout.root))}" if home_given else ""
    out = []
    if bin_dir is not None:
        extra = " and kubectl" if (bin_dir / "kubectl").exists() else ""
        out += [f"# kurator{extra} by name", f'export PATH="{bin_dir}:$PATH"']
    contexts = ", ".join(f"{cfg.name}-{c}" for c in cfg.control_planes)
    out += [f"# every cluster of the fleet: {contexts}", f"export KUBECONFIG={layout.merged_kubeconfig}"]
    if cfg.karmada and KARMADA in cfg.control_planes and cfg.clusters[1:]:
        member = cfg.clusters[1]
        out += [
            f"# join {member} to the fleet's Karmada, then list the fleet",
            f"kurator join {member} --cluster-kubeconfig $(kurator local kubeconfig {member}{flags} --path)",
            "kurator get clusters",
        ]
    return out
