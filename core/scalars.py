"""Scalars as text-minded platforms send and take them. No I/O.

PHP platforms (Tray's REST and SOAP, Ideris, Tiny) send every scalar as text
(``"27027.60"``, ``"1"``), write an empty date as ``0000-00-00`` and times
without an offset, in the store's timezone. Plugins read and write such
values with these helpers; a value that is not what it claims raises
:class:`tramo.ValidationError` naming the field.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from tramo.errors import ValidationError

__all__ = ["day", "decimal", "latin1", "measure", "moment", "money", "positive", "reading",
           "stamp", "text", "whole"]


@contextlib.contextmanager
def reading(where: str, platform: str, *, prefix: bool = True) -> Iterator[None]:
    """Convert one record of a platform's answer inside this: a value of another shape than
    the platform's (an object where text belongs, a number where a list does) becomes a
    ValidationError too, so that one record is held and the read goes on instead of
    crashing; with ``prefix``, a field's error also gets ``where`` before its path."""
    try:
        yield
    except ValidationError as exc:
        if not prefix:
            raise
        raise exc.at(where) from None
    except (AttributeError, TypeError) as exc:
        raise ValidationError(where, str(exc), f"a value in {platform}'s answer has the wrong "
                                               f"type") from None


def text(value: Any) -> str:
    """A scalar as text (``None`` and JSON null become empty)."""
    return "" if value is None else str(value)


def decimal(value: Any, field: str) -> Decimal | None:
    """A number sent as text or as a number; empty is None."""
    raw = text(value).strip()
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(field, value, "is not a number") from None
    if not number.is_finite():
        raise ValidationError(field, value, "is not a finite number")
    return number


def whole(value: Any, field: str, *, minimum: int | None = None) -> int | None:
    """A count sent as text or as a number (``"2"``, ``2``, ``"2.0"``); empty is None.

    A fraction, or a count below ``minimum``, is refused: never cut down to a
    whole number, so a quantity is never quietly another one.
    """
    number = decimal(value, field)
    if number is None:
        return None
    if number != number.to_integral_value() or (minimum is not None and number < minimum):
        floor = "" if minimum is None else f", {minimum} or more"
        raise ValidationError(field, value, f"is not a whole number{floor}")
    return int(number)


def positive(value: Any, field: str) -> Decimal | None:
    """A measure where ``0`` means "not set"."""
    number = decimal(value, field)
    return None if number is None or number == 0 else number


def money(value: Decimal) -> str:
    """Two decimals, a dot, no thousands separator: ``"1234.50"``."""
    return f"{value:.2f}"


def measure(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: ``"0.25"``, ``"10"``."""
    return format(value.normalize(), "f")


def moment(value: Any, zone: tzinfo, field: str) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` in ``zone``; empty and zero dates are None.

    ISO 8601 with a ``T`` (``2026-03-01T10:20:30``, fractions, an offset or ``Z``)
    is read too, as .NET APIs (Ideris) write it; a time without an offset is in ``zone``.
    """
    raw = text(value).strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(0), zone)
        if "T" in raw:
            parsed = datetime.fromisoformat(raw)
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
        return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        raise ValidationError(field, value, "is not a date (YYYY-MM-DD[ HH:MM:SS] or ISO 8601)") from None


def day(value: datetime | None, zone: tzinfo) -> str:
    """The day of ``value`` in ``zone`` (``0000-00-00`` for none)."""
    return "0000-00-00" if value is None else value.astimezone(zone).strftime("%Y-%m-%d")


def stamp(value: datetime, zone: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in ``zone``."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def latin1(value: str, field: str) -> str:
    """``value`` when ISO-8859-1 can hold it; a platform storing Latin-1 would mangle the rest."""
    try:
        value.encode("iso-8859-1")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise ValidationError(field, value, f"has {bad!r} (U+{ord(bad):04X}), which ISO-8859-1 "
                                            f"cannot hold") from None
    return value
