"""A reference ERP on SQLite: what the demo, the tests and small hosts run the sync against.

It keeps its own SQLite file (never the StateStore's), storing every model
object as the exact JSON of :mod:`tramo.model.convert` next to the few
columns it queries by. Saves coming from the stores are idempotent by their
``key`` (checked in the same transaction as the write), so the engine can
repeat one after a crash without a duplicate. Besides the :class:`Erp`
protocol it offers what the ERP's own user would do: keep the catalogue,
issue invoices, ship, cancel and deliver orders, and purge old personal data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Self, TypeVar

import attrs

from tramo.errors import TramoError, ValidationError, describe
from tramo.model import (
    Category,
    Customer,
    Invoice,
    Order,
    OrderStatus,
    Price,
    Product,
    StockLevel,
    Tracking,
    WriteResult,
)
from tramo.model.convert import from_json, to_json
from tramo.model.identifiers import cnpj_check_digits, nfe_key_check_digit
from tramo.state import StateStore

__all__ = ["ReferenceErp"]

T = TypeVar("T")

#: The schema, one script per version, applied in order on open; a new version appends one.
#: the reference ERP's tables in its file's schema_versions
_COMPONENT = "reference_erp"

_MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE categories (id TEXT PRIMARY KEY, json TEXT NOT NULL);
    CREATE TABLE products (code TEXT PRIMARY KEY, json TEXT NOT NULL, created_from TEXT);
    CREATE TABLE skus (sku TEXT PRIMARY KEY, code TEXT NOT NULL);
    CREATE INDEX skus_code ON skus (code);
    CREATE TABLE prices (sku TEXT PRIMARY KEY, json TEXT NOT NULL);
    CREATE TABLE stock (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL, json TEXT NOT NULL);
    CREATE TABLE customers (
        id TEXT PRIMARY KEY, document TEXT, email TEXT, json TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX customers_document ON customers (document);
    CREATE INDEX customers_email ON customers (email);
    CREATE TABLE orders (
        id TEXT PRIMARY KEY, origin_key TEXT UNIQUE, customer_id TEXT, status TEXT NOT NULL,
        json TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE TABLE keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, result_id TEXT);
    CREATE TABLE results (
        id INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL, flow TEXT NOT NULL,
        local_id TEXT, outcome TEXT NOT NULL, remote_id TEXT, error TEXT, at TEXT NOT NULL
    );
    """,
]

#: The issuer of the reference ERP's invoices (a made-up, well-formed CNPJ).
_ISSUER_CNPJ = "112223330001" + cnpj_check_digits("112223330001")
_ISSUER_UF = "35"  # São Paulo
_BRASILIA = timezone(timedelta(hours=-3))


def _now() -> datetime:
    return datetime.now(UTC)


def _error_text(error: TramoError | None) -> str | None:
    """How a result's error is kept: a bad value may be personal data, so only its field."""
    if error is None:
        return None
    if isinstance(error, ValidationError):
        return f"ValidationError: {error.field}: {error.reason}"
    return describe(error)


def _document(customer: Customer) -> str | None:
    return customer.cpf or customer.cnpj


def _email(customer: Customer) -> str | None:
    return customer.email.lower() if customer.email else None


def _merged(old: Customer, new: Customer) -> Customer:
    """The new data, keeping what it lacks from the old record (a hub may hide the e-mail)."""
    if old.kind is not new.kind:
        return new
    gaps = {
        a.name: getattr(old, a.name) for a in attrs.fields(Customer)
        if getattr(new, a.name) in (None, ()) and getattr(old, a.name) not in (None, ())
    }
    return attrs.evolve(new, **gaps)


def _anonymous(customer: Customer) -> Customer:
    """The customer without documents, contacts, phones or addresses (kept: name and kind)."""
    return attrs.evolve(customer, cpf=None, cnpj=None, state_registration=None, email=None,
                        phones=(), birth_date=None, addresses=(), contacts=())


def _nfe_key(issued_at: datetime, series: int, number: int, code: int) -> str:
    """A valid 44-digit access key: cUF, AAMM, CNPJ, model 55, series, number, tpEmis 1, cNF, cDV."""
    base = (f"{_ISSUER_UF}{issued_at:%y%m}{_ISSUER_CNPJ}55{series:03d}{number:09d}1"
            f"{code:08d}")
    return base + nfe_key_check_digit(base)


