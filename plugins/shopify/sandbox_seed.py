"""A demo Shopify shop: a catalogue with variants, stock at both locations, Brazilian orders.

``ShopifySandbox.seed`` calls :func:`fill`. Products go through the same
rules as ``productSet`` (identified by the ERP code metafield, whose unique
definition is created first, as the plugin would); orders are placed as
buyers place them (``place_order``); one is then edited and one fulfilled
with a tracking number. Everything comes from one ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import tramo
from tramo.model.identifiers import cpf_check_digits, gtin_check_digit

from tramo_shopify.sandbox_catalogue import level_of, metafield_definition_create, product_set
from tramo_shopify.sandbox_orders import fulfillment_create
from tramo_shopify.sandbox_records import (
    CODE_KEY,
    CODE_NAMESPACE,
    LOCATIONS,
    Ctx,
    get,
    items_of,
)

__all__ = ["fill"]

IMAGES = "https://images.example.com/shopify-sandbox"
#: (code, title, vendor, price, compare-at, grams, options)
CATALOGUE: tuple[tuple[str, str, str, str, str | None, int, tuple[tuple[str, tuple[str, ...]], ...]],
                 ...] = (
    ("CAM-100", "Camiseta Básica Algodão", "Hering", "49.90", None, 180,
     (("Cor", ("Branco", "Preto")), ("Tamanho", ("P", "M", "G")))),
    ("TEN-200", "Tênis Corrida Leve", "Olympikus", "299.90", "349.90", 650,
     (("Tamanho", ("38", "40", "42")),)),
    ("GAR-300", "Garrafa Térmica Inox 1 L", "Stanley", "129.90", None, 600,
     (("Cor", ("Verde", "Preto")),)),
    ("FON-400", "Fone de Ouvido Bluetooth", "JBL", "199.00", "229.00", 250, ()),
    ("PAN-500", "Panela de Pressão 4,5 L", "Tramontina", "239.90", None, 2100, ()),
    ("MOC-600", "Mochila Executiva Notebook", "Samsonite", "259.00", None, 950, ()),
)
PEOPLE = ("Ana Souza", "Bruno Lima", "Carla Ferreira Santos", "Diego Alves", "Eduarda Rocha")
PLACES = (("Rua Augusta", "Consolação", "São Paulo", "SP", "01305000"),
          ("Avenida Afonso Pena", "Centro", "Belo Horizonte", "MG", "30130001"),
          ("Rua das Laranjeiras", "Laranjeiras", "Rio de Janeiro", "RJ", "22240003"),
          ("Rua XV de Novembro", "Centro", "Curitiba", "PR", "80020310"),
          ("Avenida Boa Viagem", "Boa Viagem", "Recife", "PE", "51011000"))


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _input(code: str, title: str, vendor: str, price: str, compare: str | None, grams: int,
           options: tuple[tuple[str, tuple[str, ...]], ...], rng: random.Random) -> dict[str, Any]:
    slug = code.lower()
    combos: list[list[tuple[str, str]]] = [[]]
    for name, values in options:
        combos = [[*c, (name, v)] for c in combos for v in values]
    if not options:
        options, combos = (("Title", ("Default Title",)),), [[("Title", "Default Title")]]

    def variant(combo: list[tuple[str, str]]) -> dict[str, Any]:
        suffix = "-".join(v.upper()[:3] for n, v in combo if n != "Title")
        body = "789" + _digits(rng, 9)
        return {"optionValues": [{"optionName": n, "name": v} for n, v in combo],
                "sku": f"{code}-{suffix}" if suffix else code, "price": price,
                "compareAtPrice": compare, "barcode": body + gtin_check_digit(body),
                "inventoryItem": {"tracked": True, "measurement": {
                    "weight": {"value": grams / 1000, "unit": "KILOGRAMS"}}}}

    return {"title": title, "vendor": vendor, "descriptionHtml": f"<p>{title} {vendor}.</p>",
            "productType": "Demo", "status": "ACTIVE",
            "productOptions": [{"name": n, "values": [{"name": v} for v in values]}
                               for n, values in options],
            "variants": [variant(c) for c in combos],
            "files": [{"originalSource": f"{IMAGES}/{slug}-{n}.jpg", "alt": title,
                       "contentType": "IMAGE"} for n in (1, 2)]}


def _person(rng: random.Random, n: int) -> tramo.Customer:
    name = PEOPLE[n % len(PEOPLE)]
    base = _digits(rng, 9)
    return tramo.Customer(name=name, cpf=base + cpf_check_digits(base),
                          email=f"{name.split()[0].lower()}{n}@example.com.br",
                          phones=(f"119{_digits(rng, 8)}",))


def _order(rng: random.Random, n: int, skus: list[tuple[str, str, Decimal]]) -> tramo.Order:
    picks = rng.sample(skus, rng.randrange(1, 3))
    items = tuple(tramo.OrderItem(sku=sku, name=title, quantity=rng.randrange(1, 3),
                                  unit_price=price) for sku, title, price in picks)
    freight = Decimal(rng.randrange(0, 3000)) / 100
    total = sum((i.total for i in items), Decimal(0)) + freight
    customer = _person(rng, n)
    street, district, city, state, cep = PLACES[n % len(PLACES)]
    address = tramo.Address(street=street, number=str(rng.randrange(10, 2000)),
                            district=district, city=city, state=state, postal_code=cep,
                            recipient=customer.name, phone=customer.phones[0])
    paid = n % 4 != 3
    return tramo.Order(
        id=f"SEED-{n + 1}", placed_at=datetime(2026, 1, 5, 12, tzinfo=timezone.utc),
        customer=customer, items=items, total=total, platform_status="PAID" if paid else "PENDING",
        delivery_address=address, billing_address=address,
        shipping=tramo.Shipping(platform_method="PAC", freight=freight),
        payments=(tramo.Payment(value=total, platform_method="mercado_pago"),) if paid else (),
        sales_channel=tramo.SalesChannel(platform_channel="web"))


def _catalogue(products: int) -> list[tuple[Any, ...]]:
    """``products`` entries of the demo catalogue; past its six, its entries again with a
    number added to code and title (``CAM-100-7``, "Camiseta Básica Algodão 7")."""
    chosen = []
    for n in range(products):
        code, title, *rest = CATALOGUE[n % len(CATALOGUE)]
        if n >= len(CATALOGUE):
            code, title = f"{code}-{n + 1}", f"{title} {n + 1}"
        chosen.append((code, title, *rest))
    return chosen


def fill(shop: Any, seed: int = 0, *, products: int = len(CATALOGUE), orders: int = 5) -> None:
    """The demo catalogue, its stock, and ``orders`` orders (the first edited, the second
    fulfilled, when there are that many)."""
    if products < 1 or orders < 0:
        raise ValueError(f"a demo shop needs a product and no negative count of orders; "
                         f"got products={products}, orders={orders}")
    rng = random.Random(seed)
    ctx = Ctx(shop=shop)
    with shop.lock:
        data = shop.data
        metafield_definition_create(shop, ctx, {
            "name": "ERP code", "namespace": CODE_NAMESPACE, "key": CODE_KEY,
            "type": "single_line_text_field", "ownerType": "PRODUCT",
            "capabilities": {"uniqueValues": {"enabled": True}}})
        skus: list[tuple[str, str, Decimal]] = []
        for code, title, vendor, price, compare, grams, options in _catalogue(products):
            done = product_set(shop, ctx, _input(code, title, vendor, price, compare, grams,
                                                 options, rng), True,
                               {"customId": {"namespace": CODE_NAMESPACE, "key": CODE_KEY,
                                             "value": code}})
            product = done["product"]
            for variant in items_of(data, product["_variants"]):
                skus.append((variant["sku"], title, variant["price"]))
                for location, _ in LOCATIONS:
                    level = level_of(data, variant["_item"], location)
                    if level is not None:
                        quantity = rng.randrange(5, 40)
                        level["_q"].update(available=quantity, on_hand=quantity)
        placed = [shop.place_order(_order(rng, n, skus)) for n in range(orders)]
        if placed:
            first = get(data, placed[0], "Order")
            line = items_of(data, first["_lineItems"])[0]
            shop.edit_order(placed[0], line["sku"], line["quantity"] + 1)
        if len(placed) < 2:
            return
        shipped = get(data, placed[1], "Order")
        fulfillment_create(shop, ctx, {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": shipped["_fulfillmentOrders"][0]}],
            "trackingInfo": {"number": "BR123456789BR", "company": "Correios",
                             "url": "https://rastreamento.correios.com.br/?objeto=BR123456789BR"}})
