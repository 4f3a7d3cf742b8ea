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


# Options of `run`: how the operator acts, and where.
NAMESPACE_OPTION = typer.Option(
    [],
    "--namespace",
    "-n",
    parser=params.NAMESPACE,
    help="Serve CustomClusters of this namespace (repeat; default: every one).",
)
OPERATOR_NAMESPACE_OPTION = typer.Option(
    "kurator-system",
    "--operator-namespace",
    parser=params.NAMESPACE,
    help="Where fleets are registered and the Lease is kept.",
)
CAPA_NAMESPACE_OPTION = typer.Option(
    "capa-system",
    "--capa-namespace",
    parser=params.NAMESPACE,
    help="Where Cluster API Provider AWS runs (AWS Clusters' credential copies are kept there).",
)
LEADER_ELECT_OPTION = typer.Option(
    True, "--leader-elect/--no-leader-elect", help="Act only while holding the Lease (several replicas)."
)
LISTEN_OPTION = typer.Option(
    "127.0.0.1:9440",
    "--listen",
    parser=params.LISTEN,
    help="Serve /healthz, /readyz and /metrics here ('' for nowhere).",
)
WORKERS_OPTION = typer.Option(
    128, "--workers", parser=params.integer(1, 512), help="Clusters reconciled at once."
)
RETRIES_OPTION = typer.Option(
    3, "--retries", parser=params.integer(0, 20), help="Retries of a failed Kubespray run."
)
RETRY_DELAY_OPTION = typer.Option(
    "1m", "--retry-delay", parser=params.DURATION, help="Wait before the first retry (doubling)."
)
DELETE_TIMEOUT_OPTION = typer.Option(
    "30m",
    "--delete-timeout",
    parser=params.DURATION,
    help="After this, a deletion's condition names what blocks it.",
)
SSH_USER_OPTION = typer.Option(
    "root", "--ssh-user", parser=params.USER_NAME, help="The user the preflight and fetch log in as."
)
SSH_TIMEOUT_OPTION = typer.Option(
    "10s", "--ssh-timeout", parser=params.DURATION, help="Per host, for the preflight."
)
LOG_LEVEL_OPTION = typer.Option(LogLevel.info, "--log-level", help="How much the operator logs.")


@app.command("run")
def run(
    ctx: typer.Context,
    namespace: list[str] = NAMESPACE_OPTION,
    operator_namespace: str = OPERATOR_NAMESPACE_OPTION,
    capa_namespace: str = CAPA_NAMESPACE_OPTION,
    leader_elect: bool = LEADER_ELECT_OPTION,
    listen: str = LISTEN_OPTION,
    workers: int = WORKERS_OPTION,
    retries: int = RETRIES_OPTION,
    retry_delay: str = RETRY_DELAY_OPTION,
    delete_timeout: str = DELETE_TIMEOUT_OPTION,
    ssh_user: str = SSH_USER_OPTION,
    ssh_timeout: str = SSH_TIMEOUT_OPTION,
    log_level: LogLevel = LOG_LEVEL_OPTION,
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
