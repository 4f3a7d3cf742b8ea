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
