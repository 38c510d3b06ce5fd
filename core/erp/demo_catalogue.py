"""A small Brazilian clothing catalogue for the reference ERP: demos and tests start from it.

Deterministic for a seed, so two runs (or two machines) publish the same
products, SKUs, GTINs, prices and stock.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from decimal import Decimal

from tramo.erp.reference import ReferenceErp
from tramo.model import (
    Attribute,
    Brand,
    Category,
    Dimensions,
    Price,
    Product,
    StockLevel,
    Variant,
)
from tramo.model.identifiers import gtin_check_digit

__all__ = ["demo_catalogue"]

_CATEGORIES = (
    Category(id="CAT-01", name="Vestuário"),
    Category(id="CAT-02", name="Camisetas", parent_id="CAT-01"),
    Category(id="CAT-03", name="Calçados"),
    Category(id="CAT-04", name="Acessórios"),
)

#: Per category: product names, NCM, sizes sold.
_LINES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "CAT-01": (("Calça Jeans Slim", "Bermuda de Sarja", "Jaqueta Corta-Vento", "Moletom Canguru"),
               "62034200", ("P", "M", "G", "GG")),
    "CAT-02": (("Camiseta Básica de Algodão", "Camiseta Estampada", "Camiseta Polo Piquet",
                "Regata Dry Fit"), "61091000", ("P", "M", "G", "GG")),
    "CAT-03": (("Tênis de Corrida", "Sandália de Couro", "Chinelo Slide", "Bota Coturno"),
               "64041900", ("37", "38", "39", "40", "41", "42")),
    "CAT-04": (("Boné Aba Curva", "Mochila Urbana", "Carteira de Couro", "Cinto de Lona"),
               "42022200", ("U",)),
}

_COLOURS = (("Azul", "AZ"), ("Preto", "PT"), ("Branco", "BR"), ("Vermelho", "VM"),
            ("Verde", "VD"), ("Cinza", "CZ"))

_BRANDS = (Brand(id="MAR-01", name="Brisa"), Brand(id="MAR-02", name="Ipê"),
           Brand(id="MAR-03", name="Maré"))

_SERIES = ("Linha Essencial", "Linha Verão", "Linha Urbana", "Coleção Praia")


def demo_catalogue(erp: ReferenceErp, *, products: int = 12, seed: int = 0) -> None:
    """Fill an empty ERP with ``products`` products, half with variants, each SKU priced and stocked."""
    if products < 0:
        raise ValueError("products must not be negative")
    rng = random.Random(seed)
    for category in _CATEGORIES:
        erp.put_category(category)
    gtins = _gtins(rng)
    with_variants = set(rng.sample(range(1, products + 1), products // 2))
    for index in range(1, products + 1):
        product = _product(rng, index, gtins, index in with_variants)
        erp.put_product(product)
        for sku in product.skus:
            erp.put_price(_price(rng, sku, product.price or Decimal(0)))
            erp.put_stock(StockLevel(sku=sku, quantity=rng.randint(0, 50)))


def _gtins(rng: random.Random) -> Iterator[str]:
    """GTIN-13s under Brazil's GS1 prefix 789: one company, items numbered in turn."""
    company = rng.randint(1000, 9999)
    for item in itertools.count(rng.randint(10000, 50000)):
        body = f"789{company}{item:05d}"
        yield body + gtin_check_digit(body)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _product(rng: random.Random, index: int, gtins: Iterator[str], varied: bool) -> Product:
    category_id = _CATEGORIES[(index - 1) % len(_CATEGORIES)].id
    names, ncm, _ = _LINES[category_id]
    code = f"ERP-{index:04d}"
    name = f"{rng.choice(names)} {rng.choice(_SERIES)}"
    brand = rng.choice(_BRANDS)
    price = _money(rng.randrange(2990, 39990, 100))
    variants = _variants(rng, code, category_id, price, gtins) if varied else ()
    return Product(
        code=code,
        name=name,
        description=f"{name}, da marca {brand.name}. Produto de demonstração do ERP de referência.",
        short_description=name,
        gtin=None if variants else next(gtins),
        brand=brand,
        categories=(category_id,),
        ncm=ncm,
        price=price,
        weight_kg=Decimal(rng.randint(100, 1500)).scaleb(-3),
        dimensions=Dimensions(length_cm=Decimal(rng.randint(15, 40)),
                              width_cm=Decimal(rng.randint(10, 30)),
                              height_cm=Decimal(rng.randint(2, 15))),
        variants=variants,
    )


def _variants(rng: random.Random, code: str, category_id: str, price: Decimal,
              gtins: Iterator[str]) -> tuple[Variant, ...]:
    """Two or three sizes (or colours); T-shirts by size and colour (a grid some platforms refuse)."""
    sizes = _LINES[category_id][2]
    if category_id == "CAT-02":
        combos = [(size, colour) for size in sizes for colour in _COLOURS]
        return tuple(
            Variant(sku=f"{code}-{size}-{short}", gtin=next(gtins), price=price,
                    attributes=(Attribute(name="Cor", value=colour),
                                Attribute(name="Tamanho", value=size)))
            for size, (colour, short) in rng.sample(combos, rng.randint(2, 3)))
    if len(sizes) == 1:  # one size fits all: by colour
        return tuple(
            Variant(sku=f"{code}-{short}", gtin=next(gtins), price=price,
                    attributes=(Attribute(name="Cor", value=colour),))
            for colour, short in rng.sample(_COLOURS, rng.randint(2, 3)))
    return tuple(
        Variant(sku=f"{code}-{size}", gtin=next(gtins), price=price,
                attributes=(Attribute(name="Tamanho", value=size),))
        for size in sorted(rng.sample(sizes, rng.randint(2, 3)), key=sizes.index))


def _price(rng: random.Random, sku: str, list_price: Decimal) -> Price:
    """The list price; about one SKU in eight on a promotion of 10 to 30 percent off (a
    scheduled price not every platform keeps, so the demo shows one held with its reason)."""
    if rng.random() < 1 / 8:
        off = Decimal(rng.choice((10, 15, 20, 30)))
        promotional = (list_price * (100 - off) / 100).quantize(Decimal("0.01"))
        return Price(sku=sku, list_price=list_price, promotional_price=promotional)
    return Price(sku=sku, list_price=list_price)
