"""The cluster operator under a burst: --clusters CustomClusters (each with its CustomMachine) created at once
on a local fleet's host, with the operator running as a real process (``kurator operator run``) and every
cluster's master a real sshd (--hosts of them, in network namespaces, shared round-robin: each preflight
logs in for real, and the operator checks a host once for all the clusters naming it at the same time).

  latency:   per cluster, from its create call returning to its first Job appearing in this script's
             watch (both clocks are this process's), p50 / p99 / max;
  after:     per cluster, from the last create returning (the burst admitted) to its Job, p99 / max;
  total:     from the first create to the last Job;
  reference: two objects per cluster (a ConfigMap and a Job, as an operator marks a cluster and starts its
             run) written straight to the API server by this script at the same concurrency, before the
             burst; ratio = operator total / reference;
  cpu, memory: the operator's CPU time over the burst, its resident set at the end and its peak (VmHWM).
Targets: p99 <= 1 s after the burst is admitted (the median of several runs); operator memory <= 200 MiB.
The burst starts once the operator has given one cluster its Job (its watches are open, as a running
operator's are): its start is not part of the burst.

Kubespray never runs: Jobs only need to exist (kwok leaves their Pods Running).

Usage: .venv/bin/python bench/operator_burst.py [--clusters 1000] [--hosts 10] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
from lightkube import AsyncClient, codecs, operators
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace, Secret
from tests.integration.sshhosts import SshTestbed

from kurator.api.crds import all_crds
from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE
from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS, resolve
from kurator.kube.apply import apply_all
from kurator.kube.client import async_client, client
from kurator.kube.resources import namespaced
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.local import fleet
from kurator.local.kubeconfigs import context_name

for _kind in (CUSTOM_CLUSTER, CUSTOM_MACHINE):
    namespaced(_kind)  # known to codecs.from_dict from now on
MIB = 1024 * 1024
NAME = "burst"
METRICS_PORT = 19440


def _machine(i: int, namespace: str, address: str) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomMachine",
        "metadata": {"name": f"m{i}", "namespace": namespace},
        "spec": {
            "master": [
                {"hostName": "master1", "publicIP": address, "privateIP": address, "sshKey": {"name": "key"}}
            ]
        },
    }


def _cluster(i: int, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": f"c{i}", "namespace": namespace},
        "spec": {"machineRef": {"name": f"m{i}"}, "cni": {"type": "calico"}, "kubernetesVersion": "v1.34.3"},
    }


def _reference_objects(i: int, namespace: str) -> list[dict[str, Any]]:
    """What the operator writes for one cluster's run, without deciding anything: a ConfigMap and a Job."""
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"ref{i}", "namespace": namespace, "labels": {"bench": "reference"}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"kurator.dev/action": "reference"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"ref{i}", "namespace": namespace},
        "data": {"hosts.yaml": "x" * 600},
    }
    return [cm, job]


async def _burst(api: AsyncClient, docs: list[list[dict[str, Any]]], concurrency: int) -> list[float]:
    """Create each group of objects in order, groups at once (``concurrency`` at a time); returns when
    each group's last create returned (monotonic)."""
    gate = asyncio.Semaphore(concurrency)
    done: list[float] = [0.0] * len(docs)

    async def one(i: int, group: list[dict[str, Any]]) -> None:
        async with gate:
            for doc in group:
                await api.create(codecs.from_dict(doc))
            done[i] = time.monotonic()

    await asyncio.gather(*(one(i, g) for i, g in enumerate(docs)))
    return done


async def _watch_jobs(
    api: AsyncClient, namespace: str, seen: dict[str, float], want: int, label: str, skip: str = ""
) -> None:
    async for _, job in api.watch(Job, namespace=namespace, labels={label: operators.exists()}):
        meta = job.metadata
        if meta is None or meta.name is None:
            continue
        key = (meta.labels or {}).get(CLUSTER_LABEL, meta.name)
        if key == skip:
            continue
        seen.setdefault(key, time.monotonic())
        if len(seen) >= want:
            return


