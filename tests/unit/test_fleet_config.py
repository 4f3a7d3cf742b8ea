from __future__ import annotations

from pathlib import Path

import pytest

from kurator.core.errors import InvalidInput
from kurator.local import config
from kurator.local.options import UpOptions, check_matches, validate


def _cfg(**kw: object) -> config.FleetConfig:
    base: dict[str, object] = {
        "name": "dev",
        "members": 2,
        "nodes": 3,
        "kubernetes_version": "1.35.4",
        "network": "loopback",
        "address": "127.0.0.1",
        "etcd_client_port": 2379,
        "etcd_peer_port": 2380,
        "api_ports": {"host": 6443, "member1": 6444, "member2": 6445},
    }
    base.update(kw)
    return config.FleetConfig.model_validate(base)


@pytest.mark.parametrize("name", ["dev", "a", "fleet-2", "x" * 20])
def test_good_names(name: str) -> None:
    assert config.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "Dev", "2fleet", "-a", "a-", "a_b", "a b", "x" * 21, "../etc"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="is not valid"):
        config.validate_name(name)


@pytest.mark.parametrize(("members", "nodes"), [(0, None), (-1, None), (21, None), (None, 0), (None, 101)])
def test_counts_out_of_range(members: int | None, nodes: int | None) -> None:
    with pytest.raises(InvalidInput, match="must be between"):
        config.validate_counts(members, nodes)


def test_unknown_version_lists_the_supported_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        validate(UpOptions(kubernetes_version="1.12.0"), ("1.35.4",))
    assert err.value.hint == "supported: 1.35.4"


def test_existing_fleet_keeps_its_shape() -> None:
    cfg = _cfg()
    check_matches(cfg, UpOptions(name="dev"))
    check_matches(cfg, UpOptions(name="dev", members=2, api_port=6443))
    with pytest.raises(InvalidInput, match="already exists with --members 2, not 3"):
        check_matches(cfg, UpOptions(name="dev", members=3))
    with pytest.raises(InvalidInput, match="--network loopback"):
        check_matches(cfg, UpOptions(name="dev", network="netns"))


def test_config_round_trip_and_damaged_record(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    assert config.load(path, "") is None
    config.save(path, _cfg())
    assert config.load(path, "") == _cfg()
    assert _cfg().clusters == ["host", "member1", "member2"]
    assert _cfg().server("member2") == "https://127.0.0.1:6445"
    path.write_text("{not json")
    with pytest.raises(InvalidInput, match="damaged"):
        config.load(path, "")


def test_a_monitoring_port_taken_since_the_fleet_was_made_is_named_before_anything_starts() -> None:
    """In loopback mode another program may hold a port monitoring needs: `up` says which and for whom,
    instead of starting a process that never gets ready; a port held by a process left running is its own."""
    import socket

    from kurator.core.errors import KuratorError
    from kurator.local import monitoring
    from kurator.local.control_plane import process_name
    from kurator.local.fleet import _check_ports_free

    names = monitoring.port_names(["member1", "member2"], 1)
    holders = {n: socket.socket() for n in names}
    try:
        for sock in holders.values():
            sock.bind(("127.0.0.1", 0))
        ports = {n: sock.getsockname()[1] for n, sock in holders.items()}
        for n in names:  # free again, except the two this test keeps taken
            if n not in ("host/query-http", "member1/sidecar-grpc-0"):
                holders[n].close()
        cfg = _cfg(monitoring=config.MonitoringConfig(ports=ports))
        query, sidecar = (
            process_name("host", monitoring.QUERY),
            process_name("member1", monitoring.sidecar_name(0)),
        )
        prometheus = process_name("member1", monitoring.prometheus_name(0))
        with pytest.raises(
            KuratorError, match=f"port {ports['host/query-http']} on 127.0.0.1, needed by {query}"
        ):
            _check_ports_free(cfg, [prometheus, query])
        with pytest.raises(
            KuratorError, match=f"port {ports['member1/sidecar-grpc-0']} .* needed by {sidecar}"
        ):
            _check_ports_free(cfg, [sidecar])
        _check_ports_free(cfg, [prometheus])  # Query and the sidecar keep running: their ports are theirs
    finally:
        for sock in holders.values():
            sock.close()
