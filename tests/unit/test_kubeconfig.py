from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.kube import kubeconfig
from kurator.kube.kubeconfig import ClusterAccess


def _entry(name: str) -> ClusterAccess:
    return ClusterAccess(name, f"https://127.0.0.1:6443/{name}", b"CA", b"CERT", b"KEY")


def test_build_write_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    cfg = kubeconfig.build([_entry("a"), _entry("b")])
    assert kubeconfig.write(path, cfg) is True
    assert path.stat().st_mode & 0o777 == 0o600
    assert kubeconfig.write(path, cfg) is False  # unchanged content is not rewritten
    loaded = kubeconfig.load(path)
    assert kubeconfig.context_names(loaded) == ["a", "b"]
    assert kubeconfig.check_context(loaded, None, path) == "a"
    assert kubeconfig.check_context(loaded, "b", path) == "b"


def test_errors_name_the_file_and_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        kubeconfig.load(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.write_text("clusters: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        kubeconfig.load(bad)
    empty = tmp_path / "empty"
    empty.write_text(yaml.safe_dump({"kind": "Config"}))
    with pytest.raises(InvalidInput, match="no clusters or contexts"):
        kubeconfig.load(empty)
    good = tmp_path / "good"
    kubeconfig.write(good, kubeconfig.build([_entry("a")]))
    with pytest.raises(InvalidInput, match="context 'zzz' is not in kubeconfig"):
        kubeconfig.check_context(kubeconfig.load(good), "zzz", good)


def test_default_path_follows_kubectl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path}/one:{tmp_path}/two")
    assert kubeconfig.default_path() == tmp_path / "one"
    assert kubeconfig.default_path(str(tmp_path / "x")) == tmp_path / "x"
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kubeconfig.default_path() == tmp_path / ".kube" / "config"


def _file(path: Path, data: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_kubeconfig_lists_merge_as_kubectl_merges_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _file(
        tmp_path / "a" / "config",
        {
            "clusters": [
                {"name": "shared", "cluster": {"server": "https://a:6443", "certificate-authority": "ca.crt"}}
            ],
            "users": [{"name": "ua", "user": {"token": "ta"}}],
            "contexts": [{"name": "ctx-a", "context": {"cluster": "shared", "user": "ua"}}],
        },
    )
    b = _file(
        tmp_path / "b" / "config",
        {
            "current-context": "ctx-b",
            "clusters": [
                {"name": "shared", "cluster": {"server": "https://b-loses:6443"}},
                {"name": "cb", "cluster": {"server": "https://b:6443", "certificate-authority": "ca.crt"}},
            ],
            "users": [{"name": "ub", "user": {"client-certificate": "/abs/cert", "client-key": "key"}}],
            "contexts": [
                {"name": "ctx-a", "context": {"cluster": "cb", "user": "ub"}},
                {"name": "ctx-b", "context": {"cluster": "cb", "user": "ub"}},
            ],
        },
    )
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", f"{a}::{missing}:{b}:{a}")
    assert kubeconfig.resolve(None) == [a, missing, b]
    assert kubeconfig.resolve(str(b)) == [b]  # --kubeconfig is one file, as with kubectl
    merged = kubeconfig.load_merged(kubeconfig.resolve(None))
    clusters = {c["name"]: c["cluster"] for c in merged["clusters"]}
    assert clusters["shared"]["server"] == "https://a:6443"  # the first file naming an entry wins
    assert clusters["shared"]["certificate-authority"] == str(
        tmp_path / "a" / "ca.crt"
    )  # relative to its file
    assert clusters["cb"]["certificate-authority"] == str(tmp_path / "b" / "ca.crt")
    users = {u["name"]: u["user"] for u in merged["users"]}
    assert users["ub"] == {"client-certificate": "/abs/cert", "client-key": str(tmp_path / "b" / "key")}
    contexts = {c["name"]: c["context"] for c in merged["contexts"]}
    assert contexts["ctx-a"] == {"cluster": "shared", "user": "ua"}
    assert merged["current-context"] == "ctx-b"  # the first file that sets one


def test_a_kubeconfig_list_of_missing_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="none of the KUBECONFIG files exist"):
        kubeconfig.load_merged([tmp_path / "x", tmp_path / "y"])


def test_access_reads_the_merged_files_and_clients_come_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kurator.kube.client import Access, from_kubeconfig

    a = _file(
        tmp_path / "a",
        {
            "clusters": [{"name": "c", "cluster": {"server": "https://a:1"}}],
            "contexts": [{"name": "ca", "context": {"cluster": "c", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
        },
    )
    b = _file(
        tmp_path / "b",
        {
            "current-context": "cb",
            "clusters": [{"name": "d", "cluster": {"server": "https://b:2"}}],
            "contexts": [{"name": "cb", "context": {"cluster": "d", "user": "u"}}],
            "users": [],
        },
    )
    monkeypatch.setenv("KUBECONFIG", f"{a}:{b}")
    access = Access.resolve(None, None, timeout=7.0)
    assert access.path == a and access.paths == (a, b)
    assert access.config().cluster.server == "https://b:2"  # b's current context, a's user
    assert access.config().user is not None and access.config().user.token == "t"
    assert Access.resolve(None, "ca").config().cluster.server == "https://a:1"
    before = set(tmp_path.iterdir())
    api = from_kubeconfig(yaml.safe_dump(kubeconfig.load_merged([a, b])), "ca", timeout=3.0)
    assert api.config.cluster.server == "https://a:1"
    assert set(tmp_path.iterdir()) == before  # nothing written
    with pytest.raises(InvalidInput, match="context 'nope' is not in kubeconfig the kubeconfig given"):
        from_kubeconfig(kubeconfig.load(a), "nope")
