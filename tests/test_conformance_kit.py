"""The conformance kit can fail: plugins broken on purpose are caught by its properties.

Each mutant is the example plugin with one hook replaced by a plausible bug.
The property functions are called directly (hypothesis runs them), with a
Kit over the mutant; each must raise. The whole kit passing the honest
example runs in test_third_party, through ``tramo conformance example``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from hypothesis import Phase, settings

import tramo
from tramo.testing import suite
from tramo.testing.kit import Kit

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tramo-example-plugin"
sys.path.insert(0, str(EXAMPLE))
try:
    import tramo_example
finally:
    sys.path.remove(str(EXAMPLE))

HOOKS = {name: getattr(tramo_example, name) for name in dir(tramo_example)
         if hasattr(getattr(tramo_example, name), "tramo_impl")}


def mutant(**replaced: Callable[..., Any]) -> SimpleNamespace:
    hooks = dict(HOOKS)
    for name, function in replaced.items():
        function.__name__ = name
        hooks[name] = tramo.hookimpl(function)
    return SimpleNamespace(**hooks)


#: A mutant's failure is the point: few cases, stop at the first bug, no shrinking.
QUICK = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                 report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate))


def quickly(prop: Callable[..., Any]) -> Callable[..., Any]:
    """The kit's property with the settings above (the suite's own were fixed at import)."""
    return QUICK(prop)


@pytest.fixture(scope="module")
def kits() -> Iterator[dict[str, Kit]]:
    made: dict[str, Kit] = {}

    def kit_for(label: str, plugin: SimpleNamespace) -> Kit:
        kit = made[label] = Kit("example", tramo.Registry.for_testing({"example": plugin}))
        return kit

    def lying_stock(connection: Any, levels: Any) -> list[tramo.WriteResult]:
        return [tramo.WriteResult(level.sku, tramo.Outcome.UPDATED) for level in levels]

    def forgetful_products(connection: Any, products: Any) -> Any:
        return HOOKS["send_products"](connection=connection, products=[
            attrs.evolve(p, description="") for p in products])

    def ignores_since(connection: Any, since: Any) -> Any:
        return HOOKS["receive_orders"](connection=connection, since=None)

    def leaky_check(connection: Any) -> tramo.ConnectionReport:
        token = connection.settings["api_token"].reveal()
        connection.log.logger.debug("checking with token %s", token)  # past the redacting adapter
        return tramo.ConnectionReport()

    kit_for("lying_stock", mutant(send_stock=lying_stock))
    kit_for("forgetful_products", mutant(send_products=forgetful_products))
    kit_for("ignores_since", mutant(receive_orders=ignores_since))
    kit_for("leaky", mutant(check_connection=leaky_check))
    kit_for("undeclared_lie", mutant())
    try:
        yield made
    finally:
        for kit in made.values():
            kit.close()


def test_a_write_reported_done_but_not_sent_is_caught(kits: dict[str, Kit]) -> None:
    with pytest.raises(AssertionError):
        quickly(suite.test_stock_sent_is_the_stock_held_and_sending_it_again_changes_nothing)(
            kit=kits["lying_stock"])


def test_a_field_the_platform_keeps_but_the_plugin_drops_is_caught(kits: dict[str, Kit]) -> None:
    with pytest.raises(AssertionError):
        quickly(suite.test_what_send_products_sends_the_platform_holds)(kit=kits["forgetful_products"])


def test_a_read_that_ignores_its_checkpoint_is_caught(kits: dict[str, Kit]) -> None:
    with pytest.raises(AssertionError):
        quickly(suite.test_incremental_reads_yield_exactly_what_changed_after_the_checkpoint)(
            kit=kits["ignores_since"])


def test_a_secret_logged_in_clear_is_caught(kits: dict[str, Kit]) -> None:
    with pytest.raises(AssertionError, match="secret"):
        suite.test_no_secret_reaches_logs_reprs_or_errors(kit=kits["leaky"])


def test_a_capability_the_core_would_not_refuse_is_caught(kits: dict[str, Kit]) -> None:
    kit = kits["undeclared_lie"]
    kit.capabilities = kit.capabilities - {"send_stock"}  # the kit believes it undeclared
    with pytest.raises(pytest.fail.Exception):
        suite.test_undeclared_capabilities_are_refused_by_the_core(kit=kit)


def test_an_opt_out_skips_with_its_reason(kits: dict[str, Kit]) -> None:
    kit = kits["undeclared_lie"]
    kit.profile = attrs.evolve(kit.profile, opt_out={"secrets": "tokens are public here"})
    with pytest.raises(pytest.skip.Exception, match="opted out: tokens are public here"):
        suite.test_no_secret_reaches_logs_reprs_or_errors(kit=kit)


def test_the_kit_refuses_a_plugin_without_a_sandbox() -> None:
    plain = SimpleNamespace(plugin_info=HOOKS["plugin_info"])
    with pytest.raises(tramo.ConfigurationError, match="no sandbox hook"):
        Kit("example", tramo.Registry.for_testing({"example": plain}))


def test_a_sandbox_without_a_view_the_property_reads_is_named() -> None:
    from tramo.testing.kit import _View

    class Bare:
        pass

    view = _View(Bare(), "shop")  # type: ignore[arg-type]
    with pytest.raises(tramo.ConfigurationError, match=r"Bare .*'shop'.* no held_stock\(\)"):
        view.held_stock()
    with pytest.raises(AttributeError):
        view.not_a_view_method


def test_an_opt_out_without_a_reason_is_refused() -> None:
    from tramo.sandbox import Profile

    with pytest.raises(ValueError, match="reason"):
        Profile(opt_out={"faults": "  "})
    assert Profile(opt_out={"faults": "the platform has no writes"}).opt_out