def _rss(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return (int(fields["VmRSS"].split()[0]) * 1024 / MIB, int(fields["VmHWM"].split()[0]) * 1024 / MIB)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _reference(kc: Path, ctx: str, n: int, concurrency: int) -> float:
    api = async_client(kc, ctx, timeout=60)
    namespace = "burst-reference"
    await api.create(Namespace(metadata=ObjectMeta(name=namespace)))
    started = time.monotonic()
    await _burst(api, [_reference_objects(i, namespace) for i in range(n)], concurrency)
    took = time.monotonic() - started
    await api.close()
    return took


async def _operator_run(
    kc: Path, ctx: str, n: int, hosts: list[str], key: str, concurrency: int, pid: int
) -> dict[str, float]:
    api = async_client(kc, ctx, timeout=60)
    namespace = "burst"
    await api.create(Namespace(metadata=ObjectMeta(name=namespace)))
    await api.create(
        Secret(metadata=ObjectMeta(name="key", namespace=namespace), stringData={"ssh-privatekey": key})
    )
    # One cluster first, as a running operator has served some: the burst starts once it has its Job, so
    # that the operator's start (its first listing waits while the new CRDs' storage initializes, then
    # kopf opens its watches) is not counted in the burst.
    warm: dict[str, float] = {}
    warmup = asyncio.create_task(_watch_jobs(api, namespace, warm, 1, CLUSTER_LABEL))
    await asyncio.sleep(0.5)
    await _burst(api, [[_machine(n, namespace, hosts[0]), _cluster(n, namespace)]], 1)
    await asyncio.wait_for(warmup, timeout=120)
    seen: dict[str, float] = {}
    watch = asyncio.create_task(_watch_jobs(api, namespace, seen, n, CLUSTER_LABEL, skip=f"c{n}"))
    await asyncio.sleep(1)  # the watch is open before the first create
    cpu_before = _cpu(pid)
    started = time.monotonic()
    docs = [[_machine(i, namespace, hosts[i % len(hosts)]), _cluster(i, namespace)] for i in range(n)]
    created = await _burst(api, docs, concurrency)
    admitted = time.monotonic()
    cpu_admitted = _cpu(pid)
    try:
        await asyncio.wait_for(watch, timeout=600)
    finally:
        watch.cancel()
    cpu_jobs = _cpu(pid)
    latencies = [seen[f"c{i}"] - created[i] for i in range(n)]
    after = [max(seen[f"c{i}"] - admitted, 0.0) for i in range(n)]
    await api.close()
    return {
        "create_seconds": admitted - started,
        "total": max(seen.values()) - started,
        "p50": statistics.median(latencies),
        "p99": _pct(latencies, 99),
        "max": max(latencies),
        "after_p99": _pct(after, 99),
        "after_max": max(after),
        "cpu_admitted": cpu_admitted - cpu_before,
        "cpu_jobs": cpu_jobs - cpu_before,
    }


def _operator_command(kc: Path, ctx: str) -> list[str]:
    """``kurator operator run`` on the host; KURATOR_BENCH_WORKERS, _LOG_LEVEL and _PROFILE (a cProfile
    output file) vary it for experiments."""
    env = os.environ.get
    profile = (
        ["-m", "cProfile", "-o", env("KURATOR_BENCH_PROFILE", "")] if env("KURATOR_BENCH_PROFILE") else []
    )
    workers = ["--workers", env("KURATOR_BENCH_WORKERS", "")] if env("KURATOR_BENCH_WORKERS") else []
    return [
        sys.executable,
        *profile,
        "-m",
        "kurator",
        "--kubeconfig",
        str(kc),
        "--context",
        ctx,
        "operator",
        "run",
        "--listen",
        f"127.0.0.1:{METRICS_PORT}",
        "--log-level",
        env("KURATOR_BENCH_LOG_LEVEL", "info"),
        *workers,
    ]


def _report(args: argparse.Namespace, r: dict[str, float], reference: float, usage: dict[str, float]) -> None:
    met = {True: "met", False: "NOT met"}
    lines = [
        f"{args.clusters} CustomClusters on {args.hosts} sshd hosts, create concurrency {args.concurrency}",
        f"  burst admitted in {r['create_seconds']:.1f} s; "
        f"every cluster had its Job {r['total']:.1f} s after the first create",
        f"  create -> Job: p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s, max {r['max']:.2f} s",
        f"  after the burst was admitted: p99 {r['after_p99']:.2f} s, last Job {r['after_max']:.2f} s",
        f"  reference (two writes per cluster, a ConfigMap and a Job, straight): {reference:.1f} s; "
        f"operator / reference = {r['total'] / reference:.2f}",
        f"  operator CPU: {usage['cpu']:.1f} s ({usage['cpu'] / args.clusters * 1000:.1f} ms per cluster); "
        f"{r['cpu_admitted']:.1f} s until the burst was admitted, {r['cpu_jobs']:.1f} s until the last Job",
        f"  operator memory: {usage['idle']:.0f} MiB idle, {usage['rss']:.0f} MiB after, "
        f"peak {usage['peak']:.0f} MiB",
        f"  targets: p99 after admission <= 1 s: {met[r['after_p99'] <= 1]}; "
        f"peak memory <= 200 MiB: {met[usage['peak'] <= 200]}",
    ]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / NAME
        up = fleet.up(
            fleet.UpOptions(name=NAME, home=home, members=1, nodes=10, karmada=False, monitoring=False),
            lambda v, k, m: resolve(v, source="build", karmada=k, monitoring=m),
            SUPPORTED_KUBERNETES_VERSIONS,
        )
        bed = SshTestbed(Path(tmp) / "ssh")
        operator: subprocess.Popen[bytes] | None = None
        log_path = Path(os.environ.get("KURATOR_BENCH_LOG") or Path(tmp) / "operator.log")
        try:
            kc, ctx = up.layout.kubeconfig("host"), context_name(up.config, "host")
            sync = client(kc, ctx)
            apply_all(sync, all_crds())
            sync.create(Namespace(metadata=ObjectMeta(name="kurator-system")))
            hosts = [bed.add_host().address for _ in range(args.hosts)]
            reference = asyncio.run(_reference(kc, ctx, args.clusters, args.concurrency))
            with log_path.open("wb") as log:
                operator = subprocess.Popen(_operator_command(kc, ctx), stdout=log, stderr=subprocess.STDOUT)
            time.sleep(3)
            idle, _ = _rss(operator.pid)
            cpu_before = _cpu(operator.pid)
            r = asyncio.run(
                _operator_run(kc, ctx, args.clusters, hosts, bed.private_key, args.concurrency, operator.pid)
            )
            time.sleep(5)  # let the reconciles that follow the Jobs (status, events) settle
            rss, peak = _rss(operator.pid)
            usage = {"idle": idle, "rss": rss, "peak": peak, "cpu": _cpu(operator.pid) - cpu_before}
            if os.environ.get("KURATOR_BENCH_METRICS"):
                metrics = httpx2.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).text
                Path(os.environ["KURATOR_BENCH_METRICS"]).write_text(metrics)
            _report(args, r, reference, usage)
        finally:
            if operator is not None and operator.poll() is None:
                operator.send_signal(signal.SIGTERM)
                try:
                    operator.wait(30)
                except subprocess.TimeoutExpired:
                    operator.kill()
            bed.close()
            fleet.down(NAME, home, purge=True)


if __name__ == "__main__":
    main()
