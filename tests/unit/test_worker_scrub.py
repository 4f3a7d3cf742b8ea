"""What the worker never writes: private keys, and values of secret-named env vars and extra-vars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kurator.worker import summary
from kurator.worker.scrub import (
    REDACTED,
    REDACTED_KEY,
    Scrubber,
    extra_vars,
    key_files,
    scrubber_for,
    secret_name,
)

KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACBg0tBq5bJ9dQmTWH7Zq0bqkYh8bQ0tZx3cU7kQn9yXkAAAAJgq0oZCKtKG\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ansible_password", True),
        ("ansible_become_pass", True),
        ("DB_PASSWD", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GITHUB_TOKEN", True),
        ("api_key", True),
        ("ANSIBLE_PRIVATE_KEY_FILE", False),  # where the key is, not the key
        ("ssh_key_path", False),
        ("kube_version", False),
        ("PATH", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def test_a_key_block_goes_whole_even_inside_json_or_cut_short() -> None:
    scrub = Scrubber()
    assert scrub(f"before {KEY} after") == f"before {REDACTED_KEY}\n after"
    escaped = json.dumps({"msg": KEY})
    assert scrub(escaped) == json.dumps({"msg": REDACTED_KEY + "\n"})
    cut = KEY[:80]  # a message truncated in the middle of the key
    assert scrub("x " + cut) == "x " + REDACTED_KEY
    assert "b3BlbnNz" not in scrub("x " + cut)


def test_secret_values_are_replaced_longest_first_in_every_form() -> None:
    scrub = Scrubber.of(["hunter2-long", "hunter2-long-and-longer", 'p"ss\\word'])
    assert scrub("a hunter2-long-and-longer b hunter2-long") == f"a {REDACTED} b {REDACTED}"
    assert scrub(json.dumps({"v": 'p"ss\\word'})) == json.dumps({"v": REDACTED})


def test_harmless_and_tiny_values_are_not_secrets() -> None:
    scrub = Scrubber.of(["False", "yes", "", "ab"])
    assert scrub("host key checking False; ab yes") == "host key checking False; ab yes"


def test_the_environment_extra_vars_and_key_files_feed_the_scrubber(tmp_path: Path) -> None:
    key_file = tmp_path / "id"
    key_file.write_text(KEY)
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text("registry:\n  auth_token: tok-from-a-file\n  url: https://registry.example\n")
    argv = [
        "ansible-playbook",
        "-e",
        "admin_password=pw-from-kv kube_version=v1.35.0",
        "--extra-vars",
        json.dumps({"cloud": {"secret_key": "from-json-0123"}, "nodes": [{"api_token": "in-a-list"}]}),
        "-e@" + str(vars_file),
        "--private-key",
        str(key_file),
        "cluster.yml",
    ]
    environ = {"MY_SECRET": "from-env-var", "ANSIBLE_HOST_KEY_CHECKING": "False", "HOME": "/root"}
    scrub = scrubber_for(argv, environ)
    text = (
        "pw-from-kv v1.35.0 from-json-0123 in-a-list tok-from-a-file https://registry.example "
        f"from-env-var False /root {key_file} " + KEY.splitlines()[1]
    )
    assert scrub(text) == (
        f"{REDACTED} v1.35.0 {REDACTED} {REDACTED} {REDACTED} https://registry.example "
        f"{REDACTED} False /root {key_file} {REDACTED}"
    )


def test_extra_vars_forms() -> None:
    assert extra_vars(
        ["x", "-e", "a=1 b='two words'", "--extra-vars=c=3", "-ed=4", "--extra-vars", "{}"]
    ) == [
        {"a": "1", "b": "two words"},
        {"c": "3"},
        {"d": "4"},
        {},
    ]
    assert extra_vars(["x", "-e", "@/does/not/exist.yml"]) == []


def test_key_files_from_argv_and_environment() -> None:
    argv = ["ansible-playbook", "--private-key", "/a", "--key-file=/b"]
    assert key_files(argv, {"ANSIBLE_PRIVATE_KEY_FILE": "/c"}) == ["/a", "/b", "/c"]


def test_a_key_block_over_many_lines_of_a_stream_is_dropped() -> None:
    lines = Scrubber.of(["s3cret-value"]).lines()
    stream = [
        "ok: [node0]\n",
        "msg: " + KEY.splitlines()[0] + "\n",
        *(line + "\n" for line in KEY.splitlines()[1:]),
        "s3cret-value done\n",
    ]
    out = [lines(line) for line in stream]
    assert out[0] == "ok: [node0]\n"
    assert out[1] == f"msg: {REDACTED_KEY}\n"
    assert all(o == "" for o in out[2:-1])  # the END line too: nothing follows it
    assert lines("x -----END OPENSSH PRIVATE KEY----- tail\n") == "x -----END OPENSSH PRIVATE KEY----- tail\n"
    assert out[-1] == f"{REDACTED} done\n"
    # What follows the END on its line is kept.
    lines = Scrubber().lines()
    assert lines("a " + KEY.splitlines()[0] + "\n") == f"a {REDACTED_KEY}\n"
    assert lines("zzz -----END OPENSSH PRIVATE KEY----- rest\n") == " rest\n"


def test_every_text_of_a_summary_is_scrubbed() -> None:
    scrub = Scrubber.of(["topsecret"])
    dirty = {
        "ok": False,
        "failed_host": "node-topsecret",
        "task": "t topsecret",
        "message": f"m topsecret {KEY}",
        "unreachable": ["topsecret"],
        "stats": {"topsecret": {"ok": 1}},
    }
    clean = summary.scrubbed(dirty, scrub)
    assert "topsecret" not in json.dumps(clean)
    assert "PRIVATE KEY-----" not in json.dumps(clean)
    assert clean["ok"] is False
    assert clean["stats"] == {REDACTED: {"ok": 1}}
