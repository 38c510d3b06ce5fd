"""The example third-party plugin (minishop) in depth: its wire module, and the plugin against its sandbox.

The example is not installed in the development environment (test_third_party
installs it elsewhere), so it is imported from its source folder and
registered with ``Registry.for_testing``. One sandbox serves the module and is
reset before each test; each phase of a test uses a fresh connection, whose
rate budget (minishop's 120 a minute, a burst of 12) never has to wait.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tramo
from tramo.errors import OutcomeUnknownError, TransientError
from tramo.http import HttpOptions, RetryPolicy
from tramo.paging import PagingError
from tramo.sandbox import Fault, Profile
from tramo.state import StateStore
from tramo.testing import strategies as ts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tramo-example-plugin"
sys.path.insert(0, str(EXAMPLE))
try:
    import tramo_example
    from tramo_example import WRITES, wire
    from tramo_example.sandbox import MAPPINGS, PROFILE, READ_ONLY_TOKEN, MinishopSandbox, order_json
finally:
    # Off the path again at once: build leftovers in the folder (an egg-info) would
    # otherwise make it look installed to entry-point discovery in later tests.
    sys.path.remove(str(EXAMPLE))

REGISTRY = tramo.Registry.for_testing({"example": tramo_example})
FAST = HttpOptions(timeout=httpx.Timeout(2.0, read=0.3),
                   retry=RetryPolicy(attempts=3, backoff=0.002, max_backoff=0.01, max_retry_after=0.5))
WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-3)))


@pytest.fixture(scope="module")
def running() -> Iterator[MinishopSandbox]:
    made = REGISTRY.implementation("example", "sandbox").function()  # type: ignore[union-attr]
    with made as sandbox:
        yield sandbox


@pytest.fixture
def shop(running: MinishopSandbox) -> MinishopSandbox:
    running.reset()
    running.configure(hang=0.5)
    return running


def connect(shop: MinishopSandbox, **settings: Any) -> tramo.Connection:
    """A fresh connection (fresh state, so a full rate budget) to the sandbox."""
    return REGISTRY.connect("example", {**shop.settings, **settings}, state=StateStore(),
                            mappings=MAPPINGS, http=FAST, on_wait=lambda seconds, why: None)


def writes(shop: MinishopSandbox) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in shop.calls if c.method != "GET"]


def kept(value: Any, profile: Profile = PROFILE) -> Any:
    """``value`` reduced to the fields the sandbox's Profile says minishop keeps."""
    if attrs.has(type(value)):
        fields = profile.kept.get(type(value).__name__)
        return {f.name: kept(getattr(value, f.name)) for f in attrs.fields(type(value))
                if fields is None or f.name in fields}
    if isinstance(value, tuple):
        return [kept(v) for v in value]
    return value


def product(code: str = "CAM", **changes: Any) -> tramo.Product:
    base = tramo.Product(code=code, name="Camiseta", brand=tramo.Brand(id="B1", name="Acme"),
                         images=("https://cdn.example.com/cam.jpg",),
                         variants=(tramo.Variant(sku=f"{code}-P", price=Decimal("49.90"),
                                                 attributes=(tramo.Attribute(name="Tam", value="P"),)),
                                   tramo.Variant(sku=f"{code}-M", price=Decimal("49.90"))))
    return attrs.evolve(base, **changes)


def order(sku: str = "CAM-P", quantity: int = 1, status: str = "paid") -> tramo.Order:
    return tramo.Order(id="erp-side", placed_at=WHEN, customer=tramo.Customer(name="Ana"),
                       items=[tramo.OrderItem(sku=sku, name="Camiseta", quantity=quantity,
                                              unit_price="49.90")],
                       total=Decimal("49.90") * quantity, platform_status=status)


# -- wire: pure conversions ------------------------------------------------------------


@given(ts.products())
def test_a_product_comes_back_from_minishop_json_with_every_field_minishop_keeps(item: tramo.Product) -> None:
    answer = {**wire.product_body(item), "id": 7, "updated_at": WHEN.isoformat()}
    back = wire.product_from_wire(answer)
    assert kept(back) == kept(item)
    assert back.remote_id == "7" and back.updated_at == WHEN


