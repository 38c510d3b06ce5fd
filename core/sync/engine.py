"""The :class:`Tramo` facade: a host's connections, their capabilities, and the flows run on them.

A host builds one ``Tramo`` around its ERP (anything implementing
:class:`tramo.erp.Erp`) and a state store, adds connections (or loads them
from a configuration file), and runs flows::

    engine = Tramo(erp, state="tramo-state.sqlite3")
    engine.connect("loja", "tray_rest", settings, mappings={...})
    report = engine.sync("loja")                 # every flow the connection can run
    report = await engine.async_sync("loja")     # the same from an asyncio host

Which flows run on a connection is decided by the core's capability
resolution: a flow whose capability the connection lacks is skipped, with the
reason in the report. A run holds the connection's lock, so two runs (two
processes, two hosts) cannot import one order twice.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

from tramo import aio
from tramo.connection import Connection
from tramo.errors import ConfigurationError, TramoError, describe
from tramo.erp.interface import Erp
from tramo.model import Held, Order, WriteResult
from tramo.registry import Registry, discover
from tramo.state import StateStore
from tramo.sync.flows import FLOWS, Flow, Run
from tramo.sync.ledger import Busy, Ledger
from tramo.sync.report import FlowReport, RunReport
from tramo.webhooks import forget_deliveries, give_back

__all__ = ["FLOW_NAMES", "Link", "Tramo"]

FLOW_NAMES: tuple[str, ...] = tuple(f.name for f in FLOWS)
_BY_NAME: dict[str, Flow] = {f.name: f for f in FLOWS}

#: how long platforms go on re-delivering a notification (Shopify: 48 hours); a delivery's
#: mark is kept this long so a repeat is still recognised
WEBHOOK_RETRY_WINDOW = timedelta(hours=48)

#: told (connection, flow, done, total) as a long flow goes on
Progress = Callable[[str, str, int, int], Any]


@attrs.define
class Link:
    """A connection as the engine runs it: its name, the flows allowed, its category map."""

    name: str
    connection: Connection
    flows: tuple[str, ...] | None = None
    categories: Mapping[str, str] = attrs.field(factory=dict)


class Tramo:
    """A host's sync: its ERP, its connections, the state they share.

    :param erp: the host's ERP (plain or ``async def`` methods).
    :param state: a :class:`StateStore` or the path of its SQLite file (default: memory).
    :param registry: the plugins (default: every installed one).
    :param overlap: how far before an order checkpoint each read starts again, so an
        order changed during the last read is not missed (duplicates are dropped).
    :param progress: told (connection, flow, done, total) during long flows.
    :param chunk: items per write call.
    """

    def __init__(self, erp: Erp, *, state: StateStore | str | Path | None = None,
                 registry: Registry | None = None, overlap: timedelta = timedelta(minutes=10),
                 progress: Progress | None = None, chunk: int = 50) -> None:
        self.erp = erp
        self.state = state if isinstance(state, StateStore) else StateStore(state)
        self.ledger = Ledger(self.state)
        self.registry = registry if registry is not None else discover()
        self.overlap = overlap
        self.chunk = chunk
        self._progress = progress
        self._links: dict[str, Link] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._orders: list[Order] | None = None
        #: product codes an export is limited to (None: all)
        self.product_filter: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"Tramo(connections={sorted(self._links)}, state={self.state!r})"

    # -- connections ----------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Any, erp: Erp | None = None, *, registry: Registry | None = None,
                    **options: Any) -> Tramo:
        """An engine with every connection of a :class:`tramo.config.Config`.

        Without ``erp``, the reference ERP in the file the configuration names.
        """
        if erp is None:
            from tramo.erp.reference import ReferenceErp

            erp = ReferenceErp(config.erp)
        engine = cls(erp, state=config.state, registry=registry,
                     overlap=timedelta(minutes=config.overlap_minutes), **options)
        for name, conf in config.connections.items():
            extra: dict[str, Any] = {}
            if conf.store:
                extra["store_key"] = conf.store
            if conf.timezone:
                extra["timezone"] = conf.timezone
            engine.connect(name, conf.plugin, conf.settings, mappings=conf.mappings,
                           categories=conf.categories, flows=conf.flows, **extra)
        return engine

    def connect(self, name: str, plugin: str, settings: Mapping[str, Any], *,
                mappings: Mapping[str, Any] | None = None, categories: Mapping[str, str] | None = None,
                flows: Sequence[str] | None = None, **options: Any) -> Connection:
        """Add a connection of ``plugin`` named ``name`` (its state lives under that name)."""
        connection = self.registry.connect(plugin, settings, name=name, mappings=mappings,
                                           state=self.state, **options)
        self.add(connection, categories=categories, flows=flows)
        return connection

    def add(self, connection: Connection, *, categories: Mapping[str, str] | None = None,
            flows: Sequence[str] | None = None) -> None:
        """Add a connection the host made itself (it must use this engine's state store)."""
        if connection.state.store is not self.state:
            raise ConfigurationError(f"connection {connection.name!r} keeps its state elsewhere; "
                                     f"make it with state={self.state!r}")
        unknown = sorted(set(flows or ()) - set(FLOW_NAMES))
        if unknown:
            raise ConfigurationError(f"connection {connection.name!r}: unknown flow(s) "
                                     f"{', '.join(unknown)}; the flows are {', '.join(FLOW_NAMES)}")
        if connection.name in self._links:
            raise ConfigurationError(f"a connection named {connection.name!r} exists already")
        self._links[connection.name] = Link(connection.name, connection,
                                            tuple(flows) if flows else None, dict(categories or {}))

    @property
    def names(self) -> list[str]:
        return list(self._links)

    def connection(self, name: str) -> Connection:
        return self._link(name).connection

    def _link(self, name: str) -> Link:
        try:
            return self._links[name]
        except KeyError:
            raise ConfigurationError(f"no connection named {name!r}; the connections are "
                                     f"{', '.join(self._links) or '(none)'}") from None

    def store_key(self, name: str) -> str:
        """The store a connection reaches (its ``store`` setting, else its own name); a
        connection this engine no longer has counts as a store of its own."""
        link = self._links.get(name)
        return link.connection.store_key if link is not None else name

    def capabilities(self, name: str) -> frozenset[str]:
        return self.connection(name).capabilities()

    def plan(self, name: str, flows: Sequence[str] | None = None) -> list[tuple[str, str | None]]:
        """Each flow with None when it would run here, or the reason it would be skipped."""
        link = self._link(name)
        chosen = self._chosen(flows)
        plan: list[tuple[str, str | None]] = []
        for flow in chosen:
            plan.append((flow.name, self._skip_reason(link, flow)))
        return plan

    def _chosen(self, flows: Sequence[str] | None) -> list[Flow]:
        unknown = [f for f in flows or () if f not in _BY_NAME]
        if unknown:
            raise ConfigurationError(f"unknown flow(s) {', '.join(unknown)}; "
                                     f"the flows are {', '.join(FLOW_NAMES)}")
        wanted = set(flows) if flows else set(FLOW_NAMES)
        return [f for f in FLOWS if f.name in wanted]

    def _skip_reason(self, link: Link, flow: Flow) -> str | None:
        if link.flows is not None and flow.name not in link.flows:
            return "not among the flows configured for this connection"
        return link.connection.why_not(flow.capability)

    # -- running --------------------------------------------------------------------------------

    def sync(self, name: str, flows: Sequence[str] | None = None, *, dry_run: bool = False) -> RunReport:
        """Run the flows (all by default) on one connection, in order, under its lock."""
        link = self._link(name)
        chosen = self._chosen(flows)
        report = RunReport(dry_run=dry_run)
        self._orders = None
        try:
            with self.ledger.lock(name):
                for flow in chosen:
                    report.add(self._run_flow(link, flow, dry_run))
        except Busy as exc:
            for flow in chosen:
                report.add(FlowReport(name, flow.name).skip(str(exc)))
        finally:
            self._orders = None
        if not dry_run:
            totals = report.totals(name)
            self.ledger.note(name, "sync", "info", ", ".join(f"{k} {v}" for k, v in totals.items()))
        return report

    def sync_all(self, flows: Sequence[str] | None = None, *, dry_run: bool = False) -> RunReport:
        """:meth:`sync` on every connection, in the order they were added."""
        report = RunReport(dry_run=dry_run)
        for name in self._links:
            report.extend(self.sync(name, flows, dry_run=dry_run))
        return report

    async def async_sync(self, name: str, flows: Sequence[str] | None = None, *,
                         dry_run: bool = False) -> RunReport:
        """:meth:`sync` for asyncio hosts: runs in a worker thread; an async ERP's coroutines
        run on the host's loop, so its own connections stay on the loop that made them."""
        return await self._off_loop(self.sync, name, flows, dry_run=dry_run)

    async def _off_loop(self, work: Callable[..., RunReport], *args: Any, **kwargs: Any) -> RunReport:
        """``work`` in a worker thread, the host's loop kept for the ERP's coroutines."""
        self._loop = asyncio.get_running_loop()
        try:
            return await asyncio.to_thread(work, *args, **kwargs)
        finally:
            self._loop = None

    def _run_flow(self, link: Link, flow: Flow, dry_run: bool) -> FlowReport:
        report = FlowReport(link.name, flow.name)
        reason = self._skip_reason(link, flow)
        if reason is not None:
            return report.skip(reason)
        started = time.monotonic()
        try:
            flow.run(Run(self, link, report, dry_run))
        except TramoError as exc:
            report.fail(describe(exc))
            self.ledger.note(link.name, flow.name, "error", describe(exc))
        link.connection.log.debug("flow %s took %.3f s", flow.name, time.monotonic() - started)
        return report

    def export_products(self, name: str, codes: Sequence[str] | None = None, *,
                        dry_run: bool = False) -> RunReport:
        """Categories then the chosen products (all when None), changed ones only."""
        self.product_filter = frozenset(codes) if codes else None
        try:
            return self.sync(name, ["categories", "products"], dry_run=dry_run)
        finally:
            self.product_filter = None

    def import_orders(self, name: str, ids: Sequence[str], *, dry_run: bool = False) -> RunReport:
        """Fetch the chosen platform orders now and import them (a manual import, a webhook)."""
        link = self._link(name)
        report = RunReport(dry_run=dry_run)
        flow_report = report.add(FlowReport(name, "orders"))
        try:
            with self.ledger.lock(name):
                run = Run(self, link, flow_report, dry_run)
                run.take_orders(link.connection.call("get_orders", ids=list(ids)))
        except Busy as exc:
            flow_report.skip(str(exc))
        except TramoError as exc:
            flow_report.fail(describe(exc))
        return report

    def take_webhook(self, name: str, headers: Mapping[str, str], body: bytes) -> RunReport:
        """A platform notification: verified by the plugin's ``parse_webhook``, a repeated
        delivery dropped, then each order it names imported through the same idempotent path
        as polling (an order already imported at that ``updated_at`` is not imported again).

        :raises AuthenticationError: the signature does not hold (answer 401).
        :raises ValidationError: the body is not a notification (answer 400).
        """
        connection = self.connection(name)
        events = connection.call("parse_webhook", headers=dict(headers), body=body)
        forget_deliveries(connection.state, datetime.now(timezone.utc) - WEBHOOK_RETRY_WINDOW)
        ids = list(dict.fromkeys(e.remote_id for e in events
                                 if e.resource == "order" and not e.action.endswith("delete")))
        if not ids:
            return RunReport()
        try:
            report = self.import_orders(name, ids)
        except BaseException:
            give_back(connection.state, events)
            raise
        if any(r.status != "ran" for r in report):
            give_back(connection.state, events)  # the platform's repeat must be taken, not dropped
        return report

    async def async_take_webhook(self, name: str, headers: Mapping[str, str],
                                 body: bytes) -> RunReport:
        """:meth:`take_webhook` for asyncio hosts (an async ERP's coroutines on the host's loop)."""
        return await self._off_loop(self.take_webhook, name, headers, body)

    def remote_orders(self, name: str, *, since: Any = None) -> list[tuple[Order | Held, bool]]:
        """The platform's orders (changed since ``since``), each with whether the ERP has it."""
        listed: list[tuple[Order | Held, bool]] = []
        for record in self.connection(name).call("receive_orders", since=since):
            ident = record.remote_id if isinstance(record, Held) else record.id
            listed.append((record, ident is not None
                           and self.ledger.by_remote(name, "order", ident) is not None))
        return listed

    # -- the ERP --------------------------------------------------------------------------------

    def progress(self, name: str, flow: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(name, flow, done, total)

    def erp_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an ERP method, plain or ``async def``."""
        result = getattr(self.erp, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            if self._loop is not None:
                return asyncio.run_coroutine_threadsafe(_await(result), self._loop).result()
            return aio.call_sync(_await, {"awaitable": result})
        return result

    def erp_list(self, method: str) -> list[Any]:
        """An ERP read (an iterable, an async iterable or a coroutine of a list) as a list."""
        result = self.erp_call(method)
        if hasattr(result, "__aiter__"):
            if self._loop is not None:
                return asyncio.run_coroutine_threadsafe(_collect(result), self._loop).result()
            return aio.call_sync(_collect, {"iterable": result})
        return list(result)

    def erp_orders(self) -> list[Order]:
        """The ERP's orders, read once per run."""
        if self._orders is None:
            self._orders = self.erp_list("orders")
        return self._orders

    def tell_erp(self, name: str, flow: str, result: WriteResult) -> None:
        """Give the ERP one item's outcome; an ERP failing to keep it does not stop the sync."""
        try:
            self.erp_call("record", name, flow, result)
        except Exception as exc:  # noqa: BLE001 - the platform has the write; keep going
            self.ledger.note(name, flow, "error", f"the ERP could not record a result: {describe(exc)}")

    # -- looking back ---------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per connection: checkpoints, writes in doubt, held records and the last errors."""
        found = []
        for name in self._links:
            found.append({
                "connection": name,
                "plugin": self._links[name].connection.plugin,
                "checkpoints": self.ledger.checkpoints(name),
                "pending": [item for _, _, item in self.ledger.in_doubt(name)],
                "held": [attrs.asdict(h) for h in self.ledger.held(name)],
                "errors": [{"at": at, "flow": flow, "message": message}
                           for at, flow, _, message in self.ledger.events(name, level="error", limit=5)],
                "last_run": next((message for _, _, _, message in
                                  self.ledger.events(name, level="info", limit=1)), None),
            })
        return found

    def close(self) -> None:
        for link in self._links.values():
            link.connection.close()
        close = getattr(self.erp, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Tramo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def _collect(iterable: Any) -> list[Any]:
    return [item async for item in iterable]

