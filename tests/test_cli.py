"""The tramo command: plugins, capabilities, check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tramo.capabilities import CAPABILITIES
from tramo.cli import main

BUILT_INS = ["ideris", "shopify", "tray_ftp", "tray_rest", "tray_soap"]


@pytest.fixture(autouse=True)
def only_built_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAMO_PLUGINS", ",".join(BUILT_INS))
    monkeypatch.delenv("TRAMO_STRICT_PLUGINS", raising=False)


def test_plugins_json_is_one_object_per_plugin_with_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed] == BUILT_INS
    for entry in listed:
        assert set(entry) == {"name", "platform", "modality", "status", "capabilities", "error"}
        assert entry["status"] == "ok" and entry["error"] is None
        assert entry["capabilities"] == sorted(entry["capabilities"])


def test_plugins_table_names_every_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in BUILT_INS:
        assert name in out


def test_capabilities_has_a_row_per_capability_and_a_column_per_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capabilities", "--json"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert list(matrix) == list(CAPABILITIES)
    assert "tray_rest" in matrix["send_products"] and "tray_rest" in matrix["receive_orders"]
    assert matrix["acknowledge_orders"] == ["tray_ftp", "tray_soap"]  # the built-ins whose orders are a queue
    assert main(["capabilities"]) == 0
    table = capsys.readouterr().out
    assert "send_products" in table and "tray_soap" in table


def test_check_names_missing_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('api_address = "https://loja.test/web_api"\nconsumer_key = "k"\n')
    assert main(["check", "--plugin", "tray_rest", "--settings", str(settings)]) == 2
    out = capsys.readouterr().out
    assert "consumer_secret" in out and "code" in out


def test_check_of_an_unreachable_store_fails_without_showing_the_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"shop_domain": "x.myshopify.com", "access_token": "shpat_SECRET123",
                                    "base_url": "http://127.0.0.1:9"}))
    assert main(["check", "--plugin", "shopify", "--settings", str(settings)]) == 1
    out = capsys.readouterr().out
    assert "RetriesExhaustedError" in out and "shpat_SECRET123" not in out


def test_check_of_an_unknown_plugin_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "s.toml"
    settings.write_text("")
    assert main(["check", "--plugin", "nope", "--settings", str(settings)]) == 2
    assert main(["check", "--plugin", "nope", "--settings", str(tmp_path / "missing.toml")]) == 2
