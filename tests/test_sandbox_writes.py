"""Which calls each sandbox counts as writes (``Sandbox.is_write``), from calls that reached it.

Benchmarks count a platform's write calls with this; a platform whose reads
are not GETs (SOAP, GraphQL, file servers) or whose login is a POST says so
itself. Each plugin's calls here come from its own client: ``check()`` only
reads (and logs in), ``send_products`` writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.registry import discover
from tramo.sandbox import Call, Fault, Sandbox
from tramo.testing.kit import connect_to
from tramo_ideris.sandbox import IderisSandbox
from tramo_shopify.sandbox import ACCESS_TOKEN, VERSIONS, ShopifySandbox
from tramo_tray_ftp.sandbox import tray_ftp_sandbox
from tramo_tray_rest.sandbox import TraySandbox
from tramo_tray_soap.sandbox import PATH, TraySoapSandbox

PRODUCT = tramo.Product(code="W-0001", name="Caneca Ágata 350 ml", price=Decimal("39.90"))
PLAIN_PRODUCT_WRITES = {"tray_rest": [("POST", "/web_api/products")],
                        "ideris": [("POST", "/Produto")]}


class _Bare(Sandbox):
    """A sandbox with nothing but the shared behaviour (no server)."""

    def _start(self) -> None: ...

    def _stop(self) -> None: ...

    @property
    def settings(self) -> dict[str, Any]:
        return {}

    def fresh_data(self) -> dict[str, Any]:
        return {}


def a_call(method: str, path: str = "/x", query: str = "", status: int | None = 200) -> Call:
    return Call(method, path, query, status, None, 0.0)


@given(st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]) | st.text(max_size=8))
def test_by_default_every_method_but_get_and_head_writes(method: str) -> None:
    assert _Bare().is_write(a_call(method)) is (method not in ("GET", "HEAD"))


def _sent(sandbox: Sandbox, plugin: str) -> tuple[list[Call], list[Call]]:
    """The calls of ``check()`` (reads and logins), then those of sending one product."""
    connection = connect_to(sandbox, discover(allow=[plugin]))
    try:
        connection.check()
        checked = list(sandbox.calls)
        results = connection.call("send_products", products=[PRODUCT])
        assert [r.outcome for r in results] == [tramo.Outcome.CREATED]
        sandbox.settle(timeout=5.0)
        return checked, list(sandbox.calls)[len(checked):]
    finally:
        connection.close()


@pytest.mark.parametrize("plugin", ["tray_rest", "ideris"])
def test_rest_logins_are_not_writes_and_creations_are(plugin: str) -> None:
    sandbox: Sandbox = TraySandbox() if plugin == "tray_rest" else IderisSandbox()
    login = "/web_api/auth" if plugin == "tray_rest" else "/login"
    with sandbox:
        checked, sent = _sent(sandbox, plugin)
    assert any(c.method == "POST" and c.path.lower() == login for c in checked)
    assert not [c for c in checked if sandbox.is_write(c)]
    assert [(c.method, c.path) for c in sent if sandbox.is_write(c)] == \
        PLAIN_PRODUCT_WRITES[plugin]
    assert any(c.method == "GET" for c in sent)  # the look-up before the creation


def test_soap_calls_name_their_operation_and_only_receipts_are_writes() -> None:
    with TraySoapSandbox() as store:
        checked, sent = _sent(store, "tray_soap")
        assert all(c.query for c in checked + sent if c.method == "POST")
        assert not [c for c in checked if store.is_write(c)]
        assert [c.query for c in sent if store.is_write(c)] == ["fWSCadastraProduto"]
        assert any(c.query.startswith("fWSImporta") for c in sent)  # the look-up, a read
        store.inject(Fault.RATE_LIMITED)
        refused = httpx.post(store.url + PATH, content=b"<anything/>")
        last = store.calls[-1]
    # refused before its body was read: nobody knows which it was, so it counts
    assert refused.status_code == 429 and last.query == "" and store.is_write(last)
    assert not store.is_write(a_call("GET", PATH, "wsdl"))


def _graphql(shop: ShopifySandbox, query: str) -> httpx.Response:
    return httpx.post(f"{shop.url}/admin/api/{VERSIONS[-1]}/graphql.json", json={"query": query},
                      headers={"X-Shopify-Access-Token": ACCESS_TOKEN})


def test_shopify_mutations_are_writes_queries_and_bulk_reads_are_not() -> None:
    with ShopifySandbox() as shop:
        checked, sent = _sent(shop, "shopify")
        assert not [c for c in checked if shop.is_write(c)]
        assert all(c.query.startswith("query ") for c in checked)
        assert "mutation productSet" in [c.query for c in sent if shop.is_write(c)]
        bulk = _graphql(shop, 'mutation { bulkOperationRunQuery(query: "{ products { edges { '
                              'node { id } } } }") { bulkOperation { id } } }')
        started = shop.calls[-1]
        shop.inject(Fault.RATE_LIMITED)
        refused = _graphql(shop, "{ shop { name } }")
        last = shop.calls[-1]
    assert bulk.status_code == 200 and "errors" not in bulk.json()
    assert started.query == "mutation bulkOperationRunQuery" and not shop.is_write(started)
    assert refused.status_code == 429 and last.query == "" and shop.is_write(last)
    assert shop.is_write(a_call("POST", "/g", "mutation productSet,bulkOperationRunQuery"))
    assert not shop.is_write(a_call("GET", "/bulk/x.jsonl"))


UPLOAD_PARTS = {"sftp": {"open", "write", "posix_rename", "rename", "mkdir"},
                "ftps": {"STOR", "RNTO", "MKD"}}


@pytest.fixture(params=["sftp", "ftps"])
def file_store(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with tray_ftp_sandbox(request.param) as store:
        yield store


def test_file_servers_count_uploads_renames_and_removals(file_store: Sandbox) -> None:
    transport = file_store.settings["transport"]
    checked, sent = _sent(file_store, "tray_ftp")
    assert not [c for c in checked if file_store.is_write(c)]
    writes = {c.method for c in sent if file_store.is_write(c)}
    upload = "open" if transport == "sftp" else "STOR"
    assert upload in writes and writes <= UPLOAD_PARTS[transport]
    assert {c.method for c in sent} - writes  # the folder's stat or listing: reads


@pytest.fixture(scope="module")
def unstarted() -> dict[str, Sandbox]:
    """One store per protocol, never started: ``is_write`` reads only the call."""
    return {"sftp": tray_ftp_sandbox("sftp"), "ftps": tray_ftp_sandbox("ftps")}


@pytest.mark.parametrize("method, query, writes", [
    ("open", "r", False), ("open", "w", True), ("open", "a", True), ("open", "rw+x", True),
    ("read", "", False), ("list", "", False), ("stat", "", False), ("remove", "", True),
    ("rename", "to=/b", True), ("setstat", "", True), ("rmdir", "", True)])
def test_sftp_operations(unstarted: dict[str, Sandbox], method: str, query: str,
                         writes: bool) -> None:
    assert unstarted["sftp"].is_write(a_call(method, "/a", query, 0)) is writes


@pytest.mark.parametrize("command, writes", [
    ("RETR", False), ("LIST", False), ("MLSD", False), ("SIZE", False), ("RNFR", False),
    ("STOR", True), ("APPE", True), ("DELE", True), ("RNTO", True), ("MKD", True),
    ("RMD", True), ("SITE CHMOD", True)])
def test_ftp_commands(unstarted: dict[str, Sandbox], command: str, writes: bool) -> None:
    assert unstarted["ftps"].is_write(a_call(command, "/a", "", 226)) is writes
