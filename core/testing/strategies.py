"""Hypothesis strategies that build valid tramo model entities.

Reusable by anyone testing a tramo plugin or host: every strategy yields data
that constructs without error (check digits are computed, not filtered for),
with short printable text and at most three items per collection so tests stay
fast. Strategy functions are cached (strategies are immutable), so calling
them inside a composite is cheap. ``STRATEGIES`` maps each class of
:data:`tramo.model.ENTITIES` to its strategy function::

    from hypothesis import given
    from tramo.testing import strategies as ts

    @given(ts.orders())
    def test_my_plugin_sends_any_order(order): ...
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from tramo.model import (
    Address,
    Attribute,
    Brand,
    Cancellation,
    Category,
    Contact,
    Customer,
    CustomerKind,
    Delivery,
    Dimensions,
    Invoice,
    InvoiceKind,
    ItemChange,
    Order,
    OrderEdit,
    OrderItem,
    OrderStatus,
    Payment,
    PlatformOption,
    Price,
    Product,
    SalesChannel,
    Shipping,
    StatusUpdate,
    StockLevel,
    StockReservation,
    Tracking,
    Variant,
    WebhookEvent,
)
from tramo.model.identifiers import (
    UF_CODES,
    UFS,
    cnpj_check_digits,
    cpf_check_digits,
    gtin_check_digit,
    nfe_key_check_digit,
)

__all__ = [
    "STRATEGIES",
    "TIMEZONES",
    "addresses",
    "alphanumeric_cnpjs",
    "attributes",
    "aware_datetimes",
    "brands",
    "brazilian_addresses",
    "cancellations",
    "categories",
    "ceps",
    "cfops",
    "cnpjs",
    "codes",
    "contacts",
    "cpfs",
    "customers",
    "deliveries",
    "dimensions",
    "emails",
    "entities",
    "foreign_addresses",
    "gtins",
    "invoices",
    "item_changes",
    "measures",
    "money",
    "ncms",
    "nfe_keys",
    "numeric_cnpjs",
    "order_edits",
    "order_items",
    "orders",
    "payments",
    "platform_options",
    "prices",
    "products",
    "sales_channels",
    "shippings",
    "short_texts",
    "status_updates",
    "stock_levels",
    "stock_reservations",
    "trackings",
    "urls",
    "variants",
    "webhook_events",
]

T = TypeVar("T")

_MAX_ITEMS = 3
_CENT = Decimal("0.01")

#: The zones :func:`aware_datetimes` draws from: UTC, Brazilian zones (via
#: zoneinfo, so with their historical daylight saving), fixed offsets and abroad.
TIMEZONES: tuple[tzinfo, ...] = (
    timezone.utc,
    ZoneInfo("America/Sao_Paulo"),
    ZoneInfo("America/Manaus"),
    ZoneInfo("America/Noronha"),
    timezone(timedelta(hours=-3)),
    timezone(timedelta(hours=5, minutes=30)),
    ZoneInfo("Europe/Lisbon"),
)


def _optional(strategy: SearchStrategy[T]) -> SearchStrategy[T | None]:
    return st.none() | strategy


def _few(strategy: SearchStrategy[T], *, min_size: int = 0) -> SearchStrategy[list[T]]:
    return st.lists(strategy, min_size=min_size, max_size=_MAX_ITEMS)


@cache
def _digits(size: int) -> SearchStrategy[str]:
    return st.text(string.digits, min_size=size, max_size=size)


def _not_one_repeated(base: str) -> str:
    """``base`` with its last character changed when all its characters are equal."""
    if len(set(base)) > 1:
        return base
    return base[:-1] + ("1" if base[-1] == "0" else "0")


# -- text ---------------------------------------------------------------------

_PRINTABLE = st.characters(categories=("L", "N", "P", "S"))
_PRINTABLE_OR_SPACE = st.characters(categories=("L", "N", "P", "S"), include_characters=" ")


@cache
def short_texts(max_size: int = 12) -> SearchStrategy[str]:
    """Short printable text that is never blank (letters, digits, symbols, inner spaces)."""
    return st.builds(
        lambda head, tail: head + tail,
        _PRINTABLE,
        st.text(_PRINTABLE_OR_SPACE, max_size=max_size - 1),
    )


@cache
def codes(max_size: int = 10) -> SearchStrategy[str]:
    """ASCII identifiers as systems issue them: SKUs, ERP codes, platform ids."""
    return st.text(string.ascii_uppercase + string.digits + "-_", min_size=1, max_size=max_size)


@cache
def emails() -> SearchStrategy[str]:
    """Plain e-mail addresses (``ana.souza@example.com.br``)."""
    local = st.text(string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=8)
    label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
    tld = st.sampled_from(("com", "com.br", "net", "org.br", "io"))
    return st.builds(lambda u, d, t: f"{u}@{d}.{t}", local, label, tld)


@cache
def urls() -> SearchStrategy[str]:
    """Absolute http(s) URLs such as image or DANFE links."""
    host = st.sampled_from(("cdn.example.com", "loja.example.com.br", "img.example.net"))
    path = st.lists(st.text(string.ascii_lowercase + string.digits + "-_", min_size=1,
                            max_size=8), min_size=1, max_size=3)
    return st.builds(lambda scheme, h, p: f"{scheme}://{h}/{'/'.join(p)}",
                     st.sampled_from(("https", "http")), host, path)


@cache
def _phones() -> SearchStrategy[str]:
    return st.builds(lambda area, n: f"+55 {area} 9{n[:4]}-{n[4:]}", _digits(2), _digits(8))


# -- numbers and times -------------------------------------------------------


def money(min_value: Decimal = Decimal(0),
          max_value: Decimal = Decimal("100000")) -> SearchStrategy[Decimal]:
    """Non-negative, finite Decimal amounts with exactly two decimal places."""
    low, high = int(min_value / _CENT), int(max_value / _CENT)
    return st.integers(max(low, 0), high).map(lambda cents: Decimal(cents).scaleb(-2))


@cache
def measures() -> SearchStrategy[Decimal]:
    """Positive Decimal measures (kg, cm) with up to three decimal places."""
    return st.integers(1, 1_000_000).map(lambda n: Decimal(n).scaleb(-3))


@cache
def aware_datetimes(min_value: datetime = datetime(2000, 1, 1),
                    max_value: datetime = datetime(2035, 12, 31)) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes in :data:`TIMEZONES`, repeated wall times included."""
    return st.datetimes(min_value=min_value, max_value=max_value,
                        timezones=st.sampled_from(TIMEZONES),
                        allow_imaginary=False)


