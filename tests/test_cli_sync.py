"""The tramo command's sync commands (sync, orders, products, status, mappings, auth, purge, demo)
run in-process against a Tray sandbox, a reference ERP and a state store in ``tmp_path``."""

from __future__ import annotations

import json
import re
import signal
import tomllib
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import tramo
from tramo.cli import main
from tramo.config import load_config
from tramo.erp.demo_catalogue import demo_catalogue
from tramo.erp.reference import ReferenceErp
from tramo.sync.engine import FLOW_NAMES
from tramo_tray_rest.sandbox import TraySandbox

BUILT_INS = ["ideris", "shopify", "tray_ftp", "tray_rest", "tray_soap"]
NAME = "loja"
WRONG_SECRET = "wrong-consumer-secret-0d9e8f7a"

#: every text a command printed in this module, with the command: test 12 reads them all
OUTPUTS: list[tuple[list[str], str]] = []
#: every secret value seen so far: the sandbox's secret settings, issued tokens, wrong secrets
SECRETS: set[str] = {WRONG_SECRET}


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        return json.loads(self.out)

    def documents(self) -> list[Any]:
        """Every JSON document printed one after another (``sync --every --json``)."""
        decoder, found, at = json.JSONDecoder(), [], 0
        text = self.out
        while text[at:].strip():
            at += len(text[at:]) - len(text[at:].lstrip())
            document, at = decoder.raw_decode(text, at)
            found.append(document)
        return found


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAMO_PLUGINS", ",".join(BUILT_INS))
    monkeypatch.delenv("TRAMO_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("TRAMO_CONFIG", raising=False)


@pytest.fixture(scope="module")
def secret_settings() -> frozenset[str]:
    info = tramo.discover(allow=["tray_rest"]).record("tray_rest").info
    names = frozenset(s.name for s in info.settings if s.secret)
    assert names, "tray_rest declares no secret setting"
    return names


@pytest.fixture(scope="module")
def running(secret_settings: frozenset[str]) -> Iterator[TraySandbox]:
    with TraySandbox() as sandbox:
        SECRETS.update(str(sandbox.settings[name]) for name in secret_settings)
        yield sandbox


@pytest.fixture
def store(running: TraySandbox) -> TraySandbox:
    running.reset()
    running.seed(products=3, orders=3)
    return running


def _env_name(setting: str) -> str:
    return f"TRAMO_TEST_{setting.upper()}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def write_config(folder: Path, sandbox: TraySandbox, secret_settings: frozenset[str],
                 monkeypatch: pytest.MonkeyPatch, *, kinds: Sequence[str] | None = None,
                 state: str = "state.sqlite3") -> Path:
    """tramo.toml for the sandbox: secrets from the environment, the rest literal."""
    lines = ['erp = "erp.sqlite3"', f"state = {_toml(state)}", "",
             f"[connections.{NAME}]", 'plugin = "tray_rest"', "",
             f"[connections.{NAME}.settings]"]
    for key, value in sandbox.settings.items():
        if key in secret_settings:
            monkeypatch.setenv(_env_name(key), str(value))
            lines.append(f'{key} = {{ env = "{_env_name(key)}" }}')
        else:
            lines.append(f"{key} = {_toml(value)}")
    for kind, table in sandbox.profile.mappings.items():
        if kinds is not None and kind not in kinds:
            continue
        lines += ["", f"[connections.{NAME}.mappings.{kind}]"]
        lines += [f"{_toml(platform_id)} = {_toml(value)}" for platform_id, value in table.items()]
    path = folder / "tramo.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def erp_path(tmp_path: Path) -> Path:
    path = tmp_path / "erp.sqlite3"
    with ReferenceErp(path) as erp:
        demo_catalogue(erp, products=3)
    return path


@pytest.fixture
def config(tmp_path: Path, erp_path: Path, store: TraySandbox, secret_settings: frozenset[str],
           monkeypatch: pytest.MonkeyPatch) -> Path:
    return write_config(tmp_path, store, secret_settings, monkeypatch)


