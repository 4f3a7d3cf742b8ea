"""The prometheus and thanos components: option checks, per-member values, and host placement."""

from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from kurator.components import prometheus, thanos
from kurator.core.errors import InvalidInput
from kurator.fleet import desired
from kurator.monitoring import manifests, objstore

STORE = objstore.parse(
    "type: S3\nconfig:\n  bucket: metrics\n  endpoint: 127.0.0.1:9000\n  access_key: AK\n  secret_key: SK\n"
    "  insecure: true\n",
    "test",
)


def test_cluster_labels_default_to_member_names_and_must_be_unique() -> None:
    assert prometheus.cluster_labels(["m1", "m2"], {}) == {"m1": "m1", "m2": "m2"}
    assert prometheus.cluster_labels(["m1", "m2"], {"m1": "prod"}) == {"m1": "prod", "m2": "m2"}
    with pytest.raises(InvalidInput, match="m1, m2 would all be cluster=prod"):
        prometheus.cluster_labels(["m1", "m2"], {"m1": "prod", "m2": "prod"})
    with pytest.raises(InvalidInput, match="m1, m2 would all be cluster=m2"):
        prometheus.cluster_labels(["m1", "m2"], {"m1": "m2"})
    with pytest.raises(InvalidInput, match="not a target"):
        prometheus.cluster_labels(["m1"], {"m9": "x"})


@pytest.mark.parametrize("item", ["m1", "=x", "m1=", "m1"])
def test_cluster_label_flags_must_be_member_equals_label(item: str) -> None:
    with pytest.raises(InvalidInput, match="MEMBER=LABEL"):
        prometheus.parse_labels([item])


def test_a_label_prometheus_cannot_carry_is_refused_before_install() -> None:
    with pytest.raises(InvalidInput, match="external label"):
        prometheus.component(prometheus.Options(STORE, labels={"m1": "Bad$Label"}), ["m1"])


def test_each_member_gets_its_own_config_text_and_the_checksum_that_rolls_its_pods() -> None:
    comp = prometheus.component(prometheus.Options(STORE, labels={"m2": "eu"}, replicas=2), ["m1", "m2"])
    assert comp.values["replicas"] == 2
    by_kind = {pc.kind: pc for pc in comp.per_cluster}
    text = by_kind["ConfigMap"].value("m2")
    assert text == manifests.prometheus_config_text("eu")
    assert by_kind["StatefulSet"].value("m2") == hashlib.sha256(text.encode()).hexdigest()
    assert by_kind["StatefulSet"].path == "/spec/template/metadata/annotations/checksum~1config"
    doc = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "prometheus", "namespace": "x"},
    }
    want = desired.Desired("prometheus", templates=[doc])
    held = desired.for_member(comp, want, "m1")[0]
    assert held["spec"]["template"]["metadata"]["annotations"]["checksum/config"] == by_kind[
        "StatefulSet"
    ].value("m1")


@pytest.mark.parametrize("item", ["m1", "m1=nohost", "m1=host:0", "=h:1"])
def test_sidecar_endpoint_flags_are_checked(item: str) -> None:
    with pytest.raises(InvalidInput):
        thanos.parse_endpoints([item])


def test_members_may_not_share_a_sidecar_endpoint() -> None:
    with pytest.raises(InvalidInput, match=re.escape("share a sidecar endpoint: 10.0.0.1:1 for m1, m2")):
        thanos.component(thanos.Options(STORE, sidecars={"m1": "10.0.0.1:1", "m2": "10.0.0.1:1"}))
    with pytest.raises(InvalidInput, match="install prometheus first"):
        thanos.component(thanos.Options(STORE))


def test_thanos_is_placed_on_the_host_without_karmada_policies() -> None:
    comp = thanos.component(thanos.Options(STORE, sidecars={"m2": "h2:10901", "m1": "h1:10901"}))
    assert comp.placement == "host"
    assert thanos.describe(comp.values) == [manifests.store_endpoint(), "h1:10901", "h2:10901"]
    rendered = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "thanos-query"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "thanos-objstore"}},
    ]
    want = desired.build(comp, rendered, [])
    assert not [r for r in want.refs() if r.is_policy]
    assert {r.kind for r in want.refs()} == {"Namespace", "Deployment", "Secret"}
    assert all(d["metadata"].get("namespace") == manifests.NAMESPACE for d in want.second)


def test_the_cli_starts_without_loading_the_heavy_libraries() -> None:
    """Every command is registered at start (components included); the libraries they use load only when
    one runs, which keeps `kurator --help` fast."""
    import subprocess
    import sys

    heavy = ("lightkube", "pydantic", "httpx2", "yaml", "botocore")
    code = f"import sys, kurator.cli.main; print(*[m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_the_primary_federates_every_other_member_and_only_it() -> None:
    """Kurator v0.1's `install prometheus --primary`: the primary's config gets one /federate job per other
    member, labelled with that member's cluster label; the others scrape only themselves."""
    from kurator.components import prometheus as component
    from kurator.monitoring import prometheus

    opts = component.Options(
        None,
        labels={"m3": "prod"},
        primary="m1",
        federated={"m2": "10.0.0.2:9090", "m3": "10.0.0.3:9090"},
        web_service_type="LoadBalancer",
    )
    comp = component.component(opts, ["m1", "m2", "m3"])
    config = next(pc for pc in comp.per_cluster if pc.kind == "ConfigMap")
    primary = yaml.safe_load(config.value("m1"))
    jobs = {j["job_name"]: j for j in primary["scrape_configs"]}
    assert set(jobs) == {"kube-apiserver", "kubelet", "federate-m2", "federate-prod"}
    assert jobs["federate-prod"] == {
        "job_name": "federate-prod",
        "honor_labels": True,
        "metrics_path": "/federate",
        "params": {"match[]": ['{__name__=~".+"}']},
        "static_configs": [{"targets": ["10.0.0.3:9090"], "labels": {"cluster": "prod"}}],
    }
    for other in ("m2", "m3"):
        assert not any(
            j["job_name"].startswith("federate")
            for j in yaml.safe_load(config.value(other))["scrape_configs"]
        )
    assert "sidecar" not in comp.values and comp.values["objstore"] == ""
    assert comp.values["prometheus"]["serviceType"] == "LoadBalancer"
    with pytest.raises(InvalidInput, match="--primary m9 is not a target"):
        component.component(component.Options(None, primary="m9"), ["m1"])
    with pytest.raises(InvalidInput):
        prometheus.federation_jobs({"m2": "not an address"})
