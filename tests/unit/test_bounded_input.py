"""Bounded reading of the files people hand kurator: size limit, text only, YAML aliases and nesting bounded,
each refusal naming the file."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kurator.core import inputs
from kurator.core.errors import InvalidInput


def anchor_bomb(levels: int = 9, width: int = 9, indent: str = "  ") -> str:
    """Nested anchors: each level lists the previous one ``width`` times (9 levels: 9**9 strings)."""
    lines = [f"{indent}a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"{indent}a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


BOMB_PLAN = (
    "apiVersion: cluster.kurator.dev/v1alpha1\nkind: CustomCluster\nmetadata: {name: boom}\nspec:\n"
    + anchor_bomb()
)


def test_the_issues_anchor_bomb_is_refused_before_it_expands() -> None:
    assert len(BOMB_PLAN) < 800  # the issue's file was 706 bytes
    began = time.perf_counter()
    with pytest.raises(InvalidInput, match=r"plan\.yaml uses YAML aliases that expand it by more than"):
        inputs.load_yaml_all(BOMB_PLAN, "plan.yaml")
    assert time.perf_counter() - began < 5  # a bound against a hang only; the figure is in bench/


def test_anchors_that_share_a_little_are_fine() -> None:
    text = "base: &b {cpu: 1, memory: 2Gi}\na: *b\nb: {<<: *b, cpu: 2}\n"
    assert inputs.load_yaml(text, "f") == {
        "base": {"cpu": 1, "memory": "2Gi"},
        "a": {"cpu": 1, "memory": "2Gi"},
        "b": {"cpu": 2, "memory": "2Gi"},
    }


def test_merge_keys_count_as_expansion() -> None:
    lines = ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]")
    lines.append("m: {<<: *a8}")
    with pytest.raises(InvalidInput, match="expand it by more than"):
        inputs.load_yaml("\n".join(lines), "f")


def test_a_recursive_alias_and_deep_nesting_are_refused() -> None:
    with pytest.raises(InvalidInput, match="alias that refers to itself"):
        inputs.load_yaml("a: &a [*a]\n", "f")
    for text in ("[" * 5000 + "]" * 5000, "a:\n" + "".join(" " * i + "- \n" for i in range(1, 400))):
        with pytest.raises(InvalidInput, match="f nests deeper than 100 levels"):
            inputs.load_yaml(text, "f")
    with pytest.raises(InvalidInput, match="j nests deeper than 100 levels"):
        inputs.load_json("[" * 100000 + "]" * 100000, "j")
    with pytest.raises(InvalidInput, match="j nests deeper than 100 levels"):
        inputs.load_json("[" * 150 + "]" * 150, "j")


def test_yaml_errors_name_the_place_never_the_text() -> None:
    with pytest.raises(InvalidInput) as err:
        inputs.load_yaml("user:\n  token: 'sekrit-token-value\n", "kubeconfig kc")
    assert "kubeconfig kc is not valid YAML" in err.value.message and "line" in err.value.message
    assert "sekrit" not in str(err.value)
    with pytest.raises(InvalidInput, match="holds 2 YAML documents"):
        inputs.load_yaml("a: 1\n---\nb: 2\n", "f")
    with pytest.raises(InvalidInput, match="f holds a value kurator cannot read"):
        inputs.load_yaml("n: " + "9" * 5000, "f")
    with pytest.raises(InvalidInput, match="j is not valid JSON: Expecting value at line 1"):
        inputs.load_json("nope", "j")


def test_files_are_refused_by_size_content_and_kind_with_their_name(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(20 * inputs.MiB)
    with pytest.raises(InvalidInput, match=rf"plan file {big} is 20.0 MiB: kurator reads at most 4.0 MiB"):
        inputs.read_text(big, "plan file")
    binary = tmp_path / "kc"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    with pytest.raises(InvalidInput, match=rf"kubeconfig {binary} is binary, not a text file"):
        inputs.read_text(binary, "kubeconfig")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"latin.yaml is not UTF-8 text \(byte 9 cannot be decoded\)"):
        inputs.read_text(latin, "plan file")
    with pytest.raises(InvalidInput, match=rf"plan file {tmp_path} is a folder, not a file"):
        inputs.read_text(tmp_path, "plan file")
    with pytest.raises(InvalidInput, match="plan file /nonexistent/x does not exist"):
        inputs.read_text("/nonexistent/x", "plan file")
    ok = tmp_path / "ok.yaml"
    ok.write_text("name: café\n")
    assert inputs.read_text(ok, "plan file") == "name: café\n"


def test_a_device_or_pipe_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(InvalidInput, match="/dev/zero holds more than 1 KiB, the most kurator reads from it"):
        inputs.read_text("/dev/zero", "plan file", limit=1024)
    read, write = os.pipe()
    with os.fdopen(write, "wb") as w:
        w.write(b"a: 1\n")
    with os.fdopen(read, "rb") as r:
        assert inputs.read_stream(r, "standard input") == "a: 1\n"


def test_a_20_mb_plan_file_is_refused_by_the_cli_at_once_in_little_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (20 * inputs.MiB) + "\n")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB_PLAN)
    kubeconfig = tmp_path / "kc"  # never reached: the files are refused first
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: "
        "'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    for path, message in ((big, "is 20.0 MiB"), (bomb, "uses YAML aliases")):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kurator",
                "--kubeconfig",
                str(kubeconfig),
                "cluster",
                "plan",
                "-f",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)),
        )
        assert proc.returncode == 2, proc.stderr
        assert f"plan file {path} {message}" in " ".join(proc.stderr.split())
