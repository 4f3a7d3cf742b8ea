"""Monitoring of the local fleet, real data path: per member two real Prometheus processes (an HA pair)
with real Thanos sidecars; on the host real Thanos Query, Store Gateway and Compactor; moto's S3 server
stands in for the object-storage bucket (the one stand-in here). Samples travel scrape → Prometheus →
sidecar → bucket → Store Gateway → Query, and `kurator query` reads them as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kurator.fleet import metrics
from kurator.local import monitoring, processes
from kurator.local import monitoring_access as access
from kurator.local.fleet import UpResult, load_records
from kurator.monitoring import manifests, query
from tests.integration.helpers import join, karmada_args, kurator, wait_for

pytestmark = pytest.mark.e2e

MEMBERS = ("member1", "member2")


@pytest.fixture(scope="module")
def fleet(local_fleet: UpResult) -> UpResult:
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    return local_fleet


def _query_json(fleet: UpResult, *args: str) -> list[dict[str, Any]]:
    proc = kurator(*karmada_args(fleet), "query", *args, "-o", "json", check=True)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _clusters(rows: list[dict[str, Any]]) -> set[str]:
    return {r["labels"].get("cluster", "") for r in rows}


def test_every_member_reports_with_its_own_cluster_label(fleet: UpResult) -> None:
    rows = wait_for(
        lambda: (
            (r := _query_json(fleet, 'up{job="kube-apiserver"} == 1')) and _clusters(r) >= set(MEMBERS) and r
        ),
        timeout=120,
        what="up{} from both members through Thanos Query",
    )
    assert _clusters(rows) == set(MEMBERS)
    table = kurator(*karmada_args(fleet), "query", "up", check=True).stdout
    assert "CLUSTER" in table and "member1" in table and "member2" in table


def test_a_range_query_shows_the_values_over_time(fleet: UpResult) -> None:
    """`query --range` shows each series' values (a sparkline, lowest, highest, last), not only a count."""
    q = 'up{job="kube-apiserver"}'
    wait_for(lambda: _clusters(_query_json(fleet, q)) >= set(MEMBERS), timeout=120, what="both members' up")
    table = kurator(*karmada_args(fleet), "query", q, "--range", "5m", check=True).stdout
    header, *rows = [line.split() for line in table.strip().splitlines()]
    assert header[-5:] == ["OVER", "TIME", "MIN", "MAX", "LAST"], table
    for member in MEMBERS:
        [row] = [r for r in rows if r[0] == member]
        spark, low, high, last = row[-4:]
        assert set(spark) <= set("▁▂▃▄▅▆▇█ "), table
        assert low in ("0", "1") and (high, last) == ("1", "1"), table  # up: the API server answers


def test_query_deduplicates_the_ha_pair(fleet: UpResult) -> None:
    q = 'up{job="kube-apiserver"}'
    raw = wait_for(
        lambda: (r := _query_json(fleet, q, "--no-dedup")) and len(r) == 2 * len(MEMBERS) and r,
        timeout=90,
        what="both replicas of each member",
    )
    assert {(r["labels"]["cluster"], r["labels"]["replica"]) for r in raw} == {
        (m, f"prometheus-{i}") for m in MEMBERS for i in (0, 1)
    }
    merged = _query_json(fleet, q)
    assert sorted(r["labels"]["cluster"] for r in merged) == sorted(MEMBERS)  # one series per target
    assert all("replica" not in r["labels"] for r in merged)


def test_get_clusters_shows_metrics_arrive(fleet: UpResult) -> None:
    def metrics() -> dict[str, bool]:
        data = json.loads(kurator(*karmada_args(fleet), "get", "clusters", "-o", "json", check=True).stdout)
        return {c["name"]: c["metrics"] for c in data}

    # a fleet just made has no series yet: its first scrapes come within a minute
    wait_for(lambda: metrics() == dict.fromkeys(MEMBERS, True), timeout=120, what="both members' metrics")


def test_bad_queries_get_clear_errors(fleet: UpResult) -> None:
    proc = kurator(*karmada_args(fleet), "query", "up{")
    assert proc.returncode == 2 and "refused" in proc.stderr, proc.stderr
    proc = kurator(*karmada_args(fleet), "query", "up", "--range", "1y")
    assert proc.returncode == 2 and "--range" in proc.stderr, proc.stderr
    proc = kurator(*karmada_args(fleet), "query", "up", "--url", "http://127.0.0.1:9")
    assert proc.returncode == 1, proc.stderr
    assert "cannot connect to http://127.0.0.1:9 while querying Thanos Query" in proc.stderr, proc.stderr
    assert "check that the fleet's monitoring runs" in proc.stderr, proc.stderr
    assert "kubeconfig" not in proc.stderr, proc.stderr