def _digits(field: str, value: str, width: int) -> int:
    """A series or number that fits its place in the access key."""
    if not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > width:
        raise ValidationError(field, value, f"must be at most {width} digits")
    return int(value)


class ReferenceErp:
    """The host ERP on SQLite. ``path`` None keeps everything in memory for this process."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        # the state store's SQLite handling (WAL, locking, nested transactions, migrations)
        self._store = StateStore(path)
        self.path = self._store.path
        self._store.migrate(_COMPONENT, _MIGRATIONS)

    def __repr__(self) -> str:
        return f"ReferenceErp({str(self.path) if self.path else ':memory:'})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    # -- the database ---------------------------------------------------------

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._store.version(_COMPONENT)

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One transaction (joined when already inside one on this thread)."""
        return self._store.transaction()

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._store.execute(sql, args)

    def _objects(self, kind: type[T], sql: str, args: tuple[Any, ...] = ()) -> list[T]:
        return [from_json(kind, row[0]) for row in self._rows(sql, args)]

    def _next_number(self, db: sqlite3.Connection, counter: str, at_least: int = 0) -> int:
        """The next number of a sequence (order and customer ids, invoice numbers)."""
        row = db.execute("SELECT value FROM meta WHERE key = ?", (f"seq:{counter}",)).fetchone()
        number = max(int(row[0]) + 1 if row else 1, at_least)
        self._set_meta(db, f"seq:{counter}", str(number))
        return number

    # -- idempotency ------------------------------------------------------------

    @staticmethod
    def _claimed(db: sqlite3.Connection, key: str, kind: str) -> str | None:
        """The id a key already produced, or None when it is new; a repeat changes nothing."""
        if not key.strip():
            raise ValidationError("key", key, "an idempotency key must not be blank")
        row = db.execute("SELECT kind, result_id FROM keys WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if row[0] != kind:
            raise ValidationError("key", key, f"already used to save a {row[0]}, not a {kind}")
        return str(row[1])

    @staticmethod
    def _claim(db: sqlite3.Connection, key: str, kind: str, result_id: str) -> None:
        db.execute("INSERT INTO keys (key, kind, result_id) VALUES (?, ?, ?)",
                   (key, kind, result_id))

    # -- the ERP user's catalogue ---------------------------------------------

    def put_category(self, category: Category) -> None:
        """Create or replace a category (the ERP user's own edit)."""
        with self._transaction() as db:
            db.execute("INSERT INTO categories (id, json) VALUES (?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                       (category.id, to_json(category)))

    def put_product(self, product: Product) -> None:
        """Create or replace a product and index its SKUs (the ERP user's own edit)."""
        with self._transaction() as db:
            self._store_product(db, product, created_from=None)

    def _store_product(self, db: sqlite3.Connection, product: Product,
                       created_from: str | None) -> None:
        db.execute("INSERT INTO products (code, json, created_from) VALUES (?, ?, ?) "
                   "ON CONFLICT (code) DO UPDATE SET json = excluded.json, created_from = excluded.created_from",
                   (product.code, to_json(product), created_from))
        db.execute("DELETE FROM skus WHERE code = ?", (product.code,))
        for sku in product.skus:
            owner = db.execute("SELECT code FROM skus WHERE sku = ?", (sku,)).fetchone()
            if owner is not None:
                raise ValidationError("Product.skus", sku, f"already sold under product {owner[0]}")
            db.execute("INSERT INTO skus (sku, code) VALUES (?, ?)", (sku, product.code))

    def put_price(self, price: Price) -> None:
        """Set the price of a SKU."""
        with self._transaction() as db:
            db.execute("INSERT INTO prices (sku, json) VALUES (?, ?) "
                       "ON CONFLICT (sku) DO UPDATE SET json = excluded.json",
                       (price.sku, to_json(price)))

    def put_stock(self, level: StockLevel) -> None:
        """Set the quantity of a SKU available for sale."""
        with self._transaction() as db:
            db.execute("INSERT INTO stock (sku, quantity, json) VALUES (?, ?, ?) "
                       "ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity, "
                       "json = excluded.json",
                       (level.sku, level.quantity, to_json(level)))

    # -- Erp: what the ERP offers ---------------------------------------------

    def categories(self) -> list[Category]:
        return self._objects(Category, "SELECT json FROM categories ORDER BY id")

    def products(self) -> list[Product]:
        """The ERP's own products. One created because a store sold it waits for the ERP's
        user to complete it (fiscal data, say) with :meth:`put_product` before it is published."""
        return self._objects(Product, "SELECT json FROM products WHERE created_from IS NULL "
                                      "ORDER BY code")

    def prices(self) -> list[Price]:
        return self._objects(Price, "SELECT json FROM prices ORDER BY sku")

    def stock(self) -> list[StockLevel]:
        return self._objects(StockLevel, "SELECT json FROM stock ORDER BY sku")

    def orders(self) -> list[Order]:
        """Every order with the ERP's id, status, invoices, trackings and cancellation note."""
        rows = self._rows("SELECT id, json, status FROM orders ORDER BY length(id), id")
        return [self._as_erp(order_id, from_json(Order, text), OrderStatus(status))
                for order_id, text, status in rows]

    def order(self, order_id: str) -> Order:
        """One order as :meth:`orders` gives it."""
        with self._transaction() as db:
            stored, status = self._load_order(db, order_id)
        return self._as_erp(order_id, stored, status)

    @staticmethod
    def _as_erp(order_id: str, stored: Order, status: OrderStatus) -> Order:
        """The stored order (platform ids) as the engine wants it: the ERP's id and status."""
        return attrs.evolve(stored, id=order_id, status=status)

    # -- Erp: what the stores bring in ------------------------------------------

    def has_product(self, sku: str) -> bool:
        return bool(self._rows("SELECT 1 FROM skus WHERE sku = ?", (sku,)))

    def save_product(self, product: Product, *, key: str) -> str:
        """Create a product a store sold that the ERP lacked; an existing code is not overwritten."""
        with self._transaction() as db:
            done = self._claimed(db, key, "product")
            if done is not None:
                return done
            if db.execute("SELECT 1 FROM products WHERE code = ?", (product.code,)).fetchone():
                raise ValidationError("Product.code", product.code, "the ERP has another product "
                                      "with this code")
            self._store_product(db, product, created_from="store")
            self._claim(db, key, "product", product.code)
            return product.code

    def save_customer(self, customer: Customer, *, key: str) -> str:
        """Update the customer found by CPF/CNPJ, else by e-mail, or create one."""
        with self._transaction() as db:
            done = self._claimed(db, key, "customer")
            if done is not None:
                return done
            found = self._find_customer(db, customer)
            if found is None:
                customer_id = f"CL-{self._next_number(db, 'customer'):06d}"
                record = attrs.evolve(customer, id=customer_id)
                db.execute("INSERT INTO customers (id, document, email, json, created_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (customer_id, _document(record), _email(record), to_json(record),
                            _now().isoformat()))
            else:
                customer_id, old = found
                record = attrs.evolve(_merged(old, customer), id=customer_id)
                self._update_customer(db, record)
            self._claim(db, key, "customer", customer_id)
            return customer_id

    @staticmethod
    def _find_customer(db: sqlite3.Connection,
                       customer: Customer) -> tuple[str, Customer] | None:
        """By document; else by e-mail, unless both records carry different documents."""
        row = None
        if _document(customer):
            row = db.execute("SELECT id, json FROM customers WHERE document = ? "
                             "ORDER BY length(id), id LIMIT 1", (_document(customer),)).fetchone()
        if row is None and _email(customer):
            row = db.execute(
                "SELECT id, json FROM customers WHERE email = ? AND (document IS NULL OR ? IS NULL) "
                "ORDER BY length(id), id LIMIT 1",
                (_email(customer), _document(customer))).fetchone()
        return (row[0], from_json(Customer, row[1])) if row else None

    @staticmethod
    def _update_customer(db: sqlite3.Connection, record: Customer) -> None:
        db.execute("UPDATE customers SET document = ?, email = ?, json = ? WHERE id = ?",
                   (_document(record), _email(record), to_json(record), record.id))

    def save_order(self, order: Order, *, customer_id: str, key: str) -> str:
        """Create the sales order, keeping the platform's ids in its JSON; the key is its origin."""
        with self._transaction() as db:
            done = self._claimed(db, key, "order")
            if done is not None:
                return done
            if not db.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone():
                raise ValidationError("customer_id", customer_id, "no such customer")
            order_id = f"PV-{self._next_number(db, 'order'):06d}"
            at = _now().isoformat()
            db.execute("INSERT INTO orders (id, origin_key, customer_id, status, json, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (order_id, key, customer_id, (order.status or OrderStatus.OPEN).value,
                        to_json(order), at, at))
            self._claim(db, key, "order", order_id)
            return order_id

    def set_order_status(self, order_id: str, status: OrderStatus, *, key: str) -> None:
        """Move the order because the store moved it; a repeated key changes nothing."""
        with self._transaction() as db:
            if self._claimed(db, key, "status") is not None:
                return
            stored, _ = self._load_order(db, order_id)
            self._store_order(db, order_id, stored, status)
            self._claim(db, key, "status", order_id)

    def record(self, connection: str, flow: str, result: WriteResult) -> None:
        """Append a result for the ERP's screens (an error's bad value is not kept)."""
        with self._transaction() as db:
            db.execute("INSERT INTO results (connection, flow, local_id, outcome, remote_id, "
                       "error, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (connection, flow, result.local_id, result.outcome.value,
                        result.remote_id, _error_text(result.error), _now().isoformat()))

    # -- orders, as stored --------------------------------------------------------

    @staticmethod
    def _load_order(db: sqlite3.Connection, order_id: str) -> tuple[Order, OrderStatus]:
        row = db.execute("SELECT json, status FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise ValidationError("order_id", order_id, "no such order")
        return from_json(Order, row[0]), OrderStatus(row[1])

    @staticmethod
    def _store_order(db: sqlite3.Connection, order_id: str, stored: Order,
                     status: OrderStatus) -> None:
        db.execute("UPDATE orders SET json = ?, status = ?, updated_at = ? WHERE id = ?",
                   (to_json(stored), status.value, _now().isoformat(), order_id))

    def _live_order(self, db: sqlite3.Connection, order_id: str) -> Order:
        """An order that may still be invoiced, shipped or delivered (not cancelled)."""
        stored, status = self._load_order(db, order_id)
        if status is OrderStatus.CANCELLED:
            raise ValidationError("order_id", order_id, "the order is cancelled")
        return stored

    # -- the ERP user's fulfilment ----------------------------------------------

    def issue_invoice(self, order_id: str, *, number: str | None = None, series: str = "1",
                      issued_at: datetime | None = None) -> Invoice:
        """Issue the order's NF-e (valued at the order's total) and mark it INVOICED."""
        with self._transaction() as db:
            stored = self._live_order(db, order_id)
            serie = _digits("series", series, 3)
            wanted = 0 if number is None else _digits("number", number, 9)
            numbered = self._next_number(db, f"invoice:{serie}", at_least=wanted)
            at = issued_at or datetime.now(_BRASILIA)
            code = int(hashlib.sha256(f"{order_id}/{serie}/{numbered}".encode()).hexdigest(),
                       16) % 10**8
            invoice = Invoice(order_id=order_id, number=str(numbered), series=str(serie),
                              access_key=_nfe_key(at, serie, numbered, code), issued_at=at,
                              value=stored.total)
            stored = attrs.evolve(stored, invoices=(*stored.invoices, invoice))
            self._store_order(db, order_id, stored, OrderStatus.INVOICED)
            return invoice

    def ship(self, order_id: str, *, code: str, carrier: str = "Correios",
             url: str | None = None) -> Tracking:
        """Hand the order to the carrier and mark it SHIPPED (with the last invoice's key)."""
        with self._transaction() as db:
            stored = self._live_order(db, order_id)
            tracking = Tracking(
                order_id=order_id, code=code, carrier=carrier, url=url, shipped_at=_now(),
                invoice_key=stored.invoices[-1].access_key if stored.invoices else None)
            stored = attrs.evolve(stored, trackings=(*stored.trackings, tracking))
            self._store_order(db, order_id, stored, OrderStatus.SHIPPED)
            return tracking

    def cancel(self, order_id: str, reason: str) -> None:
        """Cancel the order; the reason goes to its notes, after any note it had."""
        if not reason.strip():
            raise ValidationError("reason", reason, "a cancellation needs a reason")
        with self._transaction() as db:
            stored, _ = self._load_order(db, order_id)
            notes = f"{stored.notes}\n{reason}" if stored.notes else reason
            self._store_order(db, order_id, attrs.evolve(stored, notes=notes),
                              OrderStatus.CANCELLED)

    def deliver(self, order_id: str) -> None:
        """Mark the order DELIVERED."""
        with self._transaction() as db:
            self._store_order(db, order_id, self._live_order(db, order_id), OrderStatus.DELIVERED)

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        """Move the order to any status (the ERP user's manual change)."""
        with self._transaction() as db:
            stored, _ = self._load_order(db, order_id)
            self._store_order(db, order_id, stored, status)

    # -- customers and results, for hosts and tests ------------------------------

    def customers(self) -> list[Customer]:
        """Every customer, ``id`` the ERP's (``CL-000001``)."""
        return self._objects(Customer, "SELECT json FROM customers ORDER BY length(id), id")

    def customer_ids(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT id FROM customers ORDER BY length(id), id")]

    def customer(self, customer_id: str) -> Customer:
        found = self._objects(Customer, "SELECT json FROM customers WHERE id = ?", (customer_id,))
        if not found:
            raise ValidationError("customer_id", customer_id, "no such customer")
        return found[0]

    def results(self, connection: str | None = None) -> list[dict[str, Any]]:
        """The recorded results, oldest first, of one connection or of all."""
        columns = ("id", "connection", "flow", "local_id", "outcome", "remote_id", "error", "at")
        sql = f"SELECT {', '.join(columns)} FROM results"
        rows = (self._rows(sql + " WHERE connection = ? ORDER BY id", (connection,))
                if connection is not None else self._rows(sql + " ORDER BY id"))
        return [dict(zip(columns, row)) for row in rows]

    # -- LGPD -------------------------------------------------------------------

    def purge_personal(self, before: datetime) -> int:
        """Blank the personal data of customers idle since ``before``; how many were blanked.

        A customer's last activity is its last order's ``placed_at`` (its own
        creation when it has none). Documents, e-mail, phones, addresses,
        contacts and birth date go, from the customer and from its orders; the
        name stays for the fiscal records. Customers already blank are not counted.
        """
        if before.utcoffset() is None:
            raise ValidationError("before", before, "must be timezone-aware")
        with self._transaction() as db:
            idle = [cid for cid, last in self._last_activity(db).items() if last < before]
            return sum(self._purge_customer(db, customer_id) for customer_id in idle)

    @staticmethod
    def _last_activity(db: sqlite3.Connection) -> dict[str, datetime]:
        placed: dict[str, datetime] = {}
        for customer_id, text in db.execute("SELECT customer_id, json FROM orders"):
            at = from_json(Order, text).placed_at
            placed[customer_id] = max(at, placed.get(customer_id, at))
        return {cid: placed.get(cid, datetime.fromisoformat(created)) for cid, created
                in db.execute("SELECT id, created_at FROM customers")}

    def _purge_customer(self, db: sqlite3.Connection, customer_id: str) -> bool:
        """Blank one customer and its orders; whether there was anything to blank."""
        row = db.execute("SELECT json FROM customers WHERE id = ?", (customer_id,)).fetchone()
        record = from_json(Customer, row[0])
        changed = _anonymous(record) != record
        if changed:
            self._update_customer(db, _anonymous(record))
        orders = db.execute("SELECT id, json FROM orders WHERE customer_id = ?",
                            (customer_id,)).fetchall()
        for order_id, text in orders:
            stored = from_json(Order, text)
            blank = attrs.evolve(stored, customer=_anonymous(stored.customer),
                                 billing_address=None, delivery_address=None)
            if blank != stored:
                changed = True
                db.execute("UPDATE orders SET json = ? WHERE id = ?", (to_json(blank), order_id))
        return changed
