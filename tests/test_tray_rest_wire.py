"""Tray JSON <-> the model: the documented examples go straight in; what Tray refuses is refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.testing import strategies as s
from tramo_tray_rest import wire

FIXTURES = Path(__file__).parent / "fixtures" / "tray_rest"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def example(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def complete_order() -> dict[str, Any]:
    """order_complete.json as published has one unterminated string; the rest is taken as is."""
    text = (FIXTURES.parent / "tray_rest_as_published" / "order_complete.json").read_text(encoding="utf-8")
    return json.loads(text.replace('"Notebook Alienware Gamer,', '"Notebook Alienware Gamer",'))


# -- documented examples in -------------------------------------------------------------


def test_the_documented_product_reads_with_strings_for_numbers() -> None:
    product = wire.product_from_wire(example("product_get.json")["Product"], [], SAO_PAULO)
    assert product.code == "M01" and product.name == "Produto Teste"
    assert product.price == Decimal("30.00") and product.ncm == "90221991"
    assert product.gtin is None  # "" is no GTIN
    assert product.brand == tramo.Brand(id="4", name="Dragon Shield")
    assert product.weight_kg == Decimal("0.002")  # Tray weighs in grams
    assert product.dimensions == tramo.Dimensions(length_cm=1, width_cm=10, height_cm=15)
    assert len(product.images) == 2 and product.images[0].startswith("https://")
    assert product.updated_at == datetime(2019, 1, 21, 9, 22, 21, tzinfo=SAO_PAULO)


def test_a_variant_with_a_bad_gtin_is_refused_naming_the_field() -> None:
    record = example("variant_get.json")["Variant"]  # its ean "125" is a placeholder
    with pytest.raises(tramo.ValidationError) as caught:
        wire.variant_from_wire(record)
    assert "gtin" in caught.value.field


def test_the_documented_variant_reads_once_its_gtin_is_real() -> None:
    record = {**example("variant_get.json")["Variant"], "ean": "7891234567895"}
    variant = wire.variant_from_wire(record)
    assert variant.sku == "THR016-2" and variant.price == Decimal("12.50")
    assert [(a.name, a.value) for a in variant.attributes] == [("Cor", "Preta"), ("Tamanho", "40")]
    assert variant.remote_id == "255" and len(variant.images) == 1


def test_the_documented_complete_order_reads_with_customer_freight_and_channel() -> None:
    order = wire.order_from_wire(complete_order(), SAO_PAULO)
    assert order.id == "15" and order.total == Decimal("62935.86")
    assert order.platform_status == "69"
    assert order.placed_at == datetime(2021, 2, 10, 11, 28, 21, tzinfo=SAO_PAULO)
    assert order.updated_at == datetime(2021, 5, 6, 10, 38, 45, tzinfo=SAO_PAULO)
    assert order.shipping is not None and order.shipping.freight == Decimal("38.91")
    assert order.shipping.platform_method == "Correios Expresso"
    assert order.sales_channel == tramo.SalesChannel(platform_channel="Dafiti",
                                                     marketplace_order_id="987654")
    assert order.customer.name == "Nome Cliente" and order.customer.email == "email@tray.com.br"
    assert order.delivery_address is not None and order.delivery_address.city == "Marília"
    assert order.delivery_address.postal_code == "17500000"
    [item] = order.items
    assert item.quantity == 1 and item.unit_price == Decimal("59900.00")
    assert item.attributes == ("Voltagem: 110v",)
    assert order.payments[0].platform_method == "80" and order.payments[0].paid_at is not None
    assert order.trackings == () and order.invoices == ()


def test_an_order_without_optional_blocks_still_reads() -> None:
    record = complete_order()
    bare = {k: v for k, v in record["Order"].items()
            if k not in ("MarketplaceOrder", "Customer", "OrderStatus", "payment_date", "hour")}
    bare["Customer"] = {"name": "Ana", "type": "0"}
    order = wire.order_from_wire({"Order": bare}, SAO_PAULO)
    assert order.sales_channel == tramo.SalesChannel(platform_channel="LOJA VIRTUAL")
    assert order.delivery_address is None and order.payments[0].paid_at is None


def test_the_documented_token_answer_is_store_time() -> None:
    token = wire.token_from_answer(example("auth_create_tokens_response.json"), SAO_PAULO)
    assert token.expires_at == datetime(2021, 3, 2, 14, 58, 21, tzinfo=SAO_PAULO)
    assert token.refresh_expires_at == datetime(2021, 4, 1, 11, 58, 21, tzinfo=SAO_PAULO)
    assert token.extra["store_id"] == "123456"
    assert "APP_ID" not in repr(token)


def test_the_documented_401_is_a_token_to_renew_and_an_authentication_error() -> None:
    body = json.dumps(example("error_401_error_code.json")).encode()
    assert wire.token_refused(401, body)
    with pytest.raises(tramo.AuthenticationError):
        wire.read_answer(401, body)


def test_a_blocked_store_is_not_a_token_problem() -> None:
    body = json.dumps({"code": 401, "name": "Unauthorized access", "error_code": 1001,
                       "causes": ["Loja bloqueada"]}).encode()
    assert not wire.token_refused(401, body)
    with pytest.raises(tramo.AuthenticationError, match="blocked"):
        wire.read_answer(401, body)


@pytest.mark.parametrize(("status", "kind"), [(400, tramo.PlatformError), (404, tramo.PlatformError),
                                              (429, tramo.RateLimitedError), (503, tramo.TransientError)])
def test_error_bodies_become_typed_errors_with_their_causes(status: int, kind: type) -> None:
    body = json.dumps({"code": status, "url": "/web_api/products", "name": "Bad",
                       "causes": ["Product.name: obrigatório"]}).encode()
    with pytest.raises(kind) as caught:
        wire.read_answer(status, body)
    assert status in (429, 503) or "Product.name" in str(caught.value)


def test_an_unreadable_answer_to_a_write_is_an_unknown_outcome() -> None:
    with pytest.raises(tramo.errors.OutcomeUnknownError):
        wire.read_answer(201, b'{"message": "Crea', write=True)
    with pytest.raises(tramo.TransientError):
        wire.read_answer(200, b'{"Products": [', write=False)


def test_paging_counts_pages_from_the_paging_block() -> None:
    assert wire.page_count(example("shippings_list_page.json"), 30) == 1
    assert wire.page_count({"paging": {"total": 101, "limit": 50}}, 50) == 3
    assert wire.page_count({"paging": {"total": 0, "limit": 50}}, 50) == 1


def test_the_documented_notification_is_an_order_to_fetch() -> None:
    body = b"seller_id=391250&scope_id=4375797&scope_name=order&act=update&app_code=718"
    [event] = [wire.webhook_event(wire.notification(body, "application/x-www-form-urlencoded"),
                                  "391250")]
    assert (event.resource, event.remote_id, event.action) == ("order", "4375797", "update")
    with pytest.raises(tramo.AuthenticationError):
        wire.webhook_event(wire.notification(body, ""), "999")
    with pytest.raises(tramo.ValidationError):
        wire.webhook_event({"seller_id": "1", "scope_name": "cart", "scope_id": "1", "act": "update"}, None)


# -- what goes out -------------------------------------------------------------------------


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


@given(product=s.products())
def test_a_product_body_is_text_all_the_way_down_or_refused_naming_the_field(
        product: tramo.Product) -> None:
    try:
        body = wire.product_body(product, ["7"] if product.categories else [])
    except tramo.ValidationError as exc:
        assert exc.field.startswith(("Product", "Variant"))
        return
    assert all(isinstance(leaf, str) for leaf in leaves(body))
    fields = body["Product"]
    assert fields["reference"] == product.code
    assert len([k for k in fields if k.startswith("picture_source_")]) == len(product.images)


@pytest.mark.parametrize(("spoil", "field"), [
    (lambda p: attrs.evolve(p, name="N" * 201), "Product.name"),
    (lambda p: attrs.evolve(p, images=tuple(f"https://i.example.com/{i}.jpg" for i in range(7))),
     "Product.images"),
    (lambda p: attrs.evolve(p, sku="OTHER"), "Product.sku"),
    (lambda p: attrs.evolve(p, price=Decimal(0)), "Product.price"),
    (lambda p: attrs.evolve(p, variants=(tramo.Variant(sku="V1", attributes=[
        tramo.Attribute(name=str(i), value="x") for i in range(3)]),)), "Variant[V1].attributes"),
])
def test_what_tray_refuses_is_refused_before_any_call(spoil: Any, field: str) -> None:
    product = spoil(tramo.Product(code="P1", name="Caneca", price=Decimal("10")))
    with pytest.raises(tramo.ValidationError) as caught:
        wire.product_body(product)
    assert caught.value.field == field


def test_weights_go_out_in_grams_and_come_back_in_kilograms() -> None:
    product = tramo.Product(code="P1", name="Caneca", weight_kg=Decimal("0.35"),
                            dimensions=tramo.Dimensions(length_cm=10, width_cm=8, height_cm="9.5"))
    fields = wire.product_body(product)["Product"]
    assert fields["weight"] == "350" and fields["height"] == "9.5"
    back = wire.product_from_wire({**fields, "id": "1", "available": "1"}, [], SAO_PAULO)
    assert back.weight_kg == Decimal("0.35") and back.dimensions == product.dimensions


def test_only_changed_fields_are_sent_and_removed_images_are_blanked() -> None:
    record = {"name": "Caneca", "price": "10.00", "stock": "3",
              "ProductImage": [{"https": "https://i/1.jpg"}, {"https": "https://i/2.jpg"}]}
    fields = {"name": "Caneca", "price": "10.0", "picture_source_1": "https://i/1.jpg"}
    assert wire.changes(fields, record, "ProductImage") == {
        "picture_source_1": "https://i/1.jpg", "picture_source_2": " "}
    same = {"name": "Caneca", "price": "10", "picture_source_1": "https://i/1.jpg",
            "picture_source_2": "https://i/2.jpg"}
    assert wire.changes(same, record, "ProductImage") == {}


@given(when=s.aware_datetimes())
def test_a_checkpoint_filters_by_its_store_day_and_keeps_only_later_changes(when: datetime) -> None:
    params, after = wire.modified_filter(when, SAO_PAULO)
    assert params == {"modified": when.astimezone(SAO_PAULO).strftime("%Y-%m-%d")}
    same_second = {"modified": when.astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S")}
    later = {"modified": (when + timedelta(seconds=1)).astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S")}
    assert after == when
    assert wire.changed_after(later, after, SAO_PAULO)
    assert not wire.changed_after(same_second, when.replace(microsecond=0), SAO_PAULO)


def test_a_price_tray_cannot_hold_is_refused() -> None:
    base = tramo.Price(sku="S", list_price=Decimal("10"))
    for spoil in (dict(price_list="atacado"), dict(currency="USD"), dict(sale_price=Decimal("9"))):
        with pytest.raises(tramo.ValidationError):
            wire.price_fields(attrs.evolve(base, **spoil), SAO_PAULO)
    window = attrs.evolve(base, promotional_price=Decimal("8"),
                          promotion_start=datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc))
    assert wire.price_fields(window, SAO_PAULO)["start_promotion"] == "2025-12-31"