class Cli:
    """Runs ``tramo --only tray_rest COMMAND ... --config PATH`` in-process and keeps its output."""

    def __init__(self, capsys: pytest.CaptureFixture[str], sandbox: TraySandbox | None,
                 config: Path | None) -> None:
        self.capsys = capsys
        self.sandbox = sandbox
        self.config = config

    def __call__(self, *args: str, config: Path | None | bool = True) -> Result:
        argv = ["--only", "tray_rest", *args]
        path = self.config if config is True else config
        if path:
            argv += ["--config", str(path)]
        self.capsys.readouterr()
        code = main(argv)
        captured = self.capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        if self.sandbox is not None:
            with self.sandbox.lock:
                SECRETS.update(self.sandbox.data["access_tokens"])
                SECRETS.update(self.sandbox.data["refresh_tokens"])
        OUTPUTS.append((argv, result.text))
        leaked = sorted(s for s in SECRETS if s and s in result.text)
        assert not leaked, f"tramo {' '.join(argv)} printed a secret value"
        return result


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], store: TraySandbox, config: Path) -> Cli:
    return Cli(capsys, store, config)


def erp_of(tmp_path: Path) -> ReferenceErp:
    return ReferenceErp(tmp_path / "erp.sqlite3")


def flows_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["flow"]: f for f in data["connections"][NAME]["flows"]}


def store_snapshot(sandbox: TraySandbox) -> tuple[Any, ...]:
    return (sandbox.held_products(), sandbox.held_stock(), sandbox.held_prices(),
            sorted(sandbox.data["orders"]), sorted(sandbox.data["categories"]))


@pytest.fixture
def sigterm() -> Iterator[Any]:
    """The SIGTERM handler as it was, put back after the test whatever the command did."""
    before = signal.getsignal(signal.SIGTERM)
    yield before
    signal.signal(signal.SIGTERM, before)


# -- 1. sync ----------------------------------------------------------------------------------


def test_sync_json_exits_0_puts_the_erp_catalogue_on_the_store_then_sends_nothing_again(
        cli: Cli, store: TraySandbox, tmp_path: Path) -> None:
    first = cli("sync", NAME, "--json")
    assert first.code == 0, first.text
    data = first.json()
    assert data["dry_run"] is False
    assert [f["flow"] for f in data["connections"][NAME]["flows"]] == list(FLOW_NAMES)
    assert all(f["status"] == "ran" for f in data["connections"][NAME]["flows"])
    totals = data["totals"]
    assert set(totals) >= {"sent", "received", "unchanged", "skipped", "held", "failed", "planned"}
    assert totals == data["connections"][NAME]["totals"]
    assert totals["sent"] > 0 and totals["received"] == len(store.data["orders"]) == 3
    assert totals["held"] == totals["failed"] == 0
    assert sorted(flows_of(data)["orders"]["received"]) == sorted(store.data["orders"])

    with erp_of(tmp_path) as erp:
        products, stock = erp.products(), {s.sku: s.quantity for s in erp.stock()}
        imported = erp.orders()
    codes = {p.code for p in products if p.code.startswith("ERP-")}
    assert len(codes) == 3 and len(imported) == 3
    assert codes <= {p.code for p in store.held_products()}
    assert sorted(flows_of(data)["products"]["sent"]) == sorted(codes)
    held = store.held_stock()
    for product in products:
        if product.code in codes:
            for sku in product.skus:
                assert held[sku] == stock[sku]

    second = cli("sync", NAME, "--json")
    assert second.code == 0, second.text
    again = second.json()
    assert again["totals"]["sent"] == 0 and again["totals"]["received"] == 0
    assert again["totals"]["unchanged"] > 0


# -- 2. dry run -------------------------------------------------------------------------------


