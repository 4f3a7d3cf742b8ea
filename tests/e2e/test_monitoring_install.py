"""`kurator install prometheus` and `kurator install thanos` through the install engine, against the local
fleet's real Karmada, real member API servers and real host API server. The Pods they create are kwok's
(their images never run here); the data path itself is proven by the local fleet's Prometheus and Thanos
processes (test_monitoring.py), which run with the same rendered configuration as these manifests.

The object store is the local fleet's moto S3 server; a second moto server that checks credentials (IAM
enforced) stands in for an object store that refuses a wrong key."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from lightkube import Client
from lightkube.resources.apps_v1 import Deployment, StatefulSet
from lightkube.resources.core_v1 import ConfigMap, Namespace, Node, Secret, Service

from kurator.fleet import record
from kurator.kube import http
from kurator.local import monitoring
from kurator.local import monitoring_access as access
from kurator.local.config import HOST_CLUSTER
from kurator.local.fleet import UpResult
from kurator.local.kubeconfigs import context_name
from kurator.monitoring import bucketcheck, manifests, objstore
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
    kurator(*karmada_args(local_fleet), "uninstall", "thanos", *_host(local_fleet), "--wait-timeout", "60")
    kurator(*karmada_args(local_fleet), "uninstall", "prometheus", "--wait-timeout", "60")


def _host(fleet: UpResult) -> list[str]:
    return [
        "--host-kubeconfig",
        str(fleet.layout.kubeconfig(HOST_CLUSTER)),
        "--host-context",
        context_name(fleet.config, HOST_CLUSTER),
    ]


def _store_file(fleet: UpResult) -> Path:
    return monitoring.paths(fleet.layout).objstore_file


def _prometheus(fleet: UpResult, *extra: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    return kurator(
        *karmada_args(fleet),
        "install",
        "prometheus",
        "--object-store-config",
        str(store or _store_file(fleet)),
        *extra,
    )


def _thanos(fleet: UpResult, *extra: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    return kurator(
        *karmada_args(fleet),
        "install",
        "thanos",
        "--object-store-config",
        str(store or _store_file(fleet)),
        *_host(fleet),
        *extra,
    )


def _karmada(fleet: UpResult) -> Client:
    return cluster_client(fleet, "karmada")


def _absent(fleet: UpResult) -> None:
    """Neither Thanos nor Prometheus installed, whichever test ran before (each test stands alone)."""
    for args in (("thanos", *_host(fleet)), ("prometheus",)):
        proc = kurator(*karmada_args(fleet), "uninstall", *args, "--wait-timeout", "120")
        assert proc.returncode == 0, proc.stdout + proc.stderr


PROMETHEUS = ("--replicas", "2", "--sidecar-service-type", "NodePort", "--block-duration", "2h")
THANOS = ("--store-sync-interval", "1m")


def _installed(fleet: UpResult) -> None:
    """Prometheus on every member and Thanos on the host, as the install tests leave them (a re-run after
    them writes nothing)."""
    for proc in (_prometheus(fleet, *PROMETHEUS), _thanos(fleet, *THANOS)):
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _nothing_installed(fleet: UpResult) -> None:
    """No record and no namespace of monitoring on Karmada, any member or the host."""
    assert record.load(_karmada(fleet), "prometheus") is None
    assert record.load(cluster_client(fleet, HOST_CLUSTER), "thanos") is None
    for cluster in ("karmada", HOST_CLUSTER, *MEMBERS):
        assert gone(cluster_client(fleet, cluster), Namespace, NS), f"{NS} exists on {cluster}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_store(path: Path, **config: Any) -> Path:
    path.write_text(yaml.safe_dump({"type": "S3", "config": config}))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def checking_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server that enforces IAM credentials: its first three requests (make a user, allow it
    everything, give it a key) go unchecked, every later one must be signed with that key."""
    port = _free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    log = (tmp_path_factory.mktemp("s3") / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), timeout=30, what="the credential-checking S3 server")
        import boto3

        iam = boto3.client(
            "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        iam.create_user(UserName="kurator")
        allow_all = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="kurator", PolicyName="all", PolicyDocument=json.dumps(allow_all))
        key = iam.create_access_key(UserName="kurator")["AccessKey"]
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        s3.create_bucket(Bucket="checked-bucket")
        yield {
            "endpoint": f"127.0.0.1:{port}",
            "access_key": key["AccessKeyId"],
            "secret_key": key["SecretAccessKey"],
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _answers(url: str) -> bool:
    try:
        httpx2.get(url + "/moto-api/", timeout=1)
    except httpx2.HTTPError:
        return False
    return True


def test_the_credential_checking_store_accepts_its_own_key(
    fleet: UpResult, checking_s3: dict[str, str], tmp_path: Path
) -> None:
    """The stand-in really checks: the right key passes kurator's bucket check (so a refusal below is the
    wrong key's doing, not the server's)."""
    good = _write_store(tmp_path / "good.yml", bucket="checked-bucket", insecure=True, **checking_s3)
    bucketcheck.check_bucket(objstore.parse(good.read_text(), "good"), http.sender(timeout=10))


@pytest.mark.parametrize(
    "problem", ["missing bucket", "wrong credentials", "unreachable endpoint", "no bucket"]
)
def test_bad_object_store_configs_are_refused_before_anything_is_installed(
    fleet: UpResult, checking_s3: dict[str, str], tmp_path: Path, problem: str
) -> None:
    _absent(fleet)
    local = yaml.safe_load(_store_file(fleet).read_text())["config"]
    if problem == "missing bucket":
        config = {**local, "bucket": "no-such-bucket"}
        expected = "no-such-bucket"
    elif problem == "wrong credentials":
        config = {
            **checking_s3,
            "secret_key": "not-the-secret-key",
            "bucket": "checked-bucket",
            "insecure": True,
        }
        expected = "credentials"
    elif problem == "unreachable endpoint":
        config = {**local, "endpoint": f"127.0.0.1:{_free_port()}"}
        expected = "127.0.0.1"
    else:
        config = {k: v for k, v in local.items() if k != "bucket"}
        expected = "bucket"
    bad = _write_store(tmp_path / "objstore.yml", **config)
    for proc in (
        _prometheus(fleet, "--sidecar-service-type", "NodePort", store=bad),
        _thanos(fleet, store=bad),
    ):
        assert proc.returncode != 0, proc.stdout
        assert expected in proc.stderr.lower() or expected in proc.stderr, proc.stderr
        for secret in (config.get("secret_key"), checking_s3["secret_key"], local["secret_key"]):
            assert secret not in proc.stdout + proc.stderr
    _nothing_installed(fleet)


def test_duplicate_cluster_labels_are_refused_before_anything_is_installed(fleet: UpResult) -> None:
    _absent(fleet)
    proc = _prometheus(fleet, "--cluster-label", "member1=prod", "--cluster-label", "member2=prod")
    assert proc.returncode == 2, proc.stderr
    assert "unique" in proc.stderr and "member1, member2 would all be cluster=prod" in proc.stderr
    clash = _prometheus(fleet, "--cluster-label", "member1=member2")
    assert clash.returncode == 2 and "cluster=member2" in clash.stderr, clash.stderr
    _nothing_installed(fleet)


def test_thanos_needs_the_host_cluster_and_prometheus_first(fleet: UpResult) -> None:
    _absent(fleet)
    no_host = kurator(
        *karmada_args(fleet), "install", "thanos", "--object-store-config", str(_store_file(fleet))
    )
    assert no_host.returncode == 2 and "--host-context" in no_host.stderr, no_host.stderr
    no_prometheus = _thanos(fleet, "--host-only")
    assert no_prometheus.returncode == 2, no_prometheus.stderr
    assert "install prometheus" in no_prometheus.stderr
    _nothing_installed(fleet)


def test_dry_run_plans_every_member_and_shows_no_credential(fleet: UpResult) -> None:
    _absent(fleet)
    proc = _prometheus(
        fleet, "--replicas", "2", "--sidecar-service-type", "NodePort", "--dry-run", "-o", "json"
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    targets = {t["target"]: t for t in plan["targets"]}
    assert set(targets) == {"karmada", *MEMBERS}
    made = {(c["kind"], c["name"]) for c in targets["member1"]["changes"] if c["action"] == "create"}
    assert {
        ("StatefulSet", "prometheus"),
        ("Secret", "thanos-objstore"),
        ("ConfigMap", "prometheus-config"),
    } <= made
    assert access.s3_credentials(fleet.layout).secret_key not in proc.stdout + proc.stderr
    _nothing_installed(fleet)


def _member_config(api: Client) -> dict[str, Any]:
    cm = api.get(ConfigMap, manifests.CONFIGMAP, namespace=NS)
    return yaml.safe_load((cm.data or {})[manifests.CONFIG_KEY])  # type: ignore[no-any-return]


def test_prometheus_reaches_every_member_with_its_own_cluster_label(fleet: UpResult) -> None:
    _absent(fleet)
    proc = _prometheus(fleet, *PROMETHEUS)
    assert proc.returncode == 0, proc.stderr
    assert "prometheus 0.1.0 installed on member1, member2" in proc.stdout
    assert access.s3_credentials(fleet.layout).secret_key not in proc.stdout + proc.stderr
    store = objstore.parse(_store_file(fleet).read_text(), "the fleet's object store")
    for member in MEMBERS:
        api = cluster_client(fleet, member)
        config = _member_config(api)
        assert config["global"]["external_labels"] == {"cluster": member, "replica": "${POD_NAME}"}
        # The text on the member is exactly what kurator.monitoring renders for it.
        text = (api.get(ConfigMap, manifests.CONFIGMAP, namespace=NS).data or {})[manifests.CONFIG_KEY]
        assert text == manifests.prometheus_config_text(member)
        sts = api.get(StatefulSet, "prometheus", namespace=NS)
        assert sts.spec and sts.spec.replicas == 2
        assert sts.status and sts.status.readyReplicas == 2
        want = manifests.prometheus_values(member, store, replicas=2, sidecar_service_type="NodePort")
        containers = {c.name: c for c in sts.spec.template.spec.containers}  # type: ignore[union-attr]
        assert containers["prometheus"].args == want["prometheus"]["args"]
        assert containers["thanos-sidecar"].args == want["sidecar"]["args"]
        secret = api.get(Secret, manifests.OBJSTORE_SECRET, namespace=NS)
        assert base64.b64decode((secret.data or {})[manifests.OBJSTORE_KEY]).decode() == objstore.render(
            store
        )
        svc = api.get(Service, "thanos-sidecar", namespace=NS)
        assert svc.spec and svc.spec.type == "NodePort"
    again = _prometheus(fleet, *PROMETHEUS)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout and "nothing was written" in again.stdout


def _node_port(api: Client) -> str:
    svc = api.get(Service, "thanos-sidecar", namespace=NS)
    port = next(p.nodePort for p in svc.spec.ports or [] if p.name == "grpc")  # type: ignore[union-attr]
    node = next(iter(api.list(Node)))
    addrs = {a.type: a.address for a in (node.status.addresses or [])}  # type: ignore[union-attr]
    return f"{addrs.get('ExternalIP') or addrs['InternalIP']}:{port}"


def test_thanos_on_the_host_reads_every_member_sidecar_and_the_bucket(fleet: UpResult) -> None:
    # the members' Prometheus with NodePort sidecars (a re-run writes nothing), and no Thanos yet
    remove = kurator(*karmada_args(fleet), "uninstall", "thanos", *_host(fleet), "--wait-timeout", "120")
    assert remove.returncode == 0, remove.stdout + remove.stderr
    members = _prometheus(fleet, *PROMETHEUS)
    assert members.returncode == 0, members.stdout + members.stderr
    proc = _thanos(fleet, *THANOS)
    assert proc.returncode == 0, proc.stderr
    assert "thanos 0.1.0 installed on host" in proc.stdout
    host = cluster_client(fleet, HOST_CLUSTER)
    query = host.get(Deployment, "thanos-query", namespace=NS)
    args = query.spec.template.spec.containers[0].args or []  # type: ignore[union-attr]
    endpoints = {a.split("=", 1)[1] for a in args if a.startswith("--endpoint=")}
    sidecars = {_node_port(cluster_client(fleet, m)) for m in MEMBERS}
    assert endpoints == {manifests.store_endpoint(), *sidecars}
    assert "--query.replica-label=replica" in args
    for name in ("thanos-query", "thanos-store", "thanos-compactor"):
        dep = host.get(Deployment, name, namespace=NS)
        assert dep.status and dep.status.readyReplicas == 1, name
    # Nothing of Thanos went through Karmada: it serves the whole fleet from the host.
    assert record.load(_karmada(fleet), "thanos") is None
    assert gone(_karmada(fleet), Deployment, "thanos-query", NS)
    again = _thanos(fleet, *THANOS)
    assert again.returncode == 0 and "nothing was written" in again.stdout, again.stderr


def test_uninstall_removes_thanos_from_the_host_and_prometheus_from_every_member(fleet: UpResult) -> None:
    _installed(fleet)
    began = time.monotonic()
    proc = kurator(*karmada_args(fleet), "uninstall", "thanos", *_host(fleet), "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stderr
    assert "thanos uninstalled from host" in proc.stdout
    proc = kurator(*karmada_args(fleet), "uninstall", "prometheus", "--wait-timeout", "120")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - began < 240
    _nothing_installed(fleet)
    assert kurator(*karmada_args(fleet), "get", "components", "-o", "json", check=True).stdout.strip() == "[]"


def test_thanos_in_one_command_installs_both_sides(fleet: UpResult) -> None:
    """As Kurator's `install thanos`: the members' Prometheus with sidecars, then the host's Thanos."""
    _absent(fleet)
    try:
        proc = _thanos(fleet, "--sidecar-service-type", "NodePort", "--wait-timeout", "180")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.index("prometheus 0.1.0 installed on member1, member2") < proc.stdout.index(
            "thanos 0.1.0 installed on host"
        )
        for member in MEMBERS:
            sts = cluster_client(fleet, member).get(StatefulSet, "prometheus", namespace=NS)
            assert [c.name for c in sts.spec.template.spec.containers] == ["prometheus", "thanos-sidecar"]
        host = cluster_client(fleet, HOST_CLUSTER)
        query = host.get(Deployment, "thanos-query", namespace=NS)
        args = query.spec.template.spec.containers[0].args
        assert sum(a.startswith("--endpoint=") for a in args) == 1 + len(MEMBERS)  # store + each sidecar
        again = _thanos(fleet, "--wait-timeout", "60")  # prometheus left as it is: no option names it
        assert again.returncode == 0, again.stdout + again.stderr
        assert "left as it is" in again.stdout and "nothing was written" in again.stdout
    finally:
        kurator(*karmada_args(fleet), "uninstall", "thanos", *_host(fleet), "--wait-timeout", "60")
        kurator(*karmada_args(fleet), "uninstall", "prometheus", "--wait-timeout", "60")
