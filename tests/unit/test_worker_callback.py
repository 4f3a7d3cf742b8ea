"""The worker's Ansible callback plugin, driven with stand-in result objects: both ansible-core 2.19's public
names (``result.host``) and the older private ones (``result._host``), loop items, bounded fields."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kurator.worker import summary
from kurator.worker.callback_plugins import kurator_events


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


def _new_style(host: str, task: str, data: dict[str, Any]) -> Any:
    return SimpleNamespace(host=_Named(host), task=_Named(task), result=data)


def _old_style(host: str, task: str, data: dict[str, Any]) -> Any:
    return SimpleNamespace(_host=_Named(host), _task=_Named(task), _result=data)


class _Stats:
    def __init__(self) -> None:
        self.processed = {"node1": 1, "node0": 1}

    def summarize(self, host: str) -> dict[str, int]:
        return {"ok": 2, "failures": int(host == "node1"), "unreachable": 0, "changed": 1, "skipped": 0}


@pytest.fixture
def events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv(kurator_events.EVENTS_FILE_ENV, str(path))
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_of_a_run_fold_into_its_summary(events: Path) -> None:
    plugin = kurator_events.CallbackModule()
    plugin.v2_playbook_on_start(SimpleNamespace(_file_name="cluster.yml"))
    plugin.v2_playbook_on_play_start(_Named("Install Kubernetes"))
    plugin.v2_playbook_on_task_start(_Named("etcd : Configure"), False)
    plugin.v2_runner_on_failed(
        _new_style("node0", "etcd : Configure", {"msg": "ignored"}), ignore_errors=True
    )
    plugin.v2_runner_on_failed(
        _old_style(
            "node1", "etcd : Configure", {"msg": "non-zero return code", "rc": 1, "stderr": "no space"}
        )
    )
    plugin.v2_runner_on_unreachable(_new_style("node2", "etcd : Configure", {"msg": "Connection refused"}))
    plugin.v2_playbook_on_stats(_Stats())
    recorded = _read(events)
    assert [e["event"] for e in recorded] == ["playbook", "task", "failed", "failed", "unreachable", "stats"]
    assert recorded[3] == {
        "event": "failed",
        "host": "node1",
        "task": "etcd : Configure",
        "play": "Install Kubernetes",
        "ignore_errors": False,
        "msg": "non-zero return code",
        "rc": 1,
        "stderr": "no space",
    }
    result = summary.build(recorded, 2)
    assert (result["playbook"], result["failed_host"], result["message"]) == (
        "cluster.yml",
        "node1",
        "non-zero return code (rc=1; stderr: no space)",
    )
    assert result["unreachable"] == ["node2"]
    assert list(result["stats"]) == ["node0", "node1"]


def test_a_loop_records_its_first_failed_item(events: Path) -> None:
    data = {
        "msg": "One or more items failed",
        "results": [
            {"item": "kubelet", "failed": False},
            {"item": "containerd", "failed": True, "msg": "unit not found"},
            {"item": "etcd", "failed": True, "msg": "later"},
        ],
    }
    kurator_events.CallbackModule().v2_runner_on_failed(_new_style("n", "start services", data))
    (event,) = _read(events)
    assert event["failed_item"] == {"item": "containerd", "msg": "unit not found"}
    assert summary.failure_message(event) == "item containerd: unit not found"


def test_long_fields_are_bounded_keeping_the_end_of_stderr(events: Path) -> None:
    data = {"msg": "m" * 10_000, "stderr": "x" * 10_000 + "THE END", "rc": 2}
    kurator_events.CallbackModule().v2_runner_on_failed(_new_style("n", "t", data))
    (event,) = _read(events)
    assert len(event["msg"]) == kurator_events.FIELD_LIMIT + 1
    assert event["stderr"].endswith("THE END")
    assert len(event["stderr"]) == kurator_events.FIELD_LIMIT + 1


def test_without_the_variable_it_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(kurator_events.EVENTS_FILE_ENV, raising=False)
    plugin = kurator_events.CallbackModule()
    plugin.v2_runner_on_failed(_new_style("n", "t", {"msg": "m"}))
    assert list(tmp_path.iterdir()) == []