def test_sync_dry_run_lists_the_planned_writes_and_writes_nothing(
        cli: Cli, store: TraySandbox, tmp_path: Path) -> None:
    before = store_snapshot(store)
    result = cli("sync", NAME, "--dry-run", "--json")
    assert result.code == 0, result.text
    data = result.json()
    assert data["dry_run"] is True
    flows = flows_of(data)
    with erp_of(tmp_path) as erp:
        codes = sorted(p.code for p in erp.products())
        skus = sorted(p.sku for p in erp.prices())
        assert erp.orders() == []  # nothing imported either
    assert sorted(flows["products"]["planned"]) == codes
    assert sorted(flows["prices"]["planned"]) == skus
    assert sorted(flows["stock"]["planned"]) == skus
    assert sorted(flows["orders"]["planned"]) == sorted(store.data["orders"])
    assert data["totals"]["sent"] == 0 and data["totals"]["received"] == 0
    assert data["totals"]["planned"] == sum(len(f["planned"]) for f in flows.values()) > 0

    assert store_snapshot(store) == before
    writes = [c for c in store.calls
              if c.method not in ("GET", "HEAD") and not c.path.endswith("/auth")]
    assert writes == []

    text = cli("sync", NAME, "--dry-run")
    assert text.code == 0
    assert "nothing written" in text.out and f"{NAME} products would write: " in text.out
    assert store_snapshot(store) == before
    status = cli("status", "--json")
    assert status.json()[0]["checkpoints"] == {}  # a dry run moves no checkpoint


# -- 3. one flow ------------------------------------------------------------------------------


def test_sync_flow_products_runs_only_the_products_flow(
        cli: Cli, store: TraySandbox, tmp_path: Path) -> None:
    with erp_of(tmp_path) as erp:
        codes = sorted(p.code for p in erp.products())
    # alone on a new connection: the categories are not bound yet, so each product is held
    alone = cli("sync", NAME, "--flow", "products", "--json")
    assert alone.code == 1, alone.text
    assert list(flows_of(alone.json())) == ["products"]
    assert sorted(h["id"] for h in flows_of(alone.json())["products"]["held"]) == codes
    assert all("categor" in h["reason"] for h in flows_of(alone.json())["products"]["held"])

    categories = cli("sync", NAME, "--flow", "categories", "--json")
    assert list(flows_of(categories.json())) == ["categories"]
    result = cli("sync", NAME, "--flow", "products", "--json")
    assert result.code == 0, result.text
    data = result.json()
    assert list(flows_of(data)) == ["products"]
    assert sorted(flows_of(data)["products"]["sent"]) == codes
    assert set(codes) <= {p.code for p in store.held_products()}
    assert data["totals"]["received"] == 0
    with erp_of(tmp_path) as erp:
        assert erp.orders() == []  # the orders flow did not run
    assert cli("status", "--json").json()[0]["checkpoints"] == {}
    assert not [c for c in store.calls if "/orders" in c.path]


# -- 4. every ---------------------------------------------------------------------------------


def test_sync_every_with_runs_repeats_that_many_times_and_a_nonsense_interval_is_a_usage_error(
        cli: Cli, sigterm: Any) -> None:
    result = cli("sync", NAME, "--every", "0.01s", "--runs", "2", "--json")
    assert result.code == 0, result.text
    first, second, *more = result.documents()
    assert more == []
    assert first["totals"]["sent"] > 0
    assert second["totals"]["sent"] == 0 and second["totals"]["received"] == 0

    for nonsense in ("nonsense", "0", "-5m", "10 minutes"):
        refused = cli("sync", NAME, f"--every={nonsense}", "--runs", "1")
        assert refused.code == 2, nonsense
        assert "--every" in refused.err and "30s" in refused.err and nonsense in refused.err


def test_sync_every_leaves_the_callers_sigterm_handler_as_it_was(cli: Cli, sigterm: Any) -> None:
    assert cli("sync", NAME, "--every", "0.01s", "--runs", "1").code == 0
    assert signal.getsignal(signal.SIGTERM) == sigterm


# -- 5. held records --------------------------------------------------------------------------


def _refused_price(tmp_path: Path) -> str:
    """An ERP price Tray refuses (a sale price apart from the list price); its SKU."""
    with erp_of(tmp_path) as erp:
        price = erp.prices()[0]
        erp.put_price(attrs.evolve(price, sale_price=price.list_price - Decimal("1.00")))
    return price.sku


def test_a_held_record_makes_sync_exit_1_and_status_shows_it(cli: Cli, tmp_path: Path) -> None:
    sku = _refused_price(tmp_path)
    result = cli("sync", NAME)
    assert result.code == 1, result.text
    assert f"{NAME} prices {sku}" in result.out and "sale_price" in result.out

    status = cli("status")
    assert status.code == 1
    assert re.search(rf"held prices {re.escape(sku)} \(1x\): .*sale_price", status.out)

    listed = cli("status", "--json")
    entry = listed.json()[0]
    assert entry["connection"] == NAME and entry["plugin"] == "tray_rest"
    held = [(h["flow"], h["item_id"]) for h in entry["held"]]
    assert held == [("prices", sku)]
    assert "sale_price" in entry["held"][0]["reason"]

    again = cli("sync", NAME, "--json")  # still refused: still held, attempts counted
    assert again.code == 1
    assert [h["id"] for h in flows_of(again.json())["prices"]["held"]] == [sku]
    assert cli("status", "--json").json()[0]["held"][0]["attempts"] == 2


