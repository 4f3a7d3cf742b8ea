"""The root ``kurator`` command: global options, sub-command groups, and one place that turns errors
into a clear line and an exit code (the traceback only with ``--verbose``)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from kurator.cli import (
    cluster_api_install,
    clusters,
    component_install,
    install,
    install_common,
    istio_install,
    local,
    members,
    monitoring_install,
    operator,
    operator_install,
    params,
    query,
    tools,
    version,
)
from kurator.cli.options import REQUEST_TIMEOUT, GlobalOptions, Output
from kurator.core.errors import KuratorError

app = typer.Typer(
    name="kurator",
    help="Create Kubernetes clusters, join them into a fleet, install shared components, watch the fleet.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: rendering it with Rich would add ~90 ms to every cold start of `kurator --help`.
    rich_markup_mode=None,
)


@app.callback()
def main(
    ctx: typer.Context,
    kubeconfig: str = typer.Option(
        None,
        "--kubeconfig",
        "-c",
        help="Kubeconfig file (default: $KUBECONFIG, its files merged as kubectl does, then ~/.kube/config).",
    ),
    context: str = typer.Option(
        None,
        "--context",
        parser=params.CONTEXT_NAME,
        help="Kubeconfig context (default: its current context).",
    ),
    request_timeout: float = typer.Option(
        REQUEST_TIMEOUT,
        "--request-timeout",
        parser=params.REQUEST_TIMEOUT,
        help="How long one request to a server may take in all, e.g. 30s, 2m (as kubectl's flag).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show details and tracebacks of errors."),
    output: Output = typer.Option(None, "--output", "-o", help="Output format of the command that follows."),
) -> None:
    ctx.obj = GlobalOptions(
        kubeconfig=kubeconfig,
        context=context,
        verbose=verbose,
        output=output,
        request_timeout=request_timeout,
    )


version.register(app)
app.add_typer(local.app, name="local")
members.register(app)
monitoring_install.register(install_common.install_app, install_common.uninstall_app)
operator_install.register(install_common.install_app, install_common.uninstall_app)
cluster_api_install.register(install_common.install_app, install_common.uninstall_app)
component_install.register(install_common.install_app, install_common.uninstall_app)
istio_install.register(install_common.install_app, install_common.uninstall_app)
install.register(app, members.get_app)
query.register(app)
app.add_typer(operator.app, name="operator")
app.add_typer(clusters.app, name="cluster")
tools.register(app)


def command() -> Any:
    """The click command of ``app`` with the global options accepted after the sub-command too."""
    from kurator.cli.placement import add_global_options

    return add_global_options(typer.main.get_command(app))


def _verbose() -> bool:
    return any(a in ("--verbose", "-v") for a in sys.argv[1:])


def _fail(message: str, hint: str | None, code: int) -> None:
    from rich.markup import escape

    from kurator.cli.render import err_console

    # Not wrapped by us (a terminal wraps on its own): hints hold commands that are copied whole.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"hint: {hint}", highlight=False, style="dim", soft_wrap=True)
    sys.exit(code)


def _interrupted() -> None:
    _fail("interrupted", "run the same command again to finish what it started", INTERRUPTED)


def _traceback_if_verbose() -> None:
    if _verbose():
        import traceback  # only here: it costs a noticeable part of start-up

        traceback.print_exc()


def _click_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """Click's errors, and of those its usage errors: Typer >= 0.28 raises those of the click it vendors,
    earlier versions click's own."""
    for name in ("typer._click.exceptions", "click.exceptions"):  # the first one found (click is slow)
        try:
            module = importlib.import_module(name)
            return (module.ClickException,), (module.UsageError,)
        except (ImportError, AttributeError):
            continue
    return (), ()


_CLICK_ERROR, _USAGE_ERROR = _click_errors()


def _command_path() -> str:
    """The command typed, up to its first option (``kurator cluster plan``), for a usage error click raised
    without its context (an option given no value)."""
    words = ["kurator"]
    for arg in sys.argv[1:]:
        if arg.startswith("-") or len(words) > 4:
            break
        words.append(arg)
    return " ".join(words)


INTERRUPTED = 130
_VERBOSE_HINT = "run again with --verbose for the traceback"


def run() -> None:
    """Console-script entry point."""
    try:
        # Without standalone mode click returns the code of `typer.Exit` instead of exiting.
        code = command().main(prog_name="kurator", standalone_mode=False)
    except KuratorError as exc:
        _traceback_if_verbose()
        _fail(exc.message, exc.hint, exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except _CLICK_ERROR as exc:
        usage: Any = exc
        ctx = getattr(usage, "ctx", None)
        if ctx is None and not isinstance(usage, _USAGE_ERROR):  # not about a command line: click's words
            usage.show()
            sys.exit(usage.exit_code)
        # One line, as every other error, and where to read about the command.
        path = ctx.command_path if ctx is not None else _command_path()
        _fail(usage.format_message(), f"see `{path} --help`", usage.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        _traceback_if_verbose()
        if not exc.filename:  # not about a path: a network error or the like
            _fail(f"unexpected {type(exc).__name__}: {exc}", _VERBOSE_HINT if not _verbose() else None, 1)
        # A path the user named (or one derived from it) cannot be used: say which and why.
        _fail(f"cannot use {exc.filename}: {exc.strerror or exc}", "check the path and its permissions", 1)
    except Exception as exc:
        _traceback_if_verbose()
        _fail(f"unexpected {type(exc).__name__}: {exc}", None if _verbose() else _VERBOSE_HINT, 1)
    else:
        if code == INTERRUPTED:  # Typer turns Ctrl-C into this exit code and says nothing
            _interrupted()
        sys.exit(code if isinstance(code, int) else 0)
