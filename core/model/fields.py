"""Field makers for the canonical model.

Each maker returns an ``attrs.field`` whose converter and validator raise
:class:`tramo.ValidationError` naming ``Class.field`` and the bad value, so a
host learns exactly what to fix. Converters accept the forms hosts and
platforms send (``"10.50"`` for money, ``"01310-100"`` for a CEP) and keep one
canonical form, which is what makes the dict/JSON round trip exact.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from tramo.errors import ValidationError

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _where(self: Any, field: attrs.Attribute[Any]) -> str:
    return f"{type(self).__name__}.{field.name}"


def _converting(fn: Callable[[Any], Any], optional: bool) -> attrs.Converter:
    """An attrs converter that turns ``ValueError``/``TypeError`` into ValidationError."""

    def convert(value: Any, self: Any, field: attrs.Attribute[Any]) -> Any:
        if value is None and optional:
            return None
        try:
            return fn(value)
        except ValidationError:
            raise
        except InvalidOperation:  # its own text is a list of decimal's signal classes
            raise ValidationError(_where(self, field), value, "is not a number") from None
        except (ValueError, TypeError) as exc:
            raise ValidationError(_where(self, field), value, str(exc)) from None

    return attrs.Converter(convert, takes_self=True, takes_field=True)  # type: ignore[misc,call-overload]


def _check(predicate: Callable[[Any], bool], reason: str) -> Callable[..., None]:
    def validate(self: Any, field: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not predicate(value):
            raise ValidationError(_where(self, field), value, reason)

    return validate


# -- text ---------------------------------------------------------------------


def _to_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, not {type(value).__name__}")
    return value


def text(*, max_length: int | None = None, default: Any = attrs.NOTHING) -> Any:
    """Required, non-blank text (``default`` makes it optional with that value)."""
    validators = []
    if default is attrs.NOTHING:
        validators.append(_check(lambda v: v.strip() != "", "must not be blank"))
    if max_length is not None:
        validators.append(_check(lambda v: len(v) <= max_length,
                                 f"longer than {max_length} characters"))
    return attrs.field(converter=_converting(_to_text, optional=False),
                       validator=validators, default=default)


def optional_text(*, max_length: int | None = None) -> Any:
    """Text or None; blank text is kept as it is."""
    validators = []
    if max_length is not None:
        validators.append(_check(lambda v: len(v) <= max_length,
                                 f"longer than {max_length} characters"))
    return attrs.field(default=None, converter=_converting(_to_text, optional=True),
                       validator=validators)


def identifier(normalize: Callable[[str], str], *, optional: bool = True) -> Any:
    """A code checked and normalised by ``normalize`` (CPF, CNPJ, GTIN, ...)."""
    kw: dict[str, Any] = {"default": None} if optional else {}
    return attrs.field(converter=_converting(lambda v: normalize(_to_text(v)), optional), **kw)


def _to_url(value: Any) -> str:
    value = _to_text(value)
    if not _URL.fullmatch(value):
        raise ValueError(f"must be an absolute http(s) URL: {value!r}")
    return value


def url(*, optional: bool = True) -> Any:
    """An absolute http(s) URL."""
    kw: dict[str, Any] = {"default": None} if optional else {}
    return attrs.field(converter=_converting(_to_url, optional), **kw)


def email() -> Any:
    """An e-mail address, lightly checked (one @, a dot in the domain, no spaces)."""
    def to_email(value: Any) -> str:
        value = _to_text(value)
        if not _EMAIL.fullmatch(value):
            raise ValueError("is not an e-mail address")
        return value

    return attrs.field(default=None, converter=_converting(to_email, optional=True))


# -- numbers ------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    """Decimal from Decimal, int or numeric text; never from float (it is inexact)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, float):
        raise TypeError("money is never a float; pass Decimal or text such as '10.50'")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        value = Decimal(value.strip())
    if not isinstance(value, Decimal):
        raise TypeError(f"expected Decimal, int or text, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def money(*, optional: bool = False, default: Any = attrs.NOTHING) -> Any:
    """A non-negative Decimal amount."""
    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(converter=_converting(to_decimal, optional), default=default,
                       validator=_check(lambda v: v >= 0, "must not be negative"))


def quantity(*, optional: bool = False, positive: bool = False,
             default: Any = attrs.NOTHING) -> Any:
    """A non-negative (or positive) Decimal quantity: weights, measures."""
    if optional and default is attrs.NOTHING:
        default = None
    check = (lambda v: v > 0) if positive else (lambda v: v >= 0)
    return attrs.field(converter=_converting(to_decimal, optional), default=default,
                       validator=_check(check, "must be positive" if positive else
                                        "must not be negative"))


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected a whole number, not {type(value).__name__}")
    return int(value)


def count(*, minimum: int = 0, default: Any = attrs.NOTHING) -> Any:
    """A whole number at least ``minimum``."""
    return attrs.field(converter=_converting(_to_int, optional=False), default=default,
                       validator=_check(lambda v: v >= minimum, f"must be at least {minimum}"))


def _to_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected True or False, not {type(value).__name__}")
    return value


def flag(*, default: Any = attrs.NOTHING, optional: bool = False) -> Any:
    """A boolean; text such as ``"false"`` is refused rather than taken as true."""
    return attrs.field(converter=_converting(_to_flag, optional), default=default)


# -- time ---------------------------------------------------------------------


def _to_aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, not {type(value).__name__}")
    offset = value.utcoffset()
    if value.tzinfo is None or offset is None:
        raise ValueError("must be timezone-aware (naive times are ambiguous)")
    # Kept with a fixed offset: the same wall time and instant, and it survives
    # JSON exactly (a zone's repeated hour at the end of daylight saving does not).
    return value if value.tzinfo is timezone.utc else value.replace(tzinfo=timezone(offset))


def moment(*, optional: bool = False) -> Any:
    """A timezone-aware datetime."""
    kw: dict[str, Any] = {"default": None} if optional else {}
    return attrs.field(converter=_converting(_to_aware, optional), **kw)


def _to_date(value: Any) -> date:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, not {type(value).__name__}")
    return value


def day(*, optional: bool = True) -> Any:
    """A calendar date."""
    kw: dict[str, Any] = {"default": None} if optional else {}
    return attrs.field(converter=_converting(_to_date, optional), **kw)


# -- enums and collections ----------------------------------------------------


def choice(kind: type[E], *, default: Any = attrs.NOTHING, optional: bool = False) -> Any:
    """A member of ``kind``; its value text is accepted too."""
    def to_member(value: Any) -> E:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ValueError(f"must be one of {allowed}") from None

    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(converter=_converting(to_member, optional), default=default)


def many(kind: type[T] | tuple[type, ...], *, min_items: int = 0,
         item: Callable[[Any], Any] | None = None) -> Any:
    """A tuple of ``kind`` (a list is accepted and frozen into a tuple)."""
    def to_tuple(value: Any) -> tuple[Any, ...]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise TypeError(f"expected a sequence, not {type(value).__name__}")
        items = tuple(item(v) if item else v for v in value)
        for i, v in enumerate(items):
            if not isinstance(v, kind):
                raise TypeError(f"item {i} is {type(v).__name__}, not {_names(kind)}")
        return items

    validators = []
    if min_items:
        validators.append(_check(lambda v: len(v) >= min_items,
                                 f"needs at least {min_items} item(s)"))
    return attrs.field(factory=tuple, converter=_converting(to_tuple, optional=False),
                       validator=validators)


def urls() -> Any:
    """An ordered tuple of absolute http(s) URLs (images: the first is the main one)."""
    return many(str, item=_to_url)


def nested(kind: type, *, optional: bool = True) -> Any:
    """Another entity of the model (``optional``: or None)."""
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise TypeError(f"expected a {kind.__name__}, not {type(value).__name__}")
        return value

    kw: dict[str, Any] = {"default": None} if optional else {}
    return attrs.field(converter=_converting(check, optional), **kw)


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def fail(self: Any, field: str, value: object, reason: str) -> ValidationError:
    """A ValidationError for a rule across fields, raised from ``__attrs_post_init__``."""
    return ValidationError(f"{type(self).__name__}.{field}", value, reason)
