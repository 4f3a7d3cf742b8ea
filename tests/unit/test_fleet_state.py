"""A fleet's folder and records: kurator deletes only what it made, and its records match what runs.
Real files and real short-lived `sleep` processes; no cluster needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kurator.core.errors import InvalidInput, KuratorError
from kurator.local import cluster_api, config, fleet, istiod, monitoring, netns, processes, state
from kurator.local.fleet import UpOptions, _Starter, _stop_unrecorded
from kurator.local.layout import FleetLayout
from kurator.local.processes import ProcessRecord, ProcessSpec


def _cfg(name: str = "dev") -> config.FleetConfig:
    return config.FleetConfig(
        name=name,
        members=1,
        nodes=1,
        kubernetes_version="1.35.4",
        network="loopback",
        address="127.0.0.1",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6443, "member1": 6444},
    )


def _made_fleet(root: Path, name: str = "dev") -> FleetLayout:
    """A folder as `up` leaves it (without processes): marker, records, certificates, logs, data."""
    layout = FleetLayout(root)
    with state.fleet_lock(layout):
        state.ensure_marker(layout, name)
        config.save(layout.config, _cfg(name))
        state.save_records(layout, {})
    # the optional parts' files by the paths their modules use (a fleet with all of them)
    made = [
        root / sub
        for sub in ("clusters/host/pki/ca.key", "logs/etcd.log", "etcd/member/wal", "kwok-stages.yaml")
    ]
    made += [
        monitoring.paths(layout).objstore_file,
        istiod.paths(layout).kubeconfig,
        cluster_api.admin_key_file(layout),
    ]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (root / "kubeconfig").write_text("x")
    return layout


@pytest.fixture
def spawned() -> Iterator[list[ProcessRecord]]:
    """Processes a test starts; whatever is still alive at the end is stopped."""
    recs: list[ProcessRecord] = []
    yield recs
    for rec in recs:
        processes.stop(rec)


def _sleep(tmp_path: Path, fleet_id: str, name: str = "host/sleeper") -> ProcessRecord:
    env = {processes.FLEET_ENV: fleet_id, processes.PROCESS_ENV: name}
    return processes.spawn(
        ProcessSpec(name, ["sleep", "60"], tmp_path / f"{name.replace('/', '-')}.log", env=env)
    )


# --- never delete what is not ours -------------------------------------------------------------------


def test_purge_of_a_folder_that_is_no_fleet_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "src").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    (folder / "src" / "main.c").write_text("int main;")
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    with pytest.raises(KuratorError, match="is not a kurator fleet's folder") as err:
        fleet.down("x", folder, purge=True)
    assert "nothing was stopped or deleted" in err.value.message
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before  # not even a lock file


def test_a_stray_fleet_json_of_another_fleet_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    config.save(folder / "fleet.json", _cfg("someone"))
    with pytest.raises(KuratorError, match="is not a kurator fleet's folder"):
        fleet.down("x", folder, purge=True)
    assert sorted(p.name for p in folder.iterdir()) == ["fleet.json"]


def test_purge_of_another_fleets_folder_is_refused(tmp_path: Path) -> None:
    layout = _made_fleet(tmp_path / "f", "alpha")
    with pytest.raises(KuratorError, match="holds the local fleet 'alpha', not 'beta'"):
        fleet.down("beta", layout.root, purge=True)
    assert layout.config.exists() and layout.marker.exists()


def test_purge_deletes_what_kurator_made_and_keeps_the_rest(tmp_path: Path) -> None:
    layout = _made_fleet(tmp_path / "f")
    (layout.root / "my-notes.txt").write_text("keep me")
    result = fleet.down("dev", layout.root, purge=True)
    assert result.kept == ["my-notes.txt"]
    assert sorted(p.name for p in layout.root.iterdir()) == ["my-notes.txt"]
    assert (layout.root / "my-notes.txt").read_text() == "keep me"


def test_purge_of_a_fleet_deletes_its_folder(tmp_path: Path) -> None:
    layout = _made_fleet(tmp_path / "f")
    assert fleet.down("dev", layout.root, purge=True).kept == []
    assert not layout.root.exists()
    assert tmp_path.exists()


def test_purge_never_follows_a_symlink_out_of_the_fleet(tmp_path: Path) -> None:
    layout = _made_fleet(tmp_path / "f")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    (layout.root / "logs" / "link").symlink_to(outside)
    (layout.root / "monitoring").rename(layout.root / "monitoring-real")
    (layout.root / "monitoring").symlink_to(outside)  # an entry kurator makes, but a link here
    fleet.down("dev", layout.root, purge=True)
    assert (outside / "precious").read_text() == "x"


def test_a_fleet_made_before_markers_is_recognised_by_its_record(tmp_path: Path) -> None:
    layout = _made_fleet(tmp_path / "f")
    layout.marker.unlink()
    fleet.down("dev", layout.root, purge=True)
    assert not layout.root.exists()


def test_up_refuses_a_folder_that_holds_other_files_before_anything(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "thesis.tex").write_text("x")

    def never(*_: object) -> dict[str, Path]:
        raise AssertionError("binaries resolved for a refused folder")

    with pytest.raises(InvalidInput, match="is not a kurator fleet's folder"):
        fleet.up(UpOptions(name="dev", home=folder, network="loopback"), never, ("1.35.4",))
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]


# --- records that match reality -------------------------------------------------------------------


def test_a_process_whose_record_cannot_be_written_is_stopped_again(
    tmp_path: Path, spawned: list[ProcessRecord]
) -> None:
    layout = _made_fleet(tmp_path / "f")
    layout.state.with_name("processes.json.tmp").mkdir()  # the record cannot be replaced
    starter = _Starter(layout, {}, state.read_marker(layout).id)  # type: ignore[union-attr]
    with pytest.raises(KuratorError, match=r"cannot write .*processes\.json"):
        starter.ensure(ProcessSpec("host/sleeper", ["sleep", "60"], layout.log("host/sleeper")))
    assert starter.records == {}
    marker = state.read_marker(layout)
    assert marker is not None
    assert processes.marked(marker.id) == []  # it was stopped again: nothing runs unrecorded


def test_started_processes_carry_the_fleet_id_and_their_name(
    tmp_path: Path, spawned: list[ProcessRecord]
) -> None:
    layout = _made_fleet(tmp_path / "f")
    marker = state.read_marker(layout)
    assert marker is not None
    starter = _Starter(layout, {}, marker.id)
    starter.ensure(ProcessSpec("host/sleeper", ["sleep", "60"], layout.log("host/sleeper")))
    spawned.extend(starter.records.values())
    assert processes.marked(marker.id) == [starter.records["host/sleeper"]]
    assert state.load_records(layout) == starter.records


def test_up_stops_a_process_of_the_fleet_that_its_record_does_not_hold(
    tmp_path: Path, spawned: list[ProcessRecord]
) -> None:
    recorded, orphan = _sleep(tmp_path, "f00d", "host/a"), _sleep(tmp_path, "f00d", "host/b")
    other_fleet = _sleep(tmp_path, "beef", "host/b")
    spawned += [recorded, orphan, other_fleet]
    _stop_unrecorded({"host/a": recorded}, "f00d")
    assert processes.is_alive(recorded) and processes.is_alive(other_fleet)
    assert not processes.is_alive(orphan)


def test_a_damaged_process_record_says_how_to_recover_and_down_recovers(
    tmp_path: Path, spawned: list[ProcessRecord]
) -> None:
    layout = _made_fleet(tmp_path / "f")
    marker = state.read_marker(layout)
    assert marker is not None
    running = _sleep(tmp_path, marker.id)
    spawned.append(running)
    layout.state.write_text('{"host/sleeper": {"pid": ')
    with pytest.raises(state.DamagedRecord) as err:
        state.load_records(layout, "dev", layout.root)
    assert str(layout.state) in err.value.message
    assert f"kurator local down --name dev --home {layout.root}" in (err.value.hint or "")
    result = fleet.down("dev", layout.root)
    assert result.stopped == ["host/sleeper"]
    assert not processes.is_alive(running)
    assert state.load_records(layout) == {}  # reset: the next `up` starts everything again
    assert layout.root.exists()


@pytest.mark.parametrize("damage", ['{"name": "dev"', "[]", '{"name": "dev", "members": "many"}', ""])
def test_down_purge_cleans_up_a_fleet_whose_settings_are_damaged(
    tmp_path: Path, spawned: list[ProcessRecord], damage: str
) -> None:
    layout = _made_fleet(tmp_path / "f")
    marker = state.read_marker(layout)
    assert marker is not None
    running = _sleep(tmp_path, marker.id)
    spawned.append(running)
    layout.config.write_text(damage)
    with pytest.raises(InvalidInput, match="is damaged") as err:
        config.load(layout.config, state.command("down", "dev", layout.root, "--purge"))
    assert f"kurator local down --name dev --home {layout.root} --purge" in (err.value.hint or "")
    fleet.down("dev", layout.root, purge=True)
    assert not processes.is_alive(running)
    assert not layout.root.exists()


# --- fleets of one name in different folders -----------------------------------------------------


def test_fleets_of_one_name_get_their_own_namespace_and_link_names() -> None:
    a, b = netns.Link.for_fleet("dev", 5, "0a1b2c3d"), netns.Link.for_fleet("dev", 5, "9f8e7d6c")
    assert len({a.netns, b.netns}) == 2 and len({a.host_if, b.host_if}) == 2
    assert len({a.ns_if, b.ns_if}) == 2
    assert max(len(a.host_if), len(a.ns_if)) <= 15
    assert a.netns == "kurator-dev-0a1b2c3d"
    assert netns.Link.for_fleet("dev", 5).netns == "kurator-dev"  # a fleet made before ids keeps its name


def test_each_new_fleet_gets_its_own_id(tmp_path: Path) -> None:
    ids = set()
    for home in ("a", "b"):
        layout = FleetLayout(tmp_path / home)
        with state.fleet_lock(layout):
            ids.add(state.ensure_marker(layout, "dev").id)
        assert json.loads(layout.marker.read_text())["name"] == "dev"
        assert layout.marker.stat().st_mode & 0o777 == 0o600
    assert len(ids) == 2
