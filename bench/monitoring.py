"""The fleet's global metrics view against one Prometheus, and the monitoring stack's memory.

For 2, 5 and 10 members (a local fleet of that size, no Karmada, one Prometheus per member, all real
processes: Prometheus, Thanos sidecars, Query, Store Gateway, Compactor, moto's S3 server):
  global:  an instant query through Thanos Query, which fans out to every member's sidecar and the Store
           Gateway and merges what they return;
  direct:  the same query on member1's Prometheus alone (its own cluster's series only);
  ratio = median(global) / median(direct), over --repeat queries each, interleaved.
Two queries: `up` (a handful of series per member) and a heavier aggregation over the API servers' request
counters. Memory: resident set of each member's Prometheus + sidecar, and of the host's stack divided by the
number of members.

Usage: .venv/bin/python bench/monitoring.py [--sizes 2,5,10] [--repeat 40]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx2

from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS, resolve
from kurator.fleet import metrics
from kurator.local import fleet, monitoring
from kurator.local import monitoring_access as access
from kurator.local.processes import rss_bytes
from kurator.monitoring import query

QUERIES = {
    "up": "up",
    "rate": "sum by (cluster, verb) (rate(apiserver_request_total[1m]))",
}
MIB = 1024 * 1024


def timed(client: httpx2.Client, url: str, promql: str) -> float:
    """One query over a kept-alive TLS connection (the fleet's endpoints ask for a client certificate)."""
    t = time.perf_counter()
    r = client.get(f"{url}/api/v1/query", params={"query": promql}, timeout=30)
    r.raise_for_status()
    assert r.json()["status"] == "success"
    return time.perf_counter() - t


def one_size(size: int, repeat: int, home: Path) -> dict[str, float]:
    name = f"mon{size}"
    try:
        up = fleet.up(
            fleet.UpOptions(
                name=name, home=home / name, members=size, nodes=1, karmada=False, monitoring=True
            ),
            lambda v, k, m: resolve(v, source="build", karmada=k, monitoring=m),
            SUPPORTED_KUBERNETES_VERSIONS,
        )
        cfg = up.config
        assert cfg.monitoring is not None
        members = [f"member{i}" for i in range(1, size + 1)]
        global_url = monitoring.query_url(cfg)
        direct_url = (
            f"https://{cfg.address}:{cfg.monitoring.ports['member1/' + monitoring.prometheus_name(0)]}"
        )
        tls = access.kurator_tls(up.layout)
        client = httpx2.Client(verify=tls, trust_env=False)
        deadline = time.monotonic() + 300
        while query.reporting(metrics.sender(tls=tls), global_url) != set(members):  # every member reports
            if time.monotonic() > deadline:
                raise SystemExit(f"{size} members: not every member reports after 300 s")
            time.sleep(2)
        time.sleep(60)  # a minute of samples, so rate() has something to compute over
        result: dict[str, float] = {}
        for label, promql in QUERIES.items():
            timed(client, global_url, promql), timed(client, direct_url, promql)  # warm both
            glob, direct = [], []
            for _ in range(repeat):
                glob.append(timed(client, global_url, promql))
                direct.append(timed(client, direct_url, promql))
            result[f"{label}_global_ms"] = statistics.median(glob) * 1000
            result[f"{label}_direct_ms"] = statistics.median(direct) * 1000
        records = fleet.load_records(up.layout)
        pair = monitoring.member_components(1)  # prometheus-0 and thanos-sidecar-0
        per_member = [sum(rss_bytes(records[f"{m}/{c}"]) for c in pair) for m in members]
        host = sum(
            rss_bytes(records[f"host/{c}"]) for c in monitoring.HOST_COMPONENTS if f"host/{c}" in records
        )
        result["member_mib"] = statistics.mean(per_member) / MIB
        result["host_mib"] = host / MIB
        result["per_member_mib"] = (sum(per_member) + host) / size / MIB
        return result
    finally:
        fleet.down(name, home / name, purge=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2,5,10")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            r = one_size(size, args.repeat, Path(tmp))
            for label in QUERIES:
                g, d = r[f"{label}_global_ms"], r[f"{label}_direct_ms"]
                print(
                    f"{size:>2} members, query {label!r}: Thanos Query {g:.1f} ms, "
                    f"one Prometheus {d:.1f} ms, "
                    f"ratio {g / d:.2f}",
                    flush=True,
                )
            print(
                f"{size:>2} members, memory: Prometheus + sidecar {r['member_mib']:.0f} MiB per member, "
                f"host stack (Query, Store, Compactor, S3) {r['host_mib']:.0f} MiB, "
                f"whole stack {r['per_member_mib']:.0f} MiB per member",
                flush=True,
            )


if __name__ == "__main__":
    main()
