"""Shared fixtures. The local fleet is brought up once per run by the same code as `kurator local up`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Unique per run, so a run never meets what an earlier, interrupted run left behind.
FLEET = f"kt{os.getpid()}"
BLOCK = "2m"
# The host, member1 and member2 serve on consecutive ports from --api-port: member2 then answers on 6443,
# the port a Kubespray cluster's API server has, so the operator's tests can make member2 the cluster that
# a test "master" at the fleet's address (an sshd there) has built.
MEMBER2_API_PORT = 6443


_OWN_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """A run keeps its state (artifacts, fleets the CLI makes) in a home of its own unless one is given:
    ~/.kurator is the user's, and a chart another checkout packed there under the same version fails every
    install of this one with a checksum mismatch."""
    if not os.environ.get("KURATOR_HOME"):
        home = tempfile.mkdtemp(prefix="kurator-test-home-")
        _OWN_HOME.append(home)
        os.environ["KURATOR_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _OWN_HOME:
        shutil.rmtree(home, ignore_errors=True)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-randomly orders every run anew, and the unit tier stays so. Tests on the local fleet keep their
    files' order unless KURATOR_TEST_ORDER=random: their random-order passes are run file by file under the
    heavy lock, since a whole shuffled pass of them holds the shared machine for an hour."""
    if os.environ.get("KURATOR_TEST_ORDER") == "random":
        return
    on_fleet = [i for i in items if i.get_closest_marker("integration") or i.get_closest_marker("e2e")]
    if on_fleet:
        rest = [i for i in items if not (i.get_closest_marker("integration") or i.get_closest_marker("e2e"))]
        items[:] = rest + sorted(on_fleet, key=lambda i: (str(i.path), i.location[1]))


def _resolver(version: str, karmada: bool, monitoring: bool) -> dict[str, Path]:
    from kurator.binaries import resolve

    # Tests never reach for the internet: binaries come from the cache, or are built from the Go proxy.
    source = os.environ.get("KURATOR_BINARY_SOURCE", "build")
    return resolve(version, source=source, karmada=karmada, monitoring=monitoring)


@pytest.fixture(scope="session")
def fleet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fleet") / FLEET


@pytest.fixture(scope="session")
def local_fleet(fleet_home: Path) -> Iterator[object]:
    """A host and two members with three fake nodes each, Karmada, and monitoring with an HA pair of
    Prometheus per member cutting a block every BLOCK (so uploads happen within the run); torn down
    (purged) at the end of the run."""
    from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS
    from kurator.local import fleet

    try:
        result = fleet.up(
            fleet.UpOptions(
                name=FLEET,
                home=fleet_home,
                members=2,
                nodes=3,
                prometheus_replicas=2,
                block_duration=BLOCK,
                api_port=MEMBER2_API_PORT - 2,
            ),
            _resolver,
            SUPPORTED_KUBERNETES_VERSIONS,
        )
        yield result
    finally:
        fleet.down(FLEET, fleet_home, purge=True)


@pytest.fixture(scope="session")
def cluster_api_fleet(local_fleet: object, fleet_home: Path) -> object:
    """The local fleet with Cluster API's and CAPA's managers and the AWS stand-in added (`kurator local up
    --cluster-api` on the running fleet): started by the first test that needs them, then kept for the run
    (the on-prem tests after it run with the real Cluster API controllers too)."""
    from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS
    from kurator.local import fleet

    return fleet.up(
        fleet.UpOptions(name=FLEET, home=fleet_home, cluster_api=True),
        _resolver,
        SUPPORTED_KUBERNETES_VERSIONS,
    )
