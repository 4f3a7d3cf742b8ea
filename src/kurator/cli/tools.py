"""``kurator tool list`` (Kurator's command; also ``kurator version --components``): every pinned binary and
component artifact, its version, where it comes from and whether this machine has it already."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import typer

from kurator.cli.render import console, emit

app = typer.Typer(help="Pinned binaries and component artifacts.", no_args_is_help=True)


class ToolOutput(StrEnum):
    table = "table"
    wide = "wide"  # adds where each comes from and its checksum
    json = "json"
    yaml = "yaml"


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    kind: str  # "binary", or the artifact's kind: "helm-chart", "manifests"
    status: str  # binaries: cached | missing; artifacts: packaged | cached | not fetched
    source: str
    sha256: str = ""  # the pinned digest, or what proves the bytes instead

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "status": self.status,
            "source": self.source,
            "sha256": self.sha256,
        }


def _binaries() -> list[Tool]:
    from kurator.binaries import catalog, fetch

    specs = [
        *catalog.fleet_binaries(catalog.SUPPORTED_KUBERNETES_VERSIONS[0]),
        *catalog.karmada_binaries(),
        catalog.helm_binary(),
        *catalog.monitoring_binaries(),
    ]
    out: dict[str, Tool] = {}
    for spec in specs:
        if spec.download is not None:
            source = spec.download.url
            digest = spec.download.sha256 or f"published: {spec.download.sha256_url}"
        elif spec.build is not None:
            package = spec.build.package_of(spec.name)
            source = f"go build {package}@{spec.build.version_of(package)}"
            digest = "Go checksum database"
        else:  # pragma: no cover - every spec has one of the two
            source, digest = "-", ""
        status = "cached" if fetch.is_cached(spec) else "missing"
        out.setdefault(spec.name, Tool(spec.name, spec.version, "binary", status, source, digest))
    return list(out.values())


def _artifacts() -> list[Tool]:
    from kurator.components import COMPONENTS
    from kurator.fleet import artifacts

    out = []
    for comp in COMPONENTS.values():
        art = comp.artifact
        if art.source.startswith(artifacts.PACKAGE_PREFIX):
            status = "packaged"
        elif (artifacts.artifacts_home() / art.key / artifacts.payload_name(art)).exists():
            status = "cached"
        else:
            status = "not fetched"
        out.append(Tool(comp.name, art.version, art.kind, status, art.source, art.sha256))
    return out


def tools(names: list[str] | None = None) -> list[Tool]:
    from kurator.core.errors import InvalidInput, shown

    found = sorted(_binaries() + _artifacts(), key=lambda t: (t.kind == "binary", t.name))
    if names:
        known = {t.name for t in found}
        if unknown := sorted(set(names) - known):
            # quoted and cut as options' values are: a pasted file or a newline is never echoed whole
            named = ", ".join(shown(n) for n in unknown[:5]) + (
                f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            )
            raise InvalidInput(f"unknown tool {named}", f"known: {', '.join(sorted(known))}")
        found = [t for t in found if t.name in names]
    return found


def show(found: list[Tool], output: ToolOutput) -> None:
    if output in (ToolOutput.json, ToolOutput.yaml):
        from kurator.cli.options import Output

        emit([t.to_json() for t in found], Output(output.value))
        return
    from rich.table import Table

    wide = output is ToolOutput.wide
    table = Table(box=None, header_style="bold")
    for col in ("NAME", "VERSION", "KIND", "STATUS", *(("SOURCE", "SHA256") if wide else ())):
        table.add_column(col, overflow="fold")
    for t in found:
        row: list[Any] = [t.name, t.version, t.kind, t.status]
        if wide:
            row += [t.source, t.sha256]
        table.add_row(*row)
    console.print(table, soft_wrap=wide)


OUTPUT = typer.Option(ToolOutput.table, "--output", "-o", help="Output format (wide: sources, checksums).")


@app.command("list")
def list_tools(
    names: list[str] = typer.Argument(None, help="Only these (default: all)."),
    output: ToolOutput = OUTPUT,
) -> None:
    """Every pinned binary and component artifact: version, kind, and whether this machine has it."""
    show(tools(names), output)


def register(root: typer.Typer) -> None:
    app.command("ls", hidden=True)(list_tools)
    root.add_typer(app, name="tool")
