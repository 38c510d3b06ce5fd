"""The Tray sandbox's sales routes: orders, invoices, statuses, shipping, payments, customers.

Orders come from ``place_order`` (a buyer) or ``POST /orders`` (an app); an
update (``PUT /orders/:id``) keeps one tracking code, a cancel returns the
items to stock once, and an invoice is filed even when its key is already
there (Tray does not refuse the duplicate, clients must look first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tramo.sandbox import Request, Response, json_response

from tramo_tray_rest import sandbox_orders as orders
from tramo_tray_rest.sandbox_http import STORE_ID, STORE_NAME, Getter, TrayHttp, written
from tramo_tray_rest.sandbox_records import (
    EMPTY_DATE,
    PAYMENT_OPTIONS,
    Bad,
    Causes,
    as_count,
    as_day,
    as_money,
    as_text,
    moment_text,
    parse_php_form,
    read_body,
    tick,
)

__all__ = ["SalesRoutes"]


class SalesRoutes(TrayHttp):
    """Orders and what hangs on them, and the store's fixed lists."""

    # -- orders --------------------------------------------------------------------------------

    def on_orders(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                return self._order_create(request)
            filters: dict[str, Getter] = {
                "id": lambda r: r["id"], "status": lambda r: orders.STATUSES[r["status_id"]][0],
                "customer_id": lambda r: r["customer_id"], "point_sale": lambda r: r["point_sale"],
                "sending_code": lambda r: r["sending_code"],
                "partner_id": lambda r: r["partner_id"], "modified": lambda r: r["modified"]}
            site = self._site()
            return self._page(request, list(self.data["orders"].values()), "Orders", "Order",
                              lambda r: orders.order_json(self.data, r, site), filters,
                              ("id", "modified"))

    def _order_create(self, request: Request) -> Response:
        body, refused = self._wrapped(request, "Order")
        if refused is not None:
            return refused
        causes = Causes("Order")
        draft = orders.draft_from_body(self.data, body, causes)
        if causes:
            return self._bad(request, causes.found)
        ident = orders.store_order(self.data, draft, tick(self.data))
        return written("Created", ident, 201)

    def on_order(self, request: Request, ident: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return self._missing(request, "Pedido", ident)
            if request.method == "GET":
                return json_response({"Order": orders.order_json(self.data, order, self._site())})
            body, refused = self._wrapped(request, "Order")
            if refused is not None:
                return refused
            causes = Causes("Order")
            fields = causes.take(body, ORDER_UPDATE_SPEC)
            if "status_id" in fields and fields["status_id"] not in orders.STATUSES:
                causes.add("status_id", "status inexistente")
            if causes:
                return self._bad(request, causes.found)
            if any(order[k] != v for k, v in fields.items()):
                order.update(fields)
                order["modified"] = moment_text(tick(self.data))
            return written("Saved", ident, 200)

    def on_order_complete(self, request: Request, ident: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return self._missing(request, "Pedido", ident)
            answer = orders.order_json(self.data, order, self._site(), complete=True)
            return json_response({"Order": answer, "Extensions": [], "User": [],
                                  "Confirmation": []})

    def on_order_cancel(self, request: Request, ident: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return self._missing(request, "Pedido", ident)
            if order["status_id"] != orders.CANCELLED:
                order["status_id"] = orders.CANCELLED
                if not order["restocked"]:
                    orders.return_stock(self.data, order)
                    order["restocked"] = True
                order["modified"] = moment_text(tick(self.data))
            return written("Canceled", ident, 200)

    def on_order_statuses(self, request: Request) -> Response:
        statuses = [{"id": i} for i in orders.STATUSES]
        return self._page(request, statuses, "OrderStatuses", "OrderStatus",
                          lambda r: orders.status_json(r["id"]),
                          {"id": lambda r: r["id"],
                           "status": lambda r: orders.STATUSES[r["id"]][0]})

    def on_order_status(self, request: Request, ident: str) -> Response:
        if ident not in orders.STATUSES:
            return self._missing(request, "Status", ident)
        return json_response({"OrderStatus": orders.status_json(ident)})

    # -- invoices --------------------------------------------------------------------------

    def on_invoices(self, request: Request) -> Response:
        with self.lock:
            return self._page(request, list(self.data["invoices"].values()),
                              "OrderInvoices", "OrderInvoice",
                              lambda r: {**orders.invoice_json(r),
                                         "ProductCfop": orders.cfops_json(r)},
                              {"id": lambda r: r["id"], "order_id": lambda r: r["order_id"],
                               "key": lambda r: r["key"]})

    def on_order_invoices(self, request: Request, ident: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return self._missing(request, "Pedido", ident)
            if request.method == "GET":
                answers = [self._invoice_answer(i) for i in order["invoice_ids"]]
                return json_response({"OrderInvoices": answers})
            body, problem = read_body(request)
            fields, causes = self._invoice_fields(body, problem, creating=True)
            if causes:
                return self._bad(request, causes)
            stamp = moment_text(tick(self.data))
            invoice = {**INVOICE_DEFAULTS, **fields}
            created = orders.store_invoice(self.data, ident, invoice, stamp)
            order["modified"] = stamp
            return written("Created", created, 201)

    def on_order_invoice(self, request: Request, ident: str, invoice: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            record = self.data["invoices"].get(invoice)
            if order is None or record is None or record["order_id"] != ident:
                return self._missing(request, "Nota fiscal", invoice)
            if request.method == "GET":
                return json_response({"OrderInvoices": [self._invoice_answer(invoice)]})
            body, problem = read_body(request)
            fields, causes = self._invoice_fields(body, problem, creating=False)
            if causes:
                return self._bad(request, causes)
            if any(record[k] != v for k, v in fields.items()):
                stamp = moment_text(tick(self.data))
                record.update(fields, updated=stamp)
                order["modified"] = stamp
            return written("Saved", invoice, 200)

    def _invoice_answer(self, ident: str) -> dict[str, Any]:
        record = self.data["invoices"][ident]
        return {"OrderInvoice": orders.invoice_json(record),
                "ProductCfop": orders.cfops_json(record)}

    @staticmethod
    def _invoice_fields(body: Any, problem: str | None, *,
                        creating: bool) -> tuple[dict[str, Any], list[str]]:
        """The flat invoice body (no wrapper, reference §9), checked."""
        if problem is not None or not isinstance(body, dict):
            return {}, [problem or "corpo da requisição: esperado um objeto"]
        causes = Causes("")
        fields = causes.take(body, INVOICE_SPEC)
        if creating:
            causes.require(body, "issue_date", "number", "key")
        if fields.get("issue_date") == EMPTY_DATE:
            causes.add("issue_date", "data inválida, use AAAA-MM-DD")
        key = fields.get("key")
        if key is not None and not (len(key) == 44 and key.isascii() and key.isdigit()):
            causes.add("key", "a chave de acesso tem 44 dígitos")
        cfops = body.get("ProductCfop")
        if cfops is not None:
            fields["cfops"] = _cfops(cfops, causes)
        return fields, causes.found

    # -- shipping, payments, customers, store ----------------------------------------------------

    def on_shippings(self, request: Request) -> Response:
        methods = [{"id": i, "name": n, "identifier": k} for i, n, k in orders.SHIPPING_METHODS]
        return self._page(request, methods, "Shippings", "Shipping",
                          lambda r: orders.shipping_json(r["id"], r["name"], r["identifier"]),
                          {"id": lambda r: r["id"], "name": lambda r: r["name"]})

    def on_cotation(self, request: Request) -> Response:
        """A freight quote for products to a CEP, from the store's weights (deterministic)."""
        query = parse_php_form(request.args.items(multi=True))
        zipcode = re.sub(r"\D", "", str(query.get("zipcode", "")))
        causes = [] if len(zipcode) == 8 else ["zipcode: CEP inválido (8 dígitos)"]
        with self.lock:
            grams = self._weigh(query.get("products"), causes)
            if causes:
                return self._bad(request, causes)
            today = self._today()
        return json_response({"Shipping": {
            "origin": {"zipcode": "01310100", "address": "Avenida Paulista, 1000",
                       "neighborhood": "Bela Vista", "city": "São Paulo", "state": "SP"},
            "destination": {"zipcode": zipcode, "address": "", "neighborhood": "", "city": "",
                            "state": ""},
            "cotation": [_quote(ident, name, key, grams, today)
                         for ident, name, key in orders.SHIPPING_METHODS]}})

    def _weigh(self, wanted: Any, causes: list[str]) -> Decimal:
        """Grams of ``products[i][product_id]`` x ``products[i][quantity]`` for a quote."""
        grams = Decimal(0)
        for i, item in enumerate(wanted if isinstance(wanted, list) else []):
            ident = str(item.get("product_id", "")) if isinstance(item, dict) else ""
            product = self.data["products"].get(ident)
            if product is None:
                causes.append(f"products[{i}].product_id: produto inexistente")
                continue
            try:
                quantity = int(as_count(item.get("quantity") or 1))
            except Bad as exc:
                causes.append(f"products[{i}].quantity: {exc}")
                continue
            grams += Decimal(product["weight"]) * quantity
        return grams

    def on_payments(self, request: Request) -> Response:
        with self.lock:
            return self._page(request, list(self.data["payments"].values()), "Payments", "Payment",
                              orders.payment_json,
                              {"id": lambda r: r["id"], "order_id": lambda r: r["order_id"],
                               "modified": lambda r: r["modified"]}, ("id", "modified"))

    def on_payment(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["payments"].get(ident)
            if record is None:
                return self._missing(request, "Pagamento", ident)
            return json_response({"Payment": orders.payment_json(record)})

    def on_payment_options(self, request: Request) -> Response:
        with self.lock:
            order = self.data["orders"].get(request.args.get("order_id", ""))
            total = Decimal(order["total"]) if order is not None else Decimal(0)
        return json_response({"paymentoptions": [orders.payment_option_json(i, n, k, total)
                                                 for i, n, k in PAYMENT_OPTIONS]})

    def on_customers(self, request: Request) -> Response:
        with self.lock:
            return self._page(request, list(self.data["customers"].values()),
                              "Customers", "Customer",
                              lambda r: orders.customer_json(self.data, r),
                              {"id": lambda r: r["id"], "name": lambda r: r["name"],
                               "email": lambda r: r["email"], "cpf": lambda r: r["cpf"],
                               "cnpj": lambda r: r["cnpj"], "modified": lambda r: r["modified"]},
                              ("id", "modified"))

    def on_customer(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["customers"].get(ident)
            if record is None:
                return self._missing(request, "Cliente", ident)
            return json_response({"Customer": orders.customer_json(self.data, record)})

    def on_info(self, request: Request) -> Response:
        return json_response({"Info": {
            "id": STORE_ID, "name": STORE_NAME, "url": self._site(),
            "email": "contato@loja-sandbox.com.br",
            "phone": "1133330000", "cnpj": "11222333000181", "address": "Avenida Paulista, 1000",
            "city": "São Paulo", "state": "SP", "zip_code": "01310-100",
            "timezone": "America/Sao_Paulo"}})


def _cfops(given: Any, causes: Causes) -> list[dict[str, str]]:
    if isinstance(given, dict):
        given = list(given.values())
    if not isinstance(given, list) or not all(isinstance(c, dict) for c in given):
        causes.add("ProductCfop", "deve ser uma lista de {product_id, variation_id, cfop}")
        return []
    found = []
    for i, cfop in enumerate(given):
        code = str(cfop.get("cfop") or "")
        if not (len(code) == 4 and code.isdigit()):
            causes.add(f"ProductCfop[{i}].cfop", "deve ter 4 dígitos")
        found.append({"product_id": str(cfop.get("product_id") or "0"),
                      "variation_id": str(cfop.get("variation_id") or "0"), "cfop": code})
    return found


def _quote(ident: str, name: str, identifier: str, grams: Decimal, today: date) -> dict[str, Any]:
    base, per_kg, low, high = {"1": (15, 2, 5, 10), "2": (25, 4, 1, 3)}.get(ident, (0, 0, 0, 1))
    value = Decimal(base) + Decimal(per_kg) * grams / 1000
    return {"id": ident, "id_quotation": ident, "name": name, "identifier": identifier,
            "value": str(value.quantize(Decimal("0.01"))), "min_period": str(low),
            "max_period": str(high),
            "estimated_delivery_date": (today + timedelta(days=high)).isoformat(),
            "information": f"Prazo de entrega: de {low:02d} a {high:02d} dias úteis.",
            "taxe": {"name": "Emissão de Nota Fiscal", "value": "0"}}


def _partner(value: Any) -> str:
    return as_text(value, 20)


#: What ``PUT /orders/:id`` may change (reference §7).
ORDER_UPDATE_SPEC: dict[str, Callable[[Any], Any]] = {
    "status_id": lambda v: as_text(v, 10).strip(), "sending_code": lambda v: as_text(v, 100),
    "sending_date": as_day, "tracking_url": lambda v: as_text(v, 500),
    "shipment": lambda v: as_text(v, 100), "shipment_value": as_money, "taxes": as_money,
    "discount": as_money, "store_note": lambda v: as_text(v, 5000),
    "customer_note": lambda v: as_text(v, 5000), "partner_id": _partner,
}

#: The flat body of ``POST/PUT /orders/:id/invoices`` (reference §9).
INVOICE_SPEC: dict[str, Callable[[Any], Any]] = {
    "issue_date": as_day, "number": lambda v: as_text(v, 20).strip(),
    "serie": lambda v: as_text(v, 10).strip(), "value": as_money,
    "key": lambda v: as_text(v, 60).strip(), "link": lambda v: as_text(v, 500),
    "xml_danfe": lambda v: as_text(v, 2_000_000),
}

INVOICE_DEFAULTS: dict[str, Any] = {"issue_date": EMPTY_DATE, "number": "", "serie": "",
                                    "value": "0.00", "key": "", "link": "", "xml_danfe": "",
                                    "cfops": []}
