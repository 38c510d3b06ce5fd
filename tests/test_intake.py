"""The webhook intake app against real loopback servers: the Tray and Shopify sandboxes deliver,
the intake (served by werkzeug in a thread, or driven as ASGI) hands each notification to the
engine, and the ERP ends up with each order once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import tramo
from tramo.cli_sandbox import write_config
from tramo.erp.reference import ReferenceErp
from tramo.model.identifiers import cpf_check_digits
from tramo.registry import Registry
from tramo.secrets import Secret
from tramo.sync import Tramo
from tramo.sync.intake import IntakeApp, start_in_thread
from tramo.sync.report import FlowReport, RunReport
from tramo.testing.kit import KIT_HTTP
from tramo_shopify.sandbox import WEBHOOK_SECRET, ShopifySandbox
from tramo_tray_rest.sandbox import TraySandbox

CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: a small limit, so an oversize body still fits the sockets' buffers
MAX_BODY = 4_000


# -- the platforms, the engine, the intake ---------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    return tramo.discover(allow=["tray_rest", "shopify"])


@pytest.fixture(scope="module")
def tray() -> Iterator[TraySandbox]:
    with TraySandbox() as sandbox:
        sandbox.seed(products=3, orders=2)
        yield sandbox


@pytest.fixture(scope="module")
def shopify() -> Iterator[ShopifySandbox]:
    with ShopifySandbox() as sandbox:
        yield sandbox


@pytest.fixture
def shop(shopify: ShopifySandbox) -> Iterator[ShopifySandbox]:
    shopify.reset()
    yield shopify
    assert shopify.flush(5)
    assert shopify.errors == [], shopify.errors


def make_engine(registry: Registry, tray: TraySandbox, shop: ShopifySandbox,
                kind: type[Tramo] = Tramo) -> Tramo:
    engine = kind(ReferenceErp(), registry=registry)
    for name, sandbox in (("tray", tray), ("shop", shop)):
        engine.connect(name, sandbox.plugin, sandbox.settings,
                       mappings=dict(sandbox.profile.mappings), http=KIT_HTTP,
                       on_wait=lambda seconds, why: None)
    return engine


@pytest.fixture
def engine(registry: Registry, tray: TraySandbox, shop: ShopifySandbox) -> Iterator[Tramo]:
    with make_engine(registry, tray, shop) as made:
        yield made


class Intake:
    """The intake served on loopback, and a client for it."""

    def __init__(self, engine: Tramo) -> None:
        self.engine = engine
        self.server, self.url = start_in_thread(engine, max_body=MAX_BODY)
        self.client = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)

    def close(self) -> None:
        self.client.close()
        self.server.shutdown()
        self.server.server_close()

    def tray(self, order_id: str, *, connection: str = "tray", **changes: str) -> httpx.Response:
        """Tray's form-encoded notification that ``order_id`` changed."""
        store = self.engine.connection("tray").settings.get("store_id")
        form = {"seller_id": str(store or ""), "scope_name": "order", "scope_id": order_id,
                "act": "update", **changes}
        return self.client.post(f"/webhooks/{connection}", data=form)

    def shopify(self, body: bytes, *, secret: str = WEBHOOK_SECRET, webhook_id: str = "w-1",
                topic: str = "orders/create") -> httpx.Response:
        """A Shopify delivery of ``body``, signed with ``secret``."""
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": signed(secret, body),
                   "X-Shopify-Webhook-Id": webhook_id}
        return self.client.post("/webhooks/shop", content=body, headers=headers)


@pytest.fixture
def intake(engine: Tramo) -> Iterator[Intake]:
    served = Intake(engine)
    yield served
    served.close()


def signed(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def a_tray_order(tray: TraySandbox) -> str:
    return min(tray.data["orders"], key=int)


def an_order(**changes: Any) -> tramo.Order:
    """A buyer's order at the Shopify checkout: PAC, paid by pix, a person with a CPF."""
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br")
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305000")
    fields: dict[str, Any] = {
        "id": "x", "placed_at": WHEN, "customer": customer, "total": Decimal("103.80"),
        "platform_status": "PAID", "delivery_address": address,
        "items": [tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2,
                                  unit_price=Decimal("39.90"))],
        "shipping": tramo.Shipping(platform_method="PAC", freight=Decimal("24.00")),
        "payments": [tramo.Payment(value=Decimal("103.80"), platform_method="pix")]}
    return tramo.Order(**{**fields, **changes})


