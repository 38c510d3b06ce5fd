"""Ways to make a valid item one a platform refuses, for a sandbox's ``Profile.invalid``.

Each function returns a spoiler: it takes an item the model allows (drawn by
the conformance kit) and returns one the platform would refuse, which the
plugin must hold before any call. Platforms share many limits in kind (a
name's length, a number of images), not in size: the size is the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from tramo.model import Attribute, Product, Variant

__all__ = ["in_warehouse", "long_name", "many_attributes", "many_images", "sku_apart_from_code",
           "with_text", "zero_price"]

Spoiler = Callable[[Any], Any]


def long_name(limit: int) -> Callable[[Product], Product]:
    """A product whose name is one character over ``limit``."""
    return lambda product: attrs.evolve(product, name="N" * (limit + 1))


def many_images(limit: int) -> Callable[[Product], Product]:
    """A product with one image more than ``limit``."""
    return lambda product: attrs.evolve(
        product, images=tuple(f"https://img.example.com/{i}.jpg" for i in range(limit + 1)))


def many_attributes(limit: int) -> Callable[[Product], Product]:
    """A product whose one variant has one attribute more than ``limit``."""
    def spoil(product: Product) -> Product:
        attributes = [Attribute(name=f"Atributo {i}", value="x") for i in range(limit + 1)]
        return attrs.evolve(product, variants=(Variant(sku=f"{product.code}-V", attributes=attributes),))
    return spoil


def sku_apart_from_code(product: Product) -> Product:
    """A product without variants sold under a SKU that is not its code."""
    return attrs.evolve(product, variants=(), sku=f"{product.code}-SKU")


def zero_price(product: Product) -> Product:
    """A product priced 0 (many platforms read it as 'price on request')."""
    return attrs.evolve(product, price=Decimal(0))


def in_warehouse(item: Any) -> Any:
    """A stock level or reservation for a warehouse, where the platform keeps one stock per SKU."""
    return attrs.evolve(item, warehouse="CD-2")


def with_text(field: str, text: str) -> Spoiler:
    """The item with ``text`` appended to its text ``field`` (a character the platform cannot keep)."""
    return lambda item: attrs.evolve(item, **{field: f"{getattr(item, field)}{text}"})
