"""The operator's settings: plain values, validated once where they come in (the CLI)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from kurator.lifecycle.actions import Policy

NAMESPACE = "kurator-system"
LEASE = "kurator-cluster-operator"


def default_identity() -> str:
    """Who holds the Lease: the pod's name in a cluster (its host name), with the process id."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{os.getpid()}"


@dataclass(frozen=True)
class LeaderElection:
    """Of several operators, the one holding the Lease acts. ``duration``: how long a Lease is valid
    without renewal; ``renew_deadline``: how long the holder keeps trying to renew before it stops acting;
    ``retry``: how often candidates try and the holder renews."""

    enabled: bool = True
    namespace: str = NAMESPACE
    name: str = LEASE
    identity: str = field(default_factory=default_identity)
    duration: float = 15.0
    renew_deadline: float = 10.0
    retry: float = 2.0


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()
    """The namespaces whose CustomClusters are served; empty: all."""
    operator_namespace: str = NAMESPACE
    """Where fleets are registered (Secrets ``kurator-fleet-<name>``) and the Lease is kept."""
    workers: int = 128
    """Clusters reconciled at once (the work is waiting on API servers and SSH, not on CPU)."""
    policy: Policy = field(default_factory=Policy)
    """Retries of failed Kubespray runs."""
    delete_timeout: timedelta = timedelta(minutes=30)
    """How long a deletion may wait for a reset before its condition names what blocks it."""
    ssh_user: str = "root"
    ssh_timeout: float = 10.0
    """Per host, for the preflight and the kubeconfig fetch."""
    preflight_ttl: float = 60.0
    """How long a host's passed preflight is reused by other clusters naming the same host and key."""
    capa_namespace: str = "capa-system"
    """Where Cluster API Provider AWS runs: it reads the Secrets of static identities from there, so the
    copy of an AWS Cluster's credentials is kept there."""
    listen: str = "127.0.0.1:9440"
    """Where /healthz, /readyz and /metrics are served ('' for nowhere)."""
    leader: LeaderElection = field(default_factory=LeaderElection)
