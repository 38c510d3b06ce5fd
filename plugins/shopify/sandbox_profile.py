"""What the conformance kit must know about a Shopify store (see :class:`tramo.sandbox.Profile`).

Every field the model has and the store does not keep is left out of
``kept`` with the reason beside it, so the kit compares only what the shop
can hold; ``invalid`` lists what the model allows and Shopify refuses, which
the plugin must refuse before any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from tramo.model import Attribute, Product, Variant
from tramo.sandbox import Profile
from tramo.testing.spoilers import many_attributes

__all__ = ["MAPPINGS", "profile"]

#: A host's mapping tables for a Shopify store: the plugin's platform status of an order
#: (CANCELLED, DELIVERED, FULFILLED or the financial status, see ``held_status``), the
#: shipping line's code, the transactions' gateway and the order's ``sourceName``. Several
#: statuses share "open" and "cancelled": the core maps them inbound and derives no outbound
#: value for those two (a host that syncs them out names one). ``place_order`` keeps a
#: method, gateway or channel only when it is here (else "Frete", "manual", "web").
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"PENDING": "open", "AUTHORIZED": "open", "PAID": "approved",
               "PARTIALLY_PAID": "open", "FULFILLED": "shipped", "DELIVERED": "delivered",
               "CANCELLED": "cancelled", "REFUNDED": "cancelled", "VOIDED": "cancelled"},
    "shipping": {"Frete": "FRETE", "PAC": "CORREIOS_PAC", "SEDEX": "CORREIOS_SEDEX",
                 "Retirada na loja": "RETIRADA"},
    "payment": {"manual": "MANUAL", "shopify_payments": "CARTAO", "pix": "PIX",
                "boleto": "BOLETO", "mercado_pago": "MERCADO_PAGO"},
    "channel": {"web": "LOJA", "pos": "PDV", "shopify_draft_order": "RASCUNHO"},
}


def _variant_with_two_images(product: Product) -> Product:
    """A variant shows one image (ProductVariantSetInput.file): two cannot be held."""
    variant = Variant(sku=f"{product.code}-V", attributes=(Attribute(name="Cor", value="Azul"),),
                      images=("https://img.example.com/v1.jpg", "https://img.example.com/v2.jpg"))
    return attrs.evolve(product, variants=(variant,))


def _same_attributes(product: Product) -> Product:
    """Two variants with the same option values: Shopify refuses the duplicate."""
    colour = (Attribute(name="Cor", value="Azul"),)
    return attrs.evolve(product, variants=(Variant(sku=f"{product.code}-A", attributes=colour),
                                           Variant(sku=f"{product.code}-B", attributes=colour)))


def profile(mappings: Any) -> Profile:
    """The profile of a sandbox store whose host maps statuses and channels with ``mappings``."""
    return Profile(
        kept={
            # Not kept: short_description, categories (collections hold the plugin's own
            # handles, not the ERP ids), ncm, dimensions and attributes (no product field for
            # them), remote_id and updated_at (Shopify's own). Nor sku, gtin, price and
            # weight_kg: Shopify keeps them per variant, and a product's own are sent on its
            # variants (its one Default Title variant when it has none, sold under sku or
            # code; the product's price and weight for variants without their own), so they
            # read back there, not on the product. The plugin's tests check them.
            "Product": frozenset({"code", "name", "description", "brand", "images", "variants",
                                  "available"}),
            # A variant: options as attributes, one image (its file), no size, no own status;
            # its price and weight are the product's when it has none of its own (Shopify
            # prices and weighs every variant), so they are not compared here either.
            "Variant": frozenset({"sku", "gtin", "attributes", "images"}),
            # The vendor is the brand's name.
            "Brand": frozenset({"name"}),
            # price and compareAtPrice: a sale price below a list price; no promotion window.
            "Price": frozenset({"sku", "list_price", "sale_price", "currency"}),
            "StockLevel": frozenset({"sku", "quantity"}),
            # Shopify keeps no reservations of an ERP's.
            "StockReservation": frozenset(),
            # An order placed at the checkout: Shopify numbers (#1001) and stamps it, its
            # currency is the shop's (BRL), the channel is sourceName ("web" when none was
            # given, so not compared), edits, invoices and trackings come later.
            "Order": frozenset({"customer", "items", "total", "billing_address",
                                "delivery_address", "shipping", "payments", "discount", "notes"}),
            # The customer's name (displayName), e-mail and the document in the cpf_cnpj
            # attribute; one phone, no addresses book, no birth date or state registration.
            "Customer": frozenset({"name", "cpf", "cnpj", "email"}),
            # address1 "<street>, <number>", address2 "<complement> - <district>" (see
            # sandbox_orders.mailing), the UF in provinceCode, the recipient as the name.
            "Address": frozenset({"street", "number", "complement", "district", "city", "state",
                                  "postal_code", "country", "recipient", "phone"}),
            "OrderItem": frozenset({"sku", "name", "quantity", "unit_price", "discount"}),
            # The shipping line's price; its code is the method only when a host maps it
            # (else "Frete"), so the method is not compared; no carrier or estimate.
            "Shipping": frozenset({"freight"}),
            # One SALE transaction per payment: its amount; the gateway is the method only
            # when a host maps it (else "manual"); no instalments.
            "Payment": frozenset({"value"}),
            "SalesChannel": frozenset({"platform_channel"}),
        },
        orders="incremental",
        mappings=mappings,
        invalid={
            "send_products": (
                ("a variant with 4 attributes (Shopify has at most 3 options)",
                 many_attributes(3)),
                ("a variant with 2 images", _variant_with_two_images),
                ("two variants with the same attributes", _same_attributes),
            ),
            "send_prices": (
                ("a promotional price (Shopify has no promotion window)",
                 lambda p: attrs.evolve(p, promotional_price=p.list_price)),
                ("a currency other than BRL without a price list",
                 lambda p: attrs.evolve(p, currency="USD", price_list=None, company=None,
                                        segment=None)),
            ),
            # A warehouse that is no location is refused too, but only after the shop's
            # locations are read: Shopify keeps stock per location, so no level is invalid
            # before that call.
        },
        page_size_setting="page_size",
    )
