"""Prometheus's config and flags, Thanos's flags, and the checks of durations and addresses behind them."""

from __future__ import annotations

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.monitoring import checks, prometheus, thanos

LOCAL = prometheus.KubeAccess(
    api_server="https://127.0.0.1:6443",
    ca_file="/fleet/member1/pki/ca.crt",
    token_file=None,
    cert_file="/fleet/member1/pki/prometheus.crt",
    key_file="/fleet/member1/pki/prometheus.key",
)


def test_config_labels_every_series_with_its_cluster_and_replica() -> None:
    cfg = prometheus.config("member1", prometheus.in_cluster_jobs(), scrape_interval="15s")
    assert cfg["global"] == {
        "scrape_interval": "15s",
        "evaluation_interval": "15s",
        "external_labels": {"cluster": "member1", "replica": "${POD_NAME}"},
    }
    assert [job["job_name"] for job in cfg["scrape_configs"]] == ["kube-apiserver", "kubelet"]


def test_rendered_text_is_yaml_of_the_config_and_keeps_the_placeholder_verbatim() -> None:
    cfg = prometheus.config("member1", [prometheus.static_job("self", ["127.0.0.1:9090"])])
    text = prometheus.render(cfg)
    assert yaml.safe_load(text) == cfg
    assert "replica: ${POD_NAME}\n" in text
    assert prometheus.replica_env("prometheus-0") == {"POD_NAME": "prometheus-0"}


def test_a_value_shared_by_two_jobs_is_written_out_twice_not_aliased() -> None:
    tls = {"ca_file": "/ca.crt"}
    jobs = [prometheus.static_job(n, ["127.0.0.1:1"], scheme="https", tls=tls) for n in ("a", "b")]
    jobs[1]["tls_config"] = jobs[0]["tls_config"]
    text = prometheus.render(prometheus.config("member1", jobs))
    assert "&" not in text and "*" not in text
    assert text.count("ca_file: /ca.crt") == 2


