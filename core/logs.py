"""Per-connection loggers that never print the connection's secrets.

The adapter formats the message itself and replaces every secret value of
its connection (longest first, so a secret that contains another is masked
whole) before the record leaves, so no handler configuration of the host can
leak them. Nothing global is installed: hosts load plugins in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any

from tramo.secrets import MASK, Secret

__all__ = ["ConnectionLogger", "redact"]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by the mask."""
    for value in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class ConnectionLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adapter bound to one connection; masks that connection's secrets."""

    def __init__(self, logger: logging.Logger, connection: str, secrets: Iterable[Secret]) -> None:
        super().__init__(logger, {"tramo_connection": connection})
        self._secrets = tuple(s.reveal() for s in secrets)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs.setdefault("extra", {}).update(self.extra or {})
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        text = redact(text, self._secrets)
        exc_info = kwargs.pop("exc_info", None)
        if exc_info:
            # Tracebacks carry exception texts; render and mask them here too.
            if exc_info is True:
                import sys
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            formatted = logging.Formatter().formatException(exc_info)
            text = f"{text}\n{redact(formatted, self._secrets)}"
        msg, kwargs = self.process(text, kwargs)
        self.logger.log(level, msg, **kwargs)
