"""Validation that cannot be slipped past: every numeric and name option of every command is checked while
the command line is parsed, with full matches and finite numbers, against nan, inf, negatives, empty values,
a trailing newline and 10 KB values; and every option is classified, so a new one cannot skip this."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import typer

from kurator.cli.main import command
from kurator.cli.options import GlobalOptions
from kurator.core.errors import InvalidInput
from tests.unit.cli import run_kurator

ROOT = command()
UsageError: type[Exception] = typer.BadParameter.__mro__[1]  # click's, whichever click Typer uses
KB10 = 10 * 1024

# What each strict parser (by its metavar) takes: a valid value, and what must be refused besides the
# common cases (empty, the valid value with a trailing newline, 10 KB).
VALID = {
    "seconds": "30",
    "integer": "2",
    "name": "dev",
    "names": "member1,member2",
    "namespace": "default",
    "cluster": "member1",
    "context": "kurator-host",
    "user": "root",
    "version": "v1.35.4",
    "duration": "2h",
    "host:port": "127.0.0.1:9440",
    "url": "http://127.0.0.1:9090",
    "host": "10.0.0.1",
    "timeout": "30s",
}
NUMERIC = {"seconds", "integer", "duration", "timeout"}
VALID_FOR = {"--api-port": "6443"}  # where the kind's valid value is out of the option's range
ALLOWED = {("operator", "run", "--listen"): {""}}  # '' serves nothing
# Options that take any text by design (a query, chart values, paths) or are checked as a whole pair
# by their command before anything is read or sent.
FREE_TEXT = {
    ("query", "promql"),
    ("install", "--set"),
    ("install", "--cluster-label"),
    ("install", "--sidecar-endpoint"),
    ("install", "--federate-endpoint"),
    ("install", "--deploy-key"),  # checked by kurator, whose messages never echo it (a parser's would)
    ("install", "--fleet"),
    ("install", "--host-kubeconfig"),
    ("uninstall", "--host-kubeconfig"),
    ("artifacts", "components"),
    ("tool", "names"),  # checked against the pinned ones, each unknown name said
    ("*", "--kubeconfig"),
}


def _leaves(cmd: Any = ROOT, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if subs is None:
        return [(path, cmd)]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


def _kind(param: Any) -> str:
    """How a parameter is checked: ``flag``, ``choice``, ``path``, a strict parser's metavar, or ``text``."""
    type_ = param.type
    if getattr(param, "is_flag", False) or type_.name == "boolean":
        return "flag"
    if type_.name == "choice":
        return "choice"
    if type_.name == "path" or type(type_).__name__ == "TyperPath":
        return "path"
    func = getattr(type_, "func", None)
    if func is not None and func.__name__ in VALID:
        return str(func.__name__)
    return "text"


def _params() -> list[tuple[tuple[str, ...], Any, Any]]:
    return [(path, leaf, p) for path, leaf in _leaves() for p in leaf.params if not p.hidden]


def _id(path: tuple[str, ...], param: Any) -> str:
    return f"{' '.join(path)} {param.opts[0]}"


STRICT = [(path, leaf, p) for path, leaf, p in _params() if _kind(p) in VALID]


def _bad_values(kind: str) -> list[str]:
    valid = VALID[kind]
    common = ["", valid + "\n", "\n" + valid, (valid * KB10)[:KB10], valid + " "]
    if kind in NUMERIC:
        return [*common, "nan", "inf", "-inf", "-5", "1e3", "0x10"]
    return [*common, "-5" if kind != "context" else "a\tb"]


def _args(leaf: Any, param: Any, value: str) -> list[str]:
    """An argument list for ``leaf`` with ``param`` set to ``value`` and every other required one valid."""
    args: list[str] = []
    for p in leaf.params:
        given = value if p is param else None
        if given is None and not p.required:
            continue
        if given is None:
            given = VALID.get(_kind(p), "x")
        args += [given] if p.param_type_name == "argument" else [p.opts[0], given]
    return args


def _parse(path: tuple[str, ...], leaf: Any, args: list[str]) -> Any:
    root = ROOT.make_context("kurator", [*path])
    root.obj = GlobalOptions()
    return leaf.make_context(path[-1], args, parent=root)


