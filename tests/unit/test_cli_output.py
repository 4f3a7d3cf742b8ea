"""Output for people and for pipes: tables fit 80 columns, progress keeps a log alive, a live table never
runs into what follows it."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kurator.cli import fleet_status
from kurator.cli.render import ConsoleReporter, LiveTable, duration
from kurator.local.config import FleetConfig
from kurator.local.status import ClusterStatus, FleetStatus

KARMADA: tuple[str, ...] = ("kube-apiserver", "kube-controller-manager", "karmada-aggregated-apiserver")
KARMADA += ("karmada-webhook", "karmada-controller-manager", "karmada-scheduler")
CLUSTER = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
HOST = (*CLUSTER, "s3", "thanos-store", "thanos-compact", "thanos-query")
MEMBER = (*CLUSTER, "prometheus-0", "thanos-sidecar-0", "prometheus-1", "thanos-sidecar-1")


def piped(width: int = 80) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=width, force_terminal=False, color_system=None), buf


def fleet(down: tuple[str, ...] = ()) -> FleetStatus:
    def cluster(name: str, port: int, procs: tuple[str, ...], nodes: bool = True) -> ClusterStatus:
        return ClusterStatus(
            name,
            f"https://10.213.117.1:{port}",
            "v1.35.4" if nodes else "v1.18.2",
            3 if nodes else None,
            3 if nodes else None,
            {p: (name, p) not in [tuple(d.split("/")) for d in down] for p in procs},
        )

    clusters = [
        cluster("host", 16443, HOST),
        cluster("member1", 16444, MEMBER),
        cluster("member2", 16445, MEMBER),
        cluster("karmada", 16446, KARMADA, nodes=False),
    ]
    home = Path("/root/.kurator/local/kurator")
    return FleetStatus("kurator", home, "netns", home / "kubeconfig", True, clusters, 3 * 2**30)


def test_local_status_fits_80_columns_one_line_per_cluster() -> None:
    out, buf = piped()
    fleet_status.show(fleet(), out=out)
    lines = buf.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80, buf.getvalue()
    for name, count in (("host", 8), ("member1", 8), ("member2", 8), ("karmada", 6)):
        row = [line for line in lines if line.split()[:1] == [name]]
        assert len(row) == 1 and f"{count}/{count} up" in row[0], buf.getvalue()
    assert "30/30 processes up" in buf.getvalue()
    assert "kubeconfig /root/.kurator/local/kurator/kubeconfig" in lines


def test_local_status_names_what_is_down() -> None:
    out, buf = piped()
    fleet_status.show(fleet(down=("member2/kwok",)), out=out)
    assert "7/8 up, down: kwok" in buf.getvalue()
    assert "29/30 processes up" in buf.getvalue()


def test_local_status_counts_many_down_and_wide_lists_every_process() -> None:
    out, buf = piped()
    fleet_status.show(fleet(down=("member1/kwok", "member1/kube-scheduler")), wide=True, out=out)
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "6/8 up, 2 down (-o wide)" in text
    assert "28/30 processes up" in text
    process_rows = [line.split() for line in text.splitlines() if len(line.split()) == 3]
    assert ["member1", "kwok", "down"] in process_rows
    assert ["karmada", "karmada-webhook", "up"] in process_rows
    assert sum(1 for r in process_rows if r[2] in ("up", "down")) == 30


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


def test_piped_sentences_stay_one_line_tables_still_fit() -> None:
    from kurator.cli.render import make_console

    buf = io.StringIO()
    out = make_console(file=buf, width=40, force_terminal=False, color_system=None)
    out.print("standin 0.1.0 is installed and unchanged on member1, member2: nothing was written")
    fleet_status.show(fleet(), out=out)
    lines = buf.getvalue().splitlines()
    assert lines[0].endswith("nothing was written"), buf.getvalue()
    assert max(len(line) for line in lines[1:] if not line.startswith("kubeconfig ")) <= 80


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m 05s", "1h 02m"]


def test_sparkline_spans_lowest_to_highest_and_shows_gaps() -> None:
    from kurator.cli.sparkline import compact, sparkline

    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline([1, float("nan"), 3]) == "▁ █"
    assert len(sparkline([float(i % 10) for i in range(600)], width=16)) == 16
    assert sparkline([]) == ""
    assert [compact(v) for v in (3.0, 0.25, 1234567.0, 1.23456e9)] == ["3", "0.25", "1234567", "1.23e+09"]


def test_range_query_table_shows_values_over_time() -> None:
    from kurator.cli import query as cli_query
    from kurator.monitoring.query import Series

    out, buf = piped()
    rising = Series({"cluster": "member1", "__name__": "up", "job": "a"}, [(t, str(t)) for t in range(60)])
    flat = Series({"cluster": "member2", "__name__": "up", "job": "a"}, [(t, "1") for t in range(60)])
    cli_query._table([rising, flat], ranged=True, out=out)
    lines = buf.getvalue().splitlines()
    assert lines[0].split() == ["CLUSTER", "METRIC", "JOB", "OVER", "TIME", "MIN", "MAX", "LAST"]
    assert lines[1].split() == ["member1", "up", "a", "▁▁▂▂▃▃▄▄▅▅▆▆▇▇██", "0", "59", "59"]
    assert lines[2].split() == ["member2", "up", "a", "▁" * 16, "1", "1", "1"]


def _fleet_config(name: str = "kurator", karmada: bool = True) -> FleetConfig:
    return FleetConfig(
        name=name,
        members=2,
        nodes=3,
        kubernetes_version="1.35.4",
        network="netns",
        address="10.213.117.1",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6441, "member1": 6442, "member2": 6443, "karmada": 6444},
        karmada=karmada,
    )


def test_next_steps_are_lines_to_copy_for_this_fleet() -> None:
    from kurator.cli import next_steps
    from kurator.local.layout import FleetLayout

    home = Path("/root/.kurator/local/kurator")
    lines = next_steps.lines(_fleet_config(), FleetLayout(home), False, Path("/src/.venv/bin"))
    commands = [line for line in lines if not line.startswith("#")]
    assert commands == [
        'export PATH="/src/.venv/bin:$PATH"',
        f"export KUBECONFIG={home}/kubeconfig",
        "kurator join member1 --cluster-kubeconfig $(kurator local kubeconfig member1 --path)",
        "kurator get clusters",
    ]
    assert (
        "# every cluster of the fleet: kurator-host, kurator-member1, kurator-member2, kurator-karmada"
        in lines
    )


def test_next_steps_name_a_fleet_that_is_not_the_default() -> None:
    from kurator.cli import next_steps
    from kurator.local.layout import FleetLayout

    layout = FleetLayout(Path("/tmp/f/dev"))
    lines = next_steps.lines(_fleet_config("dev"), layout, True, None)
    assert lines[1] == "export KUBECONFIG=/tmp/f/dev/kubeconfig"  # kurator already on PATH: no PATH line
    join = "kurator join member1 --cluster-kubeconfig "
    assert f"{join}$(kurator local kubeconfig member1 --name dev --home /tmp/f/dev --path)" in lines
    no_karmada = next_steps.lines(_fleet_config("dev", karmada=False), layout, True, None)
    assert not any(line.startswith("kurator join") for line in no_karmada)
