"""Getting the local fleet's binaries, with progress and a summary of which way each one came."""

from __future__ import annotations

from pathlib import Path

from kurator.cli.render import ConsoleReporter, console


def fetch_binaries(
    kubernetes_version: str | None,
    source: str,
    mirror: str | None,
    always_show: bool,
    karmada: bool = True,
    tools: bool = False,
    monitoring: bool = False,
) -> dict[str, Path]:
    """Fill the cache; the summary is printed always (``kurator local fetch``) or only when something was
    downloaded or built (``kurator local up``)."""
    from kurator.binaries import (
        KARMADA_CRDS,
        KARMADA_DEPLOY,
        SUPPORTED_KUBERNETES_VERSIONS,
        ensure_binaries,
        fleet_binaries,
        karmada_binaries,
        monitoring_binaries,
    )
    from kurator.binaries.catalog import KARMADA_VERSION, helm_binary
    from kurator.binaries.fetch import asset_path

    version = kubernetes_version or SUPPORTED_KUBERNETES_VERSIONS[0]
    reporter = ConsoleReporter()
    try:
        specs = fleet_binaries(version, mirror) + (karmada_binaries() if karmada else [])
        specs += [helm_binary(mirror)] if tools else []
        specs += monitoring_binaries(mirror) if monitoring else []
        report = ensure_binaries(specs, source, reporter)
    finally:
        reporter.close()
    if always_show or any(how != "cached" for how in report.how.values()):
        _summary(report.how, report.steps, report.paths)
    paths = dict(report.paths)
    if karmada:
        paths[KARMADA_CRDS] = asset_path(KARMADA_CRDS, KARMADA_VERSION)
        paths[KARMADA_DEPLOY] = asset_path(KARMADA_DEPLOY, KARMADA_VERSION)
    return paths


def fetch_cluster_api() -> dict[str, Path]:
    """Cluster API's and CAPA's managers (built from the Go module proxy the first time, ~15 minutes on two
    cores), with the summary when something was built."""
    from kurator.binaries.fetch import resolve_cluster_api

    reporter = ConsoleReporter()
    try:
        paths = resolve_cluster_api(reporter)
    finally:
        reporter.close()
    return paths


def _summary(how: dict[str, str], steps: dict[str, float], paths: dict[str, Path]) -> None:
    from rich.table import Table

    table = Table(title="local fleet binaries", title_justify="left")
    table.add_column("BINARY")
    table.add_column("HOW")
    table.add_column("PATH")
    for name, way in how.items():
        table.add_row(name, way, str(paths[name]))
    console.print(table)
    for step, seconds in steps.items():
        console.print(f"  {step}: {seconds:.1f}s", highlight=False)
