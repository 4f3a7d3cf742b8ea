"""From the callback's events to the summary the operator puts in a condition: which host failed, at which
task, and what Ansible said, in at most 4096 bytes of JSON (Kubernetes keeps no more of a termination
message, and a cut-off JSON text would be unreadable).

Pure functions: events in, a dict or a JSON text out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

LIMIT = 4096  # bytes Kubernetes keeps of a container's termination message
MESSAGE_LIMIT = 1024  # a message longer than this is cut first, before anything else is dropped
NAME_LIMIT = 200  # host, task, play and playbook names
ELLIPSIS = " … "
STAT_FIELDS = {"ok": "ok", "changed": "changed", "failed": "failures", "unreachable": "unreachable"}
# What ansible-playbook's exit codes mean when no task says more (lib/ansible/cli/__init__.py).
EXIT_MEANING = {
    1: "ansible-playbook reported an error",
    2: "one or more hosts failed",
    3: "one or more hosts were unreachable",
    4: "ansible-playbook could not parse its input",
    5: "ansible-playbook was given bad or incomplete options",
    99: "ansible-playbook was interrupted",
    250: "ansible-playbook hit an unexpected error",
}

Scrub = Callable[[str], str]


def _lines_tail(text: str, lines: int = 3) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def failure_message(event: Mapping[str, Any]) -> str:
    """One message from a failed or unreachable result: Ansible's ``msg``, and for a command that exited
    non-zero its return code and the tail of what it printed, since "non-zero return code" alone says
    nothing."""
    item = event.get("failed_item")
    if isinstance(item, Mapping):
        label = item.get("item")
        inner = failure_message(item)
        return f"item {label}: {inner}" if label not in (None, "") else inner
    if event.get("censored"):
        return str(event["censored"])
    msg = str(event.get("msg") or event.get("reason") or "").strip()
    details: list[str] = []
    if event.get("rc") not in (None, 0):
        details.append(f"rc={event['rc']}")
    for key in ("stderr", "module_stderr", "stdout", "module_stdout"):
        text = event.get(key)
        if isinstance(text, str) and text.strip():
            details.append(f"{key}: {_lines_tail(text)}")
            break
    if not msg:
        return "; ".join(details) or "no message"
    return f"{msg} ({'; '.join(details)})" if details else msg


def _stats(hosts: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    return {
        str(host): {name: int(counts.get(field, 0) or 0) for name, field in STAT_FIELDS.items()}
        for host, counts in hosts.items()
    }


def build(
    events: Iterable[Mapping[str, Any]],
    exit_code: int,
    playbook: str | None = None,
    output_tail: Sequence[str] = (),
) -> dict[str, Any]:
    """The summary of one run. The failure named is the first fatal one: for each host that ended with
    failures, its last unignored failure (an earlier one may have been rescued), and of those the one that
    happened first. With no such failure, the first unreachable host; with neither and a non-zero exit
    (a syntax error, a missing inventory, a stopped run), the last task started and the last lines
    ansible-playbook printed."""
    failures: list[tuple[int, Mapping[str, Any]]] = []
    unreachable: list[tuple[int, Mapping[str, Any]]] = []
    stats: dict[str, dict[str, int]] = {}
    playbooks: list[tuple[int, str]] = []
    last_task: str | None = None
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "failed" and not event.get("ignore_errors"):
            failures.append((index, event))
        elif kind == "unreachable":
            unreachable.append((index, event))
        elif kind == "stats" and isinstance(event.get("hosts"), Mapping):
            stats = _stats(event["hosts"])
        elif kind == "task" and event.get("task"):
            last_task = str(event["task"])
        elif kind == "playbook" and event.get("file"):
            playbooks.append((index, str(event["file"])))

    fatal: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for index, event in failures:
        host = str(event.get("host"))
        if not stats or stats.get(host, {}).get("failed", 0) > 0:
            fatal[host] = (index, event)  # the last one per host wins
    chosen = (
        min(fatal.values(), key=lambda pair: pair[0]) if fatal else (unreachable[0] if unreachable else None)
    )

    summary: dict[str, Any] = {
        "ok": exit_code == 0,
        "exit_code": exit_code,
        "playbook": playbook,
        "failed_host": None,
        "task": None,
        "message": None,
        "unreachable": list(dict.fromkeys(str(e.get("host")) for _, e in unreachable)),
        "stats": stats,
    }
    if playbooks:
        at = chosen[0] if chosen else playbooks[-1][0]
        started = [name for index, name in playbooks if index <= at] or [playbooks[0][1]]
        summary["playbook"] = started[-1]
    if exit_code != 0 and chosen is not None:
        event = chosen[1]
        summary.update(
            failed_host=str(event.get("host")), task=str(event.get("task")), message=failure_message(event)
        )
    elif exit_code != 0:
        summary["task"] = last_task  # the task that was running when the run stopped, if one had started
        tail = _lines_tail("\n".join(output_tail), 5)
        meaning = EXIT_MEANING.get(exit_code, f"ansible-playbook exited with {exit_code}")
        summary["message"] = f"{meaning}: {tail}" if tail else meaning
    return summary


def scrubbed(summary: Mapping[str, Any], scrub: Scrub) -> dict[str, Any]:
    """Every text in the summary, host names and stats keys included, through ``scrub``."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, Mapping):
            return {scrub(str(k)): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result: dict[str, Any] = walk(summary)
    return result


def _dumps(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, separators=(",", ":"))


def _size(summary: Mapping[str, Any]) -> int:
    return len(_dumps(summary).encode("utf-8"))


def shorten(text: str, chars: int) -> str:
    """``text`` in at most ``chars`` characters, keeping its start and its end (an error's cause is often
    at the end of what a command printed)."""
    if len(text) <= chars:
        return text
    if chars <= len(ELLIPSIS):
        return text[:chars]
    keep = chars - len(ELLIPSIS)
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]


