"""The Tray sandbox's catalogue routes: products, variants, brands and categories.

Writes go through ``write_product``/``write_variant``/``write_category``, which
the seed uses too, so a seeded record is exactly what an app could have
written. A change stamps ``modified`` from the store clock; a variant's change
moves its product's ``modified`` as well (Tray shows the product as changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tramo.sandbox import Request, Response, json_response

from tramo_tray_rest.sandbox_http import Getter, TrayHttp, written
from tramo_tray_rest.sandbox_records import (
    CATEGORY_DEFAULTS,
    CATEGORY_SPEC,
    PRODUCT_DEFAULTS,
    PRODUCT_SPEC,
    VARIANT_DEFAULTS,
    VARIANT_SPEC,
    Causes,
    apply_pictures,
    brand_json,
    category_json,
    category_node,
    check_promotion,
    moment_text,
    next_id,
    product_json,
    read_pictures,
    read_sku,
    tick,
    variant_json,
)

__all__ = ["CatalogueRoutes", "Written"]

#: What a write did: (HTTP status, causes of a refusal, the record's id).
Written = tuple[int, list[str], str]


class CatalogueRoutes(TrayHttp):
    """Products, variants, brands and categories of the store."""

    # -- products ------------------------------------------------------------------------------

    def on_products(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                return self._product_write(request, None)
            filters: dict[str, Getter] = {
                "id": lambda r: r["id"], "reference": lambda r: r["reference"],
                "ean": lambda r: r["ean"], "name": lambda r: r["name"],
                "category_id": lambda r: [r["category_id"], *r["related_categories"]],
                "modified": lambda r: r["modified"]}
            site, today = self._site(), self._today()
            return self._page(request, list(self.data["products"].values()), "Products", "Product",
                              lambda r: product_json(self.data, r, site, today), filters,
                              ("id", "modified"))

    def on_product(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["products"].get(ident)
            if record is None:
                return self._missing(request, "Produto", ident)
            if request.method == "GET":
                answer = product_json(self.data, record, self._site(), self._today())
                return json_response({"Product": answer})
            if request.method == "PUT":
                return self._product_write(request, ident)
            for variant_id in record["variant_ids"]:
                del self.data["variants"][variant_id]
            del self.data["products"][ident]
            return written("Deleted", ident, 200)

    def _product_write(self, request: Request, ident: str | None) -> Response:
        body, refused = self._wrapped(request, "Product")
        if refused is not None:
            return refused
        status, causes, ident = self.write_product(body, ident)
        if causes:
            return self._bad(request, causes)
        return written("Created" if status == 201 else "Saved", ident, status)

    def write_product(self, body: Mapping[str, Any], ident: str | None) -> Written:
        """Create (``ident`` None) or update a product from a ``Product`` body."""
        causes = Causes("Product")
        fields = causes.take(body, PRODUCT_SPEC)
        pictures = read_pictures(body, causes)
        before = (self.data["products"][ident] if ident is not None
                  else {**PRODUCT_DEFAULTS, "variant_ids": []})
        if ident is None:
            causes.require(body, "name", "price")
        elif "name" in fields and not fields["name"].strip():
            causes.add("name", "não pode ficar em branco")
        check_promotion(fields, before, causes)
        self._check_categories(fields, causes)
        self._check_reference(fields.get("reference"), ("product", ident), causes)
        if causes:
            return 400, causes.found, ident or ""
        record = {**before, **fields, "images": apply_pictures(before["images"], pictures)}
        if record == before:
            return 200, [], str(ident)
        if record["brand"] and record["brand"] not in self.data["brands"]:
            self.data["brands"][record["brand"]] = next_id(self.data, "brand")
        stamp = moment_text(tick(self.data))
        if ident is None:
            ident = next_id(self.data, "product")
            record.update(id=ident, created=stamp)
        record["modified"] = stamp
        self.data["products"][ident] = record
        return (201 if before.get("id") is None else 200), [], ident

    def _check_categories(self, fields: Mapping[str, Any], causes: Causes) -> None:
        known = self.data["categories"]
        if fields.get("category_id") and fields["category_id"] not in known:
            causes.add("category_id", "categoria inexistente")
        missing = [c for c in fields.get("related_categories", []) if c not in known]
        if missing:
            causes.add("related_categories", f"categorias inexistentes: {', '.join(missing)}")

    def _check_reference(self, reference: str | None, owner: tuple[str, str | None],
                         causes: Causes) -> None:
        """A reference names one product or variant in the whole store."""
        if not reference:
            return
        taken = [(kind, r["id"]) for kind in ("product", "variant")
                 for r in self.data[f"{kind}s"].values() if r["reference"] == reference]
        if any(t != owner for t in taken):
            causes.add("reference", "já utilizada por outro produto ou variação")

    # -- variants ------------------------------------------------------------------------------

    def on_variants(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                return self._variant_write(request, None)
            filters: dict[str, Getter] = {
                "id": lambda r: r["id"], "product_id": lambda r: r["product_id"],
                "ean": lambda r: r["ean"], "reference": lambda r: r["reference"],
                "modified": lambda r: r["modified"]}
            today = self._today()
            return self._page(request, list(self.data["variants"].values()), "Variants", "Variant",
                              lambda r: variant_json(self.data, r, today), filters,
                              ("id", "modified"))

    def on_variant(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["variants"].get(ident)
            if record is None:
                return self._missing(request, "Variação", ident)
            if request.method == "GET":
                return json_response({"Variant": variant_json(self.data, record, self._today())})
            if request.method == "PUT":
                return self._variant_write(request, ident)
            del self.data["variants"][ident]
            product = self.data["products"].get(record["product_id"])
            if product is not None:
                product["variant_ids"].remove(ident)
                product["modified"] = moment_text(tick(self.data))
            return written("Deleted", ident, 200)

    def _variant_write(self, request: Request, ident: str | None) -> Response:
        body, refused = self._wrapped(request, "Variant")
        if refused is not None:
            return refused
        status, causes, ident = self.write_variant(body, ident)
        if causes:
            return self._bad(request, causes)
        return written("Created" if status == 201 else "Saved", ident, status)

    def write_variant(self, body: Mapping[str, Any], ident: str | None) -> Written:
        """Create or update a variant from a ``Variant`` body: (status, causes, id)."""
        causes = Causes("Variant")
        fields = causes.take(body, VARIANT_SPEC)
        pictures = read_pictures(body, causes)
        sku = read_sku(body, causes)
        before = self.data["variants"][ident] if ident is not None else dict(VARIANT_DEFAULTS)
        if ident is None:
            causes.require(body, "product_id")
        if "product_id" in fields and fields["product_id"] not in self.data["products"]:
            causes.add("product_id", "produto inexistente")
        check_promotion(fields, before, causes)
        self._check_reference(fields.get("reference"), ("variant", ident), causes)
        if causes:
            return 400, causes.found, ident or ""
        record = {**before, **fields, "images": apply_pictures(before["images"], pictures)}
        if sku is not None:
            record["sku"] = sku
        if record == before:
            return 200, [], str(ident)
        stamp = moment_text(tick(self.data))
        if ident is None:
            ident = next_id(self.data, "variant")
            record.update(id=ident, created=stamp)
        record["modified"] = stamp
        self.data["variants"][ident] = record
        self._attach(ident, before.get("product_id"), record["product_id"], stamp)
        return (201 if before.get("id") is None else 200), [], ident

    def _attach(self, ident: str, old: str | None, new: str, stamp: str) -> None:
        """Keep the products' variant lists right; a variant's change moves its product's time."""
        if old and old != new and old in self.data["products"]:
            product = self.data["products"][old]
            product["variant_ids"].remove(ident)
            product["modified"] = stamp
        product = self.data["products"][new]
        if ident not in product["variant_ids"]:
            product["variant_ids"].append(ident)
        product["modified"] = stamp

    # -- brands --------------------------------------------------------------------------------

    def on_brands(self, request: Request) -> Response:
        with self.lock:
            brands = [{"id": i, "brand": name} for name, i in self.data["brands"].items()]
            return self._page(request, brands, "Brands", "Brand",
                              lambda r: brand_json(r["brand"], r["id"]),
                              {"id": lambda r: r["id"], "brand": lambda r: r["brand"]})

    def on_brand(self, request: Request, ident: str) -> Response:
        with self.lock:
            for name, known in self.data["brands"].items():
                if known == ident:
                    return json_response({"Brand": brand_json(name, ident)})
            return self._missing(request, "Marca", ident)

    # -- categories ----------------------------------------------------------------------------

    def on_categories(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                return self._category_write(request, None)
            site = self._site()
            return self._page(request, list(self.data["categories"].values()),
                              "Categories", "Category",
                              lambda r: category_json(self.data, r, site),
                              {"id": lambda r: r["id"], "name": lambda r: r["name"],
                               "parent_id": lambda r: r["parent_id"] or "0"})

    def on_category(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["categories"].get(ident)
            if record is None:
                return self._missing(request, "Categoria", ident)
            if request.method == "GET":
                return json_response({"Category": category_json(self.data, record, self._site())})
            if request.method == "PUT":
                return self._category_write(request, ident)
            if any(c["parent_id"] == ident for c in self.data["categories"].values()):
                cause = f"Category.id: a categoria {ident} possui subcategorias"
                return self._bad(request, [cause])
            del self.data["categories"][ident]
            self._forget_category(ident)
            return written("Deleted", ident, 200)

    def _forget_category(self, ident: str) -> None:
        for product in self.data["products"].values():
            if product["category_id"] == ident or ident in product["related_categories"]:
                if product["category_id"] == ident:
                    product["category_id"] = ""
                related = product["related_categories"]
                product["related_categories"] = [c for c in related if c != ident]
                product["modified"] = moment_text(tick(self.data))

    def on_category_tree(self, request: Request, ident: str | None = None) -> Response:
        with self.lock:
            categories = self.data["categories"]
            if ident is not None and ident not in categories:
                return self._missing(request, "Categoria", ident)
            roots = [ident] if ident is not None else [
                c for c in sorted(categories, key=int)
                if categories[c]["parent_id"] not in categories]
            nodes = [category_node(self.data, c, self._site()) for c in roots]
            return json_response({"Category": nodes})

    def _category_write(self, request: Request, ident: str | None) -> Response:
        body, refused = self._wrapped(request, "Category")
        if refused is not None:
            return refused
        status, causes, ident = self.write_category(body, ident)
        if causes:
            return self._bad(request, causes)
        return written("Created" if status == 201 else "Saved", ident, status)

    def write_category(self, body: Mapping[str, Any], ident: str | None) -> Written:
        """Create or update a category from a ``Category`` body: (status, causes, id)."""
        causes = Causes("Category")
        fields = causes.take(body, CATEGORY_SPEC)
        if ident is None:
            causes.require(body, "name")
        elif "name" in fields and not fields["name"].strip():
            causes.add("name", "não pode ficar em branco")
        parent = fields.get("parent_id")
        if parent and parent not in self.data["categories"]:
            causes.add("parent_id", "categoria inexistente")
        elif parent and ident is not None and self._below(parent, ident):
            causes.add("parent_id", "a categoria não pode ficar abaixo de si mesma")
        if isinstance(body.get("metatag"), dict):
            given = body["metatag"]
            fields["metatag"] = {k: str(given.get(k) or "") for k in ("keywords", "description")}
        if isinstance(body.get("property"), list):
            fields["property"] = [str(p) for p in body["property"]]
        if causes:
            return 400, causes.found, ident or ""
        before = self.data["categories"][ident] if ident is not None else dict(CATEGORY_DEFAULTS)
        record = {**before, **fields}
        if ident is None:
            ident = next_id(self.data, "category")
            record["id"] = ident
        self.data["categories"][ident] = record
        return (201 if before.get("id") is None else 200), [], ident

    def _below(self, node: str, ancestor: str) -> bool:
        """Whether ``node`` is ``ancestor`` or one of its descendants."""
        seen: set[str] = set()
        while node and node not in seen:
            if node == ancestor:
                return True
            seen.add(node)
            node = self.data["categories"].get(node, {}).get("parent_id", "")
        return False
