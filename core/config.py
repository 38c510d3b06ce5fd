"""tramo's configuration file: one TOML file that names the state store and the connections.

A host (or the ``tramo`` command) finds the file with :func:`find_config`, reads it
with :func:`load_config` and gets a :class:`Config`: plain, frozen data with every
path made absolute and every secret reference resolved. Nothing here talks to a
plugin; the settings are checked against the plugin's declaration when the
:class:`tramo.Connection` is built from them, which is the one place that knows
the plugin. tramo never writes the file back, so a value typed into it stays in
it alone.

An example::

    state = "tramo-state.sqlite3"      # relative paths: relative to this file
    erp = "erp.sqlite3"                 # the reference ERP (optional)
    retention_days = 180                # personal data kept this long (tramo purge)
    overlap_minutes = 10                # re-read window before an order checkpoint

    [connections.loja]
    plugin = "tray_rest"
    store = "loja"                      # optional store key (shared rate budgets)
    timezone = "America/Sao_Paulo"      # optional
    flows = ["products", "orders"]      # optional: only these flows
    [connections.loja.settings]
    api_address = "https://loja.example/web_api"
    consumer_key = { env = "TRAY_CONSUMER_KEY" }     # from the environment
    consumer_secret = { file = "secrets/tray.txt" }  # from a file, trailing newline dropped
    [connections.loja.mappings.status]
    "a enviar" = "ready_to_ship"
    [connections.loja.mappings.category]             # ERP category id -> platform category id
    "CAT-1" = "4031"

Secrets read from the environment or a file are wrapped in
:class:`tramo.secrets.Secret` at once, so no repr, message or log line made
from a :class:`Config` shows them; error messages name variables, files and
keys, never values.
"""

from __future__ import annotations

import datetime
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs
from tramo.errors import ConfigurationError
from tramo.mapping import KINDS, Mappings
from tramo.secrets import Secret

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "DEFAULT_OVERLAP_MINUTES",
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_STATE",
    "Config",
    "ConnectionConfig",
    "find_config",
    "load_config",
    "parse_config",
]

#: The file looked for in the current folder when no other is named.
DEFAULT_CONFIG: Final = "tramo.toml"
#: The environment variable that names the configuration file.
CONFIG_ENV: Final = "TRAMO_CONFIG"
#: The state store's file when the configuration names none (next to the configuration).
DEFAULT_STATE: Final = "tramo-state.sqlite3"
DEFAULT_RETENTION_DAYS: Final = 180
DEFAULT_OVERLAP_MINUTES: Final = 10

_TOP_KEYS: Final = ("state", "erp", "retention_days", "overlap_minutes", "connections")
_CONNECTION_KEYS: Final = ("plugin", "store", "timezone", "flows", "settings", "mappings")
_CATEGORY: Final = "category"
_NAME: Final = re.compile(r"[A-Za-z0-9_-]+")
_HOW_TO_MAKE: Final = (
    f"make one: a TOML file (by default ./{DEFAULT_CONFIG}) with a [connections.NAME] table "
    f'holding plugin = "PLUGIN" and a [connections.NAME.settings] table of the plugin\'s '
    f"settings (see the tramo.config module for an example); name it by its path or by "
    f"the {CONFIG_ENV} environment variable")


def _setting_names(settings: Mapping[str, Any]) -> str:
    """Setting names only: a literal value in the file may be a credential."""
    return "{" + ", ".join(repr(name) for name in settings) + "}"


@attrs.frozen(kw_only=True)
class ConnectionConfig:
    """One ``[connections.NAME]`` table, ready for ``Registry.connect``.

    ``settings`` are not yet checked against the plugin (the Connection does
    that); values read from the environment or a file are :class:`Secret`, and
    the repr shows setting names only, since a literal value may be a
    credential too. ``mappings`` holds the tables of the four mapping kinds,
    already validated; ``categories`` maps ERP category ids to platform ones.
    """

    name: str
    plugin: str
    settings: dict[str, Any] = attrs.field(factory=dict, repr=_setting_names)
    mappings: dict[str, Any] = attrs.field(factory=dict)
    categories: dict[str, str] = attrs.field(factory=dict)
    store: str | None = None
    timezone: str | None = None
    flows: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class Config:
    """The whole file: where state (and the reference ERP) live, retention, connections.

    Paths are absolute, resolved against the configuration file's folder, so
    a later change of working folder does not move the state store.
    """

    path: Path | None
    state: Path
    erp: Path | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES
    connections: dict[str, ConnectionConfig] = attrs.field(factory=dict)

    def connection(self, name: str) -> ConnectionConfig:
        """The connection ``name``; ConfigurationError listing the known names."""
        try:
            return self.connections[name]
        except KeyError:
            known = ", ".join(sorted(self.connections)) or "none"
            where = f" in {self.path}" if self.path else ""
            raise ConfigurationError(
                f"no connection named {name!r}{where} (known: {known})") from None