def test_status_json_exits_1_like_status_when_a_record_is_held(cli: Cli, tmp_path: Path) -> None:
    _refused_price(tmp_path)
    assert cli("sync", NAME).code == 1
    assert cli("status").code == 1
    assert cli("status", "--json").code == 1


# -- 6. orders --------------------------------------------------------------------------------


def test_orders_lists_the_store_orders_integrated_or_not_and_import_takes_just_the_one_named(
        cli: Cli, store: TraySandbox, tmp_path: Path) -> None:
    ids = sorted(store.data["orders"], key=int)
    listed = cli("orders", NAME, "--json")
    assert listed.code == 0, listed.text
    rows = listed.json()
    assert sorted((r["id"] for r in rows), key=int) == ids
    assert all(r["integrated"] is False for r in rows)
    assert all({"number", "placed_at", "status", "total"} <= set(r) for r in rows)

    chosen = ids[1]
    imported = cli("orders", "import", NAME, chosen, "--json")
    assert imported.code == 0, imported.text
    assert flows_of(imported.json())["orders"]["received"] == [chosen]
    with erp_of(tmp_path) as erp:
        assert len(erp.orders()) == 1
    after_import = {r["id"]: r["integrated"] for r in cli("orders", NAME, "--json").json()}
    assert after_import == {i: i == chosen for i in ids}

    table = cli("orders", NAME)
    assert table.code == 0 and "not integrated" in table.out

    assert cli("sync", NAME).code == 0
    after_sync = cli("orders", NAME, "--json").json()
    assert {r["id"]: r["integrated"] for r in after_sync} == {i: True for i in ids}
    with erp_of(tmp_path) as erp:
        assert len(erp.orders()) == len(ids)  # the imported one not twice


# -- 7. products export -----------------------------------------------------------------------


def test_products_export_with_a_code_exports_only_that_product(
        cli: Cli, store: TraySandbox, tmp_path: Path) -> None:
    with erp_of(tmp_path) as erp:
        codes = sorted(p.code for p in erp.products())
    chosen = codes[1]
    result = cli("products", "export", NAME, chosen, "--json")
    assert result.code == 0, result.text
    flows = flows_of(result.json())
    assert list(flows) == ["categories", "products"]
    assert flows["products"]["sent"] == [chosen]
    on_store = {p.code for p in store.held_products()}
    assert on_store & set(codes) == {chosen}


# -- 8. mappings suggest ----------------------------------------------------------------------


def test_mappings_suggest_proposes_missing_kinds_and_accept_appends_them_to_a_file_that_loads(
        tmp_path: Path, erp_path: Path, store: TraySandbox, secret_settings: frozenset[str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, store, secret_settings, monkeypatch, kinds=["shipping"])
    cli = Cli(capsys, store, path)
    original = path.read_text(encoding="utf-8")

    proposed = cli("mappings", "suggest", NAME)
    assert proposed.code == 0, proposed.text
    tables = tomllib.loads(proposed.out)["connections"][NAME]["mappings"]
    assert "shipping" not in tables  # the file has it already
    assert {"status", "payment"} <= set(tables)
    assert tables["status"]["6"] == "shipped" and tables["status"]["10"] == "cancelled"
    assert "channel: not offered" in proposed.out

    accepted = cli("mappings", "suggest", NAME, "--accept")
    assert accepted.code == 0, accepted.text
    assert f"appended to {path}" in accepted.out
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original)
    for name in secret_settings:
        assert f'{name} = {{ env = "{_env_name(name)}" }}' in text
    assert not [s for s in SECRETS if s in text]

    loaded = load_config(path).connection(NAME)
    assert loaded.mappings["shipping"] == dict(store.profile.mappings["shipping"])
    for kind in ("status", "payment"):
        assert dict(loaded.mappings[kind]) == tables[kind]
    assert loaded.settings["consumer_key"] == store.settings["consumer_key"]

    nothing_left = cli("mappings", "suggest", NAME)
    assert nothing_left.code == 0
    assert "[connections." not in nothing_left.out