def test_every_option_is_classified() -> None:
    """A string or number option must have a strict parser, or be named here as free text."""
    unclassified = []
    for path, _, param in _params():
        click_type = type(param.type).__name__
        if click_type in ("IntParamType", "FloatParamType") or "Range" in click_type:
            unclassified.append(f"{_id(path, param)} uses click's {click_type}: use kurator.cli.params")
        elif (
            _kind(param) == "text"
            and not {(path[0], param.name), (path[0], param.opts[0]), ("*", param.opts[0])} & FREE_TEXT
        ):
            unclassified.append(_id(path, param))
    assert unclassified == []
    assert len(STRICT) > 40  # the walk below covers many options, not a few


@pytest.mark.parametrize(("path", "leaf", "param"), STRICT, ids=[_id(p, q) for p, _, q in STRICT])
def test_every_numeric_and_name_option_refuses_bad_values(
    path: tuple[str, ...], leaf: Any, param: Any
) -> None:
    kind = _kind(param)
    _parse(path, leaf, _args(leaf, param, VALID_FOR.get(param.opts[0], VALID[kind])))  # a valid value passes
    for bad in _bad_values(kind):
        if bad in ALLOWED.get((*path, param.opts[0]), ()):
            continue
        with pytest.raises(UsageError) as refused:
            _parse(path, leaf, _args(leaf, param, bad))
        message = refused.value.format_message()
        assert len(message) < 400, f"{_id(path, param)} repeats a long value: {message[:100]}…"
        assert "\n" not in message.strip(), message


def test_global_options_work_before_and_after_the_command(tmp_path: Path) -> None:
    for path, leaf in _leaves():
        ctx = _parse(path, leaf, [*_args(leaf, None, ""), "--context", "c2", "-v", "--kubeconfig", "/k"])
        assert ctx.find_root().obj == GlobalOptions(kubeconfig="/k", context="c2", verbose=True), path


@pytest.mark.parametrize("value", ["nan", "inf", "-5"])
def test_the_issues_wait_timeout_and_newline_name_start_nothing(tmp_path: Path, value: str) -> None:
    home = tmp_path / "fleet"
    proc = run_kurator("local", "up", "--home", str(home), "--wait-timeout", value, home=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Invalid value for '--wait-timeout'" in proc.stderr
    proc = run_kurator("local", "up", "--name", "dev\n", "--home", str(home), home=tmp_path)
    assert proc.returncode == 2 and "fleet name 'dev\\n' is not valid" in proc.stderr
    assert not home.exists() and not (tmp_path / "local").exists()


def test_the_local_fleet_refuses_a_timeout_that_is_no_number_without_the_cli(tmp_path: Path) -> None:
    from kurator.local import fleet

    for value in (math.nan, math.inf, -5.0, 0.0):
        opts = fleet.UpOptions(name="dev", home=tmp_path / "dev", wait_timeout=value)
        with pytest.raises(InvalidInput, match="--wait-timeout must be a positive number of seconds"):
            fleet.up(opts, lambda *_: {}, ["v1.35.4"])
    assert not (tmp_path / "dev").exists()


def test_the_issues_global_options_after_the_subcommand(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: "
        "'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    for args in (
        ["install", "cluster-operator", "--kubeconfig", str(kubeconfig), "--context", "nope", "--dry-run"],
        ["--kubeconfig", str(kubeconfig), "install", "cluster-operator", "--context", "nope", "--dry-run"],
        ["--context", "c", "get", "clusters", "--kubeconfig", str(kubeconfig), "--context", "nope"],
    ):
        proc = run_kurator(*args, home=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert f"context 'nope' is not in kubeconfig {kubeconfig}" in proc.stderr, proc.stderr
    proc = run_kurator("-o", "json", "version", home=tmp_path)
    assert proc.returncode == 0 and '"version":' in proc.stdout, proc.stderr
    proc = run_kurator("-o", "json", "local", "down", "--home", str(tmp_path / "x"), home=tmp_path)
    assert proc.returncode == 2 and "`kurator local down` has no output to format" in proc.stderr
    proc = run_kurator("--kubeconfig", str(tmp_path / "none"), "get", "clusters", "--verbose", home=tmp_path)
    assert proc.returncode == 2 and f"kubeconfig {tmp_path / 'none'} does not exist" in proc.stderr
    assert "Traceback" in proc.stderr  # --verbose after the command shows the traceback
