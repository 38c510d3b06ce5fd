"""Discovery through the tramo.plugins entry point group, and broken-plugin isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import tramo
from tramo.registry import discover
from entrypoints import FakeDistributions, info_source

BUILT_INS = {
    "tray_rest": ("tray", "rest"),
    "tray_soap": ("tray", "soap"),
    "tray_ftp": ("tray", "ftp"),
    "ideris": ("ideris", "rest"),
    "shopify": ("shopify", "graphql"),
}


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDistributions]:
    for variable in ("TRAMO_STRICT_PLUGINS", "TRAMO_PLUGINS", "TRAMO_DISABLED_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    fake = FakeDistributions(tmp_path, monkeypatch)
    yield fake
    fake.cleanup()


def test_built_in_plugins_are_found_through_their_entry_points() -> None:
    registry = discover(allow=list(BUILT_INS))
    found = {r.name: (r.platform, r.modality) for r in registry.plugins}
    assert found == BUILT_INS
    assert all(r.ok and r.error is None for r in registry.plugins)


def test_built_in_plugins_claim_no_capability_they_do_not_implement() -> None:
    registry = discover(allow=list(BUILT_INS))
    for record in registry.plugins:
        implemented = {h for h in tramo.CAPABILITIES if hasattr(record.plugin, h)}
        assert set(record.capabilities) == implemented


def test_core_imports_no_plugin() -> None:
    import subprocess
    import sys

    code = ("import sys, tramo; tramo.Registry(); "
            "print(sorted(m for m in sys.modules if m.startswith('tramo_')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plugin_that_fails_to_import_is_unavailable_and_the_rest_load(dists: FakeDistributions) -> None:
    dists.plugin("good", info_source("good"))
    dists.plugin("bad", "import no_such_module_anywhere\n")
    registry = discover(allow=["good", "bad"])
    assert registry.record("good").ok
    bad = registry.record("bad")
    assert bad.status == "unavailable"
    assert "no_such_module_anywhere" in (bad.error or "")
    assert bad.to_json()["capabilities"] == [] and bad.to_json()["platform"] is None


def test_a_misspelled_hook_makes_the_plugin_unavailable_naming_the_hook(dists: FakeDistributions) -> None:
    dists.plugin("typo", info_source("typo") + """
@tramo.hookimpl
def send_prodcuts(connection, products):
    return []
""")
    dists.plugin("fine", info_source("fine"))
    registry = discover(allow=["typo", "fine"])
    assert "send_prodcuts" in (registry.record("typo").error or "")
    assert registry.record("fine").ok


def test_a_hook_with_wrong_argument_names_is_refused(dists: FakeDistributions) -> None:
    dists.plugin("args", info_source("args") + """
@tramo.hookimpl
def send_products(connection, items):
    return []
""")
    record = discover(allow=["args"]).record("args")
    assert not record.ok and "items" in (record.error or "")


def test_a_plugin_without_plugin_info_is_unavailable(dists: FakeDistributions) -> None:
    dists.plugin("anon", "import tramo\n\n@tramo.hookimpl\ndef list_order_statuses(connection):\n    return []\n")
    record = discover(allow=["anon"]).record("anon")
    assert not record.ok and "plugin_info" in (record.error or "")


def test_plugin_info_must_name_the_entry_point(dists: FakeDistributions) -> None:
    dists.plugin("alias", info_source("other_name"))
    record = discover(allow=["alias"]).record("alias")
    assert not record.ok and "other_name" in (record.error or "")


def test_a_plugin_for_another_api_version_is_refused_with_a_clear_message(dists: FakeDistributions) -> None:
    dists.plugin("future", """
import tramo

@tramo.hookimpl
def plugin_info():
    return tramo.PluginInfo(name="future", platform="x", modality="y", api_version=2)
