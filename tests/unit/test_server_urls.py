"""Every error a person can act on (issue 16, point 9), for addresses: a server URL that cannot be used, typed
as ``--url`` or written in a kubeconfig, is refused before any request, naming the value and why; it never
reaches the HTTP library as an "unexpected UnicodeError" or "unexpected InvalidURL"."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurator.core import inputs
from tests.unit.cli import run_kurator

BAD = {
    "http://a..b": "host name 'a..b' is not valid",
    "http://127.0.0.1:abc": "port",
    "http://127.0.0.1:99999": "port",
    "http://127.0.0.1:0": "port",
    "http://[::1": "not a URL",
    "ftp://x": "not an http:// or https:// address",
    "http://": "not an http:// or https:// address",
    "http://" + "a" * 3000: "longer than",
}
GOOD = ["http://127.0.0.1:9090", "https://[::1]:6443", "https://kubernetes.default.svc", "https://h/p?q=1"]


@pytest.mark.parametrize("url", GOOD)
def test_usable_urls_pass(url: str) -> None:
    assert inputs.url_problem(url) is None


@pytest.mark.parametrize(("url", "why"), BAD.items())
def test_unusable_urls_are_named_with_the_reason(url: str, why: str) -> None:
    problem = inputs.url_problem(url)
    assert problem is not None and why.lower() in problem.lower(), problem
    assert len(problem) < 300


@pytest.mark.parametrize("url", ["http://a..b", "http://127.0.0.1:abc", "http://[::1"])
def test_the_cli_names_a_bad_server_of_a_kubeconfig_and_of_url(tmp_path: Path, url: str) -> None:
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{url}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    proc = run_kurator("--kubeconfig", str(kubeconfig), "get", "clusters", home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"kubeconfig {kubeconfig} names server {url!r}" in proc.stderr, proc.stderr
    assert "unexpected" not in proc.stderr
    proc = run_kurator("query", "up", "--url", url, home=tmp_path)
    assert proc.returncode == 2 and "Invalid value for '--url'" in proc.stderr, proc.stderr
    assert "unexpected" not in proc.stderr
