# An Ansible callback plugin shipped with kurator's worker (kurator.worker.playbook puts this directory on
# ANSIBLE_CALLBACK_PLUGINS). It writes one JSON line per event that matters for "why did the playbook
# fail" to the file named by $KURATOR_EVENTS_FILE; kurator.worker.summary folds them into the summary.
# It does nothing without that variable, and leaves the stdout callback (what `kubectl logs` shows) alone.
"""Records failures, unreachable hosts and the final stats of a playbook run as JSON lines."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: kurator_events
    type: aggregate
    short_description: kurator's machine-readable record of failures and stats
    description:
      - Writes failures, unreachable hosts and the final stats as JSON lines to $KURATOR_EVENTS_FILE.
"""

EVENTS_FILE_ENV = "KURATOR_EVENTS_FILE"
# Bounds what one event carries: the summary keeps far less (4096 bytes in all); stderr keeps its tail,
# where the error usually is.
FIELD_LIMIT = 4000
FIELDS = ("msg", "rc", "stderr", "stdout", "module_stderr", "module_stdout", "censored", "reason")


def _text(value: Any, tail: bool = False) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if len(text) > FIELD_LIMIT:
        return "…" + text[-FIELD_LIMIT:] if tail else text[:FIELD_LIMIT] + "…"
    return text


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: _text(data[k], tail=k.endswith(("stderr", "stdout"))) for k in FIELDS if k in data}
    results = data.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, Mapping) and (item.get("failed") or item.get("unreachable")):
                failed_item = {
                    k: _text(item[k], tail=k.endswith(("stderr", "stdout"))) for k in FIELDS if k in item
                }
                label = item.get("_ansible_item_label", item.get("item"))
                failed_item["item"] = _text(label)
                out["failed_item"] = failed_item
                break
    return out


def _parts(result: Any) -> tuple[str, str, Mapping[str, Any]]:
    """Host name, task name and result data, from the 2.19+ public names or the older private ones."""
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    data = getattr(result, "result", None)
    if not isinstance(data, Mapping):
        data = result._result
    return str(host.get_name()), str(task.get_name()), data


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kurator_events"
    # Loaded whenever its directory is on the plugin path, so the user's callbacks_enabled stays as it is.
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = os.environ.get(EVENTS_FILE_ENV)
        self._out: IO[str] | None = Path(path).open("a", encoding="utf-8") if path else None  # noqa: SIM115
        self._play = ""

    def _emit(self, event: dict[str, Any]) -> None:
        if self._out is None:
            return
        self._out.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
        self._out.flush()  # a run killed half-way still leaves what happened so far

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._emit({"event": "playbook", "file": str(getattr(playbook, "_file_name", ""))})

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._play = str(play.get_name())

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        # Names the task that was running when a run is stopped (a deadline, a deleted Pod).
        self._emit({"event": "task", "task": str(task.get_name())})

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._emit({"event": "task", "task": str(task.get_name())})

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        host, task, data = _parts(result)
        self._emit(
            {
                "event": "failed",
                "host": host,
                "task": task,
                "play": self._play,
                "ignore_errors": bool(ignore_errors),
                **_fields(data),
            }
        )

    def v2_runner_on_unreachable(self, result: Any) -> None:
        host, task, data = _parts(result)
        self._emit({"event": "unreachable", "host": host, "task": task, "play": self._play, **_fields(data)})

    def v2_playbook_on_stats(self, stats: Any) -> None:
        hosts = {str(h): stats.summarize(h) for h in sorted(stats.processed)}
        self._emit({"event": "stats", "hosts": hosts})
