"""The worker's summary: from the callback plugin's events to at most 4096 bytes of valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kurator.worker import summary
from kurator.worker.playbook import ansible_environment, playbook_of


def _stats(**hosts: tuple[int, int, int, int]) -> dict[str, Any]:
    return {
        "event": "stats",
        "hosts": {
            h: {"ok": ok, "changed": ch, "failures": f, "unreachable": u, "skipped": 0, "rescued": 0}
            for h, (ok, ch, f, u) in hosts.items()
        },
    }


def _failed(host: str, task: str, msg: str, **extra: Any) -> dict[str, Any]:
    return {
        "event": "failed",
        "host": host,
        "task": task,
        "play": "p",
        "ignore_errors": False,
        "msg": msg,
        **extra,
    }


def test_a_passing_run_is_ok_with_stats_for_every_host() -> None:
    events = [{"event": "playbook", "file": "site.yml"}, _stats(node0=(3, 1, 0, 0), node1=(3, 0, 0, 0))]
    result = summary.build(events, 0)
    assert result == {
        "ok": True,
        "exit_code": 0,
        "playbook": "site.yml",
        "failed_host": None,
        "task": None,
        "message": None,
        "unreachable": [],
        "stats": {
            "node0": {"ok": 3, "changed": 1, "failed": 0, "unreachable": 0},
            "node1": {"ok": 3, "changed": 0, "failed": 0, "unreachable": 0},
        },
    }


def test_the_failure_named_is_the_first_fatal_one() -> None:
    events = [
        {"event": "playbook", "file": "cluster.yml"},
        # rescued later: node1 ends with no failures, so this is not why the run failed
        _failed("node1", "probe", "rescued soon"),
        _failed("node0", "ignored", "does not count", ignore_errors=True),
        _failed("node0", "install etcd", "etcd did not start"),
        _failed("node1", "install etcd", "same, later"),
        _stats(node0=(5, 2, 1, 0), node1=(4, 1, 1, 0)),
    ]
    result = summary.build(events, 2)
    assert (result["ok"], result["failed_host"], result["task"], result["message"]) == (
        False,
        "node0",
        "install etcd",
        "etcd did not start",
    )
    assert result["playbook"] == "cluster.yml"


def test_a_rescued_failure_is_not_named_when_a_later_one_is_fatal() -> None:
    events = [
        _failed("node1", "probe", "rescued"),
        _failed("node0", "join", "kubeadm join timed out"),
        _stats(node0=(1, 0, 1, 0), node1=(2, 0, 0, 0)),
    ]
    assert summary.build(events, 2)["failed_host"] == "node0"


def test_an_unreachable_host_is_listed_and_named_when_no_task_failed() -> None:
    events = [
        {
            "event": "unreachable",
            "host": "node2",
            "task": "ping",
            "msg": "Failed to connect to the host via ssh",
        },
        _stats(node0=(1, 0, 0, 0), node2=(0, 0, 0, 1)),
    ]
    result = summary.build(events, 4)
    assert result["unreachable"] == ["node2"]
    assert (result["failed_host"], result["task"]) == ("node2", "ping")
    assert result["message"] == "Failed to connect to the host via ssh"
    assert result["stats"]["node2"]["unreachable"] == 1


def test_a_failed_task_is_preferred_over_an_unreachable_host() -> None:
    events = [
        {"event": "unreachable", "host": "node2", "task": "ping", "msg": "no route"},
        _failed("node0", "check", "bad"),
        _stats(node0=(0, 0, 1, 0), node2=(0, 0, 0, 1)),
    ]
    result = summary.build(events, 2)
    assert (result["failed_host"], result["unreachable"]) == ("node0", ["node2"])


def test_without_events_the_last_lines_of_output_explain_the_failure() -> None:
    tail = ["", "[ERROR]: the playbook: missing.yml could not be found", ""]
    result = summary.build([], 1, playbook="missing.yml", output_tail=tail)
    assert result["playbook"] == "missing.yml"
    assert result["failed_host"] is None
    assert result["message"] == (
        "ansible-playbook reported an error: [ERROR]: the playbook: missing.yml could not be found"
    )


def test_a_stopped_run_names_the_task_that_was_running() -> None:
    events = [{"event": "task", "task": "ping"}, {"event": "task", "task": "download images"}]
    result = summary.build(events, 143, output_tail=["TASK [download images] ***"])
    assert (result["failed_host"], result["task"]) == (None, "download images")


def test_an_exit_code_with_nothing_printed_still_says_what_it_means() -> None:
    assert summary.build([], 250)["message"] == "ansible-playbook hit an unexpected error"
    assert summary.build([], 42)["message"] == "ansible-playbook exited with 42"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"msg": "plain"}, "plain"),
        (
            {"msg": "non-zero return code", "rc": 3, "stderr": "a\nb\nc\nd\n"},
            "non-zero return code (rc=3; stderr: b\nc\nd)",
        ),
        (
            {"msg": "non-zero return code", "rc": 1, "stderr": "", "stdout": "out"},
            "non-zero return code (rc=1; stdout: out)",
        ),
        (
            {"msg": "MODULE FAILURE", "module_stderr": "Traceback\nKeyError: x"},
            "MODULE FAILURE (module_stderr: Traceback\nKeyError: x)",
        ),
        (
            {"censored": "the output has been hidden due to no_log"},
            "the output has been hidden due to no_log",
        ),
        (
            {"msg": "One or more items failed", "failed_item": {"item": "etcd", "msg": "boom"}},
            "item etcd: boom",
        ),
        ({}, "no message"),
    ],
)
def test_failure_messages(event: dict[str, Any], message: str) -> None:
    assert summary.failure_message(event) == message


def test_playbook_of_a_command_line() -> None:
    assert (
        playbook_of(["ansible-playbook", "-i", "inv.yml", "--private-key", "k", "cluster.yml"])
        == "cluster.yml"
    )
    assert playbook_of(["ansible-playbook", "-e", "@vars.yml", "reset.yml", "-vvv"]) == "reset.yml"
    assert (
        playbook_of(["ansible-playbook", "-i", "hosts.yaml", "-vvv", "--check", "cluster.yml", "-vv"])
        == "cluster.yml"
    )
    assert playbook_of(["ansible-playbook", "--extra-vars=@v.yml", "-e@w.yml", "scale.yml"]) == "scale.yml"
    assert playbook_of(["ansible-playbook", "--version"]) is None


def test_the_callback_directory_comes_first_and_the_default_ones_are_kept(tmp_path: Any) -> None:
    env = ansible_environment({"PATH": "/bin"}, tmp_path / "events")
    dirs = env["ANSIBLE_CALLBACK_PLUGINS"].split(":")
    assert dirs[0].endswith("kurator/worker/callback_plugins")
    assert "/usr/share/ansible/plugins/callback" in dirs
    assert env["KURATOR_EVENTS_FILE"] == str(tmp_path / "events")
    assert "ANSIBLE_CALLBACKS_ENABLED" not in env  # the user's choice of callbacks is left alone
    env = ansible_environment({"ANSIBLE_CALLBACK_PLUGINS": "/mine"}, tmp_path / "events")
    assert env["ANSIBLE_CALLBACK_PLUGINS"].split(":")[1:] == ["/mine"]


# --- bounded to 4096 bytes ---------------------------------------------------------------------------------


def _big(hosts: int = 250, message: str = "x" * 10_000, unreachable: int = 0) -> dict[str, Any]:
    stats = {f"node{i:03d}": {"ok": 120, "changed": 40, "failed": 0, "unreachable": 0} for i in range(hosts)}
    if "node007" in stats:
        stats["node007"]["failed"] = 1
    names = [f"node{i:03d}.a-rather-long-domain.example" for i in range(unreachable)]
    return {
        "ok": False,
        "exit_code": 2,
        "playbook": "cluster.yml",
        "failed_host": "node007",
        "task": "kubernetes/control-plane : kubeadm | Initialize first master",
        "message": message,
        "unreachable": names,
        "stats": stats,
    }


def _decoded(text: str) -> dict[str, Any]:
    assert len(text.encode("utf-8")) <= summary.LIMIT
    result: dict[str, Any] = json.loads(text)
    return result


def test_a_small_summary_is_kept_whole_and_compact() -> None:
    small = summary.build([_failed("n", "t", "m"), _stats(n=(0, 0, 1, 0))], 2)
    text = summary.bounded(small)
    assert json.loads(text) == small
    assert " " not in text.replace("failed_host", "")  # compact separators
    assert "truncated" not in text


def test_a_long_message_keeps_its_start_and_its_end() -> None:
    message = "START " + "y" * 5000 + " THE CAUSE"
    result = _decoded(summary.bounded(_big(hosts=2, message=message)))
    assert result["truncated"] is True
    assert result["message"].startswith("START ")
    assert result["message"].endswith(" THE CAUSE")
    assert " … " in result["message"]
    assert len(result["message"]) <= summary.MESSAGE_LIMIT
    assert set(result["stats"]) == {"node000", "node001"}


def test_many_hosts_keep_the_troubled_ones_in_stats() -> None:
    result = _decoded(summary.bounded(_big(hosts=250, message="etcd did not start")))
    assert result["stats"] == {"node007": {"ok": 120, "changed": 40, "failed": 1, "unreachable": 0}}
    assert result["stats_omitted"] == 249
    assert (result["failed_host"], result["message"]) == ("node007", "etcd did not start")


def test_many_unreachable_hosts_are_cut_and_counted() -> None:
    big = _big(hosts=0, message="m", unreachable=300)
    result = _decoded(summary.bounded(big))
    assert result["unreachable"] == big["unreachable"][: len(result["unreachable"])]
    assert result["unreachable_omitted"] == 300 - len(result["unreachable"])
    assert result["unreachable"]


@pytest.mark.parametrize("hosts", [0, 1, 30, 250])
@pytest.mark.parametrize("unreachable", [0, 10, 250])
@pytest.mark.parametrize("message", ["short", "é" * 3000, '\x01"\\' * 2000, "🙂" * 2000])
def test_always_valid_json_within_the_limit(hosts: int, unreachable: int, message: str) -> None:
    result = _decoded(summary.bounded(_big(hosts=hosts, message=message, unreachable=unreachable)))
    assert result["failed_host"] == "node007"
    assert result["ok"] is False


def test_pathological_names_still_fit() -> None:
    big = _big(hosts=3, message="m" * 5000)
    big["failed_host"] = "\x00" * 5000
    big["task"] = "🙂" * 5000
    big["playbook"] = "\x02" * 5000
    result = _decoded(summary.bounded(big))
    assert result["truncated"] is True


def test_shorten_keeps_both_ends() -> None:
    assert summary.shorten("abcdefghij", 20) == "abcdefghij"
    assert summary.shorten("abcdefghij", 7) == "ab … ij"
    cut = summary.shorten("abcdefghijklmnop", 9)
    assert len(cut) == 9 and cut.startswith("abc") and cut.endswith("p")
