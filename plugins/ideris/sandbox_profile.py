"""What the conformance kit must know about an Ideris account (see :class:`tramo.sandbox.Profile`).

Every field the model has and Ideris does not keep is left out of ``kept``
with the reason beside it, so the kit compares only what the hub can hold;
``invalid`` lists what the model allows and Ideris refuses, which the plugin
must refuse before any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from tramo.model import Attribute, Product, Variant
from tramo.sandbox import Profile
from tramo.testing.spoilers import in_warehouse, many_attributes, sku_apart_from_code, zero_price

__all__ = ["MAPPINGS", "profile"]

#: A host's mapping tables for an Ideris account: status texts (``Status.descricao``),
#: shipping types (``tipoEntrega``), payment forms (``formaPagamento``) and marketplaces.
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"Aberto": "open", "Aprovado": "approved", "Em separação": "preparing_shipment",
               "Faturado": "invoiced", "Expedido": "ready_to_ship", "Em trânsito": "shipped",
               "Entregue": "delivered", "Não entregue": "not_delivered",
               "Cancelado": "cancelled"},
    "shipping": {"Mercado Envios": "MERCADO_ENVIOS", "Mercado Envios Full": "MERCADO_ENVIOS_FULL",
                 "Correios": "CORREIOS", "Transportadora": "TRANSPORTADORA",
                 "A combinar": "RETIRADA"},
    "payment": {"credit_card": "CARTAO", "ticket": "BOLETO", "pix": "PIX",
                "account_money": "SALDO", "debit_card": "DEBITO"},
    "channel": {"Mercado Livre": "MERCADO_LIVRE", "Amazon": "AMAZON", "Shopee": "SHOPEE",
                "Magalu": "MAGALU", "Americanas": "AMERICANAS", "Via": "VIA"},
}


def _variant_without_attribute(product: Product) -> Product:
    """A product whose one variant has no attribute (Ideris wants nomeAtributo/valorAtributo)."""
    return attrs.evolve(product, variants=(Variant(sku=f"{product.code}-V"),))


def _variant_with_two_images(product: Product) -> Product:
    """A product whose one variant has two images (a variation shows one caminhoImagemVariacao)."""
    variant = Variant(sku=f"{product.code}-V", attributes=(Attribute(name="Cor", value="Azul"),),
                      images=("https://img.example.com/v1.jpg", "https://img.example.com/v2.jpg"))
    return attrs.evolve(product, variants=(variant,))


def profile(mappings: Any) -> Profile:
    """The profile of a sandbox account whose host maps statuses and methods with ``mappings``."""
    return Profile(
        kept={
            # Not kept: short_description, sku (a product is sold under its code), ncm, categories
            # (the plugin sends the account's fixed ids), attributes, available, remote_id and
            # updated_at (Ideris' own).
            "Product": frozenset({"code", "name", "description", "gtin", "brand", "price",
                                  "weight_kg", "dimensions", "images", "variants"}),
            # A variation has one attribute pair and at most one image; no gtin, price or size.
            "Variant": frozenset({"sku", "attributes", "images"}),
            # Ideris numbers brands itself and keeps their name.
            "Brand": frozenset({"name"}),
            # One price per product (valorVenda), in reais.
            "Price": frozenset({"sku", "list_price", "currency"}),
            "StockLevel": frozenset({"sku", "quantity"}),
            # Ideris keeps no reservations.
            "StockReservation": frozenset(),
            # Orders come from the marketplaces: Ideris numbers and stamps them, keeps one
            # payment (the first: its value is valorPago) and the buyer's first phone only.
            "Order": frozenset({"customer", "items", "total", "delivery_address", "shipping",
                                "sales_channel", "currency", "discount"}),
            "Customer": frozenset({"name", "kind", "cpf", "cnpj", "email"}),
            "Address": frozenset({"street", "number", "complement", "district", "city", "state",
                                  "postal_code", "country", "recipient", "phone"}),
            "OrderItem": frozenset({"sku", "name", "quantity", "unit_price"}),
            "Shipping": frozenset({"freight"}),
            "Payment": frozenset({"installments"}),
            "SalesChannel": frozenset({"marketplace_order_id"}),
        },
        orders="incremental",
        mappings=mappings,
        invalid={
            "send_products": (
                ("a price of 0", zero_price),
                ("a variant with 2 attributes", many_attributes(1)),
                ("a variant without an attribute", _variant_without_attribute),
                ("a variant with 2 images", _variant_with_two_images),
                ("a product without variants sold under a SKU other than its code",
                 sku_apart_from_code),
            ),
            "send_prices": (
                ("a price list", lambda p: attrs.evolve(p, price_list="atacado")),
                ("a currency other than BRL", lambda p: attrs.evolve(p, currency="USD")),
                ("a sale price apart from the list price",
                 lambda p: attrs.evolve(p, sale_price=p.list_price + 1)),
                ("a promotional price",
                 lambda p: attrs.evolve(p, promotional_price=p.list_price)),
            ),
            "send_stock": (("a warehouse", in_warehouse),),
        },
        page_size_setting="page_size",
    )
