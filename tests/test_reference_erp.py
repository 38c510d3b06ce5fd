"""The reference ERP on SQLite: the Erp protocol, idempotent saves, fulfilment, LGPD purge."""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.erp import Erp, ReferenceErp
from tramo.erp.demo_catalogue import demo_catalogue
from tramo.erp.reference import _MIGRATIONS
from tramo.errors import ValidationError
from tramo.model import (
    Address,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Outcome,
    Product,
    WriteResult,
)
from tramo.model.convert import from_dict, to_dict
from tramo.model.identifiers import cpf_check_digits, normalize_nfe_key

CPF_A = "529982247" + cpf_check_digits("529982247")
CPF_B = "111444777" + cpf_check_digits("111444777")
PLACED = datetime(2024, 5, 10, 14, 30, tzinfo=UTC)


def customer(name: str = "Maria Silva", *, cpf: str | None = CPF_A,
             email: str | None = "maria@example.com", **more: Any) -> Customer:
    return Customer(name=name, cpf=cpf, email=email, **more)


def order(platform_id: str = "1001", *, placed_at: datetime = PLACED,
          buyer: Customer | None = None, **more: Any) -> Order:
    return Order(id=platform_id, placed_at=placed_at, customer=buyer or customer(),
                 items=(OrderItem(sku="ERP-0002", name="Camiseta", quantity=2,
                                  unit_price=Decimal("49.90")),),
                 total=Decimal("99.80"), platform_status="paid",
                 delivery_address=Address(street="Av. Paulista", number="1000",
                                          city="São Paulo", postal_code="01310-100", state="SP"),
                 **more)


def erp_with_order(**more: Any) -> tuple[ReferenceErp, str]:
    erp = ReferenceErp()
    customer_id = erp.save_customer(customer(), key="c-1")
    return erp, erp.save_order(order(**more), customer_id=customer_id, key="o-1")


# -- the protocol and the catalogue --------------------------------------------


def test_the_reference_erp_satisfies_the_erp_protocol() -> None:
    assert isinstance(ReferenceErp(), Erp)


def test_demo_catalogue_gives_valid_products_with_every_sku_priced_and_stocked() -> None:
    erp = ReferenceErp()
    demo_catalogue(erp)
    products = erp.products()
    assert len(products) == 12
    assert sum(1 for p in products if p.variants) == 6
    assert all(2 <= len(p.variants) <= 3 for p in products if p.variants)
    skus = [sku for p in products for sku in p.skus]
    assert len(skus) == len(set(skus))
    assert all(re.fullmatch(r"ERP-\d{4}(-\w+(-[A-Z]{2})?)?", sku) for sku in skus)
    gtins = [g for p in products for g in (p.gtin, *(v.gtin for v in p.variants)) if g]
    assert len(gtins) == len(skus) == len(set(gtins)) and all(len(g) == 13 for g in gtins)
    assert {p.sku for p in erp.prices()} == set(skus)
    assert {s.sku for s in erp.stock()} == set(skus)
    assert all(0 <= s.quantity <= 50 for s in erp.stock())
    assert all(erp.has_product(sku) for sku in skus)
    for product in products:  # each one passes the model's validation again
        assert from_dict(Product, to_dict(product)) == product
        assert product.ncm and len(product.ncm) == 8
        assert product.gtin or all(v.gtin for v in product.variants)
    names = {c.id: c for c in erp.categories()}
    assert any(c.parent_id in names for c in names.values())


def test_demo_catalogue_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    first, again, other = ReferenceErp(), ReferenceErp(), ReferenceErp()
    demo_catalogue(first, seed=7)
    demo_catalogue(again, seed=7)
    demo_catalogue(other, seed=8)
    assert first.products() == again.products() and first.prices() == again.prices()
    assert first.products() != other.products()


def test_reads_are_sorted_by_id() -> None:
    erp = ReferenceErp()
    demo_catalogue(erp, products=5)
    assert [p.code for p in erp.products()] == sorted(p.code for p in erp.products())
    assert [s.sku for s in erp.stock()] == sorted(s.sku for s in erp.stock())


