"""What Kurator's users type keeps working: `join karmada NAME`, `-c` for `--kubeconfig`, `tool list` and
`version --components` (the CLI run as a user runs it, in a subprocess; nothing here needs a cluster)."""

from __future__ import annotations

import json

import pytest

from kurator.cli.members import _member_name
from kurator.core.errors import InvalidInput
from tests.unit.cli import run_kurator


def test_join_takes_kurators_karmada_word_or_just_the_name() -> None:
    assert _member_name(["karmada", "member1"]) == "member1"
    assert _member_name(["member1"]) == "member1"
    assert _member_name(["karmada"]) == "karmada"  # a member may be called karmada
    with pytest.raises(InvalidInput, match="names 2 clusters"):
        _member_name(["member1", "member2"])


def test_dash_c_is_the_kubeconfig() -> None:
    proc = run_kurator("-c", "/nonexistent/kubeconfig", "get", "clusters")
    assert proc.returncode != 0
    assert "kubeconfig /nonexistent/kubeconfig does not exist" in proc.stderr


def test_tool_list_shows_every_pinned_binary_and_component() -> None:
    proc = run_kurator("tool", "list", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    listed = {(t["name"], t["kind"]): t for t in json.loads(proc.stdout)}
    assert listed[("volcano", "manifests")]["version"] == "1.15.1"
    assert listed[("volcano", "manifests")]["sha256"].startswith("b5fb45a5")
    assert listed[("kube-apiserver", "binary")]["version"] == "1.35.4"
    assert listed[("karmadactl", "binary")]["sha256"] == "Go checksum database"
    assert {"helm", "etcd", "kwok", "thanos", "prometheus"} <= {n for n, _ in listed}
    table = run_kurator("tool", "ls", "volcano", "helm")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split() == ["NAME", "VERSION", "KIND", "STATUS"]
    assert {line.split()[0] for line in table.stdout.strip().split("\n")[1:]} == {"volcano", "helm"}
    unknown = run_kurator("tool", "list", "nosuch")
    assert unknown.returncode != 0 and "unknown tool 'nosuch'" in unknown.stderr


def test_version_components_lists_the_same() -> None:
    proc = run_kurator("version", "--components", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert {t["name"] for t in info["components"]} >= {"volcano", "kube-apiserver", "standin"}
    table = run_kurator("version", "--components")
    assert table.stdout.startswith("kurator ") and "volcano" in table.stdout


def test_unknown_tool_names_are_quoted_and_cut_never_echoed_whole() -> None:
    """A trailing newline or a pasted 10 KB value is named as typed (quoted) and cut, as options' are."""
    from kurator.cli.tools import tools

    with pytest.raises(InvalidInput) as refused:
        tools(["helm", "volcano\n", "x" * 10_000])
    message = refused.value.message
    assert "'volcano\\n'" in message and "\n" not in message
    assert len(message) < 400, message[:100]
    assert "helm" not in message  # only the unknown ones are named