def test_in_pod_jobs_use_the_in_cluster_config_and_the_service_account() -> None:
    api = prometheus.apiserver_job()
    assert api["kubernetes_sd_configs"] == [{"role": "endpointslice", "namespaces": {"names": ["default"]}}]
    assert api["tls_config"] == {
        "ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "server_name": "kubernetes",
    }
    assert api["authorization"] == {"credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    kubelet = prometheus.kubelet_job()
    assert kubelet["kubernetes_sd_configs"] == [{"role": "node"}]
    assert kubelet["metrics_path"] == "/metrics/resource"


def test_local_jobs_have_the_same_shape_with_an_address_and_files() -> None:
    in_pod, local = prometheus.apiserver_job(), prometheus.apiserver_job(LOCAL)
    assert in_pod.keys() - {"authorization"} == local.keys()
    assert local["kubernetes_sd_configs"] == [
        {
            "role": "endpointslice",
            "namespaces": {"names": ["default"]},
            "api_server": "https://127.0.0.1:6443",
            "tls_config": {
                "ca_file": "/fleet/member1/pki/ca.crt",
                "cert_file": "/fleet/member1/pki/prometheus.crt",
                "key_file": "/fleet/member1/pki/prometheus.key",
            },
        }
    ]
    assert local["relabel_configs"] == in_pod["relabel_configs"]


def test_static_job() -> None:
    job = prometheus.static_job(
        "kwok",
        ["127.0.0.1:10247"],
        metrics_path="/metrics/nodes/node-0/metrics/resource",
        labels={"node": "node-0"},
    )
    assert job == {
        "job_name": "kwok",
        "scheme": "http",
        "metrics_path": "/metrics/nodes/node-0/metrics/resource",
        "static_configs": [{"targets": ["127.0.0.1:10247"], "labels": {"node": "node-0"}}],
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: prometheus.config("Member_1", []), "cannot be a Prometheus external label"),
        (lambda: prometheus.config("m$(x)", []), "cannot be a Prometheus external label"),
        (lambda: prometheus.config("m", [], scrape_interval="15"), "scrape interval '15' is not a duration"),
        (lambda: prometheus.config("m", [], scrape_interval="0s"), "must be longer than zero"),
        (lambda: prometheus.config("m", [], scrape_timeout="1m"), "longer than the scrape interval"),
        (
            lambda: prometheus.config("m", [prometheus.kubelet_job(), prometheus.kubelet_job()]),
            "repeated: kubelet",
        ),
        (lambda: prometheus.static_job("x", []), "has no targets"),
        (lambda: prometheus.replica_env("${HOST}"), "hold no '\\$'"),
        (lambda: prometheus.KubeAccess(cert_file="/c"), "needs both cert_file and key_file"),
        (lambda: prometheus.KubeAccess(token_file=None), "needs a token file or a client certificate"),
    ],
)
def test_prometheus_refuses_bad_input(call: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()  # type: ignore[operator]


def test_prometheus_args_turn_local_compaction_off_with_one_block_duration() -> None:
    assert prometheus.args("/etc/prometheus/prometheus.yml", "/prometheus", "0.0.0.0:9090", "6h", "5m") == [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--web.listen-address=0.0.0.0:9090",
        "--storage.tsdb.retention.time=6h",
        "--storage.tsdb.min-block-duration=5m",
        "--storage.tsdb.max-block-duration=5m",
        "--enable-feature=expand-external-labels",
    ]


def test_prometheus_args_refuse_a_retention_shorter_than_two_blocks() -> None:
    with pytest.raises(InvalidInput, match="retention 3h is shorter than two blocks of 2h"):
        prometheus.args("/c", "/d", "127.0.0.1:9090", retention="3h", block_duration="2h")
    with pytest.raises(InvalidInput, match="listen address 'localhost' is not host:port"):
        prometheus.args("/c", "/d", "localhost")


def test_sidecar_args() -> None:
    assert thanos.sidecar_args(
        prometheus_url="http://127.0.0.1:19090",
        tsdb_path="/fleet/member1/prometheus",
        objstore_path="/fleet/objstore.yml",
        grpc_address="127.0.0.1:19091",
        http_address="127.0.0.1:19092",
    ) == [
        "sidecar",
        "--prometheus.url=http://127.0.0.1:19090",
        "--tsdb.path=/fleet/member1/prometheus",
        "--objstore.config-file=/fleet/objstore.yml",
        "--http-address=127.0.0.1:19092",
        "--grpc-address=127.0.0.1:19091",
    ]


def test_query_deduplicates_on_the_replica_label() -> None:
    args = thanos.query_args(
        ["127.0.0.1:19091", "dnssrv+_grpc._tcp.thanos-store.kurator-monitoring.svc"],
        grpc_address="127.0.0.1:29091",
        http_address="127.0.0.1:29090",
    )
    assert args == [
        "query",
        "--http-address=127.0.0.1:29090",
        "--grpc-address=127.0.0.1:29091",
        "--endpoint=127.0.0.1:19091",
        "--endpoint=dnssrv+_grpc._tcp.thanos-store.kurator-monitoring.svc",
        "--query.replica-label=replica",
    ]
    assert prometheus.REPLICA_LABEL == "replica"


def test_store_and_compactor_args() -> None:
    assert thanos.store_args(
        objstore_path="/o.yml",
        data_dir="/d",
        grpc_address="127.0.0.1:1",
        http_address="127.0.0.1:2",
        sync_interval="10s",
    ) == [
        "store",
        "--data-dir=/d",
        "--objstore.config-file=/o.yml",
        "--http-address=127.0.0.1:2",
        "--grpc-address=127.0.0.1:1",
        "--sync-block-duration=10s",
    ]
    assert thanos.compact_args(
        objstore_path="/o.yml",
        data_dir="/d",
        http_address="127.0.0.1:3",
        wait_interval="30s",
        consistency_delay="0s",
        dedup_replica_labels=["replica"],
        extra=["--log.level=debug"],
    ) == [
        "compact",
        "--wait",
        "--wait-interval=30s",
        "--data-dir=/d",
        "--objstore.config-file=/o.yml",
        "--http-address=127.0.0.1:3",
        "--consistency-delay=0s",
        "--delete-delay=48h",
        "--deduplication.replica-label=replica",
        "--log.level=debug",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: thanos.query_args([], grpc_address=":1", http_address=":2"), "at least one endpoint"),
        (
            lambda: thanos.query_args(["a:1", "a:1"], grpc_address=":1", http_address=":2"),
            "endpoints are repeated: a:1",
        ),
        (
            lambda: thanos.query_args(["a"], grpc_address=":1", http_address=":2"),
            "endpoint 'a' is not host:port",
        ),
        (
            lambda: thanos.sidecar_args(
                prometheus_url="127.0.0.1:9090",
                tsdb_path="/d",
                objstore_path="/o",
                grpc_address=":1",
                http_address=":2",
            ),
            "must start with http:// or https://",
        ),
        (
            lambda: thanos.store_args(
                objstore_path="/o", data_dir="/d", grpc_address=":1", http_address=":2", sync_interval="soon"
            ),
            "store sync interval 'soon' is not a duration",
        ),
        (
            lambda: thanos.compact_args(objstore_path="/o", data_dir="/d", http_address=":70000"),
            "is not host:port",
        ),
        (
            lambda: thanos.compact_args(objstore_path="/o", data_dir="/d", http_address=":1", extra=["-v"]),
            "is not a --flag",
        ),
    ],
)
def test_thanos_refuses_bad_input(call: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("2h", 7200), ("1d12h", 129600), ("1w", 604800), ("500ms", 0.5), ("0s", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert checks.duration(text, "d", allow_zero=True) == seconds


@pytest.mark.parametrize("text", ["", "5", "h", "1h1d", "1.5h", "-1m", "1 h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a duration"):
        checks.duration(text, "d")


@pytest.mark.parametrize("good", ["0.0.0.0:9090", ":9090", "[::1]:9090", "thanos-store.ns.svc:10901"])
def test_addresses(good: str) -> None:
    assert checks.address(good, "a") == good


@pytest.mark.parametrize("bad", ["9090", "host:", "host:0", "::1:9090", "a b:1", "[::1:9090"])
def test_bad_addresses(bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not host:port"):
        checks.address(bad, "a")
