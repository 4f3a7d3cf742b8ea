"""Where a local fleet keeps its files under its home folder (default ``~/.kurator/local/<fleet>``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kurator.core.paths import kurator_home


def fleet_home(name: str, home: Path | None = None) -> Path:
    return home if home is not None else kurator_home() / "local" / name


@dataclass(frozen=True)
class FleetLayout:
    root: Path

    @property
    def marker(self) -> Path:
        """kurator's mark on a folder it made a fleet in (local/state.py)."""
        return self.root / ".kurator-fleet"

    @property
    def config(self) -> Path:
        return self.root / "fleet.json"

    @property
    def state(self) -> Path:
        return self.root / "processes.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def merged_kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def kwok_stages(self) -> Path:
        return self.root / "kwok-stages.yaml"

    def service_pki(self, service: str) -> Path:
        """Certificates of one of the fleet's own services (etcd, monitoring)."""
        return self.root / "pki" / service

    def cluster_dir(self, cluster: str) -> Path:
        return self.root / "clusters" / cluster

    def pki(self, cluster: str) -> Path:
        return self.cluster_dir(cluster) / "pki"

    def kubeconfig(self, cluster: str, user: str = "admin") -> Path:
        return self.cluster_dir(cluster) / f"{user}.kubeconfig"

    def log(self, process: str) -> Path:
        return self.logs / f"{process.replace('/', '-')}.log"