@given(ts.orders())
def test_an_order_minishop_renders_reads_back_with_its_platform_ids(item: tramo.Order) -> None:
    assume(len({t.code for t in item.trackings}) == len(item.trackings))
    back = wire.order_from_wire(order_json(item, "1001", WHEN, WHEN + timedelta(seconds=1)))
    assert kept(back) == kept(item)
    assert (back.id, back.number, back.placed_at, back.updated_at) == (
        "1001", "1001", WHEN, WHEN + timedelta(seconds=1))
    assert back.platform_status == item.platform_status
    assert back.shipping == (None if item.shipping is None else attrs.evolve(item.shipping, method=None))
    assert [p.platform_method for p in back.payments] == [p.platform_method for p in item.payments]


@given(st.data())
def test_every_refusal_the_profile_declares_is_refused_by_wire(data: st.DataObject) -> None:
    bodies = {"send_products": (ts.products, wire.product_body),
              "send_prices": (ts.prices, wire.price_body),
              "send_stock": (ts.stock_levels, wire.stock_body)}
    for capability, spoilers in PROFILE.invalid.items():
        strategy, body = bodies[capability]
        for what, spoil in spoilers:
            with pytest.raises(tramo.ValidationError, match="minishop refuses it"):
                body(spoil(data.draw(strategy(), label=what)))


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "N" * 121}, "Product.name"),
    ({"images": tuple(f"https://cdn.example.com/{i}.jpg" for i in range(6))}, "Product.images"),
    ({"variants": (tramo.Variant(sku="S" * 41),)}, "Product.variants[0].sku"),
    ({"variants": (), "sku": "S" * 41}, "Product.sku"),
    ({"variants": (), "code": "C" * 41}, "Product.code"),  # no variants, no sku: the code is the SKU
])
def test_what_minishop_refuses_in_a_product_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.product_body(product(**changes))
    assert caught.value.field == field
    # the limits themselves pass
    wire.product_body(product(name="N" * 120, images=changes.get("images", ())[:5]))


@pytest.mark.parametrize(("status", "body", "kind", "code"), [
    (401, {"error": {"code": "unauthorized", "message": "no"}}, tramo.AuthenticationError, None),
    (403, {"error": {"code": "forbidden"}}, tramo.AuthenticationError, None),
    (404, {"error": {"code": "not_found", "message": "no such order"}}, tramo.PlatformError, "not_found"),
    (409, {"error": {"code": "insufficient_stock",
                     "details": [{"field": "quantity", "message": "2 available"}]}},
     tramo.PlatformError, "insufficient_stock"),
    (422, {"error": {"code": "validation_failed", "details": [{"field": "name", "message": "too long"}]}},
     tramo.ValidationError, None),
    (422, {"error": {"code": "validation_failed"}}, tramo.PlatformError, "validation_failed"),
    (418, "not even an object", tramo.PlatformError, 418),
])
def test_minishop_error_bodies_become_typed_errors(status: int, body: Any, kind: type, code: Any) -> None:
    error = wire.error_from(status, body)
    assert type(error) is kind
    if code is not None:
        assert error.code == code  # type: ignore[attr-defined]


def test_an_unreadable_answer_is_a_transient_error_that_does_not_quote_the_body() -> None:
    with pytest.raises(TransientError) as caught:
        wire.read_answer(200, b"<html>token=abc123</html>")
    assert "abc123" not in str(caught.value)
    with pytest.raises(tramo.PlatformError) as refused:
        wire.read_answer(500, b"<html>token=abc123</html>")
    assert "abc123" not in str(refused.value)


def test_checkpoints_are_aware_times_or_their_iso_text() -> None:
    assert wire.since_param(None) == {}
    assert wire.since_param(WHEN) == wire.since_param(WHEN.isoformat()) == {"updated_since": WHEN.isoformat()}
    for bad in (datetime(2026, 1, 1), "2026-01-01T00:00:00", "cursor-17"):
        with pytest.raises(tramo.ValidationError):
            wire.since_param(bad)


# -- plumbing ----------------------------------------------------------------------------


def test_the_plugin_describes_itself_and_hands_out_a_new_unstarted_sandbox() -> None:
    record = REGISTRY.record("example")
    assert (record.info.name, record.info.platform, record.info.modality) == ("example", "minishop", "rest")
    assert {s.name: s.secret for s in record.info.settings} == {
        "api_address": False, "api_token": True, "page_size": False, "read_only": False}
    assert set(WRITES) < set(record.capabilities)
    hook = REGISTRY.implementation("example", "sandbox").function  # type: ignore[union-attr]
    one, two = hook(), hook()
    assert isinstance(one, MinishopSandbox) and one is not two and not one.running
    assert set(MAPPINGS["status"].values()) == {s.value for s in tramo.OrderStatus}
    assert PROFILE.orders == "incremental" and PROFILE.page_size_setting == "page_size"


