"""The configuration file: secrets resolved and masked, paths anchored, errors that say where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from tramo.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    Config,
    ConnectionConfig,
    find_config,
    load_config,
    parse_config,
)
from tramo.errors import ConfigurationError
from tramo.mapping import Mappings
from tramo.secrets import Secret

ENV_SECRET = "env-S3cr3t-value-from-the-environment"
FILE_SECRET = "file-S3cr3t-value-from-a-file"
LITERAL_SECRET = "literal-S3cr3t-typed-into-the-file"

EXAMPLE = """\
state = "tramo-state.sqlite3"
erp = "erp.sqlite3"
retention_days = 90
overlap_minutes = 5

[connections.loja]
plugin = "tray_rest"
store = "loja"
timezone = "America/Sao_Paulo"
flows = ["products", "orders"]
[connections.loja.settings]
api_address = "https://loja.example/web_api"
consumer_key = { env = "TRAY_CONSUMER_KEY" }
consumer_secret = { file = "secrets/tray.txt" }
access_token = "LITERAL"
page_size = 50
[connections.loja.mappings.status]
"a enviar" = "ready_to_ship"
[connections.loja.mappings.shipping]
pac = "PAC"
[connections.loja.mappings.category]
"CAT-1" = "4031"
"CAT-2" = 77
""".replace("LITERAL", LITERAL_SECRET)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAY_CONSUMER_KEY", ENV_SECRET)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "tray.txt").write_text(FILE_SECRET + "\n")
    path = tmp_path / "tramo.toml"
    path.write_text(EXAMPLE)
    return path


def connection(settings: dict[str, Any] | None = None, **keys: Any) -> dict[str, Any]:
    """The data of a config with one connection 'loja'."""
    return {"connections": {"loja": {"plugin": "tray_rest", "settings": settings or {}, **keys}}}


def config_error(data: dict[str, Any], base: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse_config(data, base)
    return str(caught.value)


# -- what a good file gives ---------------------------------------------------------


def test_the_example_file_loads_whole(example: Path) -> None:
    config = load_config(example)
    assert config.path == example
    assert config.state == example.parent / "tramo-state.sqlite3"
    assert config.erp == example.parent / "erp.sqlite3"
    assert (config.retention_days, config.overlap_minutes) == (90, 5)
    loja = config.connection("loja")
    assert loja.name == "loja" and loja.plugin == "tray_rest"
    assert (loja.store, loja.timezone, loja.flows) == ("loja", "America/Sao_Paulo",
                                                        ("products", "orders"))
    assert loja.settings["api_address"] == "https://loja.example/web_api"
    assert loja.settings["page_size"] == 50
    assert loja.mappings == {"status": {"a enviar": "ready_to_ship"}, "shipping": {"pac": "PAC"}}
    assert loja.categories == {"CAT-1": "4031", "CAT-2": "77"}


def test_env_and_file_secrets_are_resolved_and_wrapped(example: Path) -> None:
    settings = load_config(example).connection("loja").settings
    assert isinstance(settings["consumer_key"], Secret)
    assert settings["consumer_key"].reveal() == ENV_SECRET
    assert isinstance(settings["consumer_secret"], Secret)
    assert settings["consumer_secret"].reveal() == FILE_SECRET  # trailing newline dropped


def test_a_secret_file_keeps_inner_text_and_loses_only_trailing_line_ends(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(b"  line one\nline two \r\n\n")
    config = parse_config(connection({"key": {"file": "key"}}), tmp_path)
    assert config.connection("loja").settings["key"].reveal() == "  line one\nline two "


def test_repr_and_str_never_show_a_secret(example: Path) -> None:
    config = load_config(example)
    loja = config.connection("loja")
    for text in (repr(config), str(config), repr(loja), str(loja), str(config.connections)):
        assert ENV_SECRET not in text
        assert FILE_SECRET not in text
        assert LITERAL_SECRET not in text  # a literal value may be a credential too
        assert "consumer_key" in repr(loja)  # the names still show


def test_relative_paths_are_resolved_against_the_config_files_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "etc" / "tramo"
    folder.mkdir(parents=True)
    (folder / "token.txt").write_text("from-the-config-folder")
    path = folder / "tramo.toml"
    path.write_text('state = "data/state.sqlite3"\nerp = "/srv/erp.sqlite3"\n'
                    '[connections.a]\nplugin = "p"\nsettings = { token = { file = "token.txt" } }\n')
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config(Path("etc/tramo/tramo.toml"))
    assert config.path == path
    assert config.state == folder / "data" / "state.sqlite3"
    assert config.erp == Path("/srv/erp.sqlite3")
    assert config.connection("a").settings["token"].reveal() == "from-the-config-folder"


def test_defaults(tmp_path: Path) -> None:
    config = parse_config({}, tmp_path)
    assert config.path is None
    assert config.state == tmp_path / "tramo-state.sqlite3"
    assert config.erp is None
    assert (config.retention_days, config.overlap_minutes) == (180, 10)
    assert config.connections == {}
    loja = parse_config({"connections": {"loja": {"plugin": "tray_rest"}}}, tmp_path).connection("loja")
    assert (loja.settings, loja.mappings, loja.categories) == ({}, {}, {})
    assert (loja.store, loja.timezone, loja.flows) == (None, None, None)


def test_the_mappings_build_a_connections_mappings(example: Path) -> None:
    loja = load_config(example).connection("loja")
    mappings = Mappings.from_config(loja.mappings)
    assert mappings.status.to_erp("a enviar") == "ready_to_ship"
    assert mappings.shipping.to_platform("PAC") == "pac"


def test_the_classes_are_frozen_and_have_no_save(example: Path) -> None:
    config = load_config(example)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.state = Path("elsewhere")  # type: ignore[misc]
    assert not [name for name in dir(Config) + dir(ConnectionConfig)
                if any(word in name for word in ("save", "write", "dump"))]


# -- errors name the connection and the key -------------------------------------------


def test_an_unset_environment_variable_is_named_never_a_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAMO_TEST_UNSET", raising=False)
    message = config_error(connection({"consumer_key": {"env": "TRAMO_TEST_UNSET"}}), tmp_path)
    assert "'loja'" in message and "settings.consumer_key" in message
    assert "TRAMO_TEST_UNSET" in message and "not set" in message


def test_an_empty_environment_variable_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAMO_TEST_EMPTY", "")
    message = config_error(connection({"consumer_key": {"env": "TRAMO_TEST_EMPTY"}}), tmp_path)
    assert "'loja'" in message and "consumer_key" in message and "TRAMO_TEST_EMPTY" in message


def test_a_missing_secret_file_is_named(tmp_path: Path) -> None:
    message = config_error(connection({"consumer_secret": {"file": "nope.txt"}}), tmp_path)
    assert "'loja'" in message and "settings.consumer_secret" in message
    assert str(tmp_path / "nope.txt") in message and "does not exist" in message


@pytest.mark.parametrize("reference", [
    {"value": LITERAL_SECRET},
    {"env": "A", "file": "b"},
    {},
    {"env": 3},
    {"file": ["a"]},
])
def test_a_bad_secret_reference_is_named_without_its_contents(
        tmp_path: Path, reference: dict[str, Any]) -> None:
    message = config_error(connection({"consumer_key": reference}), tmp_path)
    assert "'loja'" in message and "settings.consumer_key" in message
    assert LITERAL_SECRET not in message


def test_a_setting_of_a_wrong_type_is_named_without_its_value(tmp_path: Path) -> None:
    message = config_error(connection({"consumer_key": [LITERAL_SECRET]}), tmp_path)
    assert "'loja'" in message and "settings.consumer_key" in message
    assert LITERAL_SECRET not in message


def test_unknown_top_level_keys_are_named(tmp_path: Path) -> None:
    message = config_error({"stat": "x.sqlite3"}, tmp_path)
    assert "'stat'" in message


def test_unknown_connection_keys_are_named(tmp_path: Path) -> None:
    message = config_error(connection(secrets={}), tmp_path)
    assert "'loja'" in message and "'secrets'" in message


def test_a_missing_plugin_is_named(tmp_path: Path) -> None:
    message = config_error({"connections": {"loja": {"settings": {}}}}, tmp_path)
    assert "'loja'" in message and "'plugin'" in message and "missing" in message


@pytest.mark.parametrize("name", ["minha loja", "loja.sp", "", "lója"])
def test_a_connection_name_is_letters_digits_underscore_and_dash(tmp_path: Path, name: str) -> None:
    message = config_error({"connections": {name: {"plugin": "tray_rest"}}}, tmp_path)
    assert repr(name) in message


def test_good_connection_names_pass(tmp_path: Path) -> None:
    config = parse_config({"connections": {"Loja_2-sp": {"plugin": "tray_rest"}}}, tmp_path)
    assert config.connection("Loja_2-sp").name == "Loja_2-sp"


@pytest.mark.parametrize(("data", "key"), [
    ({"state": 3}, "'state'"),
    ({"erp": ["a"]}, "'erp'"),
    ({"retention_days": "180"}, "'retention_days'"),
    ({"retention_days": True}, "'retention_days'"),
    ({"retention_days": 0}, "'retention_days'"),
    ({"overlap_minutes": 1.5}, "'overlap_minutes'"),
    ({"overlap_minutes": -1}, "'overlap_minutes'"),
    ({"connections": ["loja"]}, "'connections'"),
])
def test_top_level_values_of_a_wrong_type_are_named(
        tmp_path: Path, data: dict[str, Any], key: str) -> None:
    assert key in config_error(data, tmp_path)


@pytest.mark.parametrize(("keys", "key"), [
    ({"plugin": 3}, "'plugin'"),
    ({"plugin": " "}, "'plugin'"),
    ({"store": 1}, "'store'"),
    ({"timezone": "Mars/Olympus"}, "'timezone'"),
    ({"timezone": "America"}, "'timezone'"),
    ({"flows": "orders"}, "'flows'"),
    ({"flows": []}, "'flows'"),
    ({"flows": ["orders", 2]}, "'flows'"),
    ({"flows": ["orders", "orders"]}, "'flows'"),
    ({"settings": "x"}, "'settings'"),
    ({"mappings": "x"}, "'mappings'"),
    ({"mappings": {"carrier": {}}}, "'mappings.carrier'"),
    ({"mappings": {"category": {"CAT-1": True}}}, "'mappings.category.CAT-1'"),
    ({"mappings": {"shipping": {"inbound": ["pac"]}}}, "'mappings.shipping'"),
])
def test_connection_values_of_a_wrong_type_are_named(
        tmp_path: Path, keys: dict[str, Any], key: str) -> None:
    data = {"connections": {"loja": {"plugin": "tray_rest", **keys}}}
    message = config_error(data, tmp_path)
    assert "'loja'" in message and key in message


def test_a_bad_status_mapping_is_a_configuration_error(tmp_path: Path) -> None:
    message = config_error(connection(mappings={"status": {"a enviar": "sent"}}), tmp_path)
    assert "'loja'" in message and "'mappings.status'" in message
    assert "not a canonical status" in message


def test_settings_are_not_checked_against_any_plugin(tmp_path: Path) -> None:
    data = {"connections": {"x": {"plugin": "not_installed", "settings": {"anything": "goes"}}}}
    assert parse_config(data, tmp_path).connection("x").settings == {"anything": "goes"}


def test_an_unknown_connection_lists_the_known_ones(example: Path) -> None:
    with pytest.raises(ConfigurationError, match="'shop'.*known: loja"):
        load_config(example).connection("shop")


def test_load_errors_name_the_file(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAY_CONSUMER_KEY")
    with pytest.raises(ConfigurationError) as caught:
        load_config(example)
    assert str(example) in str(caught.value) and "TRAY_CONSUMER_KEY" in str(caught.value)


def test_invalid_toml_and_a_missing_file_are_configuration_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'token = "{LITERAL_SECRET}\n')
    with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
        load_config(bad)
    assert LITERAL_SECRET not in str(caught.value)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "absent.toml")


# -- finding the file ---------------------------------------------------------------


def test_find_config_prefers_explicit_then_the_environment_then_the_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("explicit.toml", "from-env.toml", DEFAULT_CONFIG):
        (tmp_path / name).write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "from-env.toml"))
    assert find_config(tmp_path / "explicit.toml") == tmp_path / "explicit.toml"
    assert find_config("explicit.toml") == tmp_path / "explicit.toml"
    assert find_config(None) == tmp_path / "from-env.toml"
    monkeypatch.delenv(CONFIG_ENV)
    assert find_config(None) == tmp_path / DEFAULT_CONFIG


def test_find_config_says_how_to_make_one_when_there_is_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(ConfigurationError, match=r"\[connections\.NAME\].*TRAMO_CONFIG"):
        find_config(None)
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigurationError, match="gone.toml.*TRAMO_CONFIG"):
        find_config(None)
    with pytest.raises(ConfigurationError, match="elsewhere.toml"):
        find_config(tmp_path / "elsewhere.toml")
