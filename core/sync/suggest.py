"""Proposing a connection's mappings from the platform's own lists (``tramo mappings suggest``).

The platform's statuses are matched to canonical statuses by the words stores
use for them (Portuguese and English); shipping methods, payment methods and
sales channels are proposed under an ERP code made from their names, for the
user to change. Nothing is guessed silently: a status no rule matches is
proposed as a comment, and the user accepts the proposal into the
configuration file or edits it first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from tramo.connection import Connection
from tramo.errors import CapabilityNotSupported
from tramo.model import OrderStatus, PlatformOption

__all__ = ["LOOKUPS", "Suggestion", "guess_status", "suggest", "to_toml"]

#: mapping kind -> the look-up hook that lists the platform's values
LOOKUPS: Mapping[str, str] = {
    "status": "list_order_statuses",
    "shipping": "list_shipping_methods",
    "payment": "list_payment_methods",
    "channel": "list_sales_channels",
}

#: first match wins: the more specific phrases come before the words they contain
_STATUS_WORDS: Sequence[tuple[str, OrderStatus]] = (
    (r"unpaid|nao pag|unfulfilled|nao enviad|nao faturad|nao aprovad", OrderStatus.OPEN),
    (r"nao entregue|devolvid|extraviad|undeliver|returned", OrderStatus.NOT_DELIVERED),
    (r"cancel|estornad|refund|voided", OrderStatus.CANCELLED),
    (r"entregue|delivered|concluid|finalizad", OrderStatus.DELIVERED),
    (r"enviado|despachad|transito|shipped|fulfilled|postado", OrderStatus.SHIPPED),
    (r"pronto para envio|a enviar|aguardando envio|ready|etiqueta", OrderStatus.READY_TO_SHIP),
    (r"faturad|nota fiscal|nf-e|invoiced", OrderStatus.INVOICED),
    (r"separac|preparand|embalad|producao|picking|preparing", OrderStatus.PREPARING_SHIPMENT),
    (r"aprovad|pago|paid|confirmad|autorizad", OrderStatus.APPROVED),
    (r"aguardando|pendente|novo|aberto|pending|open|em analise|unpaid", OrderStatus.OPEN),
)


def _plain(text: str) -> str:
    """Lower case without accents, so "Não entregue" and "nao entregue" match alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def guess_status(name: str) -> OrderStatus | None:
    """The canonical status a platform status's name says, or None when no rule matches."""
    plain = _plain(name)
    for pattern, status in _STATUS_WORDS:
        if re.search(pattern, plain):
            return status
    return None


def _code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _plain(name)).strip("_") or "sem_nome"


class Suggestion:
    """Per kind: platform id -> proposed ERP value (None: no guess), with the platform's names."""

    def __init__(self, connection: str) -> None:
        self.connection = connection
        self.tables: dict[str, dict[str, str | None]] = {}
        self.names: dict[str, dict[str, str]] = {}
        self.missing: dict[str, str] = {}

    def to_json(self) -> dict[str, object]:
        return {"connection": self.connection, "mappings": self.tables, "names": self.names,
                "not_offered": self.missing}


def suggest(connection: Connection) -> Suggestion:
    """Read the platform's lists and propose every mapping the connection can have."""
    found = Suggestion(connection.name)
    for kind, hook in LOOKUPS.items():
        try:
            options: Sequence[PlatformOption] = connection.call(hook)
        except CapabilityNotSupported as exc:
            found.missing[kind] = str(exc)
            continue
        found.names[kind] = {o.id: o.name for o in options}
        if kind == "status":
            found.tables[kind] = {o.id: (s.value if (s := guess_status(o.name)) else None)
                                  for o in options}
        else:
            found.tables[kind] = {o.id: _code(o.name) for o in options}
    return found


def _quoted(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _comment(text: str) -> str:
    """Text safe inside a TOML comment: control characters become spaces."""
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)


def to_toml(suggestion: Suggestion, *, skip: Sequence[str] = ()) -> str:
    """The proposal as the configuration's mapping tables (kinds in ``skip`` left out)."""
    lines: list[str] = []
    for kind, table in suggestion.tables.items():
        if kind in skip or not table:
            continue
        lines.append(f"\n[connections.{suggestion.connection}.mappings.{kind}]")
        for platform_id, value in table.items():
            name = _comment(suggestion.names[kind].get(platform_id, ""))
            if value is None:
                lines.append(f"# {_quoted(platform_id)} = ?   # {name}: no guess, map it by hand")
            else:
                lines.append(f"{_quoted(platform_id)} = {_quoted(value)}   # {name}")
    return "\n".join(lines) + "\n"