def test_processes_run_the_config_the_charts_carry(fleet: UpResult) -> None:
    """The chart a member gets and the process the local fleet runs come from the same builders: compare
    what the process really read (its config file, its command line) with the rendered chart."""
    from kurator.binaries.catalog import HELM_VERSION
    from kurator.binaries.fetch import binary_path
    from kurator.fleet import render
    from kurator.fleet.component import Artifact, Component

    cfg, layout = fleet.config, fleet.layout
    records = load_records(layout)
    rec = records["member1/prometheus-0"]
    argv = Path(f"/proc/{rec.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    ran_config = yaml.safe_load(Path(monitoring.paths(layout).config_file("member1")).read_text())

    store = monitoring.object_store(cfg, layout)
    mon = cfg.monitoring
    assert mon is not None
    # The fleet's parameters, given to the builders the charts take their values from.
    values = manifests.prometheus_values(
        "member1",
        store,
        scrape_interval=mon.scrape_interval,
        retention=mon.retention,
        block_duration=mon.block_duration,
    )
    chart = Path(__file__).parents[2] / "src/kurator/components/charts/prometheus"
    component = Component(
        name="prometheus",
        description="test",
        artifact=Artifact("prometheus", "0", "helm-chart", "package:components/charts/prometheus", "-"),
        namespace=manifests.NAMESPACE,
    )
    docs = render._helm_template(component, chart, values, binary_path("helm", HELM_VERSION))
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == manifests.CONFIGMAP)
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    chart_config = yaml.safe_load(cm["data"][manifests.CONFIG_KEY])
    # Identical global section (external labels, intervals); the same jobs by name and shape — only how
    # they reach the API server differs (a pod's account there, the fleet's certificate here).
    assert ran_config["global"] == chart_config["global"]
    assert [j["job_name"] for j in ran_config["scrape_configs"]][:1] == [
        j["job_name"] for j in chart_config["scrape_configs"]
    ][:1]
    container = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "prometheus")

    def flags(args: list[str]) -> dict[str, str]:
        return dict(a.split("=", 1) if "=" in a else (a, "") for a in args if a.startswith("--"))

    ran, charted = flags(argv[1:]), flags(container["args"])
    # The one flag the fleet adds: its web config (TLS, client certificates only).
    assert ran.keys() - {"--web.config.file"} == charted.keys()
    same = {
        "--storage.tsdb.retention.time",
        "--storage.tsdb.min-block-duration",
        "--storage.tsdb.max-block-duration",
    }
    for flag in same & ran.keys():
        assert ran[flag] == charted[flag], flag


def test_history_survives_a_member_losing_prometheus(fleet: UpResult) -> None:
    """Blocks are cut and uploaded (2-minute blocks in tests); with member1's Prometheus pair and sidecars
    stopped, member1's history is still read through the Store Gateway from the bucket."""
    cfg, layout = fleet.config, fleet.layout
    uploaded = wait_for(
        lambda: len(monitoring.blocks(cfg, layout)) >= 2 * len(MEMBERS) and monitoring.blocks(cfg, layout),
        timeout=420,
        what="a block from each Prometheus in the bucket",
    )
    client = monitoring.s3_client(cfg, layout)
    metas = [
        json.loads(client.get_object(Bucket=monitoring.BUCKET, Key=f"{b}/meta.json")["Body"].read())
        for b in uploaded
    ]
    assert {m["thanos"]["labels"]["cluster"] for m in metas} == set(MEMBERS)

    records = load_records(layout)
    stopped = [n for n in records if n.startswith("member1/") and ("prometheus" in n or "sidecar" in n)]
    assert len(stopped) == 4
    try:
        for name in stopped:
            processes.stop(records[name])
        url, tls = monitoring.query_url(cfg), access.kurator_tls(layout)
        # The Store Gateway looks for new blocks every store_sync: wait until it serves member1's.
        rows = wait_for(
            lambda: [
                s
                for s in query.over_range(
                    metrics.sender(tls=tls), url, 'up{cluster="member1",job="kube-apiserver"}', 3600, 15
                )
                if len(s.samples) >= 4
            ],
            timeout=150,
            what="member1's history from the bucket",
        )
        assert rows and all(s.cluster == "member1" for s in rows)
        live = query.instant(metrics.sender(tls=tls), url, 'up{cluster="member1"}')
        assert live == [] or all(s.cluster == "member1" for s in live)
    finally:
        # `kurator local up` restarts exactly what is not running.
        proc = subprocess.run(
            [sys.executable, "-m", "kurator", "local", "up", "--name", cfg.name, "--home", str(layout.root)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
    again = load_records(layout)
    assert all(processes.is_alive(again[n]) for n in stopped)


def test_secrets_stay_in_the_private_file(fleet: UpResult) -> None:
    p = monitoring.paths(fleet.layout).objstore_file
    assert p.stat().st_mode & 0o777 == 0o600
    where = ["--name", fleet.config.name, "--home", str(fleet.layout.root)]
    status = kurator("local", "status", *where, "-o", "wide", check=True)  # wide: every process by name
    assert access.s3_credentials(fleet.layout).secret_key not in status.stdout + status.stderr
    assert "prometheus-1" in status.stdout and "thanos-query" in status.stdout
