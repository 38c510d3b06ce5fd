"""Stock reservations on Tray, which has no reservation API: held in the connection's state.

A reservation takes its units off the SKU's stock on Tray, so the store stops
selling them; the ledger here remembers each reservation id, so reserving or
releasing twice changes the stock once, and ``send_stock`` writes the ERP's
quantity less what is still reserved (else a stock update would hand the
reserved units back to the store).

The read-then-write of the stock is not atomic on Tray: an order placed in the
store between the two can be oversold by at most the units reserved. The
README says so.
"""

from __future__ import annotations

from typing import Any

import tramo

__all__ = ["Ledger"]

_PREFIX = "reservation:"


class Ledger:
    """The reservations of one connection, by the ERP's reservation id."""

    def __init__(self, state: tramo.ConnectionState) -> None:
        self.state = state

    def get(self, ident: str) -> dict[str, Any] | None:
        found = self.state.get(_PREFIX + ident)
        return found if isinstance(found, dict) else None

    def hold(self, reservation: tramo.StockReservation) -> None:
        self.state.set(_PREFIX + reservation.id, {"sku": reservation.sku,
                                                  "quantity": reservation.quantity,
                                                  "active": True})

    def release(self, ident: str) -> None:
        found = self.get(ident)
        if found is not None:
            self.state.set(_PREFIX + ident, {**found, "active": False})

    def reserved(self) -> dict[str, int]:
        """SKU to the units still reserved."""
        totals: dict[str, int] = {}
        for key in self.state.keys(_PREFIX):
            found = self.state.get(key)
            if isinstance(found, dict) and found.get("active"):
                totals[found["sku"]] = totals.get(found["sku"], 0) + int(found["quantity"])
        return totals
