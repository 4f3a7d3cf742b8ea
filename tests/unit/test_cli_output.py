"""Output for people and for pipes: progress keeps a log alive, a live table never runs into what follows
it, a sentence in a log stays one line."""

from __future__ import annotations

import io
import threading
import time

from rich.console import Console
from rich.table import Table

from kurator.cli.render import ConsoleReporter, LiveTable, duration

CLUSTER = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def piped(width: int = 80) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=width, force_terminal=False, color_system=None), buf


def test_piped_live_table_ends_before_the_summary_that_follows() -> None:
    out, buf = piped()
    live = LiveTable(out=out)
    table = Table()
    table.add_column("CLUSTER")
    table.add_row("member1")
    live.update(table, "0/1 clusters done")
    live.stop()
    out.print("standin installed on member1")
    lines = buf.getvalue().splitlines()
    assert lines[-1] == "standin installed on member1"
    assert lines[-2].startswith("└") and lines[-2].endswith("┘")


def test_piped_progress_prints_a_line_at_least_every_heartbeat() -> None:
    out, buf = piped()
    reporter = ConsoleReporter(out=out, heartbeat=0.05)
    reporter.step("build kube-apiserver")
    reporter.progress("120/4000 packages")
    deadline = time.monotonic() + 10
    while buf.getvalue().count("build kube-apiserver … 120/4000 packages") < 2:
        assert time.monotonic() < deadline, buf.getvalue()
        time.sleep(0.01)
    reporter.done("build kube-apiserver", 1.0)
    threads = [t for t in threading.enumerate() if t.daemon and t.is_alive()]
    assert buf.getvalue().splitlines()[0] == "… build kube-apiserver"
    assert buf.getvalue().splitlines()[-1] == "✓ build kube-apiserver (1.0s)"
    assert reporter._ticker is None and all(t is not reporter._ticker for t in threads)


def test_piped_progress_never_wraps_a_finished_step() -> None:
    out, buf = piped(width=40)
    reporter = ConsoleReporter(out=out)
    reporter.step("build " + ", ".join(CLUSTER))
    reporter.done("built " + ", ".join(CLUSTER) + " (k8s.io/kubernetes@v1.35.4)", 1085.5)
    assert buf.getvalue().splitlines()[-1].endswith("(k8s.io/kubernetes@v1.35.4) (1085.5s)"), buf.getvalue()


def test_piped_sentences_stay_one_line() -> None:
    from kurator.cli.render import make_console

    buf = io.StringIO()
    out = make_console(file=buf, width=40, force_terminal=False, color_system=None)
    out.print("standin 0.1.0 is installed and unchanged on member1, member2: nothing was written")
    assert buf.getvalue().splitlines()[0].endswith("nothing was written"), buf.getvalue()


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m 05s", "1h 02m"]