def test_check_connection_reports_the_store_and_a_wrong_token(shop: MinishopSandbox) -> None:
    with connect(shop) as connection:
        report = connection.check()
    assert report.ok and report.details["store"] == "minishop sandbox"
    with connect(shop, api_token="wrong") as connection:
        report = connection.check()
    assert not report.ok and report.problems[0].startswith("AuthenticationError")
    assert "wrong" not in report.problems[0]


def test_a_wrong_token_fails_every_item_after_one_call(shop: MinishopSandbox) -> None:
    with connect(shop, api_token="wrong") as connection:
        results = connection.call("send_stock", levels=[tramo.StockLevel(sku=s, quantity=1) for s in "ABC"])
    assert [r.outcome for r in results] == [tramo.Outcome.FAILED] * 3
    assert all(isinstance(r.error, tramo.AuthenticationError) for r in results)
    assert len(shop.calls) == 1


def test_read_only_narrows_the_writes_away_and_a_read_token_is_reported(shop: MinishopSandbox) -> None:
    with connect(shop, read_only=True) as connection:
        assert set(connection.restrictions()) == set(WRITES)
        with pytest.raises(tramo.CapabilityNotSupported, match="read_only"):
            connection.call("send_stock", levels=[])
        assert connection.check().ok
    with connect(shop, api_token=READ_ONLY_TOKEN) as connection:
        assert "write scope" in connection.check().problems[0]
        [result] = connection.call("send_stock", levels=[tramo.StockLevel(sku="A", quantity=1)])
    assert isinstance(result.error, tramo.AuthenticationError)


# -- catalogue ------------------------------------------------------------------------------


def test_products_are_created_then_updated_then_unchanged(shop: MinishopSandbox) -> None:
    items = [product("CAM"), product("CAL", name="Calça")]
    with connect(shop) as connection:
        created = connection.call("send_products", products=items)
        updated = connection.call("send_products", products=[attrs.evolve(items[0], name="Camiseta azul")])
    with connect(shop) as connection:
        unchanged = connection.call("send_products", products=[attrs.evolve(items[0], name="Camiseta azul")])
        read = list(connection.call("receive_products"))
    assert [r.outcome for r in created] == [tramo.Outcome.CREATED] * 2
    assert [(r.outcome, r.remote_id) for r in updated + unchanged] == [
        (tramo.Outcome.UPDATED, created[0].remote_id), (tramo.Outcome.UNCHANGED, created[0].remote_id)]
    assert sorted(p.code for p in shop.held_products()) == ["CAL", "CAM"]  # no duplicate
    assert {p.code: kept(p) for p in read} == {p.code: kept(p) for p in shop.held_products()}
    assert {p.code: p.name for p in read} == {"CAM": "Camiseta azul", "CAL": "Calça"}


def test_refused_products_are_held_before_any_request(shop: MinishopSandbox) -> None:
    bad = [spoil(product(f"P{i}")) for i, (_, spoil) in enumerate(PROFILE.invalid["send_products"])]
    with connect(shop) as connection:
        results = connection.call("send_products", products=[*bad, product("OK")])
    assert [r.outcome for r in results] == [tramo.Outcome.HELD] * 3 + [tramo.Outcome.CREATED]
    assert all(isinstance(r.error, tramo.ValidationError) for r in results[:3])
    assert [c.path for c in shop.calls] == ["/products/by-code/OK", "/products"]
    # minishop itself refuses them too: the plugin only says so first.
    answer = httpx.post(f"{shop.url}/products", json=wire.product_body(product("OK2")) | {"name": "N" * 121},
                        headers={"Authorization": f"Bearer {shop.settings['api_token']}"})
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "name"


def test_platform_refusals_are_failed_with_the_platform_s_reason(shop: MinishopSandbox) -> None:
    with connect(shop) as connection:
        first, clash = connection.call("send_products", products=[product("A"), product("B", variants=(
            tramo.Variant(sku="A-P"),))])
        [orphan] = connection.call("map_categories", categories=[
            tramo.Category(id="C2", name="Filha", parent_id="NOT-THERE")])
    assert first.ok and clash.outcome is tramo.Outcome.FAILED
    assert isinstance(clash.error, tramo.PlatformError) and clash.error.code == "sku_taken"
    assert orphan.outcome is tramo.Outcome.FAILED and isinstance(orphan.error, tramo.ValidationError)
    assert orphan.error.field == "minishop:parent_code"


