"""The third-party path: separate distributions, installed outside the development environment.

The example and the broken plugin are installed with pip into a throwaway
target folder (so the development environment stays clean) and tramo runs in
a fresh interpreter that sees that folder, exactly as a host would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("third-party-site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
               str(EXAMPLES / "tramo-example-plugin"), str(EXAMPLES / "tramo-broken-plugin")]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    yield target


def run(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRAMO_")}
    environment.update({"PYTHONPATH": str(site), **(env or {})})
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_the_development_environment_does_not_see_the_examples() -> None:
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="tramo.plugins")}
    assert "example" not in names and "broken" not in names


def test_the_example_loads_through_its_entry_point_and_the_broken_one_harms_nothing(site: Path) -> None:
    result = run(site, "-m", "tramo", "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["example"] == {
        "name": "example", "platform": "filedrop", "modality": "files", "status": "ok",
        "capabilities": ["list_order_statuses", "receive_orders", "send_stock"], "error": None}
    broken = plugins["broken"]
    assert broken["status"] == "unavailable"
    assert "tramo_dependency_that_is_not_installed" in broken["error"]
    for name in ("tray_rest", "tray_soap", "tray_ftp", "ideris", "shopify"):
        assert plugins[name]["status"] == "ok"


def test_strict_mode_refuses_to_start_with_the_broken_plugin(site: Path) -> None:
    result = run(site, "-m", "tramo", "--strict", "plugins", "--json")
    assert result.returncode == 1
    assert "broken" in result.stderr
    result = run(site, "-m", "tramo", "plugins", "--json", env={"TRAMO_STRICT_PLUGINS": "1"})
    assert result.returncode == 1


def test_the_example_plugin_does_real_work_for_a_host(site: Path, tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "bad.json").write_text('{"id": "9"}', "utf-8")
    host = f"""
import asyncio, json
import tramo
from tramo.model.convert import to_json

registry = tramo.discover()
connection = registry.connect("example", {{"folder": {str(tmp_path)!r}}},
                              mappings={{"status": {{"paid": "approved"}}}})
first = connection.call("send_stock", levels=[tramo.StockLevel(sku="A1", quantity=5)])
again = connection.call("send_stock", levels=[tramo.StockLevel(sku="A1", quantity=5)])
order = tramo.Order(id="7", placed_at="2026-11-01T10:00:00-03:00", customer=tramo.Customer(name="Ana"),
                    items=[tramo.OrderItem(sku="A1", name="Mug", quantity=1, unit_price="10")],
                    total="10", platform_status="paid")
open({str(tmp_path / "orders" / "7.json")!r}, "w").write(to_json(order))
records = list(connection.call("receive_orders"))
read_only = registry.connect("example", {{"folder": {str(tmp_path)!r}, "read_only": "yes"}})
print(json.dumps({{
    "first": first[0].outcome.value, "again": again[0].outcome.value,
    "orders": sorted((type(r).__name__, getattr(r, "id", None) or r.remote_id,
                      str(getattr(r, "status", None))) for r in records),
    "read_only": sorted(read_only.restrictions()),
    "check": connection.check().ok,
}}))
"""
    result = run(site, "-c", host)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["first"] == "created" and outcome["again"] == "unchanged"
    assert json.loads((tmp_path / "stock" / "A1.json").read_text()) == {"sku": "A1", "quantity": 5}
    assert outcome["orders"] == [["Held", "bad", "None"], ["Order", "7", "OrderStatus.APPROVED"]]
    assert outcome["read_only"] == ["send_stock"] and outcome["check"] is True