def _fit_message(summary: dict[str, Any], limit: int) -> bool:
    """Shorten the message to the longest that fits; False when even an empty one does not."""
    message = summary.get("message")
    if not isinstance(message, str):
        return _size(summary) <= limit
    low, high = 0, len(message)
    while low < high:  # the longest prefix budget whose JSON fits
        mid = (low + high + 1) // 2
        summary["message"] = shorten(message, mid)
        if _size(summary) <= limit:
            low = mid
        else:
            high = mid - 1
    summary["message"] = shorten(message, low)
    return _size(summary) <= limit


def bounded(summary: Mapping[str, Any], limit: int = LIMIT) -> str:
    """The summary as compact JSON of at most ``limit`` bytes. What goes, in order, until it fits: long
    names and a long message are shortened; stats of hosts that had no trouble; the unreachable list's
    tail; every host's stats; then the message is cut to what is left. ``"truncated": true`` says
    something was left out (the full story is in the Job's log)."""
    text = _dumps(summary)
    if len(text.encode("utf-8")) <= limit:
        return text
    s: dict[str, Any] = dict(summary)
    s["truncated"] = True
    for key in ("failed_host", "task", "playbook"):
        if isinstance(s.get(key), str):
            s[key] = shorten(s[key], NAME_LIMIT)
    if isinstance(s.get("message"), str):
        s["message"] = shorten(s["message"], MESSAGE_LIMIT)
    if _size(s) <= limit:
        return _dumps(s)

    stats: dict[str, dict[str, int]] = dict(s.get("stats") or {})
    troubled = {h: c for h, c in stats.items() if c.get("failed") or c.get("unreachable")}
    if len(troubled) < len(stats):
        s["stats"] = troubled
        s["stats_omitted"] = len(stats) - len(troubled)
        if _size(s) <= limit:
            return _dumps(s)

    hosts: list[str] = list(s.get("unreachable") or [])
    while hosts and _size(s) > limit:
        hosts = hosts[: len(hosts) // 2]
        s["unreachable"] = hosts
        s["unreachable_omitted"] = len(summary.get("unreachable") or []) - len(hosts)
    if _size(s) <= limit:
        return _dumps(s)

    if s.get("stats"):
        s["stats"] = {}
        s["stats_omitted"] = len(stats)
    if _fit_message(s, limit):
        return _dumps(s)
    # Only pathological names get here (hundreds of multi-byte characters): keep what the operator needs.
    minimal = {k: s.get(k) for k in ("ok", "exit_code", "failed_host", "task", "message", "truncated")}
    for key in ("failed_host", "task"):
        value = minimal[key]
        if isinstance(value, str):
            minimal[key] = shorten(value, 40)
    _fit_message(minimal, limit)
    return _dumps(minimal)
