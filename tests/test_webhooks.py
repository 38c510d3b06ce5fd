"""Webhook signatures and deliveries taken once."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.secrets import Secret
from tramo.state import StateStore
from tramo.webhooks import first_deliveries, header, signature_matches


def _signed(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@given(secret=st.text(min_size=1, max_size=20), body=st.binary(max_size=200))
def test_a_body_signed_with_the_secret_matches_and_any_change_does_not(secret: str, body: bytes) -> None:
    signature = _signed(secret, body)
    assert signature_matches(Secret(secret), body, signature)
    assert not signature_matches(secret, body + b"x", signature)
    assert not signature_matches(secret + "x", body, signature)


def test_missing_or_garbled_signatures_do_not_match() -> None:
    assert not signature_matches("s", b"{}", None)
    assert not signature_matches("s", b"{}", "")
    assert not signature_matches("s", b"{}", "not base64!")
    hexed = hmac.new(b"s", b"{}", hashlib.sha256).hexdigest()
    assert signature_matches("s", b"{}", hexed, encoding="hex")


def test_headers_are_found_whatever_their_case() -> None:
    assert header({"x-shopify-topic": "orders/create"}, "X-Shopify-Topic") == "orders/create"
    assert header({}, "X-Shopify-Topic") is None


def test_a_delivery_is_taken_once_and_events_without_an_id_always_pass() -> None:
    state = StateStore().for_connection("c")
    event = tramo.WebhookEvent(resource="order", remote_id="1", action="orders/create", event_id="w-1")
    anonymous = tramo.WebhookEvent(resource="order", remote_id="1", action="orders/create")
    assert first_deliveries(state, [event, anonymous]) == [event, anonymous]
    assert first_deliveries(state, [event, anonymous]) == [anonymous]