def test_a_server_error_on_a_post_is_failed_never_done(shop: MinishopSandbox) -> None:
    shop.inject(Fault.SERVER_ERROR, where=lambda method, where: method == "POST")
    with connect(shop) as connection:
        [failed] = connection.call("send_products", products=[product()])
        assert failed.outcome is tramo.Outcome.FAILED and isinstance(failed.error, OutcomeUnknownError)
        assert shop.held_products() == []
        [again] = connection.call("send_products", products=[product()])
    assert again.outcome is tramo.Outcome.CREATED and len(shop.held_products()) == 1
    assert writes(shop) == [("POST", "/products"), ("POST", "/products")]  # the POST was never retried


def test_reads_go_through_faults_and_a_repeated_page_is_an_error_not_duplicates(
        shop: MinishopSandbox) -> None:
    with connect(shop) as connection:
        connection.call("send_products", products=[product(c) for c in ("A", "B", "C")])
    shop.inject(Fault.SERVER_ERROR)
    shop.inject(Fault.DROPPED)
    with connect(shop, page_size=1) as connection:
        assert sorted(p.code for p in connection.call("receive_products")) == ["A", "B", "C"]
        shop.inject(Fault.DUPLICATE_PAGE, times=2, where=lambda method, where: method == "GET")
        with pytest.raises(PagingError):
            list(connection.call("receive_products"))


def test_categories_map_parents_first_stably_and_a_cycle_is_held(shop: MinishopSandbox) -> None:
    tree = [tramo.Category(id="C3", name="Camisetas", parent_id="C2"),
            tramo.Category(id="C2", name="Roupas", parent_id="C1"), tramo.Category(id="C1", name="Moda")]
    loop = [tramo.Category(id="X", name="x", parent_id="Y"), tramo.Category(id="Y", name="y", parent_id="X")]
    with connect(shop) as connection:
        first = connection.call("map_categories", categories=tree + loop)
        second = connection.call("map_categories", categories=tree)
    assert [r.local_id for r in first] == ["C3", "C2", "C1", "X", "Y"]
    assert [r.outcome for r in first] == [tramo.Outcome.CREATED] * 3 + [tramo.Outcome.HELD] * 2
    assert [r.remote_id for r in second] == [r.remote_id for r in first[:3]]
    assert [r.outcome for r in second] == [tramo.Outcome.UNCHANGED] * 3
    parents = {c["code"]: c["parent_id"] for c in shop.data["categories"].values()}
    assert parents == {"C1": None, "C2": first[2].remote_id, "C3": first[1].remote_id}


# -- stock and prices --------------------------------------------------------------------------


def test_stock_is_on_hand_less_reservations_and_reservations_are_idempotent(shop: MinishopSandbox) -> None:
    r1 = tramo.StockReservation(id="R1", sku="CAM-P", quantity=3, order_id="PED-1")
    r2 = tramo.StockReservation(id="R2", sku="CAM-P", quantity=3)
    with connect(shop) as connection:
        stock = [connection.call("send_stock", levels=[tramo.StockLevel(sku="CAM-P", quantity=q)])[0].outcome
                 for q in (5, 5, 4)]
        reserved = connection.call("reserve_stock", reservations=[r1, r1, r2])
        held = (shop.held_stock()["CAM-P"], shop.held_reservations())
        released = connection.call("release_stock", reservations=[r1, r1, r2])
        again = connection.call("reserve_stock", reservations=[r1])
    assert stock == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED, tramo.Outcome.UPDATED]
    assert [r.outcome for r in reserved] == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED,
                                             tramo.Outcome.FAILED]
    assert isinstance(reserved[2].error, tramo.PlatformError)
    assert reserved[2].error.code == "insufficient_stock"
    assert held == (1, {"R1": 3})
    assert [r.outcome for r in released] == [tramo.Outcome.UPDATED, tramo.Outcome.UNCHANGED,
                                             tramo.Outcome.UNCHANGED]  # R2 was never reserved
    assert shop.held_stock()["CAM-P"] == 4 and shop.held_reservations() == {}
    assert again[0].outcome is tramo.Outcome.FAILED  # a released id does not reserve again


