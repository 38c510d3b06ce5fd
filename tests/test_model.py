"""The canonical model: exact dict/JSON round trips and typed, located validation errors."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.errors import TramoError, ValidationError
from tramo.model import (
    ENTITIES,
    Address,
    Category,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceKind,
    Order,
    OrderItem,
    Outcome,
    Price,
    Product,
    StockLevel,
    Variant,
    WriteResult,
    parents_first,
)
from tramo.model.convert import from_dict, from_json, to_dict, to_json
from tramo.model.identifiers import nfe_key_check_digit
from tramo.testing import strategies as ts
from tramo.testing.strategies import STRATEGIES

WHEN = datetime(2025, 3, 10, 14, 30, tzinfo=timezone(timedelta(hours=-3)))
VALID_CPF = "52998224725"
VALID_CNPJ = "11222333000181"


def make_order(**changes: Any) -> Order:
    fields: dict[str, Any] = dict(
        id="1001",
        placed_at=WHEN,
        customer=Customer(name="Ana Souza", cpf=VALID_CPF,
                          addresses=[Address(street="Av. Paulista", city="São Paulo",
                                             postal_code="01310-100", state="SP")]),
        items=[OrderItem(sku="CAM-AZ-M", name="Camiseta", quantity=2, unit_price="49.90")],
        total="99.80",
        platform_status="paid",
    )
    fields.update(changes)
    return Order(**fields)


def order_dict() -> dict[str, Any]:
    return copy.deepcopy(to_dict(make_order()))


def raised(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    """The ValidationError ``call`` raises (fails the test if it raises nothing)."""
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value


def nfe_key(model: str = "55", series: str = "001", number: str = "000012345") -> str:
    base = "35" + "2503" + VALID_CNPJ + model + series + number + "1" + "12345678"
    return base + nfe_key_check_digit(base)


# -- round trips ----------------------------------------------------------------------


def test_every_entity_has_a_strategy() -> None:
    assert set(ENTITIES) <= set(STRATEGIES), set(ENTITIES) - set(STRATEGIES)


@pytest.mark.parametrize("kind", ENTITIES, ids=lambda kind: kind.__name__)
@given(data=st.data())
def test_entity_round_trips_exactly_through_dict_and_json(kind: type, data: st.DataObject) -> None:
    entity = data.draw(STRATEGIES[kind](), label=kind.__name__)
    assert isinstance(entity, kind)

    as_dict = to_dict(entity)
    assert from_dict(kind, as_dict) == entity
    assert to_dict(from_dict(kind, as_dict)) == as_dict

    as_json = to_json(entity)
    assert json.loads(as_json) == as_dict
    assert from_json(kind, as_json) == entity
    assert from_json(kind, as_json.encode()) == entity


# -- typed, located errors ----------------------------------------------------------------


def test_validation_error_is_a_tramo_error_and_a_value_error() -> None:
    error = raised(Price, sku="A", list_price="-1")
    assert isinstance(error, TramoError) and isinstance(error, ValueError)
    assert error.field == "Price.list_price"
    assert error.value == Decimal(-1)


def test_float_price_is_refused_naming_field_and_value() -> None:
    error = raised(Price, sku="A", list_price=10.5)
    assert error.field == "Price.list_price"
    assert error.value == 10.5
    assert "float" in error.reason


def test_float_amount_in_a_dict_is_refused_at_its_path() -> None:
    data = order_dict()
    data["items"][0]["unit_price"] = 49.9
    assert raised(from_dict, Order, data).field == "Order.items[0].unit_price"
    assert raised(from_json, Price, '{"sku": "A", "list_price": 10.5}').field == "Price.list_price"


def test_money_as_text_or_int_is_accepted_exactly() -> None:
    assert Price(sku="A", list_price="10.50").list_price == Decimal("10.50")
    assert Price(sku="A", list_price=10).list_price == Decimal(10)
    assert raised(Price, sku="A", list_price="NaN").field == "Price.list_price"


def test_naive_datetime_is_refused() -> None:
    naive = datetime(2025, 3, 10, 14, 30)
    error = raised(make_order, placed_at=naive)
    assert error.field == "Order.placed_at"
    assert error.value == naive
    assert "timezone" in error.reason

    data = order_dict()
    data["placed_at"] = "2025-03-10T14:30:00"
    error = raised(from_dict, Order, data)
    assert (error.field, error.value) == ("Order.placed_at", "2025-03-10T14:30:00")


def test_corrupted_cpf_in_a_nested_customer_dict_names_the_full_path() -> None:
    data = order_dict()
    data["customer"]["cpf"] = "529.982.247-26"
    error = raised(from_dict, Order, data)
    assert error.field == "Order.customer.cpf"
    assert error.value == "529.982.247-26"


def test_bad_cep_deep_in_a_list_names_the_index() -> None:
    data = order_dict()
    data["customer"]["addresses"][0]["postal_code"] = "00000-000"
    error = raised(from_dict, Order, data)
    assert error.field == "Order.customer.addresses[0].postal_code"
    assert error.value == "00000-000"


@pytest.mark.parametrize(("path", "where"), [
    (("id",), "Order.id"),
    (("customer", "name"), "Order.customer.name"),
    (("items", 0, "sku"), "Order.items[0].sku"),
])
def test_missing_required_key_is_refused_at_its_path(path: tuple[Any, ...], where: str) -> None:
    data = order_dict()
    parent: Any = data
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    error = raised(from_dict, Order, data)
    assert error.field == where
    assert "required" in error.reason


def test_unknown_key_is_refused() -> None:
    data = order_dict()
    data["colour"] = "blue"
    error = raised(from_dict, Order, data)
    assert (error.field, error.value) == ("Order", ["colour"])

    data = order_dict()
    data["customer"]["nickname"] = "Aninha"
    error = raised(from_dict, Order, data)
    assert (error.field, error.value) == ("Order.customer", ["nickname"])


def test_order_without_items_is_refused() -> None:
    assert raised(make_order, items=[]).field == "Order.items"


def test_item_discount_above_its_value_is_refused() -> None:
    error = raised(OrderItem, sku="A", name="a", quantity=2, unit_price="10", discount="20.01")
    assert (error.field, error.value) == ("OrderItem.discount", Decimal("20.01"))


def test_order_updated_before_placed_is_refused() -> None:
    error = raised(make_order, updated_at=WHEN - timedelta(seconds=1))
    assert error.field == "Order.updated_at"


def test_invoice_agreeing_with_its_key_is_accepted_with_or_without_zero_padding() -> None:
    key = nfe_key(series="001", number="000012345")
    for series, number in [("1", "12345"), ("001", "000012345")]:
        invoice = Invoice(order_id="1001", number=number, series=series, access_key=key,
                          issued_at=WHEN, value="99.80")
        assert invoice.kind is InvoiceKind.NFE


@pytest.mark.parametrize(("changes", "field"), [
    ({"series": "2"}, "Invoice.series"),
    ({"series": "A1"}, "Invoice.series"),
    ({"number": "12346"}, "Invoice.number"),
    ({"kind": InvoiceKind.NFCE}, "Invoice.kind"),
    ({"access_key": nfe_key(model="65"), "kind": "nfe"}, "Invoice.kind"),
])
def test_invoice_disagreeing_with_its_access_key_is_refused(changes: dict[str, Any],
                                                            field: str) -> None:
    fields: dict[str, Any] = dict(order_id="1001", number="12345", series="1",
                                  access_key=nfe_key(), issued_at=WHEN, value="99.80")
    fields.update(changes)
    error = raised(Invoice, **fields)
    assert error.field == field


def test_product_with_a_repeated_variant_sku_is_refused() -> None:
    variants = [Variant(sku="CAM-P"), Variant(sku="CAM-M"), Variant(sku="CAM-P")]
    error = raised(Product, code="CAM", name="Camiseta", variants=variants)
    assert (error.field, error.value) == ("Product.variants[2].sku", "CAM-P")

    data = to_dict(Product(code="CAM", name="Camiseta", variants=variants[:2]))
    data["variants"][1]["sku"] = "CAM-P"
    assert raised(from_dict, Product, data).field == "Product.variants[1].sku"


def test_category_that_is_its_own_parent_is_refused() -> None:
    error = raised(Category, id="10", name="Roupas", parent_id="10")
    assert (error.field, error.value) == ("Category.parent_id", "10")


def test_promotion_window_without_promotional_price_is_refused() -> None:
    error = raised(Price, sku="A", list_price="10", promotion_start=WHEN)
    assert error.field == "Price.promotional_price"
    error = raised(Price, sku="A", list_price="10", promotion_end=WHEN)
    assert error.field == "Price.promotional_price"


def test_promotion_ending_before_it_starts_is_refused() -> None:
    error = raised(Price, sku="A", list_price="10", promotional_price="8",
                   promotion_start=WHEN, promotion_end=WHEN - timedelta(days=1))
    assert error.field == "Price.promotion_end"


def test_lower_case_or_long_currency_is_refused() -> None:
    assert raised(Price, sku="A", list_price="10", currency="brl").field == "Price.currency"
    assert raised(Price, sku="A", list_price="10", currency="REAL").field == "Price.currency"


def test_person_with_a_cnpj_is_refused() -> None:
    error = raised(Customer, name="Ana", cnpj=VALID_CNPJ)
    assert (error.field, error.value) == ("Customer.cnpj", VALID_CNPJ)

    data = order_dict()
    data["customer"].update(cpf=None, cnpj=VALID_CNPJ)
    assert raised(from_dict, Order, data).field == "Order.customer.cnpj"


def test_company_with_a_cpf_is_refused() -> None:
    error = raised(Customer, name="ACME", kind=CustomerKind.COMPANY, cpf=VALID_CPF)
    assert error.field == "Customer.cpf"


def test_brazilian_address_needs_a_cep_and_a_real_uf_but_a_foreign_one_does_not() -> None:
    assert raised(Address, street="R", city="C", postal_code="SW1A 1AA").field == \
        "Address.postal_code"
    assert raised(Address, street="R", city="C", postal_code="01310100", state="XX").field == \
        "Address.state"
    assert raised(Address, street="R", city="C", postal_code="1", country="br").field == \
        "Address.country"
    abroad = Address(street="Downing St", city="London", postal_code="SW1A 2AA",
                     state="Greater London", country="GB")
    assert abroad.postal_code == "SW1A 2AA"


# -- category trees -------------------------------------------------------------------------


@st.composite
def category_forests(draw: st.DrawFn) -> list[Category]:
    """Acyclic categories in a random order; some parents are outside the input."""
    size = draw(st.integers(1, 8))
    nodes = []
    for i in range(size):
        parents: st.SearchStrategy[str | None] = st.none() | st.just("outside")
        if i:
            parents = parents | st.integers(0, i - 1).map(str)  # only earlier nodes: no cycle
        parent = draw(parents)
        nodes.append(Category(id=str(i), name=f"c{i}", parent_id=parent))
    return draw(st.permutations(nodes))


@given(category_forests())
def test_parents_first_puts_every_parent_before_its_children(nodes: list[Category]) -> None:
    ordered = parents_first(nodes)
    assert sorted(c.id for c in ordered) == sorted(c.id for c in nodes)
    assert len(ordered) == len(nodes)
    position = {c.id: i for i, c in enumerate(ordered)}
    for child in ordered:
        if child.parent_id in position:
            assert position[child.parent_id] < position[child.id]


@pytest.mark.parametrize("ring", [2, 3])
def test_parents_first_raises_on_a_cycle(ring: int) -> None:
    nodes = [Category(id=str(i), name=f"c{i}", parent_id=str((i + 1) % ring)) for i in range(ring)]
    nodes.append(Category(id="root", name="root"))
    error = raised(parents_first, nodes)
    assert error.field == "Category.parent_id"
    assert "cycle" in error.reason


# -- write results -----------------------------------------------------------------------------

PROBLEM = ValidationError("Product.ncm", "123", "an NCM code has eight digits")


@pytest.mark.parametrize("outcome", [o for o in Outcome if o.done], ids=lambda o: o.value)
def test_done_outcome_carrying_an_error_is_refused(outcome: Outcome) -> None:
    assert WriteResult("SKU-1", outcome, remote_id="99").ok
    error = raised(WriteResult, "SKU-1", outcome, error=PROBLEM)
    assert error.field == "WriteResult.error"


@pytest.mark.parametrize("outcome", [o for o in Outcome if not o.done], ids=lambda o: o.value)
def test_failed_or_held_outcome_without_an_error_is_refused(outcome: Outcome) -> None:
    error = raised(WriteResult, "SKU-1", outcome)
    assert error.field == "WriteResult.error"
    result = WriteResult("SKU-1", outcome, error=PROBLEM)
    assert not result.ok and result.error is PROBLEM


def test_write_result_shortcuts_and_outcome_text() -> None:
    assert WriteResult.held("SKU-1", PROBLEM).outcome is Outcome.HELD
    assert WriteResult.failed(None, PROBLEM).outcome is Outcome.FAILED
    assert WriteResult("SKU-1", "created").outcome is Outcome.CREATED  # type: ignore[arg-type]
    assert raised(WriteResult, "SKU-1", "done").field == "WriteResult.outcome"  # type: ignore[arg-type]
    assert {o for o in Outcome if o.done} == {Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED}


# -- strategies used by plugins are what they say -----------------------------------------------


@given(ts.invoices())
def test_generated_invoice_agrees_with_its_key(invoice: Invoice) -> None:
    key = invoice.access_key
    assert (invoice.kind is InvoiceKind.NFE) == (key[20:22] == "55")
    assert int(invoice.series) == int(key[22:25])
    assert int(invoice.number) == int(key[25:34])


@given(ts.orders())
def test_generated_order_lines_and_total_are_consistent(order: Order) -> None:
    assert 1 <= len(order.items) <= 3
    assert all(item.total >= 0 for item in order.items)
    assert order.total == order.items_total - order.discount + order.freight
    assert all(invoice.order_id == order.id for invoice in order.invoices)


@given(ts.customers())
def test_generated_customer_carries_only_its_kind_of_document(customer: Customer) -> None:
    if customer.kind is CustomerKind.PERSON:
        assert customer.cnpj is None
    else:
        assert customer.cpf is None


# -- wrong JSON leaf types are refused, not coerced ----------------------------------------------


def test_from_dict_names_the_bad_value_of_a_float_amount() -> None:
    error = raised(from_json, Price, '{"sku": "A", "list_price": 10.5}')
    assert (error.field, error.value) == ("Price.list_price", 10.5)


def test_from_dict_refuses_a_fractional_count_instead_of_truncating_it() -> None:
    error = raised(from_dict, StockLevel, {"sku": "A", "quantity": 1.9})
    assert (error.field, error.value) == ("StockLevel.quantity", 1.9)


def test_from_dict_refuses_text_for_a_flag_instead_of_taking_it_as_true() -> None:
    error = raised(from_dict, Variant, {"sku": "A", "available": "false"})
    assert (error.field, error.value) == ("Variant.available", "false")


def test_from_dict_refuses_a_number_or_null_for_text() -> None:
    assert raised(from_dict, StockLevel, {"sku": 5, "quantity": 1}).field == "StockLevel.sku"
    assert raised(from_dict, StockLevel, {"sku": None, "quantity": 1}).field == "StockLevel.sku"


def test_a_wall_time_repeated_by_the_end_of_daylight_saving_round_trips() -> None:
    from zoneinfo import ZoneInfo

    repeated = datetime(2018, 2, 17, 23, 30, tzinfo=ZoneInfo("America/Sao_Paulo"), fold=1)
    level = StockLevel(sku="A", quantity=1, updated_at=repeated)
    kept = level.updated_at
    assert kept.utcoffset() == repeated.utcoffset()  # the later of the two 23:30s, -03:00
    assert kept.replace(tzinfo=None) == repeated.replace(tzinfo=None)
    assert from_json(StockLevel, to_json(level)) == level


def test_currency_and_country_codes_are_ascii_capitals() -> None:
    raised(Price, sku="A", list_price="1", currency="ÉÜÖ")
    raised(Address, street="R", city="C", postal_code="1", country="ÉÜ")