def notice(order_gid: str) -> bytes:
    """What Shopify posts about an order (the fields the receiver reads)."""
    return json.dumps({"id": int(order_gid.rsplit("/", 1)[1]),
                       "admin_graphql_api_id": order_gid}).encode()


def graphql_calls(shop: ShopifySandbox) -> int:
    return len([c for c in shop.calls if c.path.endswith("/graphql.json")])


def imported(engine: Tramo, connection: str, order_id: str) -> bool:
    return engine.ledger.by_remote(connection, "order", order_id) is not None


# -- Tray -------------------------------------------------------------------------------------


def test_a_tray_notification_imports_the_order_once(intake: Intake, engine: Tramo,
                                                    tray: TraySandbox) -> None:
    order_id = a_tray_order(tray)
    first = intake.tray(order_id)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"imported": [order_id], "unchanged": 0, "held": []}
    assert imported(engine, "tray", order_id)
    assert len(engine.erp.orders()) == 1

    again = intake.tray(order_id)
    assert again.status_code == 200, again.text
    assert again.json() == {"imported": [], "unchanged": 1, "held": []}
    assert len(engine.erp.orders()) == 1


def test_a_notification_for_another_store_is_401_and_a_malformed_one_400(
        intake: Intake, engine: Tramo, tray: TraySandbox) -> None:
    order_id = a_tray_order(tray)
    other = intake.tray(order_id, seller_id="999999")
    assert other.status_code == 401 and other.json() == {
        "error": "the notification could not be authenticated"}
    assert "999999" not in other.text
    malformed = intake.tray(order_id, scope_name="nonsense")
    assert malformed.status_code == 400
    assert malformed.json() == {"error": "malformed notification (webhook.scope_name)"}
    assert "nonsense" not in malformed.text
    assert engine.erp.orders() == [] and not imported(engine, "tray", order_id)


def test_a_busy_connection_is_503_and_the_platform_delivers_again(intake: Intake, engine: Tramo,
                                                                  tray: TraySandbox) -> None:
    order_id = a_tray_order(tray)
    with engine.ledger.lock("tray"):  # a poll of the same connection is running
        busy = intake.tray(order_id)
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert list(busy.json()) == ["error"] and engine.erp.orders() == []
    retried = intake.tray(order_id)
    assert retried.status_code == 200 and retried.json()["imported"] == [order_id]


# -- Shopify ----------------------------------------------------------------------------------


def test_a_signed_shopify_delivery_imports_the_order_and_a_repeat_is_dropped(
        intake: Intake, engine: Tramo, shop: ShopifySandbox) -> None:
    shop.subscribe("orders/create", f"{intake.url}/webhooks/shop")
    ident = shop.place_order(an_order())
    assert shop.flush(5)
    [delivery] = shop.deliveries
    assert delivery.status == 200, delivery
    assert imported(engine, "shop", ident) and len(engine.erp.orders()) == 1

    calls = graphql_calls(shop)
    shop.redeliver(delivery.webhook_id)  # same X-Shopify-Webhook-Id, same body
    assert shop.flush(5)
    assert [d.status for d in shop.deliveries] == [200, 200]
    assert len(engine.erp.orders()) == 1
    assert graphql_calls(shop) == calls  # dropped as a repeat: the order was not even fetched


def test_a_wrong_or_missing_signature_is_401_and_imports_nothing(intake: Intake, engine: Tramo,
                                                                  shop: ShopifySandbox) -> None:
    ident = shop.place_order(an_order())
    body = notice(ident)
    forged = intake.shopify(body, secret="not-the-app-secret", webhook_id="w-forged")
    assert forged.status_code == 401 and list(forged.json()) == ["error"]
    unsigned = intake.client.post("/webhooks/shop", content=body,
                                  headers={"X-Shopify-Topic": "orders/create"})
    assert unsigned.status_code == 401
    assert engine.erp.orders() == [] and not imported(engine, "shop", ident)
    assert WEBHOOK_SECRET not in forged.text + unsigned.text

    signed_right = intake.shopify(body, webhook_id="w-right")
    assert signed_right.status_code == 200 and signed_right.json()["imported"] == [ident]
    repeat = intake.shopify(body, webhook_id="w-right")
    assert repeat.status_code == 200
    assert repeat.json() == {"imported": [], "unchanged": 0, "held": []}
    assert len(engine.erp.orders()) == 1