def _ordered_pair(draw: DrawFn) -> tuple[datetime, datetime]:
    """Two aware datetimes, the first not after the second."""
    first, second = draw(aware_datetimes()), draw(aware_datetimes())
    if second.timestamp() < first.timestamp():
        first, second = second, first
    return first, second


# -- identifiers --------------------------------------------------------------


@cache
def cpfs() -> SearchStrategy[str]:
    """Valid CPFs, eleven digits, never one repeated digit."""
    return _digits(9).map(_not_one_repeated).map(lambda base: base + cpf_check_digits(base))


@cache
def numeric_cnpjs() -> SearchStrategy[str]:
    """Valid all-digit CNPJs (the form issued before July 2026)."""
    return _digits(12).map(_not_one_repeated).map(lambda base: base + cnpj_check_digits(base))


_CNPJ_CHARS = string.digits + string.ascii_uppercase


@cache
def alphanumeric_cnpjs() -> SearchStrategy[str]:
    """Valid CNPJs of the new form: twelve of 0-9/A-Z (at least one letter), two check digits."""

    def build(chars: str, letter: str, at: int) -> str:
        base = chars[:at] + letter + chars[at + 1:]
        return base + cnpj_check_digits(base)

    return st.builds(build, st.text(_CNPJ_CHARS, min_size=12, max_size=12),
                     st.sampled_from(string.ascii_uppercase), st.integers(0, 11))


