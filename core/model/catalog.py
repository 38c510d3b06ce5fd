"""Catalogue: products with their variants (SKUs), categories and brands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from tramo.errors import ValidationError
from tramo.model import fields as f
from tramo.model.identifiers import normalize_gtin, normalize_ncm

__all__ = ["Attribute", "Brand", "Category", "Dimensions", "Product", "Variant", "parents_first"]


@attrs.frozen(kw_only=True)
class Attribute:
    """A named property of a variant or product: ``Attribute("Cor", "Azul")``."""

    name: str = f.text()
    value: str = f.text()


@attrs.frozen(kw_only=True)
class Dimensions:
    """Package size in centimetres."""

    length_cm: Decimal = f.quantity()
    width_cm: Decimal = f.quantity()
    height_cm: Decimal = f.quantity()


@attrs.frozen(kw_only=True)
class Brand:
    """A brand (marca). ``id`` is the ERP's code; ``remote_id`` the platform's, once known."""

    id: str = f.text()
    name: str = f.text()
    remote_id: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class Category:
    """One node of the category tree; ``parent_id`` is the ERP code of its parent."""

    id: str = f.text()
    name: str = f.text()
    parent_id: str | None = f.optional_text()
    remote_id: str | None = f.optional_text()

    def __attrs_post_init__(self) -> None:
        if self.parent_id == self.id:
            raise f.fail(self, "parent_id", self.parent_id, "a category cannot be its own parent")


@attrs.frozen(kw_only=True)
class Variant:
    """A sellable SKU of a product, told apart by its attributes (colour, size)."""

    sku: str = f.text()
    gtin: str | None = f.identifier(normalize_gtin)
    attributes: tuple[Attribute, ...] = f.many(Attribute)
    price: Decimal | None = f.money(optional=True)
    weight_kg: Decimal | None = f.quantity(optional=True)
    dimensions: Dimensions | None = f.nested(Dimensions)
    images: tuple[str, ...] = f.urls()
    available: bool = f.flag(default=True)
    remote_id: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class Product:
    """A catalogue product as the ERP knows it.

    ``code`` is the ERP's product code (the local id). A product without
    variants is sold under ``sku`` (``code`` when unset). ``images`` are ordered
    URLs: the first is the main picture. ``categories`` are ERP category ids.
    """

    code: str = f.text()
    name: str = f.text()
    description: str = f.text(default="")
    short_description: str = f.text(default="")
    sku: str | None = f.optional_text()
    gtin: str | None = f.identifier(normalize_gtin)
    brand: Brand | None = f.nested(Brand)
    categories: tuple[str, ...] = f.many(str)
    ncm: str | None = f.identifier(normalize_ncm)
    price: Decimal | None = f.money(optional=True)
    weight_kg: Decimal | None = f.quantity(optional=True)
    dimensions: Dimensions | None = f.nested(Dimensions)
    images: tuple[str, ...] = f.urls()
    attributes: tuple[Attribute, ...] = f.many(Attribute)
    variants: tuple[Variant, ...] = f.many(Variant)
    available: bool = f.flag(default=True)
    remote_id: str | None = f.optional_text()
    updated_at: datetime | None = f.moment(optional=True)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for i, variant in enumerate(self.variants):
            if variant.sku in seen:
                raise f.fail(self, f"variants[{i}].sku", variant.sku, "SKU repeated in product")
            seen.add(variant.sku)

    @property
    def skus(self) -> tuple[str, ...]:
        """Every SKU sold under this product."""
        if self.variants:
            return tuple(v.sku for v in self.variants)
        return (self.sku or self.code,)


def parents_first(categories: Iterable[Category]) -> list[Category]:
    """The categories ordered so every parent comes before its children.

    A plugin creating a tree on a platform needs the parent's remote id before
    the child; raises ValidationError on a cycle. A parent missing from the
    input is taken as already known to the platform.
    """
    nodes: Sequence[Category] = list(categories)
    by_id = {c.id: c for c in nodes}
    ordered: list[Category] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(node: Category) -> None:
        mark = state.get(node.id)
        if mark == 2:
            return
        if mark == 1:
            raise ValidationError("Category.parent_id", node.parent_id, "the category tree has a cycle")
        state[node.id] = 1
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if parent is not None:
            visit(parent)
        state[node.id] = 2
        ordered.append(node)

    for node in nodes:
        visit(node)
    return ordered
