"""The third-party path: separate distributions, installed outside the development environment.

The example and the broken plugin are installed with pip into a throwaway
target folder (so the development environment stays clean) and tramo runs in
a fresh interpreter that sees that folder, exactly as a host would. They are
built from copies of their sources, so no build leftovers land in the
repository (a stale ``build/`` would ship modules that no longer exist).
"""

from __future__ import annotations

import json
import os
import shutil
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
    sources = tmp_path_factory.mktemp("third-party-sources")
    leftovers = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
    copies = [shutil.copytree(EXAMPLES / name, sources / name, ignore=leftovers)
              for name in ("tramo-example-plugin", "tramo-broken-plugin")]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
               *map(str, copies)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    yield target


def run(site: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRAMO_")}
    environment.update({"PYTHONPATH": str(site), **(env or {})})
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=environment, timeout=timeout)


def test_the_development_environment_does_not_see_the_examples() -> None:
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="tramo.plugins")}
    assert "example" not in names and "broken" not in names


def test_the_example_loads_through_its_entry_point_and_the_broken_one_harms_nothing(site: Path) -> None:
    result = run(site, "-m", "tramo", "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["example"] == {
        "name": "example", "platform": "minishop", "modality": "rest", "status": "ok",
        "capabilities": ["list_order_statuses", "map_categories", "receive_orders",
                         "receive_products", "release_stock", "reserve_stock", "send_prices",
                         "send_products", "send_stock", "send_tracking", "sync_status"],
        "error": None}
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


def test_the_example_plugin_does_real_work_for_a_host_against_its_own_sandbox(site: Path) -> None:
    host = """
import json
import tramo

registry = tramo.discover()
sandbox = registry.implementation("example", "sandbox").function()  # minishop on loopback
with sandbox as running:
    connection = registry.connect("example", running.settings, mappings=running.profile.mappings)
    product = tramo.Product(code="CAM", name="Camiseta", variants=[tramo.Variant(sku="CAM-P")])
    products = [connection.call("send_products", products=[product])[0] for _ in range(2)]
    stock = [connection.call("send_stock", levels=[tramo.StockLevel(sku="CAM-P", quantity=5)])[0]
             for _ in range(2)]
    order = tramo.Order(id="x", placed_at="2026-11-01T10:00:00-03:00",
                        customer=tramo.Customer(name="Ana"), total="10", platform_status="paid",
                        items=[tramo.OrderItem(sku="CAM-P", name="Camiseta", quantity=2, unit_price="5")])
    placed = running.place_order(order)
    broken = running.place_order(order)
    running.data["orders"][broken]["customer"] = None
    records = list(connection.call("receive_orders"))
    read_only = registry.connect("example", {**running.settings, "read_only": "yes"})
    print(json.dumps({
        "products": [r.outcome.value for r in products],
        "stock": [r.outcome.value for r in stock],
        "held_stock": running.held_stock(),
        "orders": [(type(r).__name__, getattr(r, "id", None) or r.remote_id,
                    str(getattr(r, "status", None))) for r in records],
        "placed": [placed, broken],
        "read_only": sorted(read_only.restrictions()),
        "check": connection.check().ok,
        "calls": len(running.calls),
    }))
    connection.close()
    read_only.close()
"""
    result = run(site, "-c", host)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["products"] == ["created", "unchanged"]
    assert outcome["stock"] == ["created", "unchanged"]
    assert outcome["held_stock"] == {"CAM-P": 1}  # 5 on hand, 2 + 2 ordered
    placed, broken = outcome["placed"]
    assert outcome["orders"] == [["Order", placed, "OrderStatus.APPROVED"], ["Held", broken, "None"]]
    assert outcome["read_only"] == ["map_categories", "release_stock", "reserve_stock", "send_prices",
                                    "send_products", "send_stock", "send_tracking", "sync_status"]
    assert outcome["check"] is True and outcome["calls"] > 0


def test_the_example_passes_the_conformance_kit(site: Path, tmp_path: Path) -> None:
    result = run(site, "-m", "tramo", "conformance", "example", f"--pytest=--rootdir={tmp_path}",
                 timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "tramo conformance: example" in result.stdout
    assert " 0 fail" in result.stdout
