"""Secret values that never print.

A :class:`Secret` wraps a credential so that ``str``, ``repr``, f-strings,
``logging`` and tracebacks all show ``'***'``; the value is read only through
:meth:`Secret.reveal`, at the one place that sends it to the platform.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["MASK", "Secret", "reveal", "shown"]

MASK: Final = "***"


class Secret:
    """A credential. Equal to another Secret with the same value; hashes unlike it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds text, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The real value, for the one place that must send it."""
        return self._value  # type: ignore[no-any-return]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled, so it cannot leak through a pickle")


def reveal(value: Any) -> Any:
    """``value`` with a :class:`Secret` unwrapped; anything else as it is."""
    return value.reveal() if isinstance(value, Secret) else value


def shown(value: Any) -> Any:
    """What may appear in a message: the mask for a Secret, else the value."""
    return MASK if isinstance(value, Secret) else value
