"""The user's mappings and the per-connection state store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.mapping import Mappings
from tramo.state import StateStore

statuses = st.sampled_from(list(tramo.OrderStatus))
platform_ids = st.text(alphabet="abcdefghij0123456789 ", min_size=1, max_size=8)


@given(st.dictionaries(platform_ids, statuses, min_size=1))
def test_every_mapped_value_maps_back_and_forth_where_it_is_unique(table: dict[str, tramo.OrderStatus]) -> None:
    mappings = Mappings.from_config({"status": {k: v.value for k, v in table.items()}})
    for platform_id, status in table.items():
        assert mappings.status_to_erp(platform_id) is status
    for status in set(table.values()):
        owners = [k for k, v in table.items() if v is status]
        if len(owners) == 1:
            assert mappings.status_to_platform(status) == owners[0]
        else:
            with pytest.raises(tramo.MappingError):
                mappings.status_to_platform(status)


def test_an_unmapped_status_raises_a_mapping_error_both_ways() -> None:
    mappings = Mappings.from_config({"status": {"10": "shipped"}})
    with pytest.raises(tramo.MappingError) as caught:
        mappings.status_to_erp("99")
    assert (caught.value.kind, caught.value.value, caught.value.direction) == ("status", "99", "inbound")
    with pytest.raises(tramo.MappingError, match="delivered"):
        mappings.status_to_platform(tramo.OrderStatus.DELIVERED)


def test_an_explicit_outbound_choice_settles_a_shared_status() -> None:
    mappings = Mappings.from_config({"status": {
        "inbound": {"A ENVIAR": "ready_to_ship", "AGUARDANDO ENVIO": "ready_to_ship"},
        "outbound": {"ready_to_ship": "A ENVIAR"}}})
    assert mappings.status_to_platform(tramo.OrderStatus.READY_TO_SHIP) == "A ENVIAR"


def test_a_fallback_catches_unlisted_platform_values() -> None:
    mappings = Mappings.from_config({"shipping": {"inbound": {"pac": "PAC"}, "fallback": "OTHER"}})
    assert mappings.shipping.to_erp("sedex") == "OTHER"


def test_mapping_configuration_errors_are_clear() -> None:
    with pytest.raises(tramo.ConfigurationError, match="not a canonical status"):
        Mappings.from_config({"status": {"1": "sent"}})
    with pytest.raises(tramo.ConfigurationError, match="unknown mapping kind"):
        Mappings.from_config({"carrier": {}})


def test_state_survives_a_restart_and_is_kept_per_connection(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = StateStore(path)
    first.for_connection("a").set("token", {"value": "x", "expires": 3})
    first.for_connection("b").set("token", "other")
    first.close()
    again = StateStore(path)
    assert again.for_connection("a").get("token") == {"value": "x", "expires": 3}
    assert again.for_connection("b").get("token") == "other"
    assert again.for_connection("c").get("token", "none") == "none"


def test_add_marks_once_even_under_concurrency(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "s.sqlite3").for_connection("a")
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(state.add("sent:42", True))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


def test_keys_list_by_prefix_literally() -> None:
    state = StateStore().for_connection("a")
    for key in ("seen:a_1", "seen:ab1", "seen%x", "token"):
        state.set(key, 1)
    assert list(state.keys("seen:a_")) == ["seen:a_1"]
    assert list(state.keys("seen%")) == ["seen%x"]
    state.delete("token")
    assert "token" not in state


def test_a_connection_s_state_is_namespaced_by_its_name() -> None:
    from types import SimpleNamespace

    info = tramo.hookimpl(lambda: tramo.PluginInfo(name="p", platform="x", modality="y"))
    info.__name__ = "plugin_info"
    registry = tramo.Registry.for_testing({"p": SimpleNamespace(plugin_info=info)})
    store = StateStore()
    one = registry.connect("p", name="store-1", state=store)
    two = registry.connect("p", name="store-2", state=store)
    one.state.set("k", 1)
    assert two.state.get("k") is None and one.state.get("k") == 1


def test_a_component_schema_migrates_forward_once_and_a_newer_file_is_refused(tmp_path) -> None:
    import pytest

    from tramo.errors import ConfigurationError

    from tramo.state import StateStore

    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    assert store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)"]) == 1
    store.execute("INSERT INTO demo_a VALUES (1)")
    store.close()
    store = StateStore(path)  # version 2 adds a table; version 1's data stays
    assert store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)",
                                  "CREATE TABLE demo_b (y TEXT); CREATE INDEX demo_b_y ON demo_b (y)"]) == 2
    assert store.execute("SELECT x FROM demo_a") == [(1,)]
    assert store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)", "CREATE TABLE demo_b (y TEXT)"]) == 2
    with pytest.raises(ConfigurationError, match="newer"):
        store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)"])


def test_a_failed_migration_leaves_the_old_version_whole(tmp_path) -> None:
    import sqlite3

    import pytest

    from tramo.state import StateStore

    store = StateStore(tmp_path / "state.sqlite3")
    store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)"])
    with pytest.raises(sqlite3.OperationalError):
        store.migrate("demo", ["CREATE TABLE demo_a (x INTEGER)",
                               "CREATE TABLE demo_c (z TEXT); CREATE TABLE demo_a (x INTEGER)"])
    assert store.execute("SELECT version FROM schema_versions WHERE component = 'demo'") == [(1,)]
    assert not store.execute("SELECT name FROM sqlite_master WHERE name = 'demo_c'")


def test_nested_atomic_blocks_join_the_outer_transaction() -> None:
    import pytest

    from tramo.state import StateStore

    state = StateStore().for_connection("c")
    with pytest.raises(ValueError):
        with state.atomic():
            with state.atomic():
                state.set("inner", 1)
            raise ValueError("the outer block fails")
    assert state.get("inner") is None
