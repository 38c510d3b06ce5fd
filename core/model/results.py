"""What hooks give back: per-item write results, held records, look-ups, reports."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from tramo.errors import TramoError
from tramo.model import fields as f

__all__ = [
    "ConnectionReport",
    "Held",
    "Outcome",
    "PlatformOption",
    "WebhookEvent",
    "WriteResult",
]


class Outcome(enum.Enum):
    """What happened to one item of a write.

    ``HELD`` means nothing was attempted (the item failed validation or
    mapping before any call); ``FAILED`` means the platform was asked and did
    not take it. Only ``CREATED``, ``UPDATED`` and ``UNCHANGED`` mean the
    platform holds the item.
    """

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    HELD = "held"

    @property
    def done(self) -> bool:
        return self in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)


@attrs.frozen
class WriteResult:
    """The result of one item of a write, in input order.

    ``local_id`` is the ERP's id of the item (a SKU, a product code, an order
    id); ``remote_id`` the platform's id once it holds the item.
    """

    local_id: str | None
    outcome: Outcome = f.choice(Outcome)
    remote_id: str | None = None
    error: TramoError | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if self.outcome.done and self.error is not None:
            raise f.fail(self, "error", self.error, f"a {self.outcome.value} item carries no error")
        if not self.outcome.done and self.error is None:
            raise f.fail(self, "error", None, f"a {self.outcome.value} item must say why")

    @property
    def ok(self) -> bool:
        return self.outcome.done

    @classmethod
    def held(cls, local_id: str | None, error: TramoError) -> WriteResult:
        return cls(local_id, Outcome.HELD, error=error)

    @classmethod
    def failed(cls, local_id: str | None, error: TramoError) -> WriteResult:
        return cls(local_id, Outcome.FAILED, error=error)


@attrs.frozen
class Held:
    """A record a read could not turn into a model object, kept with its error.

    ``remote_id`` names the record on the platform when known; ``raw`` is what
    the platform sent (for the host to show and retry; never logged).
    """

    kind: str
    error: TramoError
    remote_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class PlatformOption:
    """One entry of a platform look-up list (a status, a shipping method, ...)."""

    id: str = f.text()
    name: str = f.text()
    active: bool = f.flag(default=True)


@attrs.frozen(kw_only=True)
class ConnectionReport:
    """What ``check_connection`` found: ``problems`` is empty when all is well."""

    problems: tuple[str, ...] = f.many(str)
    details: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """A verified notification: ``resource`` ``remote_id`` was ``action``-ed; fetch it."""

    resource: str = f.text()
    remote_id: str = f.text()
    action: str = f.text()
    received_at: datetime | None = f.moment(optional=True)
    event_id: str | None = f.optional_text()
