"""The charts' values are exactly the builders' output, and ``helm template`` puts that output into the
objects verbatim: the ConfigMap's text, every container's arguments, the object-store Secret, and mounts at
the paths the flags name."""

from __future__ import annotations

import base64
import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml

from kurator.fleet import render
from kurator.fleet.component import Artifact, Component
from kurator.monitoring import manifests, objstore, prometheus, thanos

from .charts import HELM, needs_helm, no_wildcards

CHARTS = Path(__file__).resolve().parents[2] / "src" / "kurator" / "components" / "charts"

SECRET = "chart-test-secret-key-0001"
STORE = objstore.parse(
    yaml.safe_dump(
        {
            "type": "S3",
            "config": {
                "bucket": "thanos",
                "endpoint": "minio.kurator-monitoring.svc:9000",
                "access_key": "AKIACHARTTEST",
                "secret_key": SECRET,
                "insecure": True,
            },
        }
    ),
    "test",
)
PATHS = manifests.POD_PATHS


def test_prometheus_values_are_the_builders_output() -> None:
    values = manifests.prometheus_values("member1", STORE, scrape_interval="15s", block_duration="5m")
    assert values["prometheus"]["config"] == prometheus.render(
        prometheus.config("member1", prometheus.in_cluster_jobs(), scrape_interval="15s")
    )
    assert values["prometheus"]["config"] == manifests.prometheus_config_text(
        "member1", scrape_interval="15s"
    )
    assert values["prometheus"]["args"] == prometheus.args(
        "/etc/prometheus/prometheus.yml", "/prometheus", "0.0.0.0:9090", "24h", "5m"
    )
    assert values["prometheus"]["replicaEnv"] == prometheus.REPLICA_ENV
    assert values["sidecar"]["args"] == thanos.sidecar_args(
        prometheus_url="http://127.0.0.1:9090",
        tsdb_path="/prometheus",
        objstore_path="/etc/thanos/objstore.yml",
        grpc_address="0.0.0.0:10901",
        http_address="0.0.0.0:10902",
    )
    assert values["objstore"] == objstore.render(STORE)
    assert values["paths"] == {"config": "/etc/prometheus", "data": "/prometheus", "objstore": "/etc/thanos"}


def test_thanos_values_are_the_builders_output() -> None:
    values = manifests.thanos_values(STORE, ["10.1.0.5:10901"], store_sync_interval="1m")
    assert values["query"]["args"] == thanos.query_args(
        ["thanos-store.kurator-monitoring.svc:10901", "10.1.0.5:10901"],
        grpc_address="0.0.0.0:10901",
        http_address="0.0.0.0:9090",
    )
    assert values["store"]["args"] == thanos.store_args(
        objstore_path="/etc/thanos/objstore.yml",
        data_dir="/var/thanos/store",
        grpc_address="0.0.0.0:10901",
        http_address="0.0.0.0:10902",
        sync_interval="1m",
    )
    assert values["compactor"]["args"] == thanos.compact_args(
        objstore_path="/etc/thanos/objstore.yml", data_dir="/var/thanos/compact", http_address="0.0.0.0:10902"
    )
    assert values["objstore"] == objstore.render(STORE)


# ---- helm template ---------------------------------------------------------------------------------------