def test_a_held_order_is_still_200_and_its_reason_shows_no_personal_data(
        intake: Intake, engine: Tramo, shop: ShopifySandbox) -> None:
    buyer = tramo.Customer(name="Sem CPF", email="bia@example.com")
    ident = shop.place_order(an_order(customer=buyer))
    shop.set_attribute(ident, "cpf_cnpj", "12345678900")
    answer = intake.shopify(notice(ident), webhook_id="w-held")
    assert answer.status_code == 200, answer.text
    [[held_id, reason]] = answer.json()["held"]
    assert held_id == ident and "cpf" in reason.lower()
    assert "12345678900" not in answer.text and "bia@example.com" not in answer.text
    assert engine.erp.orders() == [] and [h.item_id for h in engine.ledger.held("shop")] == [ident]


def test_a_delivery_refused_as_busy_is_taken_when_delivered_again(intake: Intake, engine: Tramo,
                                                                  shop: ShopifySandbox) -> None:
    ident = shop.place_order(an_order())
    with engine.ledger.lock("shop"):
        assert intake.shopify(notice(ident), webhook_id="w-busy").status_code == 503
    again = intake.shopify(notice(ident), webhook_id="w-busy")
    assert again.status_code == 200 and again.json()["imported"] == [ident]


# -- HTTP around it ---------------------------------------------------------------------------


def test_routes_methods_and_the_health_check(intake: Intake) -> None:
    unknown = intake.client.post("/webhooks/nosuch", data={"act": "update"})
    assert unknown.status_code == 404 and unknown.json() == {"error": "no such connection"}
    assert intake.client.post("/elsewhere").status_code == 404
    assert intake.client.post("/webhooks/tray/extra").status_code == 404
    wrong = intake.client.get("/webhooks/tray")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert intake.client.post("/health").status_code == 405
    health = intake.client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"ok": True, "connections": ["tray", "shop"]}