@cache
def cnpjs() -> SearchStrategy[str]:
    """Valid CNPJs, numeric or alphanumeric."""
    return numeric_cnpjs() | alphanumeric_cnpjs()


@cache
def ceps() -> SearchStrategy[str]:
    """Brazilian postcodes: eight digits, not 00000000."""
    return _digits(8).filter(lambda cep: cep != "00000000")


@cache
def ncms() -> SearchStrategy[str]:
    """NCM codes: eight digits."""
    return _digits(8)


@cache
def cfops() -> SearchStrategy[str]:
    """CFOPs: four digits, the first 1-3 (entries) or 5-7 (exits)."""
    return st.builds(lambda first, rest: first + rest, st.sampled_from("123567"), _digits(3))


def gtins(lengths: Sequence[int] = (8, 12, 13, 14)) -> SearchStrategy[str]:
    """Valid GTIN-8/-12/-13/-14 with their GS1 check digit."""
    return st.sampled_from(tuple(lengths)).flatmap(_digits_for_gtin)


@cache
def _digits_for_gtin(length: int) -> SearchStrategy[str]:
    return _digits(length - 1).map(lambda body: body + gtin_check_digit(body))


def nfe_keys(models: Sequence[str] = ("55", "65")) -> SearchStrategy[str]:
    """Valid 44-digit NF-e (model 55) / NFC-e (model 65) access keys."""
    return _nfe_keys(tuple(models))


@cache
@st.composite
def _nfe_keys(draw: DrawFn, models: tuple[str, ...]) -> str:
    base = "".join((
        draw(st.sampled_from(sorted(UF_CODES))),          # cUF
        draw(_digits(2)),                                  # AA (year)
        f"{draw(st.integers(1, 12)):02d}",                 # MM
        draw(numeric_cnpjs()),                             # issuer CNPJ
        draw(st.sampled_from(models)),                     # mod
        draw(_digits(3)),                                  # serie
        draw(_digits(9)),                                  # nNF
        draw(st.sampled_from("123456789")),                # tpEmis
        draw(_digits(8)),                                  # cNF
    ))
    return base + nfe_key_check_digit(base)


# -- catalogue ------------------------------------------------------------------


@cache
def attributes() -> SearchStrategy[Attribute]:
    return st.builds(Attribute, name=short_texts(), value=short_texts())


@cache
def dimensions() -> SearchStrategy[Dimensions]:
    return st.builds(Dimensions, length_cm=measures(), width_cm=measures(), height_cm=measures())


@cache
def brands() -> SearchStrategy[Brand]:
    return st.builds(Brand, id=codes(), name=short_texts(), remote_id=_optional(codes()))


@cache
@st.composite
def categories(draw: DrawFn) -> Category:
    """Categories, never their own parent."""
    id_ = draw(codes())
    parent = draw(_optional(codes().filter(lambda p: p != id_)))
    return Category(id=id_, name=draw(short_texts()), parent_id=parent,
                    remote_id=draw(_optional(codes())))


@cache
def variants() -> SearchStrategy[Variant]:
    return st.builds(
        Variant,
        sku=codes(),
        gtin=_optional(gtins()),
        attributes=_few(attributes()),
        price=_optional(money()),
        weight_kg=_optional(measures()),
        dimensions=_optional(dimensions()),
        images=_few(urls()),
        available=st.booleans(),
        remote_id=_optional(codes()),
    )


@cache
def products() -> SearchStrategy[Product]:
    """Products whose variants have distinct SKUs."""
    return st.builds(
        Product,
        code=codes(),
        name=short_texts(),
        description=st.just("") | short_texts(30),
        short_description=st.just("") | short_texts(),
        sku=_optional(codes()),
        gtin=_optional(gtins()),
        brand=_optional(brands()),
        categories=_few(codes()),
        ncm=_optional(ncms()),
        price=_optional(money()),
        weight_kg=_optional(measures()),
        dimensions=_optional(dimensions()),
        images=_few(urls()),
        attributes=_few(attributes()),
        variants=st.lists(variants(), max_size=_MAX_ITEMS, unique_by=lambda v: v.sku),
        available=st.booleans(),
        remote_id=_optional(codes()),
        updated_at=_optional(aware_datetimes()),
    )