""")
    record = discover(allow=["future"]).record("future")
    assert not record.ok
    assert "API 2" in (record.error or "") and f"API {tramo.PLUGIN_API_VERSION}" in (record.error or "")


def test_a_plugin_whose_plugin_info_raises_is_unavailable(dists: FakeDistributions) -> None:
    dists.plugin("boom", "import tramo\n\n@tramo.hookimpl\ndef plugin_info():\n    raise RuntimeError('kaput')\n")
    record = discover(allow=["boom"]).record("boom")
    assert not record.ok and "kaput" in (record.error or "")


def test_two_distributions_with_one_plugin_name_are_both_refused(dists: FakeDistributions) -> None:
    dists.plugin("twin", info_source("twin"), distribution="twin-a")
    dists.plugin("twin", info_source("twin"), distribution="twin-b")
    record = discover(allow=["twin"]).record("twin")
    assert not record.ok and "more than one" in (record.error or "")


def test_strict_mode_makes_a_broken_plugin_fatal(dists: FakeDistributions,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dists.plugin("bad", "raise ImportError('missing dependency')\n")
    with pytest.raises(tramo.PluginLoadError, match="missing dependency"):
        discover(allow=["bad"], strict=True)
    monkeypatch.setenv("TRAMO_STRICT_PLUGINS", "1")
    with pytest.raises(tramo.PluginLoadError):
        discover(allow=["bad"])


def test_strict_mode_is_never_inferred_from_ci(dists: FakeDistributions,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dists.plugin("bad", "raise ImportError('missing dependency')\n")
    monkeypatch.setenv("CI", "true")
    assert not discover(allow=["bad"]).record("bad").ok


def test_a_blocked_plugin_is_never_imported(dists: FakeDistributions,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    dists.plugin("loud", "raise SystemExit('imported although blocked')\n")
    dists.plugin("quiet", info_source("quiet"))
    names = [r.name for r in discover(block=["loud"]).plugins]
    assert "loud" not in names and "quiet" in names
    monkeypatch.setenv("TRAMO_DISABLED_PLUGINS", "loud, tray_rest")
    names = [r.name for r in discover().plugins]
    assert "loud" not in names and "tray_rest" not in names


def test_the_allow_list_loads_only_what_it_names(dists: FakeDistributions,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dists.plugin("loud", "raise SystemExit('imported although not allowed')\n")
    dists.plugin("quiet", info_source("quiet"))
    monkeypatch.setenv("TRAMO_PLUGINS", "quiet,absent")
    registry = discover()
    assert [r.name for r in registry.plugins] == ["absent", "quiet"]
    assert "no installed distribution" in (registry.record("absent").error or "")


def test_a_plugin_can_add_its_own_hook_specs_and_they_list_as_capabilities(dists: FakeDistributions) -> None:
    dists.plugin("wedding", info_source("wedding", platform="tray") + """
class tramo_hookspecs:
    @staticmethod
    @tramo.hookspec
    def send_wedding_lists(connection, lists):
        '''Send gift lists (a Tray-only feature).'''

@tramo.hookimpl
def send_wedding_lists(connection, lists):
    return [f"sent {item}" for item in lists]
""")
    registry = discover(allow=["wedding"])
    assert registry.record("wedding").capabilities == ("send_wedding_lists",)
    connection = registry.connect("wedding")
    assert connection.call("send_wedding_lists", lists=["ana"]) == ["sent ana"]


def test_plumbing_hooks_are_not_capabilities(dists: FakeDistributions) -> None:
    dists.plugin("plumb", info_source("plumb") + """
@tramo.hookimpl
def check_connection(connection):
    return tramo.ConnectionReport()

@tramo.hookimpl
def sandbox():
    return None

@tramo.hookimpl
def list_sales_channels(connection):
    return []
""")
    assert discover(allow=["plumb"]).record("plumb").capabilities == ("list_sales_channels",)


def test_plugins_are_listed_by_name_whatever_the_install_order(dists: FakeDistributions) -> None:
    dists.plugin("zeta", info_source("zeta"))
    dists.plugin("alpha", info_source("alpha"))
    assert [r.name for r in discover(allow=["zeta", "alpha"]).plugins] == ["alpha", "zeta"]


def test_only_namespaced_modules_are_installed(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import importlib.util as u; "
            "print([n for n in ('core', 'plugins', 'tramo', 'tramo_tray_rest', 'tramo_shopify') "
            "if u.find_spec(n) is not None])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == "['tramo', 'tramo_tray_rest', 'tramo_shopify']"
