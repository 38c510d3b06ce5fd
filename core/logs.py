"""Per-connection loggers that never print secrets or unmasked personal data.

The adapter formats the message itself and passes it, with any traceback,
through its connection's :class:`tramo.redaction.RedactingFilter` (the
connection's secret values, credential query parameters, CPF/CNPJ, e-mails,
phones) before the record leaves, so no handler configuration of the host can
leak them. The one process-wide addition is :mod:`tramo.http`'s filter on
httpx's own logger, which logs full URLs (credential parameters masked).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

from tramo.redaction import RedactingFilter
from tramo.secrets import Secret

__all__ = ["ConnectionLogger"]


class ConnectionLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adapter bound to one connection."""

    def __init__(self, logger: logging.Logger, connection: str, secrets: Iterable[Secret]) -> None:
        super().__init__(logger, {"tramo_connection": connection})
        self.redaction = RedactingFilter(secrets)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs.setdefault("extra", {}).update(self.extra or {})
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        exc_info = kwargs.pop("exc_info", None)
        if exc_info:
            if exc_info is True:
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            text = f"{text}\n{logging.Formatter().formatException(exc_info)}"
        msg, kwargs = self.process(self.redaction.clean(text), kwargs)
        self.logger.log(level, msg, **kwargs)