def test_a_sku_sold_under_two_products_is_refused() -> None:
    erp = ReferenceErp()
    erp.put_product(Product(code="A", name="Caneca", sku="X-1"))
    with pytest.raises(ValidationError):
        erp.put_product(Product(code="B", name="Copo", sku="X-1"))
    assert [p.code for p in erp.products()] == ["A"]


# -- idempotent saves ----------------------------------------------------------


def test_save_product_is_idempotent_by_key_and_waits_for_review_before_publishing() -> None:
    erp = ReferenceErp()
    made = Product(code="LOJA-9", name="Caneca")
    assert erp.save_product(made, key="p-1") == "LOJA-9"
    assert erp.save_product(Product(code="OUTRO", name="Copo"), key="p-1") == "LOJA-9"
    assert erp.has_product("LOJA-9") and not erp.has_product("OUTRO")
    assert erp.products() == []  # made because a store sold it: not published as it is
    erp.put_product(attrs.evolve(made, ncm="69120000"))  # the ERP's user completes it
    assert [p.code for p in erp.products()] == ["LOJA-9"]


def test_save_customer_is_idempotent_by_key() -> None:
    erp = ReferenceErp()
    first = erp.save_customer(customer(), key="c-1")
    again = erp.save_customer(customer("Outro Nome", cpf=CPF_B, email="x@example.com"), key="c-1")
    assert first == again == "CL-000001"
    assert erp.customers() == [customer(id="CL-000001")]


def test_save_customer_finds_by_document_first() -> None:
    erp = ReferenceErp()
    first = erp.save_customer(customer(email="maria@example.com"), key="c-1")
    second = erp.save_customer(customer("Maria S.", email="nova@example.com"), key="c-2")
    assert second == first
    assert erp.customer(first).email == "nova@example.com"
    assert erp.customer(first).name == "Maria S."


def test_save_customer_finds_by_email_when_no_document_matches() -> None:
    erp = ReferenceErp()
    first = erp.save_customer(customer(cpf=None, phones=("11 99999-0000",)), key="c-1")
    second = erp.save_customer(customer(email="MARIA@example.com"), key="c-2")
    assert second == first
    merged = erp.customer(first)
    assert merged.cpf == CPF_A and merged.phones == ("11 99999-0000",)


def test_save_customer_creates_another_customer_for_another_document() -> None:
    erp = ReferenceErp()
    first = erp.save_customer(customer(), key="c-1")
    second = erp.save_customer(customer("João", cpf=CPF_B, email="joao@example.com"), key="c-2")
    assert (first, second) == ("CL-000001", "CL-000002")
    assert erp.customer_ids() == ["CL-000001", "CL-000002"]


def test_save_order_is_idempotent_by_key() -> None:
    erp, order_id = erp_with_order()
    customer_id = erp.customer_ids()[0]
    assert erp.save_order(order("other"), customer_id=customer_id, key="o-1") == order_id
    assert [o.id for o in erp.orders()] == ["PV-000001"]
    assert erp.save_order(order("1002"), customer_id=customer_id, key="o-2") == "PV-000002"


def test_save_order_for_an_unknown_customer_is_refused() -> None:
    with pytest.raises(ValidationError):
        ReferenceErp().save_order(order(), customer_id="CL-999", key="o-1")


def test_a_key_used_for_one_kind_is_refused_for_another() -> None:
    erp = ReferenceErp()
    erp.save_customer(customer(), key="k")
    with pytest.raises(ValidationError):
        erp.save_product(Product(code="P", name="Caneca"), key="k")


def test_set_order_status_is_idempotent_by_key() -> None:
    erp, order_id = erp_with_order()
    erp.set_order_status(order_id, OrderStatus.APPROVED, key="s-1")
    erp.set_status(order_id, OrderStatus.PREPARING_SHIPMENT)
    erp.set_order_status(order_id, OrderStatus.APPROVED, key="s-1")
    assert erp.order(order_id).status is OrderStatus.PREPARING_SHIPMENT


def test_set_order_status_of_an_unknown_order_raises_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        ReferenceErp().set_order_status("PV-404", OrderStatus.APPROVED, key="s-1")
    assert caught.value.field == "order_id"