def find_config(explicit: str | Path | None = None) -> Path:
    """The configuration file to read: ``explicit``, else ``$TRAMO_CONFIG``, else ./tramo.toml.

    A missing file is a ConfigurationError that says how to make one, rather
    than a run with nothing configured.
    """
    if explicit is not None and str(explicit).strip():
        path, origin = Path(explicit).expanduser(), "given"
    elif os.environ.get(CONFIG_ENV, "").strip():
        path, origin = Path(os.environ[CONFIG_ENV].strip()).expanduser(), f"from ${CONFIG_ENV}"
    else:
        path, origin = Path(DEFAULT_CONFIG), "the default"
    path = path.absolute()
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise ConfigurationError(f"configuration file {path} ({origin}) {what}; {_HOW_TO_MAKE}")
    return path


def load_config(path: str | Path) -> Config:
    """Read and check the TOML file at ``path``; errors name the file, connection and key."""
    path = Path(path).expanduser().absolute()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(
            f"configuration file {path} does not exist; {_HOW_TO_MAKE}") from None
    except OSError as exc:
        raise ConfigurationError(
            f"configuration file {path} cannot be read: {exc.strerror or type(exc).__name__}"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:  # its message gives line and column, not the text
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = parse_config(data, path.parent)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc.message}") from None
    return attrs.evolve(config, path=path)


def parse_config(data: Mapping[str, Any], base: Path) -> Config:
    """A :class:`Config` from already-parsed tables, relative paths resolved against ``base``.

    For hosts that keep tramo's configuration inside their own, and for tests.
    """
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"the configuration must be a table, not {_kind(data)}")
    base = Path(base).expanduser().absolute()
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ConfigurationError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; the top-level keys are "
            f"{', '.join(_TOP_KEYS)}")
    state = _path(data.get("state", DEFAULT_STATE), base, _top_error("state"))
    erp = _path(data["erp"], base, _top_error("erp")) if data.get("erp") is not None else None
    retention = _integer(data.get("retention_days", DEFAULT_RETENTION_DAYS), "retention_days",
                         minimum=1)
    overlap = _integer(data.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES), "overlap_minutes",
                       minimum=0)
    tables = data.get("connections", {})
    if not isinstance(tables, Mapping):
        raise ConfigurationError(f"key 'connections' must be a table, not {_kind(tables)}")
    connections = {name: _connection(name, table, base) for name, table in tables.items()}
    return Config(path=None, state=state, erp=erp, retention_days=retention,
                  overlap_minutes=overlap, connections=connections)


# -- one connection ----------------------------------------------------------------


