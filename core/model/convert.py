"""Plain dicts and JSON for every entity, with an exact round trip.

cattrs does the walking (nested classes, tuples, optionals, enums); this
module only says how the leaf types look as JSON: Decimal as fixed-point text (a
float would lose cents), datetimes and dates in ISO 8601 with their offset, enums by
value. A bad dict raises :class:`tramo.ValidationError` with the full dotted
path (``Order.customer.cpf``), not a cattrs exception group.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import format_exception

from tramo.errors import ValidationError

__all__ = ["converter", "from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True)


class _WrongType(TypeError):
    """A leaf of the wrong JSON type; keeps the value so the error can name it."""

    def __init__(self, value: Any, wanted: str) -> None:
        super().__init__(f"expected {wanted}, not {type(value).__name__}")
        self.value = value


def _leaf(accepts: tuple[type, ...], wanted: str) -> Any:
    """A structure hook that passes accepted values on to the model's own converters.

    cattrs' defaults call ``str()``, ``int()`` and ``bool()`` on anything, which
    would turn ``None`` into ``"None"``, ``1.9`` into ``1`` and ``"false"`` into
    True; here the wrong type is refused with the value kept.
    """
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, accepts) and not (isinstance(value, bool) and bool not in accepts):
            return value
        raise _WrongType(value, wanted)
    return structure


converter.register_structure_hook(str, _leaf((str,), "text"))
converter.register_structure_hook(bool, _leaf((bool,), "true or false"))
converter.register_structure_hook(int, _leaf((int, str), "a whole number"))
# fixed point, never scientific notation: "100", not "1E+2", which many readers refuse
converter.register_unstructure_hook(Decimal, lambda value: format(value, "f"))
converter.register_structure_hook(Decimal, _leaf((str, int, Decimal), "an amount as text"))
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(datetime, _leaf((str, datetime), "an ISO 8601 datetime"))
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(date, _leaf((str, date), "an ISO 8601 date"))


def to_dict(entity: Any) -> dict[str, Any]:
    """The entity as plain JSON-ready data (str, int, bool, None, list, dict)."""
    data: dict[str, Any] = converter.unstructure(entity)
    return data


def from_dict(kind: type[T], data: Any) -> T:
    """Build ``kind`` from plain data, raising ValidationError naming the field."""
    try:
        return converter.structure(data, kind)
    except (ClassValidationError, IterableValidationError) as group:
        path, error = _first_leaf(group, [])
        raise _located(kind.__name__, path, error) from None
    except ValidationError:
        raise
    except _WrongType as exc:
        raise ValidationError(kind.__name__, exc.value, str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ValidationError(kind.__name__, data, str(exc)) from None


def to_json(entity: Any) -> str:
    """The entity as a JSON text (keys in field order)."""
    return json.dumps(to_dict(entity), ensure_ascii=False)


def from_json(kind: type[T], text: str | bytes) -> T:
    """Build ``kind`` from JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(kind.__name__, text[:80], f"is not JSON: {exc.msg}") from None
    return from_dict(kind, data)


def _first_leaf(exc: BaseException, path: list[str]) -> tuple[list[str], BaseException]:
    """Walk a cattrs exception group to its first leaf, collecting the field path."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, _ = exc.group_exceptions()
        for inner, note in with_notes:
            step = getattr(note, "name", None)
            if step is None:
                step = f"[{getattr(note, 'index', '?')}]"
            return _first_leaf(inner, [*path, str(step)])
        if exc.exceptions:
            return _first_leaf(exc.exceptions[0], path)
    return path, exc


def _located(root: str, path: list[str], error: BaseException) -> ValidationError:
    dotted = ".".join(path).replace(".[", "[")
    if isinstance(error, ValidationError):
        # The leaf names its own class ("Customer.cpf"); keep only the field part.
        leaf = error.field.split(".", 1)[1] if "." in error.field else error.field
        where = ".".join(p for p in (root, dotted, leaf) if p).replace(".[", "[")
        return ValidationError(where, error.value, error.reason)
    where = ".".join(p for p in (root, dotted) if p).replace(".[", "[")
    if isinstance(error, KeyError):
        return ValidationError(where, None, "is required")
    if isinstance(error, _WrongType):
        return ValidationError(where, error.value, str(error))
    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        return ValidationError(where, sorted(error.extra_fields), "unknown field(s)")
    return ValidationError(where, None, format_exception(error, None))
