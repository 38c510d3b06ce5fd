"""Dispatch to one plugin, capability narrowing, sync and async hooks, the write/read contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

import tramo
from tramo import Outcome, StockLevel, WriteResult

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def plugin(name: str, platform: str = "shop", **hooks: Any) -> SimpleNamespace:
    """A plugin object with ``plugin_info`` plus the given hook functions."""
    def info() -> tramo.PluginInfo:
        return tramo.PluginInfo(name=name, platform=platform, modality=name,
                                settings=(tramo.Setting(name="token", secret=True, required=False),
                                          tramo.Setting(name="plan", required=False, default="full")))
    namespace = SimpleNamespace(plugin_info=tramo.hookimpl(info))
    for hook, function in hooks.items():
        function.__name__ = hook
        setattr(namespace, hook, tramo.hookimpl(function))
    return namespace


def stock_writer(log: list[str], tag: str) -> Any:
    def send_stock(connection: Any, levels: Any) -> list[WriteResult]:
        log.extend(f"{tag}:{level.sku}" for level in levels)
        return [WriteResult(level.sku, Outcome.UPDATED, remote_id=f"{tag}-{level.sku}") for level in levels]
    return send_stock


def order(order_id: str, platform_status: str = "paid", **extra: Any) -> tramo.Order:
    return tramo.Order(
        id=order_id, placed_at=NOW, customer=tramo.Customer(name="Ana"),
        items=[tramo.OrderItem(sku="A1", name="Mug", quantity=1, unit_price=Decimal("10"))],
        total=Decimal("10"), platform_status=platform_status, **extra)


def test_a_call_goes_to_the_connection_s_plugin_only() -> None:
    log: list[str] = []
    registry = tramo.Registry.for_testing({
        "one": plugin("one", send_stock=stock_writer(log, "one")),
        "two": plugin("two", send_stock=stock_writer(log, "two")),
    })
    results = registry.connect("two").call("send_stock", levels=[StockLevel(sku="A1", quantity=3)])
    assert log == ["two:A1"]
    assert [r.remote_id for r in results] == ["two-A1"]


def test_an_unsupported_capability_names_itself_the_plugin_and_who_supports_it() -> None:
    registry = tramo.Registry.for_testing({
        "files": plugin("files", platform="tray"),
        "api": plugin("api", platform="tray", send_stock=stock_writer([], "api")),
        "other": plugin("other", platform="elsewhere", send_stock=stock_writer([], "o")),
    })
    with pytest.raises(tramo.CapabilityNotSupported) as caught:
        registry.connect("files").call("send_stock", levels=[])
    error = caught.value
    assert (error.capability, error.plugin, error.alternatives) == ("send_stock", "files", ("api",))
    assert "send_stock" in str(error) and "files" in str(error) and "api" in str(error)
    assert "other" not in str(error)


def test_settings_narrow_capabilities_with_a_reason() -> None:
    def restrict_capabilities(connection: Any) -> dict[str, str]:
        return {"send_stock": "plan lacks stock"} if connection.settings["plan"] == "basic" else {}

    registry = tramo.Registry.for_testing({"p": plugin(
        "p", send_stock=stock_writer([], "p"), restrict_capabilities=restrict_capabilities)})
    full = registry.connect("p")
    basic = registry.connect("p", {"plan": "basic"})
    assert "send_stock" in full.capabilities()
    assert "send_stock" not in basic.capabilities()
    assert basic.restrictions() == {"send_stock": "plan lacks stock"}
    with pytest.raises(tramo.CapabilityNotSupported, match="plan lacks stock"):
        basic.call("send_stock", levels=[StockLevel(sku="A", quantity=1)])


def test_async_and_sync_hooks_serve_sync_and_async_hosts() -> None:
    async def send_stock(connection: Any, levels: Any) -> list[WriteResult]:
        await asyncio.sleep(0)
        return [WriteResult(level.sku, Outcome.CREATED) for level in levels]

    async def receive_orders(connection: Any, since: Any) -> Any:
        for number in ("1", "2"):
            await asyncio.sleep(0)
            yield order(number)

    def list_order_statuses(connection: Any) -> list[tramo.PlatformOption]:
        return [tramo.PlatformOption(id="paid", name="Paid")]

    def get_orders(connection: Any, ids: Any) -> Any:
        return (order(i) for i in ids)

    registry = tramo.Registry.for_testing({"p": plugin(
        "p", send_stock=send_stock, receive_orders=receive_orders,
        list_order_statuses=list_order_statuses, get_orders=get_orders)})
    connection = registry.connect("p", mappings={"status": {"paid": "approved"}})
    levels = [StockLevel(sku="A", quantity=1)]

    assert [r.outcome for r in connection.call("send_stock", levels=levels)] == [Outcome.CREATED]
    assert [o.id for o in connection.call("receive_orders", since=None)] == ["1", "2"]

    async def host() -> tuple[Any, ...]:
        written = await connection.acall("send_stock", levels=levels)
        read = [o.id async for o in await connection.acall("receive_orders")]
        fetched = [o.id async for o in await connection.acall("get_orders", ids=["7", "8"])]
        statuses = await connection.acall("list_order_statuses")
        return written, read, fetched, statuses

    written, read, fetched, statuses = asyncio.run(host())
    assert [r.outcome for r in written] == [Outcome.CREATED]
    assert read == ["1", "2"] and fetched == ["7", "8"]
    assert statuses == [tramo.PlatformOption(id="paid", name="Paid")]


def test_write_results_come_back_in_input_order_with_bad_items_held() -> None:
    log: list[str] = []
    registry = tramo.Registry.for_testing({"p": plugin("p", send_stock=stock_writer(log, "p"))})
    levels: list[Any] = [StockLevel(sku="A", quantity=1), "not a level", StockLevel(sku="C", quantity=2)]
    results = registry.connect("p").call("send_stock", levels=levels)
    assert [r.outcome for r in results] == [Outcome.UPDATED, Outcome.HELD, Outcome.UPDATED]
    assert [r.local_id for r in results] == ["A", None, "C"]  # a str has no SKU; the error names it
    assert isinstance(results[1].error, tramo.ValidationError)
    assert "send_stock.levels[1]" in str(results[1].error)
    assert log == ["p:A", "p:C"]


def test_a_plugin_that_returns_the_wrong_number_of_results_breaks_the_contract() -> None:
    def send_stock(connection: Any, levels: Any) -> list[WriteResult]:
        return []

    registry = tramo.Registry.for_testing({"p": plugin("p", send_stock=send_stock)})
    with pytest.raises(tramo.PluginContractError, match="0 result"):
        registry.connect("p").call("send_stock", levels=[StockLevel(sku="A", quantity=1)])


def test_status_updates_are_mapped_by_the_core_and_unmapped_ones_held() -> None:
    seen: list[tuple[str, str | None]] = []

    def sync_status(connection: Any, updates: Any) -> list[WriteResult]:
        seen.extend((u.order_id, u.platform_status) for u in updates)
        return [WriteResult(u.order_id, Outcome.UPDATED) for u in updates]

    registry = tramo.Registry.for_testing({"p": plugin("p", sync_status=sync_status)})
    connection = registry.connect("p", mappings={"status": {"12": "shipped", "13": "delivered"}})
    results = connection.call("sync_status", updates=[
        tramo.StatusUpdate(order_id="1", status=tramo.OrderStatus.SHIPPED),
        tramo.StatusUpdate(order_id="2", status=tramo.OrderStatus.CANCELLED),
    ])
    assert seen == [("1", "12")]
    assert results[1].outcome is Outcome.HELD and results[1].local_id == "2"
    assert isinstance(results[1].error, tramo.MappingError)
    assert "cancelled" in str(results[1].error)


def test_a_write_whose_items_are_all_held_does_not_call_the_plugin() -> None:
    calls: list[Any] = []

    def sync_status(connection: Any, updates: Any) -> list[WriteResult]:
        calls.append(updates)
        return []

    registry = tramo.Registry.for_testing({"p": plugin("p", sync_status=sync_status)})
    results = registry.connect("p").call("sync_status", updates=[
        tramo.StatusUpdate(order_id="1", status="shipped")])
    assert calls == [] and results[0].outcome is Outcome.HELD


def test_received_orders_are_mapped_and_unmappable_ones_held_while_the_read_goes_on() -> None:
    def receive_orders(connection: Any, since: Any) -> Any:
        yield order("1", shipping=tramo.Shipping(platform_method="pac", freight="9.90"),
                    payments=[tramo.Payment(value="10", platform_method="pix")],
                    sales_channel=tramo.SalesChannel(platform_channel="mercadolivre"))
        yield tramo.Held("order", tramo.ValidationError("Order.total", "x", "not a number"), remote_id="2")
        yield order("3", platform_status="weird")
        yield order("4")

    registry = tramo.Registry.for_testing({"p": plugin("p", receive_orders=receive_orders)})
    connection = registry.connect("p", mappings={
        "status": {"paid": "approved"}, "shipping": {"pac": "CORREIOS_PAC"},
        "payment": {"pix": "PIX"}, "channel": {"mercadolivre": "ML"}})
    records = list(connection.call("receive_orders", since=NOW))
    first = records[0]
    assert first.status is tramo.OrderStatus.APPROVED
    assert first.shipping.method == "CORREIOS_PAC" and first.payments[0].method == "PIX"
    assert first.sales_channel.channel == "ML"
    assert isinstance(records[1], tramo.Held) and records[1].remote_id == "2"
    assert isinstance(records[2], tramo.Held) and isinstance(records[2].error, tramo.MappingError)
    assert records[3].id == "4"


def test_a_read_that_yields_something_else_breaks_the_contract() -> None:
    def receive_products(connection: Any, since: Any) -> Any:
        return ["not a product"]

    registry = tramo.Registry.for_testing({"p": plugin("p", receive_products=receive_products)})
    with pytest.raises(tramo.PluginContractError, match="str"):
        list(registry.connect("p").call("receive_products"))


def test_hooks_may_take_fewer_arguments_than_the_spec() -> None:
    def list_payment_methods() -> list[tramo.PlatformOption]:
        return [tramo.PlatformOption(id="pix", name="Pix")]

    registry = tramo.Registry.for_testing({"p": plugin("p", list_payment_methods=list_payment_methods)})
    assert registry.connect("p").call("list_payment_methods")[0].id == "pix"


def test_wrong_call_arguments_are_a_type_error_naming_the_right_ones() -> None:
    registry = tramo.Registry.for_testing({"p": plugin("p", send_stock=stock_writer([], "p"))})
    connection = registry.connect("p")
    with pytest.raises(TypeError, match="levels"):
        connection.call("send_stock", products=[])
    with pytest.raises(TypeError, match="missing levels"):
        connection.call("send_stock")
    with pytest.raises(tramo.ConfigurationError, match="not a tramo hook"):
        connection.call("send_everything")
    with pytest.raises(tramo.ConfigurationError, match="plumbing"):
        connection.call("plugin_info")


def test_settings_are_validated_and_name_the_setting() -> None:
    registry = tramo.Registry.for_testing({"p": plugin("p")})
    with pytest.raises(tramo.ConfigurationError, match="has no setting"):
        registry.connect("p", {"tokne": "x"})
    with pytest.raises(tramo.ConfigurationError, match="unknown timezone"):
        registry.connect("p", timezone="Mars/Olympus")
    assert str(registry.connect("p").timezone) == tramo.DEFAULT_TIMEZONE


def test_a_store_routes_each_capability_to_the_preferred_modality() -> None:
    log: list[str] = []

    def list_order_statuses(connection: Any) -> list[tramo.PlatformOption]:
        return [tramo.PlatformOption(id=connection.plugin, name="x")]

    registry = tramo.Registry.for_testing({
        "rest": plugin("rest", platform="tray", send_stock=stock_writer(log, "rest"),
                       list_order_statuses=list_order_statuses),
        "soap": plugin("soap", platform="tray", send_stock=stock_writer(log, "soap")),
        "ftp": plugin("ftp", platform="tray", list_order_statuses=list_order_statuses),
        "other": plugin("other", platform="tray", list_shipping_methods=lambda connection: []),
    })
    connections = [registry.connect(p) for p in ("rest", "soap", "ftp")]
    store = tramo.Store(connections, preference=["soap", "ftp"])
    assert store.routes() == {"send_stock": "soap", "list_order_statuses": "ftp"}
    store.call("send_stock", levels=[StockLevel(sku="A", quantity=1)])
    assert log == ["soap:A"]
    with pytest.raises(tramo.CapabilityNotSupported) as caught:
        store.resolve("list_shipping_methods")
    assert caught.value.alternatives == ("other",)


def test_a_store_refuses_connections_of_different_platforms() -> None:
    registry = tramo.Registry.for_testing({"a": plugin("a", platform="x"), "b": plugin("b", platform="y")})
    with pytest.raises(tramo.ConfigurationError, match="one platform"):
        tramo.Store([registry.connect("a"), registry.connect("b")])


def test_check_without_a_check_hook_does_not_vouch_for_the_connection() -> None:
    registry = tramo.Registry.for_testing({"p": plugin("p")})
    report = registry.connect("p").check()
    assert not report.ok and "check_connection" in report.problems[0]
