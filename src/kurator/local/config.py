"""A local fleet's settings: validated once at the boundary, recorded on first ``up``, reused after."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kurator.core.errors import InvalidInput, shown
from kurator.local.state import write_private

NAME_RE = re.compile(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?")
MAX_MEMBERS = 20  # each member costs ~0.5 GiB of memory; more does not fit one machine sensibly
MAX_NODES = 100
DEFAULT_FLEET = "kurator"
DEFAULT_MEMBERS = 2
DEFAULT_NODES = 3
HOST_CLUSTER = "host"
KARMADA = "karmada"  # the fleet's Karmada control plane: an API server of its own, not a member
LOOPBACK = "127.0.0.1"

NetworkMode = Literal["netns", "loopback"]


def member_names(members: int) -> list[str]:
    return [f"member{i}" for i in range(1, members + 1)]


class MonitoringConfig(BaseModel):
    """Prometheus and Thanos of the local fleet (local/monitoring.py): ports and the few timings worth
    changing (tests shorten blocks so that uploads happen within a minute)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicas: int = 1  # Prometheus per member; 2 makes an HA pair that Thanos Query deduplicates
    ports: dict[str, int]
    block_duration: str = "2h"
    retention: str = "24h"
    scrape_interval: str = "15s"
    store_sync: str = "1m"  # how often the Store Gateway looks for new blocks in the bucket
    consistency_delay: str = "30m"  # the Compactor leaves younger blocks alone


class ClusterApiConfig(BaseModel):
    """Cluster API's managers and the AWS stand-in in the local fleet (local/cluster_api.py): their ports
    inside the fleet's network namespace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ports: dict[str, int]


class FleetConfig(BaseModel):
    """What a fleet is made of and where it listens; written to ``fleet.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    members: int
    nodes: int
    kubernetes_version: str
    network: NetworkMode
    address: str  # where the API servers listen and where clients reach them
    link_index: int | None = None
    # The fleet's id (local/state.py), which names its network namespace and links; None in fleets made
    # before ids, whose names come from the fleet's name alone.
    fleet_id: str | None = None
    etcd_client_port: int
    etcd_peer_port: int
    api_ports: dict[str, int]
    karmada: bool = False
    karmada_ports: dict[str, int] = Field(default_factory=dict)
    monitoring: MonitoringConfig | None = None
    cluster_api: ClusterApiConfig | None = None

    @property
    def clusters(self) -> list[str]:
        """The Kubernetes clusters of the fleet (Karmada's API server is not one of them)."""
        return [HOST_CLUSTER, *member_names(self.members)]

    @property
    def control_planes(self) -> list[str]:
        """Every API server of the fleet: the clusters, then Karmada's when it runs."""
        return [*self.clusters, KARMADA] if self.karmada else self.clusters

    def server(self, cluster: str) -> str:
        return f"https://{self.address}:{self.api_ports[cluster]}"


def validate_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"fleet name {shown(name)} is not valid",
            "use 1-20 lower-case letters, digits and '-', starting with a letter, e.g. 'dev'",
        )
    return name


def validate_counts(members: int | None, nodes: int | None) -> None:
    if members is not None and not 1 <= members <= MAX_MEMBERS:
        raise InvalidInput(f"--members must be between 1 and {MAX_MEMBERS}, got {members}")
    if nodes is not None and not 1 <= nodes <= MAX_NODES:
        raise InvalidInput(f"--nodes must be between 1 and {MAX_NODES}, got {nodes}")


def validate_port(port: int, flag: str) -> int:
    if not 1024 <= port <= 65535 - 64:
        raise InvalidInput(f"{flag} must be between 1024 and {65535 - 64}, got {port}")
    return port


def load(path: Path, recover: str) -> FleetConfig | None:
    """The fleet's settings, ``None`` when it has none yet; ``recover`` is the command that cleans up a
    fleet whose record is damaged (named in the error)."""
    if not path.exists():
        return None
    from kurator.core import inputs

    label = f"the fleet record {path}"
    hint = f"run {recover} to stop the fleet's processes and delete it, then `up` to make it anew"
    try:
        data = inputs.load_json(inputs.read_text(path, "the fleet record", inputs.MiB), label)
        return FleetConfig.model_validate(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{label} is damaged: it {exc.message.removeprefix(label + ' ')}", hint) from None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{label} is damaged: {_first_line(exc)}", hint) from None


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def save(path: Path, cfg: FleetConfig) -> None:
    write_private(path, cfg.model_dump_json(indent=2) + "\n")
