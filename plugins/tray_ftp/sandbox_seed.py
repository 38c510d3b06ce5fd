"""A believable Brazilian store for the Tray FTP sandbox: a catalogue, then orders placed from it.

:func:`fill` uploads the catalogue as one product file, as an ERP would, and
the store imports it, so the seed holds only what the store can read; then
buyers place orders from it, a few to a file. One ``random.Random(seed)``
draws everything: the same seed gives the same store.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import tramo
from tramo.model.identifiers import cpf_check_digits, gtin_check_digit

from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox_store import CHANNELS, PAYMENTS, SHIPPING, START

__all__ = ["fill"]

#: (name, brands, what variants differ in, price range in reais, kg, NCM)
KINDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, int], str, str], ...] = (
    ("Camisa Polo Piquet", ("Aramis", "Hering"), ("Cor", "Tamanho"), (79, 249), "0.25", "61051000"),
    ("Bermuda de Sarja", ("Reserva", "Colcci"), ("Tamanho",), (89, 199), "0.35", "62034300"),
    ("Sapatênis de Couro", ("Democrata", "Ferracini"), ("Número",), (199, 399), "0.9", "64039990"),
    ("Panela de Pressão 4,5 L", ("Panelux", "Rochedo"), (), (119, 279), "2.1", "76151000"),
    ("Café Torrado e Moído 500 g", ("Pilão", "Melitta"), (), (17, 39), "0.52", "09012100"),
    ("Ventilador de Mesa 40 cm", ("Arno", "Mallory"), (), (149, 289), "3.2", "84145190"),
)
VALUES = {"Cor": ("Preto", "Branco", "Azul-marinho", "Verde-água"), "Tamanho": ("P", "M", "G"),
          "Número": ("38", "39", "40", "41", "42")}
PEOPLE = ("Luíza Andrade", "Marcos Teixeira", "Patrícia Nogueira", "Rafael Cardoso",
          "Simone Araújo", "Thiago Moreira")
#: (street, district, city, UF, CEP)
PLACES = (("Rua Oscar Freire", "Jardim Paulista", "São Paulo", "SP", "01426001"),
          ("Avenida Getúlio Vargas", "Funcionários", "Belo Horizonte", "MG", "30112021"),
          ("Rua Marechal Deodoro", "Centro", "Florianópolis", "SC", "88010020"),
          ("Rua Chile", "Comércio", "Salvador", "BA", "40020000"))
ORDERS_PER_FILE = 4


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _gtin(rng: random.Random) -> str:
    body = "789" + _digits(rng, 9)
    return body + gtin_check_digit(body)


def _product(n: int, rng: random.Random) -> tramo.Product:
    """The ``n``-th product: clothes and shoes come in variants (all combinations)."""
    name, brands, differ, (low, high), kg, ncm = KINDS[n % len(KINDS)]
    brand = rng.choice(brands)
    code = f"TF-{n + 1:04d}"
    price = Decimal(rng.randrange(low * 100, high * 100 + 1, 10)).scaleb(-2)
    combos: list[tuple[tramo.Attribute, ...]] = [()] if differ else []
    for attribute in differ:
        values = rng.sample(VALUES[attribute], 2)
        combos = [(*c, tramo.Attribute(name=attribute, value=v)) for c in combos for v in values]
    return tramo.Product(
        code=code, name=f"{name} {brand}", brand=tramo.Brand(id=brand.upper(), name=brand),
        description=f"{name} {brand}: original, com nota fiscal e garantia do fabricante.",
        short_description=f"{name} {brand}", ncm=ncm, price=price, weight_kg=Decimal(kg),
        gtin=None if combos else _gtin(rng), categories=(f"CAT-{n % len(KINDS) + 1}",),
        images=tuple(f"https://cdn.example.com/tray-ftp/{code.lower()}-{i}.jpg"
                     for i in range(1, rng.randrange(2, 4))),
        variants=tuple(tramo.Variant(sku=f"{code}-{i:02d}", gtin=_gtin(rng), attributes=combo)
                       for i, combo in enumerate(combos, start=1)))


def _customer(rng: random.Random) -> tramo.Customer:
    street, district, city, uf, cep = rng.choice(PLACES)
    address = tramo.Address(street=street, number=str(rng.randrange(1, 3000)), district=district,
                            city=city, state=uf, postal_code=cep)
    name = rng.choice(PEOPLE)
    base = _digits(rng, 9)
    login = name.lower().split()[0].translate(str.maketrans("áâãéêíóôõúç", "aaaeeiooouc"))
    return tramo.Customer(
        name=name, cpf=base + cpf_check_digits(base), addresses=(address,),
        phones=(f"{rng.randrange(11, 99)}9{_digits(rng, 8)}",),
        birth_date=date(rng.randrange(1955, 2005), rng.randrange(1, 13), rng.randrange(1, 29)),
        email=f"{login}.{rng.randrange(1000)}@example.com.br")


def _order(n: int, rng: random.Random, sellable: list[tuple[str, str, Decimal]]) -> tramo.Order:
    """One to three lines from the catalogue, shipped, paid (or not yet) and from a channel."""
    picks = rng.sample(sellable, min(len(sellable), rng.randrange(1, 4))) or [
        ("AVULSO-1", "Item avulso", Decimal("19.90"))]
    items = tuple(tramo.OrderItem(sku=sku, name=name, quantity=rng.randrange(1, 3),
                                  unit_price=price) for sku, name, price in picks)
    customer = _customer(rng)
    shipping = rng.choice(tuple(SHIPPING))
    freight = Decimal(0) if shipping == "3" else Decimal(rng.randrange(1290, 4990)).scaleb(-2)
    total = sum((i.total for i in items), Decimal(0)) + freight
    payment = rng.choice(tuple(PAYMENTS))
    channel = rng.choice(("1", "1", *CHANNELS))
    paid = rng.random() < 0.7
    return tramo.Order(  # the store stamps id and placement itself
        id=f"SEED-{n + 1}", placed_at=START, customer=customer, items=items,
        total=total, platform_status=rng.choice(("2", "3", "4", "6")) if paid else "1",
        billing_address=customer.addresses[0], delivery_address=customer.addresses[0],
        shipping=tramo.Shipping(platform_method=shipping, carrier=SHIPPING[shipping],
                                freight=freight),
        payments=(tramo.Payment(value=total, platform_method=payment,
                                installments=rng.randrange(1, 6) if payment == "82" else 1),),
        sales_channel=tramo.SalesChannel(
            platform_channel=channel,
            marketplace_order_id=None if channel == "1" else _digits(rng, 12)),
        notes=rng.choice((None, "Entregar no período da tarde", "Presente: não enviar nota")))


def fill(sandbox: Any, products: int, orders: int, seed: int) -> None:
    """Add ``products`` products (one file, imported) and ``orders`` orders placed from them."""
    rng = random.Random(seed)
    catalogue = [_product(n, rng) for n in range(products)]
    kind = wire.KINDS["products"]
    with sandbox.lock:
        if catalogue:
            chunks = wire.file_chunks(kind, [wire.record_element(kind, p) for p in catalogue])
            sandbox.write_raw("produtos", wire.file_name(kind, sandbox.store.clock, "seed"),
                              b"".join(chunks))
            sandbox.import_files()
        sellable = [(sku, p.name, p.price or Decimal("9.90")) for p in catalogue
                    for sku in p.skus]
        drawn = [_order(n, rng, sellable) for n in range(orders)]
        for start in range(0, len(drawn), ORDERS_PER_FILE):
            sandbox.place_orders(drawn[start:start + ORDERS_PER_FILE])