# -- prices and stock --------------------------------------------------------------

_CURRENCIES = st.sampled_from(("BRL", "USD", "EUR"))


@cache
@st.composite
def prices(draw: DrawFn) -> Price:
    """Prices; a promotion window only comes with a promotional price, and ends after it starts."""
    promotional = draw(_optional(money()))
    start: datetime | None = None
    end: datetime | None = None
    if promotional is not None:
        first, second = _ordered_pair(draw)
        start = draw(st.sampled_from((None, first)))
        end = draw(st.sampled_from((None, second)))
        if start is not None and end is not None and end.timestamp() <= start.timestamp():
            end = None
    return Price(
        sku=draw(codes()),
        list_price=draw(money()),
        sale_price=draw(_optional(money())),
        promotional_price=promotional,
        promotion_start=start,
        promotion_end=end,
        price_list=draw(_optional(codes())),
        company=draw(_optional(codes())),
        segment=draw(_optional(short_texts())),
        currency=draw(_CURRENCIES),
    )


@cache
def stock_levels() -> SearchStrategy[StockLevel]:
    return st.builds(StockLevel, sku=codes(), quantity=st.integers(0, 100_000),
                     warehouse=_optional(codes()), company=_optional(codes()),
                     updated_at=_optional(aware_datetimes()))


@cache
def stock_reservations() -> SearchStrategy[StockReservation]:
    return st.builds(StockReservation, id=codes(), sku=codes(), quantity=st.integers(1, 1000),
                     order_id=_optional(codes()), warehouse=_optional(codes()),
                     expires_at=_optional(aware_datetimes()))


# -- parties ----------------------------------------------------------------------


def _formatted_cep(cep: str) -> str:
    return f"{cep[:5]}-{cep[5:]}"


@cache
def brazilian_addresses() -> SearchStrategy[Address]:
    """Addresses in Brazil: valid CEP (sometimes written 01310-100) and UF."""
    return st.builds(
        Address,
        street=short_texts(),
        city=short_texts(),
        postal_code=ceps().flatmap(lambda cep: st.sampled_from((cep, _formatted_cep(cep)))),
        number=st.just("S/N") | _digits(4).map(lambda n: n.lstrip("0") or "1"),
        complement=_optional(short_texts()),
        district=_optional(short_texts()),
        state=_optional(st.sampled_from(sorted(UFS))),
        country=st.just("BR"),
        recipient=_optional(short_texts()),
        phone=_optional(_phones()),
        city_code=_optional(_digits(7)),
    )


@cache
def foreign_addresses() -> SearchStrategy[Address]:
    """Addresses abroad: free-form postal code and state."""
    return st.builds(
        Address,
        street=short_texts(),
        city=short_texts(),
        postal_code=st.text(string.ascii_uppercase + string.digits + " -", min_size=1,
                            max_size=10).filter(str.strip),
        number=short_texts(6),
        complement=_optional(short_texts()),
        district=_optional(short_texts()),
        state=_optional(short_texts()),
        country=st.sampled_from(("US", "PT", "AR", "DE", "JP")),
        recipient=_optional(short_texts()),
        phone=_optional(short_texts()),
    )


@cache
def addresses() -> SearchStrategy[Address]:
    """Mostly Brazilian addresses, some foreign ones."""
    return st.one_of(brazilian_addresses(), brazilian_addresses(), foreign_addresses())


@cache
def contacts() -> SearchStrategy[Contact]:
    return st.builds(Contact, name=short_texts(), email=_optional(emails()),
                     phone=_optional(_phones()), role=_optional(short_texts()))


