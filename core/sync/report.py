"""What a run did, per connection and flow: sent, received, unchanged, skipped, held, failed.

The same objects feed the CLI's summary table, ``--json`` and a host's own
screens; nothing in them is personal data beyond record ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["FlowReport", "RunReport"]


@attrs.define
class FlowReport:
    """One flow on one connection.

    ``status`` is ``ran``, ``skipped`` (``reason`` says why: a capability the
    connection lacks, a busy lock) or ``failed`` (the flow stopped; ``reason``).
    Ids are the ERP's for what was sent and the platform's for what was received.
    """

    connection: str
    flow: str
    status: str = "ran"
    reason: str | None = None
    sent: list[str] = attrs.field(factory=list)
    received: list[str] = attrs.field(factory=list)
    unchanged: int = 0
    held: list[tuple[str, str]] = attrs.field(factory=list)
    failed: list[tuple[str, str]] = attrs.field(factory=list)
    planned: list[str] = attrs.field(factory=list)
    recovered: list[str] = attrs.field(factory=list)

    def skip(self, reason: str) -> FlowReport:
        self.status, self.reason = "skipped", reason
        return self

    def fail(self, reason: str) -> FlowReport:
        self.status, self.reason = "failed", reason
        return self

    @property
    def troubled(self) -> bool:
        """Something was held or failed, or the flow itself stopped."""
        return bool(self.held or self.failed) or self.status == "failed"

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["held"] = [{"id": i, "reason": r} for i, r in self.held]
        data["failed"] = [{"id": i, "reason": r} for i, r in self.failed]
        return data


@attrs.define
class RunReport:
    """Every flow of a run, in the order they ran."""

    flows: list[FlowReport] = attrs.field(factory=list)
    dry_run: bool = False

    def __iter__(self) -> Iterator[FlowReport]:
        return iter(self.flows)

    def add(self, report: FlowReport) -> FlowReport:
        self.flows.append(report)
        return report

    def extend(self, other: RunReport) -> None:
        self.flows.extend(other.flows)

    def of(self, connection: str, flow: str) -> FlowReport:
        for report in self.flows:
            if report.connection == connection and report.flow == flow:
                return report
        raise KeyError(f"no {flow!r} flow ran on {connection!r}")

    @property
    def troubled(self) -> bool:
        return any(r.troubled for r in self.flows)

    def totals(self, connection: str | None = None) -> dict[str, int]:
        chosen = [r for r in self.flows if connection is None or r.connection == connection]
        return {
            "sent": sum(len(r.sent) for r in chosen),
            "received": sum(len(r.received) for r in chosen),
            "unchanged": sum(r.unchanged for r in chosen),
            "skipped": sum(r.status == "skipped" for r in chosen),
            "held": sum(len(r.held) for r in chosen),
            "failed": sum(len(r.failed) + (r.status == "failed") for r in chosen),
            "planned": sum(len(r.planned) for r in chosen),
            "recovered": sum(len(r.recovered) for r in chosen),
        }

    def to_json(self) -> dict[str, Any]:
        connections: dict[str, Any] = {}
        for report in self.flows:
            entry = connections.setdefault(report.connection, {"flows": []})
            entry["flows"].append(report.to_json())
        for name, entry in connections.items():
            entry["totals"] = self.totals(name)
        return {"dry_run": self.dry_run, "connections": connections, "totals": self.totals()}
