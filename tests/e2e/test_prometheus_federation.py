"""Kurator v0.1's `kurator install prometheus --primary P` (no object store): Prometheus alone on every
member, the primary's federating the others. The install runs against the local fleet's real Karmada and
member API servers (its pods are kwok's); the federation then runs for real: a real Prometheus process is
started with the primary's installed configuration (its /federate jobs byte for byte, its in-cluster jobs
swapped for the local fleet's, as every local Prometheus has them) and reads the local fleet's member
Prometheus processes, and a query on it returns series of every member."""

from __future__ import annotations

import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.core_v1 import ConfigMap, Secret, Service

from kurator.binaries import binary_path
from kurator.binaries.catalog import PROMETHEUS_VERSION
from kurator.local import monitoring, monitoring_access
from kurator.local.fleet import UpResult
from kurator.monitoring import manifests, prometheus
from tests.integration.helpers import cluster_client, gone, join, karmada_args, kurator, wait_for

pytestmark = pytest.mark.e2e

MEMBERS = ("member1", "member2")
NS = manifests.NAMESPACE


@pytest.fixture(scope="module")
def fleet(local_fleet: UpResult) -> Iterator[UpResult]:
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    yield local_fleet
    kurator(*karmada_args(local_fleet), "uninstall", "prometheus", "--wait-timeout", "60")


def _member_prometheus(fleet: UpResult, member: str) -> str:
    """Where the local fleet's (real) Prometheus of ``member`` listens."""
    mon = fleet.config.monitoring
    assert mon is not None
    return f"{fleet.config.address}:{mon.ports[f'{member}/{monitoring.prometheus_name(0)}']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _query(url: str, promql: str) -> list[dict[str, Any]]:
    reply = httpx2.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5.0, trust_env=False)
    reply.raise_for_status()
    return list(reply.json()["data"]["result"])


def test_primary_federates_every_member_for_real(fleet: UpResult) -> None:
    member2 = _member_prometheus(fleet, "member2")
    proc = kurator(
        *karmada_args(fleet),
        "install",
        "prometheus",
        "--primary",
        "member1",
        "--federate-endpoint",
        f"member2={member2}",
        "--wait-timeout",
        "180",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    member1_api = cluster_client(fleet, "member1")
    for member in MEMBERS:  # Prometheus alone: no sidecar, no object-store Secret
        api = cluster_client(fleet, member)
        sts = api.get(StatefulSet, "prometheus", namespace=NS)
        assert [c.name for c in sts.spec.template.spec.containers] == ["prometheus"]
        assert gone(api, Secret, "thanos-objstore", NS)
        assert api.get(Service, "prometheus-web", namespace=NS).spec.type == "LoadBalancer"
        jobs = yaml.safe_load(api.get(ConfigMap, "prometheus-config", namespace=NS).data["prometheus.yml"])
        federating = [j for j in jobs["scrape_configs"] if j["job_name"].startswith("federate-")]
        assert [j["job_name"] for j in federating] == (["federate-member2"] if member == "member1" else [])
    installed = yaml.safe_load(
        member1_api.get(ConfigMap, "prometheus-config", namespace=NS).data["prometheus.yml"]
    )
    federation = [j for j in installed["scrape_configs"] if j["job_name"].startswith("federate-")]
    assert federation == prometheus.federation_jobs({"member2": member2})
    assert installed["global"]["external_labels"]["cluster"] == "member1"

    # The primary as a real process: the installed federation jobs, the local fleet's own jobs
    # for member1 in place of the in-cluster ones (a pod's service account does not exist here).
    local_jobs = monitoring.scrape_jobs(fleet.config, fleet.layout, "member1")
    # The local fleet's Prometheus serves only clients of the fleet's monitoring CA (TLS, client certificates;
    # in-cluster the installed jobs read plain HTTP inside the member's network): the same jobs over TLS.
    client = yaml.safe_load(monitoring_access.prometheus_client_file(fleet.layout).read_text())["tls_config"]
    over_tls = [{**job, "scheme": "https", "tls_config": client} for job in federation]
    config = {**installed, "scrape_configs": [*local_jobs, *over_tls]}
    config["global"] = {**installed["global"], "scrape_interval": "2s", "evaluation_interval": "2s"}
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="kurator-federation-") as tmp:
        config_file = Path(tmp) / "prometheus.yml"
        config_file.write_text(prometheus.render(config))
        args = prometheus.args(str(config_file), f"{tmp}/data", f"127.0.0.1:{port}")
        log = (Path(tmp) / "prometheus.log").open("w")
        primary = subprocess.Popen(
            [str(binary_path("prometheus", PROMETHEUS_VERSION)), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=prometheus.replica_env("prometheus-0"),
        )
        try:
            url = f"http://127.0.0.1:{port}"

            member1_api = fleet.config.server("member1").removeprefix("https://")

            def every_member() -> list[dict[str, Any]] | None:
                # Its own series carry no `cluster` label in its own queries (external labels are added
                # only to what leaves it); the federated ones keep member2's.
                try:
                    rows = _query(url, 'up{job="kube-apiserver"} == 1')
                except httpx2.HTTPError:
                    return None
                own = [r for r in rows if r["metric"].get("instance") == member1_api]
                federated = [r for r in rows if r["metric"].get("cluster") == "member2"]
                return rows if own and federated else None

            rows = wait_for(every_member, 120, f"series of member1 and (federated) member2 on {url}")
            assert {r["metric"].get("cluster") for r in rows} == {None, "member2"}
            federated = _query(url, 'up{job="federate-member2"}')
            assert federated and federated[0]["value"][1] == "1"
            assert federated[0]["metric"]["cluster"] == "member2"
        except AssertionError as exc:
            log.flush()
            try:  # each target's health, as the primary sees it
                targets = httpx2.get(f"{url}/api/v1/targets", timeout=5.0, trust_env=False).text[-3000:]
            except httpx2.HTTPError as err:
                targets = f"(targets unreadable: {err})"
            tail = (Path(tmp) / "prometheus.log").read_text()[-2000:]
            raise AssertionError(f"{exc}\ntargets: {targets}\nlog: {tail}") from None
        finally:
            primary.terminate()
            primary.wait(timeout=30)
            log.close()
