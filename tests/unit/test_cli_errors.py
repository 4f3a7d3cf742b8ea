"""Errors a person can provoke without a cluster: each is one sentence naming what and where, never
"unexpected <Exception>"; the CLI runs as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.cli import run_kurator

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
"""


def _err(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join(proc.stderr.split())


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 4)
    return path


@pytest.mark.parametrize("command", [["get", "clusters"], ["get", "components"], ["query", "up"]])
def test_a_binary_kubeconfig_is_named(binary: Path, command: list[str]) -> None:
    proc = run_kurator("--kubeconfig", str(binary), *command)
    assert proc.returncode == 2, proc.stderr
    assert f"error: kubeconfig {binary} is binary, not a text file" in _err(proc)
    assert "unexpected" not in proc.stderr


def test_a_binary_or_latin1_plan_file_is_named(tmp_path: Path, binary: Path) -> None:
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(KUBECONFIG)
    proc = run_kurator("--kubeconfig", str(kubeconfig), "cluster", "plan", "-f", str(binary))
    assert proc.returncode == 2 and f"error: plan file {binary} is binary, not a text file" in _err(proc)
    latin = tmp_path / "cluster.yaml"
    latin.write_bytes("kind: CustomCluster\nmetadata: {name: caf\xe9}\n".encode("latin-1"))
    proc = run_kurator("--kubeconfig", str(kubeconfig), "cluster", "plan", "-f", str(latin))
    assert proc.returncode == 2 and f"plan file {latin} is not UTF-8 text (byte 40" in _err(proc)


def test_artifacts_pull_to_a_file_says_so_and_touches_it_not(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    target.write_text("mine\n")
    proc = run_kurator("artifacts", "pull", "standin", "--to", str(target))
    assert proc.returncode == 2, proc.stderr
    assert f"error: --to {target} is a file, not a folder" in _err(proc)
    assert target.read_text() == "mine\n"


def test_a_damaged_bundle_index_is_named(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{damaged")
    proc = run_kurator("artifacts", "pull", "standin", "--to", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert f"the bundle's index {tmp_path / 'index.json'} is not valid JSON" in _err(proc)


@pytest.mark.parametrize("verbose", [[], ["--verbose"], ["-v"]])
def test_the_hint_to_run_with_verbose_is_not_given_to_who_did(
    verbose: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import platform

    from kurator.cli import main

    def broken() -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(platform, "python_version", broken)
    monkeypatch.setattr(sys, "argv", ["kurator", "version", *verbose])
    with pytest.raises(SystemExit) as ended:
        main.run()
    err = capsys.readouterr().err
    assert ended.value.code == 1 and "a bug" in err
    assert ("run again with --verbose" in err) is not bool(verbose), err
    assert ("Traceback" in err) is bool(verbose), err


def test_a_path_that_cannot_be_used_is_named(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    proc = run_kurator("local", "down", "--home", str(afile))
    assert proc.returncode == 1 and f"error: cannot use {afile}: it is a file" in _err(proc), proc.stderr
    assert afile.read_text() == "mine\n"


@pytest.mark.parametrize(
    ("args", "option", "where"),
    [
        (["cluster", "plan", "-f"], "-f", "kurator cluster plan"),
        (["install", "prometheus", "--wait-timeout"], "--wait-timeout", "kurator install prometheus"),
    ],
)
def test_an_option_given_no_value_is_said_as_every_other_error(
    args: list[str], option: str, where: str
) -> None:
    proc = run_kurator(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: Option '{option}' requires an argument.",
        f"hint: see `{where} --help`",
    ]
