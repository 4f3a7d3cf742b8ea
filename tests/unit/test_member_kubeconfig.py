"""A member's kubeconfig for join: from a file or held in memory, the same endpoint and CA."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from kurator.core.errors import InvalidInput
from kurator.fleet.memberconfig import MemberKubeconfig
from kurator.kube import kubeconfig
from kurator.kube.kubeconfig import ClusterAccess


def _config() -> dict[str, object]:
    return kubeconfig.build([ClusterAccess("m1", "https://127.0.0.1:6443", b"CA", b"CERT", b"KEY")])


def test_in_memory_and_file_give_the_same_member(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    kubeconfig.write(path, _config())
    from_file = MemberKubeconfig.read(path)
    in_memory = MemberKubeconfig.of(kubeconfig.dump(_config()), "(fetched from m1)")
    assert in_memory.file is None
    for member in (from_file, in_memory):
        assert member.server() == "https://127.0.0.1:6443"
        cluster, ctx = member.cluster(None)
        assert ctx == "m1"
        assert member.ca_bundle(cluster) == base64.b64encode(b"CA").decode()


def test_a_relative_ca_file_is_read_beside_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(b"PEM")
    config = _config()
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(config))
    member = MemberKubeconfig.read(path)
    assert member.ca_bundle({"certificate-authority": "ca.crt"}) == base64.b64encode(b"PEM").decode()


def test_errors_name_the_in_memory_source() -> None:
    with pytest.raises(InvalidInput, match=r"\(fetched from m1\).*no clusters or contexts"):
        MemberKubeconfig.of("kind: Config\n", "(fetched from m1)")
    member = MemberKubeconfig.of(kubeconfig.dump(_config()), "(fetched from m1)")
    with pytest.raises(InvalidInput, match=r"'other' is not in kubeconfig \(fetched from m1\)"):
        member.server("other")
