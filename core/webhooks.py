"""Webhooks: checking a platform's signature, and taking each delivery once.

Platforms sign a notification with a keyed hash of its raw body (Shopify:
base64 HMAC-SHA256 in ``X-Shopify-Hmac-Sha256``) and deliver it again until
they hear a 2xx, so the same delivery can arrive twice. A plugin's
``parse_webhook`` checks the signature with :func:`signature_matches`
(constant time, before the body is parsed); the core then drops every event
whose ``event_id`` it has already taken (:func:`first_deliveries`), so a
repeated delivery reaches the host once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from tramo.secrets import Secret
from tramo.state import ConnectionState

__all__ = ["first_deliveries", "forget_deliveries", "give_back", "header", "signature_matches"]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (hosts pass headers as they got them)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def signature_matches(secret: Secret | str, body: bytes, signature: str | None, *,
                      digest: Callable[[], Any] = hashlib.sha256, encoding: str = "base64") -> bool:
    """Whether ``signature`` is the HMAC of ``body`` keyed with ``secret`` (``base64`` or ``hex``).

    The comparison takes the same time wherever the strings differ, so the
    answer's timing tells an attacker nothing about the right signature.
    """
    if not signature:
        return False
    key = secret.reveal() if isinstance(secret, Secret) else secret
    mac = hmac.new(key.encode("utf-8"), body, digest).digest()
    try:
        given = (base64.b64decode(signature.strip(), validate=True) if encoding == "base64"
                 else bytes.fromhex(signature.strip()))
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(mac, given)


def first_deliveries(state: ConnectionState, events: Iterable[Any]) -> list[Any]:
    """The events not taken before, marking them taken (events without an ``event_id`` all pass)."""
    fresh = []
    now = datetime.now(timezone.utc).isoformat()
    for event in events:
        ident = getattr(event, "event_id", None)
        if ident is None or state.add(f"webhook:taken:{ident}", now):
            fresh.append(event)
    return fresh


def forget_deliveries(state: ConnectionState, before: datetime) -> int:
    """Drop the marks of deliveries taken before ``before`` (past the platform's retry window,
    no repeat can come), so the ledger does not grow for ever; returns how many went."""
    cutoff = before.astimezone(timezone.utc).isoformat()
    gone = 0
    for key in list(state.keys("webhook:taken:")):
        taken = state.get(key)
        if isinstance(taken, str) and taken < cutoff:
            state.delete(key)
            gone += 1
    return gone


def give_back(state: ConnectionState, events: Iterable[Any]) -> None:
    """Unmark deliveries whose work did not get done (a busy run, a failed fetch), so the
    platform's next delivery of them is taken instead of dropped as a repeat."""
    for event in events:
        ident = getattr(event, "event_id", None)
        if ident is not None:
            state.delete(f"webhook:taken:{ident}")
