"""The one error hierarchy of tramo.

Every error a plugin or the core raises on purpose is a :class:`TramoError`, so a
host can catch one type. Messages are built from the arguments here, never
from platform bodies or settings, which is how secrets stay out of them: a
value that may be secret is passed through :func:`tramo.secrets.shown` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AuthenticationError",
    "CapabilityNotSupported",
    "ConfigurationError",
    "IncompatiblePluginError",
    "MappingError",
    "OutcomeUnknownError",
    "PlatformError",
    "PluginContractError",
    "PluginLoadError",
    "RateLimitedError",
    "RetriesExhaustedError",
    "TramoError",
    "TransientError",
    "ValidationError",
]


class TramoError(Exception):
    """Base of every error tramo raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(TramoError):
    """Settings, mappings or plugin selection are wrong; fix the configuration."""


class MappingError(ConfigurationError):
    """A status, shipping, payment or channel value has no mapping.

    :ivar kind: which mapping (``status``, ``shipping``, ``payment``, ``channel``).
    :ivar value: the value that has no counterpart.
    :ivar direction: ``inbound`` (platform to ERP) or ``outbound`` (ERP to platform).
    """

    def __init__(self, kind: str, value: object, direction: str) -> None:
        side = "platform" if direction == "inbound" else "ERP"
        super().__init__(
            f"no {kind} mapping for {side} value {value!r} ({direction}); "
            f"add it to the connection's {kind} mapping"
        )
        self.kind = kind
        self.value = value
        self.direction = direction


class ValidationError(TramoError, ValueError):
    """A record or setting has a bad value.

    :ivar field: the dotted path of the field (``Order.customer.cpf``).
    :ivar value: the bad value (already masked when it is a secret).
    :ivar reason: why it is bad.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}: {reason} (got {value!r})")
        self.field = field
        self.value = value
        self.reason = reason

    def at(self, prefix: str) -> ValidationError:
        """The same error with ``prefix`` put before its field path."""
        return ValidationError(f"{prefix}.{self.field}", self.value, self.reason)


class AuthenticationError(TramoError):
    """The platform refused the credentials, or a webhook signature is wrong."""


class TransientError(TramoError):
    """A failure that may pass if the call is made again later (timeouts, 5xx)."""


class RateLimitedError(TransientError):
    """The platform's rate limit was hit.

    :ivar retry_after: seconds to wait before the next call, when known.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        if retry_after is not None:
            message = f"{message} (retry after {retry_after:g} s)"
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhaustedError(TransientError):
    """A call failed every try the retry policy allowed; the next run may fare better.

    :ivar attempts: how many times the call was made.
    :ivar status: the last HTTP status, or None when the last try got no answer.
    """

    def __init__(self, message: str, attempts: int, status: int | None = None) -> None:
        super().__init__(f"{message} (after {attempts} tries)")
        self.attempts = attempts
        self.status = status


class OutcomeUnknownError(TramoError):
    """A write may or may not have reached the platform, so it was not sent again.

    Raised for a write that is unsafe to repeat (no idempotent method, no
    idempotency key) when the platform gave no usable answer: a timeout after
    the request left, a dropped connection, a 5xx. Whoever holds it must check
    the platform before trying again; it is never reported as done.

    :ivar status: the HTTP status, or None when there was no answer.
    :ivar response: the platform's answer when there was one (for its error body).
    """

    def __init__(self, message: str, status: int | None = None, response: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.response = response


class PlatformError(TramoError):
    """The platform answered with an error of its own.

    :ivar code: the platform's error code (HTTP status, ``error_code``, fault code).
    :ivar causes: the platform's own explanations, one per cause.
    """

    def __init__(self, message: str, code: str | int | None = None,
                 causes: Sequence[str] = ()) -> None:
        text = message if code is None else f"{message} [code {code}]"
        if causes:
            text = f"{text}: " + "; ".join(causes)
        super().__init__(text)
        self.code = code
        self.causes = tuple(causes)


class CapabilityNotSupported(TramoError):
    """The connection's plugin does not offer the capability asked for.

    :ivar capability: the hook name.
    :ivar plugin: the plugin asked.
    :ivar alternatives: installed plugins of the same platform that do offer it.
    :ivar reason: why, when the plugin has the hook but the connection may not use it.
    """

    def __init__(self, capability: str, plugin: str,
                 alternatives: Sequence[str] = (), reason: str | None = None) -> None:
        text = f"plugin {plugin!r} does not support {capability!r}"
        if reason:
            text += f" on this connection: {reason}"
        if alternatives:
            text += "; installed plugins of the same platform that do: " + ", ".join(alternatives)
        else:
            text += "; no installed plugin of the same platform does"
        super().__init__(text)
        self.capability = capability
        self.plugin = plugin
        self.alternatives = tuple(alternatives)
        self.reason = reason


class PluginLoadError(TramoError):
    """A plugin could not be imported, registered or validated."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(f"plugin {plugin!r} is unavailable: {reason}")
        self.plugin = plugin
        self.reason = reason


class IncompatiblePluginError(PluginLoadError):
    """A plugin was written for a plugin API version this core cannot serve."""

    def __init__(self, plugin: str, wanted: int, served: int) -> None:
        super().__init__(
            plugin,
            f"written for tramo plugin API {wanted}, this tramo serves API {served}; "
            f"install a version of the plugin made for API {served}",
        )
        self.wanted = wanted
        self.served = served


class PluginContractError(TramoError):
    """A plugin broke the hook contract (wrong result count or type)."""

    def __init__(self, plugin: str, hook: str, problem: str) -> None:
        super().__init__(f"plugin {plugin!r} broke the {hook!r} contract: {problem}")
        self.plugin = plugin
        self.hook = hook


def describe(exc: BaseException) -> str:
    """One line naming an exception, for reports; safe for any exception."""
    text: Any = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
