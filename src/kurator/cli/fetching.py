"""Getting the local fleet's binaries, with progress and a summary of which way each one came."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from kurator.cli.render import ConsoleReporter, console

if TYPE_CHECKING:
    from kurator.binaries.catalog import BinarySpec
    from kurator.binaries.fetch import FetchReport


def fetch_binaries(
    kubernetes_version: str | None,
    source: str,
    mirror: str | None,
    always_show: bool,
    karmada: bool = True,
    tools: bool = False,
    monitoring: bool = False,
    built: list[BinarySpec] | None = None,
) -> dict[str, Path]:
    """Fill the cache; the summary is printed always (``kurator local fetch``) or only when something was
    downloaded or built (``kurator local up``). ``built`` are binaries no release ships (Cluster API's
    managers, istiod), built whatever ``source`` says."""
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
    began = time.monotonic()
    try:
        specs = fleet_binaries(version, mirror) + (karmada_binaries() if karmada else [])
        specs += [helm_binary(mirror)] if tools else []
        specs += monitoring_binaries(mirror) if monitoring else []
        report = ensure_binaries(specs, source, reporter)
        if built:  # released as container images only: always built from the Go module proxy
            more = ensure_binaries(built, "build", reporter)
            report.how |= more.how
            report.paths |= more.paths
            specs += built
    finally:
        reporter.close()
    if always_show or any(how != "cached" for how in report.how.values()):
        _summary(report, specs, time.monotonic() - began)
    paths = dict(report.paths)
    if karmada:
        paths[KARMADA_CRDS] = asset_path(KARMADA_CRDS, KARMADA_VERSION)
        paths[KARMADA_DEPLOY] = asset_path(KARMADA_DEPLOY, KARMADA_VERSION)
    return paths


def fetch_cluster_api() -> dict[str, Path]:
    """Cluster API's and CAPA's managers (built from the Go module proxy the first time, ~5 minutes on
    two idle cores), with the summary when something was built."""
    from kurator.binaries.fetch import resolve_cluster_api

    reporter = ConsoleReporter()
    try:
        paths = resolve_cluster_api(reporter)
    finally:
        reporter.close()
    return paths


def _summary(report: FetchReport, specs: list[BinarySpec], seconds: float) -> None:
    from rich.table import Table

    from kurator.cli.render import duration
    from kurator.core.paths import bin_cache

    versions = {s.name: s.version for s in specs}
    table = Table(title="binaries", title_justify="left", box=None)
    for col in ("BINARY", "VERSION", "HOW"):
        table.add_column(col, no_wrap=True)
    for name, way in report.how.items():
        table.add_row(name, versions.get(name, "-"), way)
    console.print(table)
    console.print(f"cache {bin_cache()}/<binary>/<version>/", highlight=False, soft_wrap=True)
    console.print(f"total {duration(seconds)}", highlight=False)
