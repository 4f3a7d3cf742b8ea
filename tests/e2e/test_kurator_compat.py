"""What Kurator's users type, against the local fleet's real Karmada and member API servers: `kurator -c F
join karmada NAME --cluster-kubeconfig F --cluster-context C`, and object stores of types other than S3
given to `install prometheus` / `install thanos` (checked for their required fields before anything is
written, and passed through as written to the members' Secret)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lightkube.resources.core_v1 import Namespace, Secret

from kurator.fleet import record
from kurator.kube.karmada import Cluster
from kurator.local.fleet import UpResult
from kurator.monitoring import manifests
from tests.integration.helpers import cluster_client, gone, join, karmada_args, kurator, wait_for

pytestmark = pytest.mark.e2e

NS = manifests.NAMESPACE
MEMBERS = ("member1", "member2")


@pytest.fixture(scope="module", autouse=True)
def _members_joined(local_fleet: UpResult) -> Iterator[None]:
    """Both members joined for this module, and unjoined after it, as the fleet's other modules leave it."""
    for member in MEMBERS:
        proc = join(local_fleet, member)
        assert proc.returncode == 0 or "already joined" in proc.stderr, proc.stderr
    yield
    for member in MEMBERS:
        kurator(*karmada_args(local_fleet), "unjoin", member, "--force")


def _dash_c(fleet: UpResult) -> list[str]:
    return ["-c", str(fleet.layout.kubeconfig("karmada"))]


def test_join_karmada_with_dash_c_and_a_context_of_a_merged_kubeconfig(local_fleet: UpResult) -> None:
    kurator(*_dash_c(local_fleet), "unjoin", "member2", "--force")
    context = f"{local_fleet.config.name}-member2"
    try:
        proc = kurator(
            *_dash_c(local_fleet),
            "join",
            "karmada",
            "member2",
            "--cluster-kubeconfig",
            str(local_fleet.layout.merged_kubeconfig),  # every cluster of the fleet: the context picks one
            "--cluster-context",
            context,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "cluster member2 joined" in proc.stdout
        cluster = cluster_client(local_fleet, "karmada").get(Cluster, "member2")
        assert cluster.spec["apiEndpoint"] == local_fleet.config.server("member2")

        def ready() -> bool:
            listed = json.loads(
                kurator(*_dash_c(local_fleet), "get", "clusters", "-o", "json").stdout or "[]"
            )
            return any(c["name"] == "member2" and c["ready"] for c in listed)

        wait_for(ready, 60, "member2 Ready in `kurator -c … get clusters`")
    finally:
        kurator(*_dash_c(local_fleet), "unjoin", "member2", "--force")
    # Joined again the usual way, as this module's other tests expect to find it.
    assert join(local_fleet, "member2").returncode == 0


def _store(path: Path, kind: str, config: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump({"type": kind, "config": config}))
    path.chmod(0o600)
    return path


def _nothing_installed(fleet: UpResult) -> None:
    assert record.load(cluster_client(fleet, "karmada"), "prometheus") is None
    for cluster in ("karmada", "member1", "member2"):
        assert gone(cluster_client(fleet, cluster), Namespace, NS), f"{NS} exists on {cluster}"


@pytest.mark.parametrize(
    ("kind", "config", "missing"),
    [
        ("GCS", {"service_account": "{}"}, "config.bucket is missing"),
        ("AZURE", {"storage_account": "acct", "storage_account_key": "secret-azure-key"}, "config.container"),
        ("FILESYSTEM", {}, "config.directory"),
    ],
)
def test_a_store_of_another_type_missing_a_field_is_refused_before_anything_is_written(
    local_fleet: UpResult, tmp_path: Path, kind: str, config: dict[str, object], missing: str
) -> None:
    kurator(*_dash_c(local_fleet), "uninstall", "prometheus", "--wait-timeout", "120", check=True)
    store = _store(tmp_path / "objstore.yml", kind, config)
    host = f"{local_fleet.config.name}-host"
    merged = str(local_fleet.layout.merged_kubeconfig)
    for command in (
        ["install", "prometheus", "--object-store-config", str(store)],
        [
            "install",
            "thanos",
            "--object-store-config",
            str(store),
            "--host-kubeconfig",
            merged,
            "--host-context",
            host,
        ],
    ):
        proc = kurator(*_dash_c(local_fleet), *command)
        assert proc.returncode != 0, proc.stdout
        assert missing in proc.stderr, proc.stderr
        assert "secret-azure-key" not in proc.stdout + proc.stderr
    _nothing_installed(local_fleet)


def test_a_store_of_another_type_is_passed_through_as_written(local_fleet: UpResult, tmp_path: Path) -> None:
    kurator(*_dash_c(local_fleet), "uninstall", "prometheus", "--wait-timeout", "120", check=True)
    config = {"bucket": "fleet-metrics", "service_account": '{"private_key": "sa-private-token"}'}
    store = _store(tmp_path / "objstore.yml", "GCS", config)
    try:
        plan = kurator(
            *_dash_c(local_fleet), "install", "prometheus", "--object-store-config", str(store), "--dry-run"
        )
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert "sa-private-token" not in plan.stdout + plan.stderr  # Secret values redacted in plans
        proc = kurator(
            *_dash_c(local_fleet),
            "install",
            "prometheus",
            "--object-store-config",
            str(store),
            "--sidecar-service-type",
            "NodePort",
            "--wait-timeout",
            "180",
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "sa-private-token" not in proc.stdout + proc.stderr
        for member in ("member1", "member2"):
            secret = cluster_client(local_fleet, member).get(Secret, "thanos-objstore", namespace=NS)
            written = yaml.safe_load(base64.b64decode(secret.data["objstore.yml"]))  # type: ignore[index]
            assert written == {"type": "GCS", "config": config}, member
    finally:
        kurator(*_dash_c(local_fleet), "uninstall", "prometheus", "--wait-timeout", "120")
