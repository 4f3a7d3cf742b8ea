"""Thanos's flags: the sidecar beside each member's Prometheus, and Query, Store Gateway and Compactor on
the host. Each builder returns the arguments after the program name, starting with the subcommand, so a pod
runs ``thanos <args>`` (the image's entrypoint) and the local fleet runs ``[binary, *args]``. Addresses and
paths are parameters: the charts pass pod ports and mounted paths, the local fleet loopback ports and its
own files.

Flags are those of Thanos v0.2x to v0.42. ``--endpoint`` is marked deprecated in v0.42 in favour of
``--endpoint.sd-config``, whose format changed between releases; the plain flag reads the same in every
release and keeps each endpoint visible in the pod spec and the process's command line.
"""

from __future__ import annotations

from collections.abc import Sequence

from kurator.core.errors import InvalidInput
from kurator.monitoring import checks
from kurator.monitoring.prometheus import REPLICA_LABEL


def _extra(extra: Sequence[str]) -> list[str]:
    for flag in extra:
        if not flag.startswith("--"):
            raise InvalidInput(f"extra Thanos argument {flag!r} is not a --flag")
    return list(extra)


def _listen(grpc_address: str | None, http_address: str) -> list[str]:
    out = [f"--http-address={checks.address(http_address, 'HTTP listen address')}"]
    if grpc_address is not None:
        out.append(f"--grpc-address={checks.address(grpc_address, 'gRPC listen address')}")
    return out


def sidecar_args(
    *,
    prometheus_url: str,
    tsdb_path: str,
    objstore_path: str,
    grpc_address: str,
    http_address: str,
    extra: Sequence[str] = (),
) -> list[str]:
    """The sidecar serves its Prometheus's data over gRPC (StoreAPI) and uploads each block Prometheus
    writes to the object store. ``tsdb_path`` is Prometheus's data directory, shared with it."""
    if not prometheus_url.startswith(("http://", "https://")):
        raise InvalidInput(f"Prometheus URL {prometheus_url!r} must start with http:// or https://")
    return [
        "sidecar",
        f"--prometheus.url={prometheus_url}",
        f"--tsdb.path={tsdb_path}",
        f"--objstore.config-file={objstore_path}",
        *_listen(grpc_address, http_address),
        *_extra(extra),
    ]


def query_args(
    endpoints: Sequence[str],
    replica_labels: Sequence[str] = (REPLICA_LABEL,),
    *,
    grpc_address: str,
    http_address: str,
    extra: Sequence[str] = (),
) -> list[str]:
    """Query fans PromQL out to ``endpoints`` (sidecars and the Store Gateway, ``host:port``, optionally
    with Thanos's ``dns+``/``dnssrv+`` prefix) and merges series that differ only in ``replica_labels``."""
    if not endpoints:
        raise InvalidInput("Thanos Query needs at least one endpoint (a sidecar or the store gateway)")
    if dupes := sorted({e for e in endpoints if list(endpoints).count(e) > 1}):
        raise InvalidInput(f"Thanos Query endpoints are repeated: {', '.join(dupes)}")
    for endpoint in endpoints:
        if not endpoint.startswith(("dns+", "dnssrv+")):
            checks.address(endpoint, "Thanos Query endpoint")
    return [
        "query",
        *_listen(grpc_address, http_address),
        *(f"--endpoint={e}" for e in endpoints),
        *(f"--query.replica-label={label}" for label in replica_labels),
        *_extra(extra),
    ]


def store_args(
    *,
    objstore_path: str,
    data_dir: str,
    grpc_address: str,
    http_address: str,
    sync_interval: str = "15m",
    extra: Sequence[str] = (),
) -> list[str]:
    """The Store Gateway serves the blocks in the bucket over gRPC. It looks for new blocks every
    ``sync_interval`` (Thanos's default 15m; seconds in tests, so uploaded blocks show up quickly)."""
    checks.duration(sync_interval, "store sync interval")
    return [
        "store",
        f"--data-dir={data_dir}",
        f"--objstore.config-file={objstore_path}",
        *_listen(grpc_address, http_address),
        f"--sync-block-duration={sync_interval}",
        *_extra(extra),
    ]


def compact_args(
    *,
    objstore_path: str,
    data_dir: str,
    http_address: str,
    wait_interval: str = "5m",
    consistency_delay: str = "30m",
    delete_delay: str = "48h",
    dedup_replica_labels: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    """The Compactor compacts and downsamples the bucket's blocks. It runs as a service (``--wait``),
    waking every ``wait_interval``; it leaves alone blocks younger than ``consistency_delay`` (Thanos's
    30m; zero in tests, so fresh uploads are compacted at once). Only one may run per bucket.

    ``dedup_replica_labels`` turns on Thanos's (experimental) offline deduplication of HA replicas; off by
    default, since Query already deduplicates on ``replica``."""
    checks.duration(wait_interval, "compactor wait interval")
    checks.duration(consistency_delay, "compactor consistency delay", allow_zero=True)
    checks.duration(delete_delay, "compactor delete delay", allow_zero=True)
    return [
        "compact",
        "--wait",
        f"--wait-interval={wait_interval}",
        f"--data-dir={data_dir}",
        f"--objstore.config-file={objstore_path}",
        *_listen(None, http_address),
        f"--consistency-delay={consistency_delay}",
        f"--delete-delay={delete_delay}",
        *(f"--deduplication.replica-label={label}" for label in dedup_replica_labels),
        *_extra(extra),
    ]