# -- 9. auth ----------------------------------------------------------------------------------


def test_auth_says_authorized_and_a_wrong_secret_fails_without_showing_it(
        cli: Cli, tmp_path: Path, store: TraySandbox, secret_settings: frozenset[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("auth", NAME)
    assert result.code == 0, result.text
    assert f"{NAME}: authorized" in result.out

    wrong = write_config(tmp_path, store, secret_settings, monkeypatch, state="other-state.sqlite3")
    monkeypatch.setenv(_env_name("consumer_secret"), WRONG_SECRET)
    refused = cli("auth", NAME, config=wrong)
    assert refused.code in (1, 2)
    assert f"{NAME}: authorized" not in refused.out
    assert "AuthenticationError" in refused.text
    assert WRONG_SECRET not in refused.text


# -- 10. purge --------------------------------------------------------------------------------


def test_purge_days_1_exits_0_and_says_what_it_purged(cli: Cli) -> None:
    assert cli("sync", NAME).code == 0
    result = cli("purge", "--days", "1")
    assert result.code == 0, result.text
    assert re.search(r"purged personal data older than 1 days: \d+ sync rows, \d+ customers",
                     result.out)
    assert cli("purge", "--days", "0").code == 2


# -- 11. configuration errors -----------------------------------------------------------------


def test_a_missing_config_says_how_to_make_one_and_an_unknown_connection_is_a_usage_error(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = cli("sync", NAME, config=tmp_path / "missing.toml")
    assert missing.code == 2
    assert "missing.toml" in missing.err and "does not exist" in missing.err
    assert "make one" in missing.err and "[connections.NAME]" in missing.err

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    default = cli("status", config=False)  # no --config, no $TRAMO_CONFIG, no ./tramo.toml
    assert default.code == 2
    assert "tramo.toml" in default.err and "make one" in default.err
    assert "TRAMO_CONFIG" in default.err

    for command in (["sync", "nope"], ["orders", "nope"], ["auth", "nope"],
                    ["products", "export", "nope"], ["mappings", "suggest", "nope"]):
        unknown = cli(*command)
        assert unknown.code == 2, command
        assert "'nope'" in unknown.err and NAME in unknown.err


# -- 12. secrets ------------------------------------------------------------------------------


def test_no_output_of_any_command_contains_a_secret_value(
        cli: Cli, tmp_path: Path, store: TraySandbox, secret_settings: frozenset[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for command in (["auth", NAME], ["sync", NAME], ["sync", NAME, "--json"], ["status"],
                    ["status", "--json"], ["orders", NAME], ["orders", NAME, "--json"],
                    ["mappings", "suggest", NAME], ["mappings", "suggest", NAME, "--json"],
                    ["products", "export", NAME, "--dry-run"], ["purge", "--days", "1"]):
        cli(*command)
    wrong = write_config(tmp_path, store, secret_settings, monkeypatch, state="other-state.sqlite3")
    for name in secret_settings:
        monkeypatch.setenv(_env_name(name), WRONG_SECRET)
        for command in (["auth", NAME], ["sync", NAME], ["orders", NAME, "--json"]):
            assert cli(*command, config=wrong).code != 0
    # every command this module ran, in this test or before it
    assert len(OUTPUTS) >= 17
    assert SECRETS >= {str(store.settings[name]) for name in secret_settings} | {WRONG_SECRET}
    assert len(SECRETS) > 1 + len(secret_settings)  # tokens the store issued are among them
    for argv, text in OUTPUTS:
        assert not [s for s in SECRETS if s and s in text], argv


# -- 13. demo ---------------------------------------------------------------------------------


def test_demo_json_runs_every_built_in_plugin_and_each_receives_and_sends(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    data = json.loads(out)
    assert data["plugins"] == BUILT_INS
    assert data["unavailable"] == {}
    for name in BUILT_INS:
        totals = data["connections"][name]["totals"]
        assert totals["received"] > 0 and totals["sent"] > 0, name
