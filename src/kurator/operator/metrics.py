"""The operator's Prometheus metrics, in a registry of its own (served at /metrics)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class _Phases(Collector):
    """Clusters by phase, counted from the operator's view when scraped."""

    def __init__(self, phases: Callable[[], Iterable[str]]) -> None:
        self.phases = phases

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "kurator_operator_clusters", "CustomClusters the operator sees, by phase", labels=["phase"]
        )
        for phase, count in sorted(Tally(self.phases()).items()):
            family.add_metric([phase], count)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.leader = Gauge("kurator_operator_leader", "1 while this operator holds the Lease", registry=r)
        self._reconciles = Counter(
            "kurator_operator_reconciles", "Reconciles of an object, by result", ["result"], registry=r
        )
        self._seconds = Histogram(
            "kurator_operator_reconcile_seconds",
            "How long one reconcile took",
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self._jobs = Counter(
            "kurator_operator_jobs_created", "Kubespray Jobs started, by action", ["action"], registry=r
        )
        self._to_job = Histogram(
            "kurator_operator_create_to_job_seconds",
            "From a CustomCluster's creation to the start of its first Job",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=r,
        )
        self._hosts = Counter(
            "kurator_operator_preflight_hosts", "Hosts checked over SSH, by result", ["result"], registry=r
        )
        self.queue_depth = Gauge(
            "kurator_operator_queue_depth", "Objects waiting for a reconcile", registry=r
        )
        self.startup_pending = Gauge(
            "kurator_operator_startup_pending",
            "Objects found at the start not yet reconciled once (0: the operator caught up with its start)",
            registry=r,
        )

    def watch_phases(self, phases: Callable[[], Iterable[str]]) -> None:
        self.registry.register(_Phases(phases))

    def reconciled(self, result: str, seconds: float) -> None:
        self._reconciles.labels(result).inc()
        self._seconds.observe(seconds)

    def job_created(self, action: str, since_creation: float | None) -> None:
        self._jobs.labels(action).inc()
        if action == "create" and since_creation is not None:
            self._to_job.observe(since_creation)

    def preflight(self, checked: int, failed: int) -> None:
        self._hosts.labels("passed").inc(checked - failed)
        self._hosts.labels("failed").inc(failed)
