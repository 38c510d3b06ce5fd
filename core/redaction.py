"""Keeping secrets and personal data out of text that leaves the process.

- :func:`redact` masks known secret values (longest first, so a secret that
  contains another is masked whole).
- :func:`redact_url` masks credential-like query parameters (``access_token``,
  ``code``, ``key``, ...): httpx logs full URLs and its errors carry them.
- :func:`mask_personal` masks CPF, CNPJ, e-mail addresses and phone numbers
  (LGPD), keeping enough to tell records apart (``***.***.*47-25``).
- :class:`RedactingFilter` applies all three to log records; attach it to a
  handler (``handler.addFilter(...)``) so records from every logger pass it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

from tramo.secrets import MASK, Secret

__all__ = ["CREDENTIAL_PARAMETERS", "RedactingFilter", "mask_personal", "redact", "redact_url"]

#: Query parameters whose values are credentials wherever they appear.
CREDENTIAL_PARAMETERS = frozenset({
    "access_token", "refresh_token", "token", "code", "key", "api_key", "apikey",
    "consumer_key", "consumer_secret", "secret", "password", "psenha", "signature", "hmac",
    "login_token", "client_secret",
})

_QUERY = re.compile(r"(?P<name>[?&;](?P<key>[A-Za-z_][\w.-]*)=)(?P<value>[^&#\s\"'<>]*)")
_CPF = re.compile(r"(?<![\w.])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\w])")
_CNPJ = re.compile(r"(?<![\w.])([0-9A-Z]{2})\.?([0-9A-Z]{3})\.?([0-9A-Z]{3})/?([0-9A-Z]{4})-?(\d{2})(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+\.)+[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?:\+?55\s?)?\(?\d{2}\)?\s?9?\d{4}[-\s]?(\d{4})(?!\w)")


def redact(text: str, secrets: Iterable[str | Secret]) -> str:
    """``text`` with every occurrence of each secret value replaced by the mask."""
    values = {s.reveal() if isinstance(s, Secret) else s for s in secrets}
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def redact_url(text: str) -> str:
    """``text`` with the values of credential query parameters masked."""
    def mask(match: re.Match[str]) -> str:
        if match.group("key").lower() in CREDENTIAL_PARAMETERS:
            return match.group("name") + MASK
        return match.group(0)
    return _QUERY.sub(mask, text)


def mask_personal(text: str) -> str:
    """``text`` with CPFs, CNPJs, e-mails and phone numbers masked (last digits kept)."""
    text = _CNPJ.sub(lambda m: f"**.***.***/****-{m.group(5)}" if _has_digit(m) else m.group(0), text)
    text = _CPF.sub(lambda m: f"***.***.*{m.group(3)[-2:]}-{m.group(4)}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    return _PHONE.sub(lambda m: f"(**) *****-{m.group(1)}", text)


def _has_digit(match: re.Match[str]) -> bool:
    return any(c.isdigit() for c in match.group(0))


class RedactingFilter(logging.Filter):
    """A logging filter masking registered secrets, credential URLs and personal data.

    Instance-scoped (no global list): each host or connection owns one and
    registers the secrets it knows. ``personal=False`` leaves personal data
    as it is, for a host that has its own LGPD policy.
    """

    def __init__(self, secrets: Iterable[str | Secret] = (), *, personal: bool = True) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets = {s.reveal() if isinstance(s, Secret) else s for s in secrets}
        self.personal = personal

    def add(self, *secrets: str | Secret) -> None:
        with self._lock:
            self._secrets.update(s.reveal() if isinstance(s, Secret) else s for s in secrets)

    def clean(self, text: str) -> str:
        with self._lock:
            secrets = tuple(self._secrets)
        text = redact_url(redact(text, secrets))
        return mask_personal(text) if self.personal else text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True