def test_a_body_over_the_limit_is_413_declared_or_streamed(intake: Intake, engine: Tramo,
                                                            tray: TraySandbox) -> None:
    order_id = a_tray_order(tray)
    form = f"seller_id=&scope_name=order&scope_id={order_id}&act=update&pad=".encode()
    big = form + b"x" * MAX_BODY
    declared = intake.client.post("/webhooks/tray", content=big,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert declared.status_code == 413 and list(declared.json()) == ["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield big[:1000]
        yield big[1000:]

    streamed = intake.client.post("/webhooks/tray", content=chunks(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    assert engine.erp.orders() == []


class Scripted(Tramo):
    """An engine whose ``take_webhook`` raises or answers what a test sets."""

    outcome: BaseException | RunReport = RunReport()

    def take_webhook(self, name: str, headers: Any, body: bytes) -> RunReport:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


@pytest.fixture
def scripted(registry: Registry, tray: TraySandbox, shop: ShopifySandbox) -> Iterator[Intake]:
    with make_engine(registry, tray, shop, Scripted) as engine:
        served = Intake(engine)
        yield served
        served.close()


def secret_of(engine: Tramo) -> str:
    secret = engine.connection("tray").settings["consumer_secret"]
    assert isinstance(secret, Secret)
    return secret.reveal()


def test_an_unexpected_failure_is_500_with_a_generic_answer_and_a_masked_log(
        scripted: Intake, caplog: pytest.LogCaptureFixture) -> None:
    engine = scripted.engine
    assert isinstance(engine, Scripted)
    secret = secret_of(engine)
    engine.outcome = RuntimeError(
        f"database down saving {CPF} for ana@example.com.br, key {secret}")
    with caplog.at_level(logging.ERROR, logger="tramo.intake"):
        answer = scripted.tray("1")
    assert answer.status_code == 500, answer.text
    assert answer.json() == {"error": "the notification could not be processed"}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "tramo.intake")
    assert "RuntimeError: database down" in logged and "Traceback" in logged
    assert CPF not in logged and "ana@example.com.br" not in logged and secret not in logged
    assert not any(r.exc_info for r in caplog.records if r.name == "tramo.intake")


def test_a_failed_import_is_500_so_the_platform_delivers_again(scripted: Intake) -> None:
    engine = scripted.engine
    assert isinstance(engine, Scripted)
    report = RunReport()
    report.add(FlowReport("tray", "orders")).fail("RetriesExhaustedError: the store answered 502")
    engine.outcome = report
    answer = scripted.tray("1")
    assert answer.status_code == 500
    assert answer.json() == {"error": "the notification could not be processed"}


def test_held_reasons_lose_echoed_values_secrets_and_personal_data(scripted: Intake) -> None:
    engine = scripted.engine
    assert isinstance(engine, Scripted)
    secret = secret_of(engine)
    report = RunReport()
    flow = report.add(FlowReport("tray", "orders", received=["3"], unchanged=2))
    flow.held += [
        ("1", f"RuntimeError: the ERP refused {CPF} (ana@example.com.br), key {secret}"),
        ("2", "ValidationError: Order.customer.name: is too long (got 'Ana Maria Souza')")]
    engine.outcome = report
    answer = scripted.tray("1")
    assert answer.status_code == 200
    body = answer.json()
    assert body["imported"] == ["3"] and body["unchanged"] == 2
    assert [ident for ident, _ in body["held"]] == ["1", "2"]
    assert body["held"][1][1] == "ValidationError: Order.customer.name: is too long"
    for leaked in (CPF, "ana@example.com.br", secret, "Ana Maria"):
        assert leaked not in answer.text


# -- ASGI -------------------------------------------------------------------------------------


def run_asgi(app: IntakeApp, method: str, path: str, chunks: list[bytes],
             headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through ``app.asgi``: its status, headers and body."""
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                for i, chunk in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8080)}
    asyncio.run(app.asgi(scope, receive, send))
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    return start["status"], dict(start["headers"]), b"".join(b["body"] for b in bodies)


def test_the_asgi_app_takes_a_tray_notification(engine: Tramo, tray: TraySandbox) -> None:
    app = IntakeApp(engine, max_body=MAX_BODY)
    order_id = a_tray_order(tray)
    store = engine.connection("tray").settings.get("store_id") or ""
    form = f"seller_id={store}&scope_name=order&scope_id={order_id}&act=update".encode()
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/x-www-form-urlencoded"),
               (b"content-length", str(len(form)).encode())]
    status, sent, body = run_asgi(app, "POST", "/webhooks/tray", [form[:10], form[10:]], headers)
    assert status == 200 and sent[b"content-type"] == b"application/json"
    assert json.loads(body) == {"imported": [order_id], "unchanged": 0, "held": []}
    assert imported(engine, "tray", order_id) and len(engine.erp.orders()) == 1

    status, _, _ = run_asgi(app, "POST", "/webhooks/tray", [b"x" * 3000, b"x" * 3000],
                            [(b"content-type", b"text/plain")])
    assert status == 413
    status, sent, _ = run_asgi(app, "GET", "/webhooks/tray", [b""], [])
    assert status == 405 and sent[b"allow"] == b"POST"
    status, _, body = run_asgi(app, "GET", "/health", [b""], [])
    assert status == 200 and json.loads(body)["connections"] == ["tray", "shop"]


# -- the command ----------------------------------------------------------------------------------


def test_tramo_serve_imports_a_notified_order_and_stops_cleanly_on_sigterm(
        tray: TraySandbox, tmp_path: Path) -> None:
    """``tramo serve`` as a host runs it: its own process, a config file, a service manager's stop."""
    write_config(tmp_path / "tramo.toml", "tray_rest", tray.settings, tray.profile.mappings)
    process = subprocess.Popen(
        [sys.executable, "-m", "tramo", "serve", "--config", str(tmp_path / "tramo.toml"),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), \
            (line, process.stderr.read() if process.stderr else "")
        url = line.split()[-1]
        order_id = a_tray_order(tray)
        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
            assert client.get("/health").json() == {"ok": True, "connections": ["tray_rest"]}
            form = {"seller_id": str(tray.settings.get("store_id") or ""), "scope_name": "order",
                    "scope_id": order_id, "act": "update"}
            answer = client.post("/webhooks/tray_rest", data=form)
        assert answer.status_code == 200, answer.text
        assert answer.json()["imported"] == [order_id]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    erp = ReferenceErp(tmp_path / "erp.sqlite3")
    try:
        assert len(erp.orders()) == 1
    finally:
        erp.close()
