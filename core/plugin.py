"""What a plugin declares about itself: :class:`PluginInfo` and its :class:`Setting` list."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import attrs
import pluggy

from tramo.errors import ConfigurationError
from tramo.secrets import Secret

__all__ = ["PLUGIN_API_VERSION", "PROJECT", "PluginInfo", "Setting", "hookimpl", "hookspec"]

#: The pluggy project name; hook markers and the entry point group derive from it.
PROJECT: Final = "tramo"
#: The plugin API this core serves. Raised only when the hook contract breaks.
PLUGIN_API_VERSION: Final = 1

hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a plugin's hook implementations: ``from tramo import hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)

_KINDS: Final[dict[str, type]] = {"str": str, "int": int, "bool": bool, "decimal": Decimal}
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


@attrs.frozen(kw_only=True)
class Setting:
    """One connection setting a plugin needs.

    ``kind`` is ``str``, ``int``, ``bool`` or ``decimal``. A ``secret`` setting is
    wrapped in :class:`tramo.Secret` before the plugin sees it, so it never
    prints. ``choices`` limits the accepted values.
    """

    name: str
    description: str = ""
    kind: str = attrs.field(default="str", validator=attrs.validators.in_(_KINDS))
    required: bool = True
    secret: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.secret and self.kind != "str":
            raise ConfigurationError(
                f"setting {self.name!r} is secret, so it is text (kind 'str'), not {self.kind!r}")

    def convert(self, value: Any) -> Any:
        """The value in this setting's kind, or ConfigurationError naming the setting."""
        shown = "***" if self.secret else repr(value)
        raw = value.reveal() if isinstance(value, Secret) else value
        try:
            converted = self._coerce(raw)
        except (ValueError, TypeError, ArithmeticError):
            raise ConfigurationError(
                f"setting {self.name!r} must be of kind {self.kind}, got {shown}") from None
        if self.choices and str(converted) not in self.choices:
            raise ConfigurationError(
                f"setting {self.name!r} must be one of {', '.join(self.choices)}, got {shown}")
        return Secret(converted) if self.secret else converted

    def _coerce(self, raw: Any) -> Any:
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(raw)
        if self.kind == "int":
            if isinstance(raw, bool) or isinstance(raw, float):
                raise TypeError(raw)
            return int(raw)
        if self.kind == "decimal":
            if isinstance(raw, (bool, float)):
                raise TypeError(raw)
            return Decimal(str(raw))
        if self.secret and not isinstance(raw, str):
            raise TypeError(raw)
        return raw if isinstance(raw, str) else str(raw)


def _settings(value: Any) -> tuple[Setting, ...]:
    items = tuple(value)
    names = [s.name for s in items]
    if len(set(names)) != len(names):
        raise ValueError(f"settings repeat a name: {names}")
    return items


@attrs.frozen(kw_only=True)
class PluginInfo:
    """What ``plugin_info()`` returns.

    ``name``, ``platform`` and ``modality`` are required. ``platform`` is shared
    by the modalities of one platform (the three Tray plugins say ``tray``).
    ``name`` must equal the plugin's entry point name. ``features`` holds
    per-capability feature flags, e.g. ``{"receive_orders": {"incremental": True}}``.
    ``api_version`` is the plugin API the plugin was written for.
    """

    name: str
    platform: str
    modality: str
    version: str = "0"
    description: str = ""
    settings: tuple[Setting, ...] = attrs.field(default=(), converter=_settings)
    features: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    api_version: int = PLUGIN_API_VERSION

    def __attrs_post_init__(self) -> None:
        for field in ("name", "platform", "modality"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"PluginInfo.{field} must be non-blank text, got {value!r}")

    def setting(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)

    def validate_settings(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The settings converted and complete, secrets wrapped; names what is wrong."""
        known = {s.name for s in self.settings}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(
                f"plugin {self.name!r} has no setting(s) {', '.join(unknown)}; "
                f"it takes: {', '.join(sorted(known)) or 'none'}")
        result: dict[str, Any] = {}
        missing = []
        for setting in self.settings:
            if setting.name in values and values[setting.name] is not None:
                result[setting.name] = setting.convert(values[setting.name])
            elif setting.default is not None:
                result[setting.name] = setting.convert(setting.default)
            elif setting.required:
                missing.append(setting.name)
            else:
                result[setting.name] = None
        if missing:
            raise ConfigurationError(
                f"plugin {self.name!r} needs setting(s) {', '.join(missing)}")
        return result