@cache
@st.composite
def customers(draw: DrawFn) -> Customer:
    """People with an optional CPF, companies with an optional CNPJ (either form)."""
    kind = draw(st.sampled_from(CustomerKind))
    person = kind is CustomerKind.PERSON
    return Customer(
        name=draw(short_texts()),
        kind=kind,
        cpf=draw(_optional(cpfs())) if person else None,
        cnpj=None if person else draw(_optional(cnpjs())),
        state_registration=None if person else draw(_optional(_digits(9))),
        email=draw(_optional(emails())),
        phones=draw(st.lists(_phones(), max_size=2)),
        birth_date=draw(_optional(st.dates(date(1930, 1, 1), date(2010, 12, 31))))
        if person else None,
        addresses=draw(st.lists(addresses(), max_size=2)),
        contacts=draw(st.lists(contacts(), max_size=2)),
        id=draw(_optional(codes())),
        remote_id=draw(_optional(codes())),
    )


# -- orders ---------------------------------------------------------------------------


@cache
@st.composite
def order_items(draw: DrawFn) -> OrderItem:
    """Order lines whose discount never exceeds quantity x unit price."""
    quantity = draw(st.integers(1, 20))
    unit_price = draw(money(max_value=Decimal(10_000)))
    discount = draw(money(max_value=quantity * unit_price))
    return OrderItem(
        sku=draw(codes()),
        name=draw(short_texts()),
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        product_code=draw(_optional(codes())),
        gtin=draw(_optional(gtins())),
        attributes=draw(st.lists(short_texts(), max_size=_MAX_ITEMS)),
        remote_id=draw(_optional(codes())),
    )


@cache
def shippings() -> SearchStrategy[Shipping]:
    return st.builds(Shipping, platform_method=_optional(codes()), method=_optional(codes()),
                     carrier=_optional(short_texts()), freight=money(max_value=Decimal(1000)),
                     estimated_delivery=_optional(aware_datetimes()))


@cache
def payments() -> SearchStrategy[Payment]:
    return st.builds(Payment, value=money(), platform_method=_optional(codes()),
                     method=_optional(codes()), installments=st.integers(1, 12),
                     paid_at=_optional(aware_datetimes()))


@cache
def sales_channels() -> SearchStrategy[SalesChannel]:
    return st.builds(SalesChannel, platform_channel=_optional(codes()),
                     channel=_optional(codes()), marketplace_order_id=_optional(codes()))


@cache
def item_changes() -> SearchStrategy[ItemChange]:
    return st.builds(ItemChange, sku=codes(), previous_quantity=st.integers(0, 100),
                     quantity=st.integers(0, 100))


@cache
def order_edits() -> SearchStrategy[OrderEdit]:
    return st.builds(OrderEdit, edited_at=aware_datetimes(), changes=_few(item_changes()),
                     total=_optional(money()), note=_optional(short_texts()))


@cache
@st.composite
def orders(draw: DrawFn) -> Order:
    """Orders with 1-3 lines; ``total`` is lines less discount plus freight."""
    id_ = draw(codes())
    items = draw(_few(order_items(), min_size=1))
    items_total = sum((item.total for item in items), Decimal(0))
    discount = draw(money(max_value=items_total))
    shipping = draw(_optional(shippings()))
    freight = shipping.freight if shipping else Decimal(0)
    placed_at, later = _ordered_pair(draw)
    return Order(
        id=id_,
        placed_at=placed_at,
        customer=draw(customers()),
        items=items,
        total=items_total - discount + freight,
        platform_status=draw(codes()),
        status=draw(_optional(st.sampled_from(OrderStatus))),
        number=draw(_optional(codes())),
        updated_at=draw(st.sampled_from((None, later))),
        billing_address=draw(_optional(addresses())),
        delivery_address=draw(_optional(addresses())),
        shipping=shipping,
        payments=draw(st.lists(payments(), max_size=2)),
        sales_channel=draw(_optional(sales_channels())),
        discount=discount,
        currency=draw(_CURRENCIES),
        edits=draw(st.lists(order_edits(), max_size=2)),
        invoices=[attrs.evolve(i, order_id=id_) for i in draw(st.lists(invoices(), max_size=2))],
        trackings=[attrs.evolve(t, order_id=id_)
                   for t in draw(st.lists(trackings(), max_size=2))],
        notes=draw(_optional(short_texts(30))),
    )