def test_concurrent_saves_with_one_key_make_one_order() -> None:
    erp = ReferenceErp()
    customer_id = erp.save_customer(customer(), key="c-1")
    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(
        erp.save_order(order(), customer_id=customer_id, key="o-1"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(ids) == {"PV-000001"} and len(erp.orders()) == 1


@given(keys=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=15))
def test_repeated_keys_make_exactly_one_erp_order_per_distinct_key(keys: list[str]) -> None:
    erp = ReferenceErp()
    customer_id = erp.save_customer(customer(), key="buyer")
    first: dict[str, str] = {}
    for n, key in enumerate(keys):
        order_id = erp.save_order(order(f"P{n}"), customer_id=customer_id, key=key)
        assert first.setdefault(key, order_id) == order_id
    assert len(erp.orders()) == len(set(keys))
    assert sorted(first.values()) == [o.id for o in erp.orders()]


# -- orders and fulfilment -----------------------------------------------------


def test_orders_carry_the_erp_id_and_status_and_keep_the_platform_data() -> None:
    erp, order_id = erp_with_order()
    got = erp.orders()[0]
    assert (got.id, got.status) == (order_id, OrderStatus.OPEN)
    assert got.total == Decimal("99.80") and got.customer.cpf == CPF_A


def test_save_order_keeps_the_status_the_order_came_with() -> None:
    erp, order_id = erp_with_order(status=OrderStatus.APPROVED)
    assert erp.order(order_id).status is OrderStatus.APPROVED


def test_orders_carry_invoices_and_trackings_after_issue_invoice_and_ship() -> None:
    erp, order_id = erp_with_order()
    invoice = erp.issue_invoice(order_id, issued_at=datetime(2025, 3, 4, 10, tzinfo=UTC))
    assert erp.order(order_id).status is OrderStatus.INVOICED
    tracking = erp.ship(order_id, code="AA123456789BR")
    got = erp.orders()[0]
    assert got.status is OrderStatus.SHIPPED
    assert got.invoices == (invoice,) and got.trackings == (tracking,)
    assert invoice.order_id == order_id and invoice.value == Decimal("99.80")
    assert normalize_nfe_key(invoice.access_key) == invoice.access_key
    assert invoice.access_key[2:6] == "2503" and invoice.access_key[20:22] == "55"
    assert tracking.invoice_key == invoice.access_key and tracking.carrier == "Correios"


def test_invoice_numbers_follow_on_and_honour_a_given_number() -> None:
    erp, order_id = erp_with_order()
    assert erp.issue_invoice(order_id).number == "1"
    assert erp.issue_invoice(order_id, number="500", series="2").number == "500"
    assert erp.issue_invoice(order_id, series="2").number == "501"
    assert all(normalize_nfe_key(i.access_key) for i in erp.order(order_id).invoices)


def test_a_series_too_long_for_the_access_key_is_refused() -> None:
    erp, order_id = erp_with_order()
    with pytest.raises(ValidationError):
        erp.issue_invoice(order_id, series="1000")


def test_cancel_keeps_the_reason_in_the_notes_and_blocks_invoicing() -> None:
    erp, order_id = erp_with_order()
    erp.cancel(order_id, "cliente desistiu")
    got = erp.order(order_id)
    assert got.status is OrderStatus.CANCELLED and got.notes == "cliente desistiu"
    with pytest.raises(ValidationError):
        erp.issue_invoice(order_id)


def test_cancel_keeps_the_notes_the_order_came_with() -> None:
    erp, order_id = erp_with_order(notes="entregar à tarde")
    erp.cancel(order_id, "sem estoque")
    assert erp.order(order_id).notes == "entregar à tarde\nsem estoque"


def test_deliver_marks_the_order_delivered() -> None:
    erp, order_id = erp_with_order()
    erp.deliver(order_id)
    assert erp.order(order_id).status is OrderStatus.DELIVERED


# -- results -------------------------------------------------------------------


def test_record_keeps_results_per_connection_without_the_bad_value() -> None:
    erp = ReferenceErp()
    erp.record("loja", "orders", WriteResult("PV-000001", Outcome.CREATED, "1001"))
    erp.record("hub", "stock", WriteResult.held(
        "SKU-1", ValidationError("Customer.cpf", "12345678900", "CPF check digits do not match")))
    assert [r["outcome"] for r in erp.results()] == ["created", "held"]
    held = erp.results("hub")
    assert len(held) == 1 and held[0]["local_id"] == "SKU-1"
    assert "Customer.cpf" in held[0]["error"] and "12345678900" not in held[0]["error"]


# -- the file --------------------------------------------------------------------


def test_a_file_backed_erp_keeps_everything_after_close_and_reopen(tmp_path) -> None:
    path = tmp_path / "erp.sqlite3"
    erp = ReferenceErp(path)
    demo_catalogue(erp, products=4)
    customer_id = erp.save_customer(customer(), key="c-1")
    order_id = erp.save_order(order(), customer_id=customer_id, key="o-1")
    invoice = erp.issue_invoice(order_id)
    erp.record("loja", "orders", WriteResult(order_id, Outcome.CREATED, "1001"))
    before = (erp.categories(), erp.products(), erp.prices(), erp.stock(), erp.orders(),
              erp.customers(), erp.results())
    erp.close()
    again = ReferenceErp(path)
    assert (again.categories(), again.products(), again.prices(), again.stock(), again.orders(),
            again.customers(), again.results()) == before
    assert again.save_order(order("x"), customer_id=customer_id, key="o-1") == order_id
    assert again.save_order(order("y"), customer_id=customer_id, key="o-2") == "PV-000002"
    assert again.order(order_id).invoices == (invoice,)
    assert repr(again) == f"ReferenceErp({path})"
    again.close()


def test_the_schema_version_is_recorded(tmp_path) -> None:
    path = tmp_path / "erp.sqlite3"
    ReferenceErp(path).close()
    with sqlite3.connect(path) as db:
        (version,) = db.execute("SELECT version FROM schema_versions "
                                "WHERE component = 'reference_erp'").fetchone()
    assert int(version) == len(_MIGRATIONS) == ReferenceErp(path).schema_version


def test_a_file_from_a_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "erp.sqlite3"
    ReferenceErp(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_versions SET version = 99 WHERE component = 'reference_erp'")
    with pytest.raises(Exception, match="newer"):
        ReferenceErp(path)


def test_repr_shows_only_the_path() -> None:
    assert repr(ReferenceErp()) == "ReferenceErp(:memory:)"


# -- LGPD ------------------------------------------------------------------------


def test_purge_personal_blanks_only_customers_whose_last_order_is_old() -> None:
    erp = ReferenceErp()
    old_buyer = customer(phones=("11 90000-0000",),
                         addresses=(Address(street="Rua A", city="Santos", postal_code="11010-000"),))
    old_id = erp.save_customer(old_buyer, key="c-old")
    new_id = erp.save_customer(customer("João", cpf=CPF_B, email="joao@example.com"), key="c-new")
    erp.save_order(order("1", placed_at=datetime(2019, 1, 1, tzinfo=UTC), buyer=old_buyer),
                   customer_id=old_id, key="o-1")
    erp.save_order(order("2", placed_at=datetime(2024, 1, 1, tzinfo=UTC)),
                   customer_id=new_id, key="o-2")
    cutoff = datetime(2022, 1, 1, tzinfo=UTC)
    assert erp.purge_personal(cutoff) == 1
    blank = erp.customer(old_id)
    assert (blank.name, blank.cpf, blank.email, blank.phones, blank.addresses) == (
        "Maria Silva", None, None, (), ())
    kept = erp.customer(new_id)
    assert kept.cpf == CPF_B and kept.email == "joao@example.com"
    old_order, new_order = erp.orders()
    assert old_order.customer.cpf is None and old_order.delivery_address is None
    assert new_order.delivery_address is not None
    assert erp.purge_personal(cutoff) == 0  # nothing left to blank
    assert erp.save_customer(customer(), key="c-again") != old_id  # no longer found by CPF


def test_purge_personal_refuses_a_naive_cutoff() -> None:
    with pytest.raises(ValidationError):
        ReferenceErp().purge_personal(datetime(2022, 1, 1))


def test_an_order_comes_back_exactly_as_saved_but_for_the_erp_id_and_status() -> None:
    erp, order_id = erp_with_order()
    assert erp.order(order_id) == attrs.evolve(order(), id=order_id, status=OrderStatus.OPEN)