def _connection(name: Any, table: Any, base: Path) -> ConnectionConfig:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"connection {name!r}: a connection name is letters, digits, '_' and '-' only "
            f"(it names the connection's state)")

    def error(key: str, problem: str) -> ConfigurationError:
        return ConfigurationError(f"connection {name!r}: key {key!r}: {problem}")

    if not isinstance(table, Mapping):
        raise ConfigurationError(
            f"connection {name!r}: [connections.{name}] must be a table, not {_kind(table)}")
    unknown = sorted(set(table) - set(_CONNECTION_KEYS))
    if unknown:
        raise ConfigurationError(
            f"connection {name!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"a connection's keys are {', '.join(_CONNECTION_KEYS)}")
    if "plugin" not in table:
        raise error("plugin", 'missing; say which plugin serves it (plugin = "NAME")')
    plugin = _text(table["plugin"], lambda p: error("plugin", p))
    store = _optional_text(table.get("store"), lambda p: error("store", p))
    timezone = _optional_text(table.get("timezone"), lambda p: error("timezone", p))
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (KeyError, ValueError, OSError):  # not found, malformed, a folder of zones
            raise error("timezone", f"unknown timezone {timezone!r}") from None
    flows = _flows(table.get("flows"), lambda p: error("flows", p))
    settings = _settings(table.get("settings", {}), base, error)
    mappings, categories = _mappings(table.get("mappings", {}), error)
    return ConnectionConfig(name=name, plugin=plugin, settings=settings, mappings=mappings,
                            categories=categories, store=store, timezone=timezone, flows=flows)


def _settings(table: Any, base: Path, error: Any) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise error("settings", f"must be a table, not {_kind(table)}")
    settings: dict[str, Any] = {}
    for key, value in table.items():
        where = f"settings.{key}"
        if isinstance(value, Mapping):
            settings[key] = _secret(value, base, lambda p, where=where: error(where, p))
        elif isinstance(value, (str, bool, int, float, Secret)):
            settings[key] = value
        else:  # the type only: the value may be a credential
            raise error(where, f"must be text, a number, true/false or a secret reference "
                               f'({{ env = "NAME" }} or {{ file = "PATH" }}), not {_kind(value)}')
    return settings


def _secret(reference: Mapping[str, Any], base: Path, error: Any) -> Secret:
    """The value a ``{env = ..}`` or ``{file = ..}`` reference points at, as a Secret."""
    if set(reference) == {"env"}:
        variable = _text(reference["env"], lambda p: error(f"env: {p}"))
        value = os.environ.get(variable)
        if value is None:
            raise error(f"environment variable {variable} is not set")
        if not value:
            raise error(f"environment variable {variable} is empty")
        return Secret(value)
    if set(reference) == {"file"}:
        path = _path(reference["file"], base, lambda p: error(f"file: {p}"))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise error(f"secret file {path} does not exist") from None
        except OSError as exc:
            raise error(f"secret file {path} cannot be read: "
                        f"{exc.strerror or type(exc).__name__}") from None
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise error(f"secret file {path} is not UTF-8 text") from None
        if not text:
            raise error(f"secret file {path} is empty")
        return Secret(text)
    keys = ", ".join(map(repr, sorted(reference))) or "none"
    raise error(f'a secret reference is {{ env = "NAME" }} or {{ file = "PATH" }}, '
                f"got a table with key(s) {keys}")


def _mappings(table: Any, error: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(table, Mapping):
        raise error("mappings", f"must be a table, not {_kind(table)}")
    unknown = sorted(set(table) - {*KINDS, _CATEGORY})
    if unknown:
        raise error(f"mappings.{unknown[0]}",
                    f"unknown mapping kind; the kinds are {', '.join((*KINDS, _CATEGORY))}")
    mappings: dict[str, Any] = {}
    for kind in KINDS:
        if kind not in table:
            continue
        try:  # one kind at a time, so the error names it
            Mappings.from_config({kind: table[kind]})
        except ConfigurationError as exc:
            raise error(f"mappings.{kind}", exc.message) from None
        except (TypeError, ValueError, AttributeError):
            raise error(f"mappings.{kind}", "must be a table of platform id = ERP value, or "
                                            "of inbound, outbound and fallback") from None
        mappings[kind] = table[kind]
    categories: dict[str, str] = {}
    raw = table.get(_CATEGORY, {})
    if not isinstance(raw, Mapping):
        raise error("mappings.category", f"must be a table, not {_kind(raw)}")
    for erp_id, platform_id in raw.items():
        if isinstance(platform_id, bool) or not isinstance(platform_id, (str, int)):
            raise error(f"mappings.category.{erp_id}",
                        f"must be a platform category id (text), not {_kind(platform_id)}")
        categories[str(erp_id)] = str(platform_id)
    return mappings, categories


def _flows(value: Any, error: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise error(f"must be a list of flow names, not {_kind(value)}")
    if not value:
        raise error("is empty; leave it out to run every flow")
    flows = tuple(_text(flow, error) for flow in value)
    repeated = sorted({flow for flow in flows if flows.count(flow) > 1})
    if repeated:
        raise error(f"names {', '.join(map(repr, repeated))} more than once")
    return flows


# -- scalars -----------------------------------------------------------------------


def _top_error(key: str) -> Any:
    return lambda problem: ConfigurationError(f"key {key!r}: {problem}")


def _text(value: Any, error: Any) -> str:
    if not isinstance(value, str):
        raise error(f"must be text, not {_kind(value)}")
    if not value.strip():
        raise error("must not be blank")
    return value


def _optional_text(value: Any, error: Any) -> str | None:
    return None if value is None else _text(value, error)


def _path(value: Any, base: Path, error: Any) -> Path:
    text = _text(value, error)
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _integer(value: Any, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _top_error(key)(f"must be a whole number, not {_kind(value)}")
    if value < minimum:
        raise _top_error(key)(f"must be at least {minimum}, not {value}")
    return value


def _kind(value: Any) -> str:
    """A TOML-ish name of a value's type, for messages that must not show the value."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date/time"
    return type(value).__name__
