"""``kurator operator run``: the cluster operator as a local process (the same code its image runs)."""

from __future__ import annotations

import os
from enum import StrEnum

import typer

from kurator.cli import params
from kurator.cli.options import global_options


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


app = typer.Typer(
    help="The cluster operator (CustomCluster lifecycle through Kubespray).", no_args_is_help=True
)


@app.command("run")
def run(
    ctx: typer.Context,
    namespace: list[str] = typer.Option(
        [],
        "--namespace",
        "-n",
        parser=params.NAMESPACE,
        help="Serve CustomClusters of this namespace (repeat; default: every one).",
    ),
    operator_namespace: str = typer.Option(
        "kurator-system",
        "--operator-namespace",
        parser=params.NAMESPACE,
        help="Where fleets are registered and the Lease is kept.",
    ),
    capa_namespace: str = typer.Option(
        "capa-system",
        "--capa-namespace",
        parser=params.NAMESPACE,
        help="Where Cluster API Provider AWS runs (AWS Clusters' credential copies are kept there).",
    ),
    leader_elect: bool = typer.Option(
        True, "--leader-elect/--no-leader-elect", help="Act only while holding the Lease (several replicas)."
    ),
    listen: str = typer.Option(
        "127.0.0.1:9440",
        "--listen",
        parser=params.LISTEN,
        help="Serve /healthz, /readyz and /metrics here ('' for nowhere).",
    ),
    workers: int = typer.Option(
        128, "--workers", parser=params.integer(1, 512), help="Clusters reconciled at once."
    ),
    retries: int = typer.Option(
        3, "--retries", parser=params.integer(0, 20), help="Retries of a failed Kubespray run."
    ),
    retry_delay: str = typer.Option(
        "1m", "--retry-delay", parser=params.DURATION, help="Wait before the first retry (doubling)."
    ),
    delete_timeout: str = typer.Option(
        "30m",
        "--delete-timeout",
        parser=params.DURATION,
        help="After this, a deletion's condition names what blocks it.",
    ),
    ssh_user: str = typer.Option(
        "root", "--ssh-user", parser=params.USER_NAME, help="The user the preflight and fetch log in as."
    ),
    ssh_timeout: str = typer.Option(
        "10s", "--ssh-timeout", parser=params.DURATION, help="Per host, for the preflight."
    ),
    log_level: LogLevel = typer.Option(LogLevel.info, "--log-level", help="How much the operator logs."),
) -> None:
    """Run the cluster operator until stopped (SIGTERM, Ctrl-C); exits 1 if its Lease is taken."""
    import asyncio
    import dataclasses
    import logging
    from datetime import timedelta

    from kurator.kube.connection import Connection
    from kurator.lifecycle.actions import Policy
    from kurator.monitoring.checks import duration
    from kurator.operator import runner, watching
    from kurator.operator.settings import LeaderElection, Settings

    level = logging.getLevelName(log_level.value.upper())
    delay = duration(retry_delay, "--retry-delay")
    settings = Settings(
        namespaces=tuple(namespace),
        operator_namespace=operator_namespace,
        workers=workers,
        policy=dataclasses.replace(Policy(), retries=retries, base_delay=timedelta(seconds=delay)),
        delete_timeout=timedelta(seconds=duration(delete_timeout, "--delete-timeout")),
        ssh_user=ssh_user,
        ssh_timeout=duration(ssh_timeout, "--ssh-timeout"),
        listen=listen,
        capa_namespace=capa_namespace,
        leader=LeaderElection(enabled=leader_elect, namespace=operator_namespace),
    )
    opts = global_options(ctx)
    # The operator reads one file: --kubeconfig, else the first of $KUBECONFIG.
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
    connection = Connection.choose(opts.kubeconfig or first, opts.context)
    connection.config()  # a bad kubeconfig or context fails here, with its message
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    watching.quiet_libraries()
    code = asyncio.run(runner.run(connection, settings))
    raise typer.Exit(code)