def test_an_order_placed_takes_its_units_off_the_stock_of_known_skus(shop: MinishopSandbox) -> None:
    with connect(shop) as connection:
        connection.call("send_stock", levels=[tramo.StockLevel(sku="CAM-P", quantity=5)])
        connection.call("reserve_stock",
                        reservations=[tramo.StockReservation(id="R", sku="CAM-P", quantity=1)])
    shop.place_order(order("CAM-P", 3))
    shop.place_order(order("UNKNOWN", 2))
    assert shop.held_stock() == {"CAM-P": 1}  # 5 - 3 on hand, 1 reserved; UNKNOWN not invented
    shop.place_order(order("CAM-P", 9))
    assert shop.data["stock"]["CAM-P"] == 0 and shop.held_stock()["CAM-P"] == 0


def test_prices_are_set_per_sku_and_refused_for_price_lists(shop: MinishopSandbox) -> None:
    price = tramo.Price(sku="CAM-P", list_price="59.90", sale_price="49.90", promotional_price="39.90",
                        promotion_start=WHEN, promotion_end=WHEN + timedelta(days=3))
    with connect(shop) as connection:
        results = connection.call("send_prices", prices=[
            price, price, attrs.evolve(price, price_list="atacado"), attrs.evolve(price, currency="USD")])
    assert [r.outcome for r in results] == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED,
                                            tramo.Outcome.HELD, tramo.Outcome.HELD]
    assert shop.held_prices() == {"CAM-P": price}
    assert len(writes(shop)) == 2


# -- orders --------------------------------------------------------------------------------------


def test_orders_are_read_incrementally_after_a_checkpoint(shop: MinishopSandbox) -> None:
    first = [shop.place_order(order()) for _ in range(3)]
    with connect(shop, page_size=2) as connection:
        everything = list(connection.call("receive_orders"))
        assert [o.id for o in everything] == first
        assert all(o.status is tramo.OrderStatus.APPROVED for o in everything)  # "paid", mapped by the core
        checkpoint = max(o.updated_at for o in everything)
        shop.change_order(first[0])
        later = shop.place_order(order(status="no-such-status"))
        since = list(connection.call("receive_orders", since=checkpoint))
        assert [o.id for o in since] == [first[0], later]
        assert since[1].platform_status == "pending"  # minishop's status for a new order
        assert list(connection.call("receive_orders", since=max(o.updated_at for o in since))) == []
    times = [o.updated_at for o in everything + since]
    assert all(t.utcoffset() is not None for t in times) and len(set(times)) == len(times)


def test_an_order_that_cannot_be_converted_is_held_and_the_read_goes_on(shop: MinishopSandbox) -> None:
    good, bad = shop.place_order(order()), shop.place_order(order())
    shop.data["orders"][bad]["items"] = []
    with connect(shop, page_size=1) as connection:
        records = list(connection.call("receive_orders"))
        shop.inject(Fault.DUPLICATE_PAGE, times=2, where=lambda method, where: where == "/orders")
        with pytest.raises(PagingError):
            list(connection.call("receive_orders"))
    assert isinstance(records[0], tramo.Order) and records[0].id == good
    assert isinstance(records[1], tramo.Held) and records[1].remote_id == bad
    assert isinstance(records[1].error, tramo.ValidationError) and "items" in records[1].error.field


def test_status_moves_once_and_an_unknown_order_fails(shop: MinishopSandbox) -> None:
    ident = shop.place_order(order())
    update = tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.SHIPPED)
    with connect(shop) as connection:
        results = connection.call("sync_status", updates=[
            update, update, attrs.evolve(update, order_id="404")])
    assert [r.outcome for r in results] == [tramo.Outcome.UPDATED, tramo.Outcome.UNCHANGED,
                                            tramo.Outcome.FAILED]
    assert shop.held_status(ident) == "shipped"
    assert isinstance(results[2].error, tramo.PlatformError) and results[2].error.code == "not_found"


def test_a_tracking_sent_twice_is_held_once(shop: MinishopSandbox) -> None:
    ident = shop.place_order(order())
    tracking = tramo.Tracking(order_id=ident, code="AA123456789BR", carrier="Correios", shipped_at=WHEN)
    with connect(shop) as connection:
        results = connection.call("send_tracking", trackings=[tracking, tracking])
        [read] = [o for o in connection.call("receive_orders") if o.id == ident]
    assert [r.outcome for r in results] == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
    assert shop.held_trackings() == {ident: ["AA123456789BR"]}
    assert read.trackings == (tracking,)


def test_order_statuses_are_listed_for_the_mapping(shop: MinishopSandbox) -> None:
    with connect(shop) as connection:
        options = connection.call("list_order_statuses")
    assert {o.id for o in options if o.active} == set(MAPPINGS["status"])
    assert [o.id for o in options if not o.active] == ["on_hold"]