def helm_template(chart: str, values: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    component = Component(
        name=chart,
        description="test",
        artifact=Artifact(chart, "0.1.0", "helm-chart", f"package:components/charts/{chart}", "unchecked"),
        namespace=manifests.NAMESPACE,
    )
    docs = render._helm_template(component, CHARTS / chart, values, HELM)
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def container(obj: dict[str, Any], name: str) -> dict[str, Any]:
    spec = obj["spec"]["template"]["spec"]
    return next(c for c in spec["containers"] if c["name"] == name)


def mount_of(obj: dict[str, Any], container_name: str, volume: str) -> str:
    return next(m["mountPath"] for m in container(obj, container_name)["volumeMounts"] if m["name"] == volume)


def flag(args: list[str], name: str) -> str:
    return next(a.split("=", 1)[1] for a in args if a.startswith(f"--{name}="))


@needs_helm
def test_prometheus_chart_renders_the_builders_output_verbatim() -> None:
    values = manifests.prometheus_values("member1", STORE, replicas=2)
    objs = helm_template("prometheus", values)
    assert objs[("ConfigMap", "prometheus-config")]["data"] == {
        "prometheus.yml": values["prometheus"]["config"]
    }
    secret = objs[("Secret", "thanos-objstore")]["data"]["objstore.yml"]
    assert base64.b64decode(secret).decode() == objstore.render(STORE)
    assert objstore.parse(base64.b64decode(secret).decode(), "secret") == STORE

    sts = objs[("StatefulSet", "prometheus")]
    assert sts["spec"]["replicas"] == 2
    prom, sidecar = container(sts, "prometheus"), container(sts, "thanos-sidecar")
    assert prom["args"] == values["prometheus"]["args"]
    assert sidecar["args"] == values["sidecar"]["args"]
    assert prom["env"] == [
        {"name": prometheus.REPLICA_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]
    # The files the flags name are where the chart mounts the ConfigMap and the Secret, under their keys.
    config_file = flag(prom["args"], "config.file")
    assert posixpath.dirname(config_file) == mount_of(sts, "prometheus", "config")
    assert posixpath.basename(config_file) in objs[("ConfigMap", "prometheus-config")]["data"]
    objstore_file = flag(sidecar["args"], "objstore.config-file")
    assert posixpath.dirname(objstore_file) == mount_of(sts, "thanos-sidecar", "objstore")
    assert posixpath.basename(objstore_file) in objs[("Secret", "thanos-objstore")]["data"]
    data = flag(prom["args"], "storage.tsdb.path")
    assert data == flag(sidecar["args"], "tsdb.path")
    assert data == mount_of(sts, "prometheus", "data") == mount_of(sts, "thanos-sidecar", "data")
    port = int(flag(prom["args"], "web.listen-address").rsplit(":", 1)[1])
    assert prom["ports"] == [{"name": "web", "containerPort": port}]
    assert flag(sidecar["args"], "prometheus.url") == f"http://127.0.0.1:{port}"
    grpc = int(flag(sidecar["args"], "grpc-address").rsplit(":", 1)[1])
    svc = objs[("Service", "thanos-sidecar")]
    assert {"name": "grpc", "port": grpc, "targetPort": "grpc"} in svc["spec"]["ports"]
    assert objs[("Service", "prometheus")]["spec"]["clusterIP"] == "None"
    no_wildcards(objs)


@needs_helm
def test_prometheus_chart_without_an_object_store_is_prometheus_alone() -> None:
    """Kurator v0.1's Prometheus: no sidecar, no Secret; with a web Service type, the prometheus-web
    Service that a federating Prometheus reads /federate through."""
    values = manifests.prometheus_values("member1", None, web_service_type="LoadBalancer")
    objs = helm_template("prometheus", values)
    sts = objs[("StatefulSet", "prometheus")]
    assert [c["name"] for c in sts["spec"]["template"]["spec"]["containers"]] == ["prometheus"]
    assert {v["name"] for v in sts["spec"]["template"]["spec"]["volumes"]} == {"config", "data"}
    assert ("Secret", "thanos-objstore") not in objs and ("Service", "thanos-sidecar") not in objs
    web = objs[("Service", "prometheus-web")]["spec"]
    assert web["type"] == "LoadBalancer" and web["ports"] == [
        {"name": "web", "port": 9090, "targetPort": "web"}
    ]
    alone = helm_template("prometheus", manifests.prometheus_values("member1", None))
    assert ("Service", "prometheus-web") not in alone
    no_wildcards(objs)


@needs_helm
def test_thanos_chart_renders_the_builders_output_verbatim() -> None:
    values = manifests.thanos_values(STORE, ["10.1.0.5:10901"])
    objs = helm_template("thanos", values)
    secret = objs[("Secret", "thanos-objstore")]["data"]["objstore.yml"]
    assert base64.b64decode(secret).decode() == objstore.render(STORE)
    for name, key in (
        ("thanos-query", "query"),
        ("thanos-store", "store"),
        ("thanos-compactor", "compactor"),
    ):
        deployment = objs[("Deployment", name)]
        main = container(deployment, key)
        assert main["args"] == values[key]["args"]
        if key != "query":
            objstore_file = flag(main["args"], "objstore.config-file")
            assert posixpath.dirname(objstore_file) == mount_of(deployment, key, "objstore")
            assert flag(main["args"], "data-dir").startswith(mount_of(deployment, key, "data") + "/")
    assert objs[("Deployment", "thanos-compactor")]["spec"]["strategy"] == {"type": "Recreate"}
    store_grpc = int(flag(values["store"]["args"], "grpc-address").rsplit(":", 1)[1])
    assert {"name": "grpc", "port": store_grpc, "targetPort": "grpc"} in objs[("Service", "thanos-store")][
        "spec"
    ]["ports"]
    assert f"--endpoint={manifests.store_endpoint()}" in values["query"]["args"]
    no_wildcards(objs)


@needs_helm
@pytest.mark.parametrize("chart", ["prometheus", "thanos"])
def test_charts_refuse_to_render_without_values_from_kurator(chart: str) -> None:
    from kurator.core.errors import KuratorError

    with pytest.raises(KuratorError, match=r"is rendered by kurator\.monitoring\.manifests"):
        helm_template(chart, {})
