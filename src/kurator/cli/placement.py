"""Global options where users type them: ``--kubeconfig``, ``--context`` and ``--verbose`` before or after
the sub-command (``kurator --context c get clusters`` and ``kurator get clusters --context c``), and
``-o`` before it for a command that has output, as kubectl and helm take them.

Typer declares the global options once, on the root command. This adds them to every command below it too,
writing into the same :class:`GlobalOptions`; a value given after the sub-command wins over one before it,
as the later flag wins in kubectl.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperOption

from kurator.cli import params
from kurator.cli.options import GlobalOptions

OUTPUT = "output"


def _root_options(ctx: Any) -> GlobalOptions:
    obj = ctx.find_root().obj
    if not isinstance(obj, GlobalOptions):
        obj = ctx.find_root().obj = GlobalOptions()
    return obj


def _given(ctx: Any, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _setter(field: str) -> Callable[[Any, Any, Any], None]:
    def store(ctx: Any, param: Any, value: Any) -> None:
        if _given(ctx, param.name):
            setattr(_root_options(ctx), field, value)

    return store


def _globals() -> list[TyperOption]:
    return [
        TyperOption(
            param_decls=["--kubeconfig", "-c", "global_kubeconfig"],
            type=str,
            expose_value=False,
            callback=_setter("kubeconfig"),
            help="Kubeconfig file (global: also before the command).",
        ),
        TyperOption(
            param_decls=["--context", "global_context"],
            type=params.CONTEXT_NAME,
            expose_value=False,
            callback=_setter("context"),
            help="Kubeconfig context (global: also before the command).",
        ),
        TyperOption(
            param_decls=["--request-timeout", "global_request_timeout"],
            type=params.REQUEST_TIMEOUT,
            expose_value=False,
            callback=_setter("request_timeout"),
            help="How long one request to a server may take in all (global: also before the command).",
        ),
        TyperOption(
            param_decls=["--verbose", "-v", "global_verbose"],
            is_flag=True,
            default=False,
            expose_value=False,
            callback=_setter("verbose"),
            help="Show details and tracebacks of errors (global: also before the command).",
        ),
    ]


def _root_output(ctx: Any, param: Any, value: Any) -> Any:
    """A command's ``-o``: its own when given, else the one before the sub-command."""
    if _given(ctx, param.name):
        return value
    root = _root_options(ctx).output
    return param.type_cast_value(ctx, root) if root is not None else value


def _no_output(name: str) -> TyperOption:
    """A hidden check for a command without output: ``-o`` before it is refused, not ignored."""

    def check(ctx: Any, param: Any, value: Any) -> None:
        if _root_options(ctx).output is not None:
            raise typer.BadParameter(
                f"`kurator {name}` has no output to format", param_hint="'-o' / '--output'"
            )

    return TyperOption(
        param_decls=["--kurator-no-output"], hidden=True, expose_value=False, is_flag=True, callback=check
    )


def _leaves(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subs = getattr(command, "commands", None)
    if subs is None:
        return [(path, command)]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


def add_global_options(root: Any) -> Any:
    """``root`` (the click command Typer built) with the global options on every sub-command."""
    for path, leaf in _leaves(root):
        taken = {opt for p in leaf.params for opt in (*p.opts, *p.secondary_opts)}
        leaf.params.extend(o for o in _globals() if not taken & set(o.opts))
        output = next((p for p in leaf.params if p.name == OUTPUT), None)
        if output is not None:
            output.callback = _root_output
        else:
            leaf.params.append(_no_output(" ".join(path)))
    return root