# -- fulfilment ---------------------------------------------------------------------------


@cache
@st.composite
def invoices(draw: DrawFn, order_id: str | None = None) -> Invoice:
    """Invoices consistent with their access key (kind, series and number)."""
    key = draw(nfe_keys())
    series, number = key[22:25], key[25:34]
    return Invoice(
        order_id=order_id if order_id is not None else draw(codes()),
        number=draw(st.sampled_from((str(int(number)), number))),
        series=draw(st.sampled_from((str(int(series)), series))),
        access_key=key,
        issued_at=draw(aware_datetimes()),
        value=draw(money()),
        kind=InvoiceKind.NFE if key[20:22] == "55" else InvoiceKind.NFCE,
        cfop=draw(_optional(cfops())),
        xml_url=draw(_optional(urls())),
        danfe_url=draw(_optional(urls())),
    )


@cache
def trackings(order_id: str | None = None) -> SearchStrategy[Tracking]:
    correios = st.builds(lambda a, n: f"{a}{n}BR",
                         st.text(string.ascii_uppercase, min_size=2, max_size=2), _digits(9))
    return st.builds(
        Tracking,
        order_id=st.just(order_id) if order_id is not None else codes(),
        code=correios | codes(14),
        carrier=_optional(short_texts()),
        url=_optional(urls()),
        shipped_at=_optional(aware_datetimes()),
        invoice_key=_optional(nfe_keys()),
    )


@cache
def status_updates() -> SearchStrategy[StatusUpdate]:
    return st.builds(StatusUpdate, order_id=codes(), status=st.sampled_from(OrderStatus),
                     platform_status=_optional(codes()),
                     notify_customer=_optional(st.booleans()), note=_optional(short_texts()))


@cache
def cancellations() -> SearchStrategy[Cancellation]:
    return st.builds(Cancellation, order_id=codes(), reason=short_texts(),
                     cancelled_at=_optional(aware_datetimes()), restock=st.booleans(),
                     refund=st.booleans())


@cache
def deliveries() -> SearchStrategy[Delivery]:
    return st.builds(Delivery, order_id=codes(), delivered_at=_optional(aware_datetimes()),
                     note=_optional(short_texts()))


# -- results ----------------------------------------------------------------------------------


@cache
def platform_options() -> SearchStrategy[PlatformOption]:
    return st.builds(PlatformOption, id=codes(), name=short_texts(), active=st.booleans())


@cache
def webhook_events() -> SearchStrategy[WebhookEvent]:
    return st.builds(
        WebhookEvent,
        resource=st.sampled_from(("order", "product", "stock", "price")),
        remote_id=codes(),
        action=st.sampled_from(("created", "updated", "deleted")),
        received_at=_optional(aware_datetimes()),
        event_id=_optional(codes()),
    )


#: The strategy function of every class in :data:`tramo.model.ENTITIES`.
STRATEGIES: dict[type, Callable[[], SearchStrategy[Any]]] = {
    Attribute: attributes,
    Dimensions: dimensions,
    Brand: brands,
    Category: categories,
    Variant: variants,
    Product: products,
    Price: prices,
    StockLevel: stock_levels,
    StockReservation: stock_reservations,
    Address: addresses,
    Contact: contacts,
    Customer: customers,
    OrderItem: order_items,
    Shipping: shippings,
    Payment: payments,
    SalesChannel: sales_channels,
    ItemChange: item_changes,
    OrderEdit: order_edits,
    Order: orders,
    Invoice: invoices,
    Tracking: trackings,
    StatusUpdate: status_updates,
    Cancellation: cancellations,
    Delivery: deliveries,
    PlatformOption: platform_options,
    WebhookEvent: webhook_events,
}


def entities() -> dict[type, SearchStrategy[Any]]:
    """Each entity class mapped to a ready strategy for it."""
    return {kind: make() for kind, make in STRATEGIES.items()}
