"""Pointing a fetched admin.conf at the cluster's API endpoint."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.ssh.fetch import api_server_url, with_server

SECRET = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t"


def _admin_conf(*clusters: str, current: str | None = "kubernetes-admin@cluster.local") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"certificate-authority-data": "Q0E=", "server": "https://127.0.0.1:6443"},
            }
            for name in clusters
        ],
        "contexts": [
            {"name": "kubernetes-admin@cluster.local", "context": {"cluster": clusters[-1], "user": "admin"}}
        ],
        "users": [
            {"name": "admin", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": SECRET}}
        ],
        "preferences": {},
    }
    if current:
        doc["current-context"] = current
    return doc


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("10.0.0.5", "https://10.0.0.5:6443"),
        ("10.0.0.5:8443", "https://10.0.0.5:8443"),
        ("https://lb.example.com", "https://lb.example.com:6443"),
        ("https://lb.example.com:443/", "https://lb.example.com:443"),
        ("fd00::5", "https://[fd00::5]:6443"),
        ("[fd00::5]:7443", "https://[fd00::5]:7443"),
        (" 10.0.0.5 ", "https://10.0.0.5:6443"),
    ],
)
def test_endpoints_become_https_urls(endpoint: str, url: str) -> None:
    assert api_server_url(endpoint) == url


@pytest.mark.parametrize(
    "endpoint", ["", "http://10.0.0.5:6443", "10.0.0.5:99999", "https://x/api", "10.0.0.5:abc"]
)
def test_bad_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(InvalidInput, match="is not an address to reach an API server by"):
        api_server_url(endpoint)


def test_rewrite_changes_only_the_current_clusters_server() -> None:
    original = _admin_conf("cluster.local")
    rewritten = yaml.safe_load(with_server(yaml.safe_dump(original).encode(), "192.168.10.4"))
    original["clusters"][0]["cluster"]["server"] = "https://192.168.10.4:6443"
    assert rewritten == original


def test_rewrite_picks_the_current_contexts_cluster_among_several() -> None:
    rewritten = yaml.safe_load(with_server(yaml.safe_dump(_admin_conf("other", "cluster.local")), "lb:443"))
    servers = {c["name"]: c["cluster"]["server"] for c in rewritten["clusters"]}
    assert servers == {"other": "https://127.0.0.1:6443", "cluster.local": "https://lb:443"}


def test_a_single_cluster_needs_no_current_context() -> None:
    rewritten = yaml.safe_load(with_server(yaml.safe_dump(_admin_conf("cluster.local", current=None)), "lb"))
    assert rewritten["clusters"][0]["cluster"]["server"] == "https://lb:6443"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"users: [{{user: {{client-key-data: {SECRET}}}}}]",
            "the fetched file is not a kubeconfig: it has no clusters",
        ),
        (f"{SECRET}: [unclosed", "the fetched file is not a kubeconfig: it has no clusters"),
        (
            yaml.safe_dump(_admin_conf("a", "b", current=None)),
            "the kubeconfig has several clusters and no current context to choose one",
        ),
        (
            yaml.safe_dump(
                {
                    **_admin_conf("a"),
                    "contexts": [{"name": "x", "context": {"cluster": "gone"}}],
                    "current-context": "x",
                }
            ),
            "the kubeconfig's current context names cluster 'gone', which it does not define",
        ),
    ],
)
def test_unusable_files_are_refused_without_quoting_them(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        with_server(text, "10.0.0.5")
    assert excinfo.value.message == message
    assert SECRET not in str(excinfo.value)
