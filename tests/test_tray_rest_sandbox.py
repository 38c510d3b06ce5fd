"""The Tray sandbox: a Tray store's ``web_api`` on loopback, checked over plain HTTP.

No plugin code takes part: requests are made with httpx as any client would,
and what the store holds is read back through the sandbox's ``held_*`` view.
One sandbox serves the module; each test gets a new store (``reset``) and a
fresh access token. Rate limits are switched off per test (a burst of writes
would otherwise meet Tray's 180 a minute, scaled) except where they are the subject.

The payload-shape test compares the sandbox's answers with the documented
example payloads in ``fixtures/tray_rest`` key by key; every response fixture
must have its request in ``SHAPES`` and every departure a written reason in
``ALLOWED``, so nothing is skipped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

import tramo
from tramo.budget import Window
from tramo.model.identifiers import cpf_check_digits
from tramo.sandbox import Fault
from tramo_tray_rest.sandbox import (
    CODE,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    MAPPINGS,
    STORE_ID,
    TraySandbox,
)
from tramo_tray_rest.sandbox_records import STORE_TZ, parse_php_form

FIXTURES = Path(__file__).parent / "fixtures" / "tray_rest"
WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=STORE_TZ)
CPF = "123456789" + cpf_check_digits("123456789")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
CREDENTIALS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "code": CODE}
KEY = "35260311222333000181550010000012341000012345"


# -- the sandbox, a client, and records to work with -----------------------------------------


@pytest.fixture(scope="module")
def running() -> Iterator[TraySandbox]:
    with TraySandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: TraySandbox) -> TraySandbox:
    running.reset()
    running.configure(rate_limits=())
    return running


class Api:
    """Plain HTTP to the sandbox's web_api, the access token in the query (as Tray wants)."""

    def __init__(self, sandbox: TraySandbox) -> None:
        self.sandbox = sandbox
        self.client = httpx.Client(base_url=sandbox.settings["api_address"], timeout=5.0)
        self.token = ""
        self.refresh = ""

    def login(self) -> dict[str, Any]:
        answer = ok(self.client.post("/auth", data=CREDENTIALS), 201)
        self.token, self.refresh = answer["access_token"], answer["refresh_token"]
        return answer

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             **kwargs: Any) -> httpx.Response:
        query = {"access_token": self.token, **(params or {})}
        return self.client.request(method, path, params=query, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.call("POST", path, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str) -> httpx.Response:
        return self.call("DELETE", path)

    def ids(self, path: str, **query: Any) -> list[str]:
        """The ids on a list page (``Products`` -> ``Product`` -> ``id``)."""
        answer = ok(self.get(path, **query))
        [key] = [k for k in answer if k not in ("paging", "sort", "availableFilters",
                                                "appliedFilters")]
        return [next(iter(item.values()))["id"] for item in answer[key]]


@pytest.fixture
def api(store: TraySandbox) -> Iterator[Api]:
    client = Api(store)
    client.login()
    yield client
    client.client.close()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int = 400) -> list[str]:
    """The causes of a Tray error answer, after checking its documented shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and isinstance(body["name"], str)
    assert body["url"] == response.request.url.path
    assert isinstance(body["causes"], list) and all(isinstance(c, str) for c in body["causes"])
    return list(body["causes"])


def category(api: Api, name: str, parent: str | None = None) -> str:
    body = {"name": name, **({"parent_id": parent} if parent else {})}
    return str(ok(api.post("/categories", {"Category": body}), 201)["id"])


def product(api: Api, **fields: Any) -> str:
    body = {"name": "Camiseta Básica", "price": "49.90", **fields}
    return str(ok(api.post("/products", {"Product": body}), 201)["id"])


def variant(api: Api, product_id: str, **fields: Any) -> str:
    body = {"Variant": {"product_id": product_id, **fields}}
    return str(ok(api.post("/products/variants", body), 201)["id"])


def get_product(api: Api, ident: str) -> dict[str, Any]:
    return dict(ok(api.get(f"/products/{ident}"))["Product"])


def get_order(api: Api, ident: str, suffix: str = "") -> dict[str, Any]:
    return dict(ok(api.get(f"/orders/{ident}{suffix}"))["Order"])


def an_order(*items: tuple[str, int], **changes: Any) -> tramo.Order:
    """A buyer's order of ``(sku, quantity)`` lines at R$ 10.00 each, Sedex, paid by Pix."""
    lines = tuple(tramo.OrderItem(sku=sku, name=f"Item {sku}", quantity=quantity,
                                  unit_price=Decimal("10.00"))
                  for sku, quantity in items or (("AVULSO", 1),))
    total = sum((line.total for line in lines), Decimal(0)) + Decimal("20.00")
    home = tramo.Address(street="Avenida Paulista", number="1000", district="Bela Vista",
                         city="São Paulo", state="SP", postal_code="01310-100",
                         recipient="Ana Souza")
    office = attrs.evolve(home, number="2000", complement="Sala 5")
    order = tramo.Order(
        id="ERP-1", placed_at=WHEN, items=lines, total=total,
        customer=tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br",
                                phones=("1133334444", "11999998888")),
        platform_status="2", billing_address=office, delivery_address=home,
        shipping=tramo.Shipping(platform_method="Correios Sedex", carrier="Correios",
                                freight=Decimal("20.00"),
                                estimated_delivery=WHEN + timedelta(days=3)),
        payments=(tramo.Payment(value=total, platform_method="81", paid_at=WHEN),),
        notes="Entregar à tarde")
    return attrs.evolve(order, **changes)


def scalars(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON answer with its path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from scalars(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from scalars(inner, f"{path}[{i}]")
    else:
        yield path, value


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- auth -----------------------------------------------------------------------------------------


def test_the_code_exchange_answers_the_documented_token_fields(store: TraySandbox) -> None:
    answer = ok(Api(store).client.post("/auth", data=CREDENTIALS), 201)
    assert set(answer) == set(fixture("auth_create_tokens_response.json"))
    assert answer["message"] == "Created tokens" and answer["code"] == "201"
    assert answer["api_host"] == store.settings["api_address"]
    assert answer["store_id"] == STORE_ID
    keys = ("date_activated", "date_expiration_access_token", "date_expiration_refresh_token")
    assert all(MOMENT.fullmatch(answer[k]) for k in keys)
    activated, access, refresh = (datetime.strptime(answer[k], "%Y-%m-%d %H:%M:%S") for k in keys)
    assert abs((access - activated).total_seconds() - store.duration(3 * 3600)) <= 1
    assert abs((refresh - activated).total_seconds() - store.duration(30 * 86400)) <= 1


def test_the_code_is_taken_as_json_too_and_each_exchange_issues_new_tokens(
        store: TraySandbox) -> None:
    api = Api(store)
    first = ok(api.client.post("/auth", json=CREDENTIALS), 201)
    second = ok(api.client.post("/auth", data=CREDENTIALS), 201)
    assert first["access_token"] != second["access_token"]
    for token in (first["access_token"], second["access_token"]):
        ok(api.client.get("/products", params={"access_token": token}))
    assert store.issued_tokens() == 2


def test_wrong_credentials_get_a_401_with_error_code_1099(store: TraySandbox) -> None:
    response = Api(store).client.post("/auth", data={**CREDENTIALS, "consumer_secret": "wrong"})
    refused(response, 401)
    assert response.json()["error_code"] == 1099
    assert response.json()["name"] == "Unauthorized access"
    assert store.issued_tokens() == 0


def test_every_route_but_auth_needs_a_known_access_token(api: Api) -> None:
    for query in ({}, {"access_token": "not-a-token"}):
        response = api.client.get("/orders", params=query)
        assert refused(response, 401) == ["Token inválido"]
        assert response.json()["error_code"] == 1099


def test_an_expired_access_token_gets_exactly_the_documented_401(api: Api) -> None:
    api.sandbox.expire_access_tokens()
    response = api.get("/orders")
    assert response.status_code == 401
    assert response.json() == {**fixture("error_401_error_code.json"), "url": "/web_api/orders"}


def test_a_refresh_rotates_the_refresh_token_and_old_access_tokens_live_on(api: Api) -> None:
    old_access, old_refresh = api.token, api.refresh
    answer = ok(api.client.get("/auth", params={"refresh_token": old_refresh}))
    assert answer["message"] == "Refreshed tokens" and answer["code"] == "200"
    assert answer["refresh_token"] != old_refresh and answer["access_token"] != old_access
    again = api.client.get("/auth", params={"refresh_token": old_refresh})
    refused(again, 401)
    assert again.json()["error_code"] == 1099
    for token in (old_access, answer["access_token"]):
        ok(api.client.get("/orders", params={"access_token": token}))


def test_an_expired_access_token_is_renewed_with_the_refresh_token(api: Api) -> None:
    api.sandbox.expire_access_tokens()
    assert api.get("/orders").json()["error_code"] == 1000
    answer = ok(api.client.get("/auth", params={"refresh_token": api.refresh}))
    ok(api.client.get("/orders", params={"access_token": answer["access_token"]}))


# -- knobs, settings, reset ------------------------------------------------------------------


def test_without_knobs_the_store_keeps_trays_limits_a_hundred_times_faster(
        running: TraySandbox) -> None:
    running.reset()
    assert running.knobs.time_scale == 100
    assert list(running.knobs.rate_limits) == [Window(180, 60), Window(10_000, 86_400)]
    settings = running.settings
    assert (settings["requests_per_minute"], settings["requests_per_day"]) == (18_000, 1_000_000)
    assert settings["api_address"] == f"{running.url}/web_api"
    assert (settings["consumer_key"], settings["consumer_secret"], settings["code"]) == (
        CONSUMER_KEY, CONSUMER_SECRET, CODE)
    assert re.fullmatch(r"[0-9a-f]{64}", CODE) and settings["store_id"] == "391250"


def test_without_rate_limits_the_settings_still_announce_trays(store: TraySandbox) -> None:
    store.configure(time_scale=10)
    settings = store.settings
    assert (settings["requests_per_minute"], settings["requests_per_day"]) == (1800, 100_000)


def test_a_reset_store_is_empty_and_forgets_its_tokens(api: Api) -> None:
    product(api)
    api.sandbox.place_order(an_order())
    api.sandbox.reset()
    assert api.get("/products").json()["error_code"] == 1099
    assert api.sandbox.held_products() == [] and api.sandbox.held_trackings() == {}
    assert api.sandbox.data["orders"] == {} and api.sandbox.issued_tokens() == 0


def test_the_profile_carries_the_hosts_mapping_tables(api: Api) -> None:
    profile = TraySandbox.profile
    assert profile.orders == "incremental" and profile.page_size_setting == "page_size"
    assert profile.mappings == MAPPINGS
    assert set(MAPPINGS["status"]) <= set(api.ids("/orders/statuses"))


# -- wire conventions ---------------------------------------------------------------------------


def test_php_bracket_keys_become_nested_objects_and_lists() -> None:
    pairs = [("Product[name]", "Tênis"), ("Product[Sku][0][type]", "Cor"),
             ("Product[Sku][0][value]", "Azul"), ("Product[Sku][1][type]", "Tamanho"),
             ("Product[related_categories][]", "2"), ("Product[related_categories][]", "3"),
             ('["Order"]["point_sale"]', "LOJA"), ("flat", "1")]
    assert parse_php_form(pairs) == {
        "Product": {"name": "Tênis",
                    "Sku": [{"type": "Cor", "value": "Azul"}, {"type": "Tamanho"}],
                    "related_categories": ["2", "3"]},
        "Order": {"point_sale": "LOJA"}, "flat": "1"}


def test_json_numbers_and_form_text_write_the_same_product(api: Api) -> None:
    shelf = category(api, "Camisetas")
    as_json = product(api, reference="A", price=49.9, stock=7, weight=300, available=1,
                      category_id=int(shelf), related_categories=[int(shelf)])
    form = {"Product[name]": "Camiseta Básica", "Product[reference]": "B",
            "Product[price]": "49.90", "Product[stock]": "7", "Product[weight]": "300",
            "Product[available]": "1", "Product[category_id]": shelf,
            "Product[related_categories][]": shelf}
    as_form = str(ok(api.post("/products", data=form), 201)["id"])
    varying = {"id", "reference", "modified", "created"}
    one, two = get_product(api, as_json), get_product(api, as_form)
    assert {k: v for k, v in one.items() if k not in varying} == {
        k: v for k, v in two.items() if k not in varying}
    assert (one["price"], one["stock"], one["related_categories"]) == ("49.90", "7", [shelf])


def test_every_scalar_in_a_record_is_text(api: Api) -> None:
    shelf = category(api, "Camisetas")
    ident = product(api, reference="CAM", category_id=shelf,
                    picture_source_1="https://img.example.com/1.jpg")
    variant(api, ident, reference="CAM-P", Sku=[{"type": "Tamanho", "value": "P"}], stock=3)
    api.sandbox.place_order(an_order(("CAM-P", 1)))
    answers = [ok(api.get(f"/products/{ident}")), ok(api.get("/products/variants/1")),
               ok(api.get("/orders/1/complete")), ok(api.get("/categories/tree"))]
    for answer in answers:
        odd = [(path, value) for path, value in scalars(answer)
               if not isinstance(value, str) and not path.endswith(".children")]
        assert odd == []


def test_a_body_without_its_wrapper_key_is_a_400(api: Api) -> None:
    causes = refused(api.post("/products", {"name": "Camiseta", "price": "10.00"}))
    assert causes and causes[0].startswith("Product")
    broken = api.post("/products", content=b"{not json",
                      headers={"Content-Type": "application/json"})
    assert refused(broken) == ["corpo da requisição: JSON inválido"]


def test_pages_give_totals_offsets_and_clamp_the_limit(api: Api) -> None:
    for n in range(7):
        category(api, f"Categoria {n}")
    page = ok(api.get("/categories", limit=3, page=3))
    assert page["paging"] == {"total": 7, "page": 3, "offset": 6, "limit": 3, "maxLimit": 50}
    assert [c["Category"]["id"] for c in page["Categories"]] == ["7"]
    assert ok(api.get("/categories"))["paging"]["limit"] == 30
    assert ok(api.get("/categories", limit=80))["paging"]["limit"] == 50
    beyond = ok(api.get("/categories", page=9))
    assert beyond["Categories"] == [] and beyond["paging"]["total"] == 7
    assert refused(api.get("/categories", page=0))[0].startswith("page")
    assert refused(api.get("/categories", limit="x"))[0].startswith("limit")


def test_lists_sort_by_id_or_modified_either_way(api: Api) -> None:
    first, second, third = (product(api, name=f"Produto {n}") for n in range(3))
    ok(api.put(f"/products/{first}", {"Product": {"stock": 9}}))
    assert api.ids("/products") == [first, second, third]
    assert api.ids("/products", sort="id_desc") == [third, second, first]
    assert api.ids("/products", sort="modified_asc") == [second, third, first]
    assert api.ids("/products", sort="modified_desc") == [first, third, second]
    assert ok(api.get("/products", sort="modified_desc"))["sort"] == [{"modified": "desc"}]
    assert refused(api.get("/products", sort="name_asc"))[0].startswith("sort")


def test_the_modified_filter_takes_a_day_on_or_a_closed_range_of_days(api: Api) -> None:
    early = api.sandbox.place_order(an_order())
    api.sandbox.advance(days=2)
    late = api.sandbox.place_order(an_order())
    assert api.ids("/orders", modified="2026-03-02") == [early, late]
    assert api.ids("/orders", modified="2026-03-04") == [late]
    assert api.ids("/orders", modified="2026-03-02,2026-03-03") == [early]
    assert api.ids("/orders", modified="2026-03-03, 2026-03-04") == [late]
    assert api.ids("/orders", modified="2026-03-05") == []
    for bad in ("02/03/2026", "2026-03-02,", "2026-02-30", "ontem"):
        assert refused(api.get("/orders", modified=bad))[0].startswith("modified")


# -- products and variants ---------------------------------------------------------------------


def test_a_product_is_read_back_as_written_with_what_the_store_derives(api: Api) -> None:
    moda = category(api, "Moda")
    shirts = category(api, "Camisetas", moda)
    ident = product(api, reference="CAM-1", ean="7891234567895", ncm="61091000", brand="Hering",
                    description="Camiseta de algodão", description_small="Algodão",
                    cost_price="20", promotional_price="39.90", start_promotion="2026-03-01",
                    end_promotion="2026-03-31", weight=250, length=30, width=20, height=2,
                    stock=12, category_id=shirts, model="Slim", available=0)
    other = product(api, name="Regata", brand="Hering")
    third = product(api, name="Polo", brand="Lacoste", price=0)
    got = get_product(api, ident)
    assert [got[k] for k in ("name", "reference", "ean", "ncm", "model")] == [
        "Camiseta Básica", "CAM-1", "7891234567895", "61091000", "Slim"]
    assert [got[k] for k in ("price", "cost_price", "promotional_price", "current_price")] == [
        "49.90", "20.00", "39.90", "39.90"]
    assert [got[k] for k in ("weight", "length", "stock", "available")] == ["250", "30", "12", "0"]
    assert (got["category_id"], got["category_name"]) == (shirts, "Camisetas")
    assert got["all_categories"] == [shirts, moda]
    assert got["brand_id"] == get_product(api, other)["brand_id"]
    assert got["brand_id"] != get_product(api, third)["brand_id"]
    assert got["upon_request"] == "0" and get_product(api, third)["upon_request"] == "1"
    assert MOMENT.fullmatch(got["modified"]) and got["modified"] == got["created"]


def test_an_update_changes_only_what_it_names_and_moves_modified(api: Api) -> None:
    ident = product(api, reference="X1", stock=5)
    before = get_product(api, ident)
    saved = ok(api.put(f"/products/{ident}", {"Product": {"stock": 8}}))
    assert saved == {"message": "Saved", "id": ident, "code": 200}
    after = get_product(api, ident)
    assert (after["stock"], after["name"], after["reference"]) == ("8", before["name"], "X1")
    assert after["modified"] > before["modified"]
    ok(api.put(f"/products/{ident}", {"Product": {"stock": 8}}))
    assert get_product(api, ident)["modified"] == after["modified"]


def test_a_blank_picture_slot_deletes_that_image_and_the_next_move_up(api: Api) -> None:
    urls = [f"https://img.example.com/{n}.jpg" for n in range(1, 4)]
    ident = product(api, **{f"picture_source_{n}": url for n, url in enumerate(urls, 1)})

    def images() -> list[str]:
        return [image["https"] for image in get_product(api, ident)["ProductImage"]]

    assert images() == urls
    ok(api.put(f"/products/{ident}", {"Product": {"picture_source_2": " "}}))
    assert images() == [urls[0], urls[2]]
    ok(api.put(f"/products/{ident}", {"Product": {"name": "Outro nome"}}))
    assert images() == [urls[0], urls[2]]
    new = "http://img.example.com/novo.png"
    ok(api.put(f"/products/{ident}", {"Product": {"picture_source_1": new}}))
    assert images() == [new, urls[2]]
    bad = api.put(f"/products/{ident}", {"Product": {"picture_source_3": "ftp://img/x.jpg"}})
    assert refused(bad) == ["Product.picture_source_3: URL inválida (use http:// ou https://)"]


def test_variants_give_their_product_has_variation_and_the_sum_of_their_stock(api: Api) -> None:
    ident = product(api, reference="TEN", stock=5)
    before = get_product(api, ident)
    blue = variant(api, ident, reference="TEN-AZ-40", stock=3,
                   Sku=[{"type": "Cor", "value": "Azul"}, {"type": "Tamanho", "value": "40"}])
    red = variant(api, ident, reference="TEN-VM-40", stock="4", type_1="Cor", value_1="Vermelho",
                  type_2="Tamanho", value_2="40")
    got = get_product(api, ident)
    assert (got["has_variation"], got["stock"]) == ("1", "7")
    assert got["Variant"] == [{"id": blue}, {"id": red}] and got["modified"] > before["modified"]
    read = ok(api.get(f"/products/variants/{red}"))["Variant"]
    assert read["Sku"] == [{"type": "Cor", "value": "Vermelho"}, {"type": "Tamanho", "value": "40"}]
    ok(api.put(f"/products/variants/{blue}", {"Variant": {"stock": 10}}))
    changed = get_product(api, ident)
    assert changed["stock"] == "14" and changed["modified"] > got["modified"]
    for gone in (blue, red):
        assert ok(api.delete(f"/products/variants/{gone}"))["message"] == "Deleted"
    after = get_product(api, ident)
    assert (after["has_variation"], after["stock"]) == ("0", "5")
    assert api.ids("/products/variants", product_id=ident) == []


def test_a_variant_takes_at_most_two_attributes_and_needs_its_product(api: Api) -> None:
    ident = product(api)
    three = [{"type": t, "value": "x"} for t in ("Cor", "Tamanho", "Voltagem")]
    body = {"Variant": {"product_id": ident, "Sku": three}}
    causes = refused(api.post("/products/variants", body))
    assert causes == ["Variant.Sku: no máximo 2 atributos por variação"]
    causes = refused(api.post("/products/variants", {"Variant": {"product_id": "999"}}))
    assert causes == ["Variant.product_id: produto inexistente"]
    causes = refused(api.post("/products/variants", {"Variant": {"stock": 1}}))
    assert causes == ["Variant.product_id: obrigatório"]


def test_a_reference_names_one_product_or_variant_in_the_store(api: Api) -> None:
    first = product(api, reference="REF-1")
    taken = "já utilizada por outro produto ou variação"
    again = api.post("/products", {"Product": {"name": "B", "price": 1, "reference": "REF-1"}})
    assert refused(again) == [f"Product.reference: {taken}"]
    as_variant = api.post("/products/variants",
                          {"Variant": {"product_id": first, "reference": "REF-1"}})
    assert refused(as_variant) == [f"Variant.reference: {taken}"]
    ok(api.put(f"/products/{first}", {"Product": {"reference": "REF-1", "stock": 2}}))
    variant(api, first, reference="REF-1-P")
    second = product(api, name="Outro")
    clash = api.put(f"/products/{second}", {"Product": {"reference": "REF-1-P"}})
    assert refused(clash) == [f"Product.reference: {taken}"]


def test_each_refused_field_is_named_in_the_400(api: Api) -> None:
    body = {"name": "N" * 201, "price": "abc", "ncm": "1234", "stock": -1, "category_id": "999",
            "start_promotion": "2026-13-01", "available": 2, "weight": "pesado",
            "related_categories": ["998"]}
    causes = refused(api.post("/products", {"Product": body}))
    assert {c.split(":")[0] for c in causes} == {f"Product.{k}" for k in body}
    assert "Product.name: tamanho máximo 200 caracteres" in causes
    assert set(refused(api.post("/products", {"Product": {"description": "x"}}))) == {
        "Product.name: obrigatório", "Product.price: obrigatório"}
    ident = product(api)
    backwards = {"start_promotion": "2026-03-10", "end_promotion": "2026-03-01"}
    assert refused(api.put(f"/products/{ident}", {"Product": backwards})) == [
        "Product.end_promotion: deve ser igual ou posterior a start_promotion"]


def test_unknown_records_and_paths_get_trays_404(api: Api) -> None:
    for path in ("/products/999", "/products/variants/999", "/categories/999", "/orders/999",
                 "/orders/999/complete", "/orders/statuses/99", "/customers/9", "/payments/9",
                 "/nothing/here"):
        assert refused(api.get(path), 404)
    assert refused(api.put("/orders/cancel/999"), 404)
    assert refused(api.delete("/orders"), 405) == ["Método não permitido"]


def test_a_deleted_product_takes_its_variants_and_frees_their_references(api: Api) -> None:
    ident = product(api, reference="DEL")
    variant(api, ident, reference="DEL-1")
    assert ok(api.delete(f"/products/{ident}")) == {"message": "Deleted", "id": ident, "code": 200}
    assert refused(api.get(f"/products/{ident}"), 404)
    assert api.ids("/products/variants") == []
    product(api, reference="DEL-1")


def test_list_filters_are_exact(api: Api) -> None:
    shelf = category(api, "Camisetas")
    first = product(api, reference="F-1", ean="7891234567895", category_id=shelf)
    product(api, name="Bermuda", reference="F-2")
    assert api.ids("/products", reference="F-1") == [first]
    assert api.ids("/products", ean="7891234567895") == [first]
    assert api.ids("/products", category_id=shelf) == [first]
    assert api.ids("/products", name="Camiseta Básica") == [first]
    assert api.ids("/products", reference="F") == []
    page = ok(api.get("/products", reference="F-1"))
    assert page["appliedFilters"] == ["reference"] and "modified" in page["availableFilters"]


# -- categories -------------------------------------------------------------------------------


def test_categories_form_a_tree_with_null_children_on_leaves(api: Api) -> None:
    moda = category(api, "Moda")
    shirts = category(api, "Camisetas", moda)
    polo = category(api, "Polo", shirts)
    home = category(api, "Casa")
    tree = ok(api.get("/categories/tree"))["Category"]
    assert [node["Category"]["id"] for node in tree] == [moda, home]
    top = tree[0]["Category"]
    assert top["parent_id"] == "" and top["children"][0]["Category"]["id"] == shirts
    assert top["children"][0]["Category"]["children"][0]["Category"]["children"] is None
    assert tree[1]["Category"]["children"] is None
    below = ok(api.get(f"/categories/tree/{shirts}"))["Category"]
    assert [node["Category"]["id"] for node in below] == [shirts]
    assert api.ids("/categories", parent_id="0") == [moda, home]
    assert api.ids("/categories", name="Polo") == [polo]


def test_a_category_cannot_go_below_itself_nor_leave_orphans(api: Api) -> None:
    moda = category(api, "Moda")
    shirts = category(api, "Camisetas", moda)
    polo = category(api, "Polo", shirts)
    assert refused(api.put(f"/categories/{moda}", {"Category": {"parent_id": polo}})) == [
        "Category.parent_id: a categoria não pode ficar abaixo de si mesma"]
    assert refused(api.delete(f"/categories/{shirts}"))
    orphan = api.post("/categories", {"Category": {"name": "Sem pai", "parent_id": "99"}})
    assert refused(orphan) == ["Category.parent_id: categoria inexistente"]
    ok(api.delete(f"/categories/{polo}"))
    assert ok(api.get(f"/categories/{shirts}"))["Category"]["name"] == "Camisetas"


# -- orders -----------------------------------------------------------------------------------


def _catalogue(api: Api) -> tuple[str, str, str]:
    """A simple product (CAN, 10 in stock) and one with a variant (TEN-40, 6 in stock)."""
    simple = product(api, name="Caneca", reference="CAN", stock=10, ean="7891234567895",
                     picture_source_1="https://img.example.com/caneca.jpg",
                     category_id=category(api, "Casa"))
    shoes = product(api, name="Tênis", reference="TEN")
    size = variant(api, shoes, reference="TEN-40", stock=6,
                   Sku=[{"type": "Tamanho", "value": "40"}])
    return simple, shoes, size


def test_a_placed_order_is_listed_in_trays_terms(api: Api) -> None:
    _catalogue(api)
    ident = api.sandbox.place_order(an_order(("CAN", 2), ("TEN-40", 1), ("FORA", 1)))
    assert ident == "1" and api.sandbox.place_order(an_order()) == "2"
    order = ok(api.get("/orders", id=ident))["Orders"][0]["Order"]
    expected = {"status": "A ENVIAR", "point_sale": "LOJA VIRTUAL", "shipment": "Correios Sedex",
                "shipment_value": "20.00", "shipment_integrator": "Correios",
                "payment_method_id": "81", "payment_method": "Pix - Yapay", "total": "60.00",
                "partial_total": "40.00", "customer_note": "Entregar à tarde",
                "estimated_delivery_date": "2026-03-05", "payment_date": "2026-03-02",
                "has_payment": "1"}
    assert {k: order[k] for k in expected} == expected
    assert order["OrderStatus"]["id"] == "2"
    assert (order["date"], order["hour"]) == tuple(order["modified"].split(" "))
    assert order["ProductsSold"] == [{"id": "1"}, {"id": "2"}, {"id": "3"}]


def test_a_complete_order_carries_its_customer_addresses_and_items(api: Api) -> None:
    simple, shoes, size = _catalogue(api)
    ident = api.sandbox.place_order(an_order(("CAN", 2), ("TEN-40", 1), ("FORA", 1)))
    complete = ok(api.get(f"/orders/{ident}/complete"))
    assert set(complete) == {"Order", "Extensions", "User", "Confirmation"}
    order = complete["Order"]
    customer = order["Customer"]
    assert [customer[k] for k in ("name", "cpf", "type", "email", "phone", "cellphone")] == [
        "Ana Souza", CPF, "0", "ana@example.com.br", "1133334444", "11999998888"]
    addresses = [a["CustomerAddress"] for a in customer["CustomerAddresses"]]
    assert [(a["type"], a["number"], a["zip_code"], a["recipient"]) for a in addresses] == [
        ("0", "2000", "01310-100", "Ana Souza"), ("1", "1000", "01310-100", "Ana Souza")]
    items = [i["ProductsSold"] for i in order["ProductsSold"]]
    keys = ("reference", "product_id", "variant_id", "quantity", "price")
    assert [tuple(i[k] for k in keys) for i in items] == [
        ("CAN", simple, "0", "2", "10.00"), ("TEN-40", shoes, size, "1", "10.00"),
        ("FORA", "0", "0", "1", "10.00")]
    assert items[0]["ProductSoldImage"][0]["https"] == "https://img.example.com/caneca.jpg"
    assert items[0]["Category"] == [{"id": "1", "name": "Casa", "main_category": "1"}]
    assert order["Payment"][0]["Payment"]["method"] == "Pix - Yapay"
    assert api.sandbox.held_stock() == {"CAN": 8, "TEN-40": 5}
    assert get_product(api, simple)["quantity_sold"] == "2"


def test_what_the_store_lacks_falls_back_to_its_first_choice(api: Api) -> None:
    store = api.sandbox
    shopee = tramo.SalesChannel(platform_channel="Shopee")
    plain = store.place_order(an_order(platform_status="zzz", shipping=None, payments=(),
                                       sales_channel=shopee))
    order = get_order(api, plain)
    assert (order["OrderStatus"]["id"], order["shipment"], order["payment_method_id"]) == (
        "1", "Correios PAC", "80")
    assert order["MarketplaceOrder"] == [] and order["point_sale"] == "LOJA VIRTUAL"
    channel = tramo.SalesChannel(platform_channel="Mercado Livre", marketplace_order_id="2000001")
    market = store.place_order(an_order(sales_channel=channel, platform_status="6"))
    complete = get_order(api, market, "/complete")
    sold = complete["MarketplaceOrder"][0]["MarketplaceOrder"]
    assert (sold["marketplace_name"], sold["marketplace_order_id"]) == ("Mercado Livre", "2000001")
    assert complete["MlOrder"][0]["MlOrder"]["pedido_id"] == "2000001"
    assert complete["point_sale"] == "LOJA VIRTUAL" and store.held_status(market) == "6"


def test_the_same_buyer_is_one_customer_record(api: Api) -> None:
    store = api.sandbox
    store.place_order(an_order())
    store.place_order(an_order())
    company = tramo.Customer(name="Loja Sol", kind=tramo.CustomerKind.COMPANY)
    store.place_order(an_order(customer=company))
    customers = [c["Customer"] for c in ok(api.get("/customers"))["Customers"]]
    assert [(c["name"], c["type"], c["total_orders"]) for c in customers] == [
        ("Ana Souza", "0", "2"), ("Loja Sol", "1", "1")]


def test_an_update_sets_the_status_and_one_tracking_code(api: Api) -> None:
    store = api.sandbox
    ident = store.place_order(an_order())
    before = get_order(api, ident)["modified"]
    body = {"Order": {"status_id": "6", "sending_code": "AA123456789BR",
                      "sending_date": "2026-03-03",
                      "tracking_url": "https://rastreamento.example.com/AA123456789BR"}}
    assert ok(api.put(f"/orders/{ident}", body)) == {"message": "Saved", "id": ident, "code": 200}
    order = get_order(api, ident)
    assert (order["status"], order["sending_code"], order["has_shipment"]) == (
        "ENVIADO", "AA123456789BR", "1")
    assert order["modified"] > before
    ok(api.put(f"/orders/{ident}", body))
    assert get_order(api, ident)["modified"] == order["modified"]
    ok(api.put(f"/orders/{ident}", {"Order": {"sending_code": "BB987654321BR"}}))
    assert store.held_trackings() == {ident: ["BB987654321BR"]} and store.held_status(ident) == "6"
    unknown = api.put(f"/orders/{ident}", {"Order": {"status_id": "16"}})
    assert refused(unknown) == ["Order.status_id: status inexistente"]
    bad_day = api.put(f"/orders/{ident}", {"Order": {"sending_date": "03/03/2026"}})
    assert refused(bad_day)[0].startswith("Order.sending_date")


def test_change_order_moves_modified_and_nothing_else(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    before = get_order(api, ident)
    api.sandbox.change_order(ident)
    after = get_order(api, ident)
    assert after["modified"] > before["modified"]
    assert {**after, "modified": ""} == {**before, "modified": ""}


def test_a_cancel_returns_the_items_to_stock_once(api: Api) -> None:
    _catalogue(api)
    ident = api.sandbox.place_order(an_order(("CAN", 3), ("TEN-40", 2)))
    assert api.sandbox.held_stock() == {"CAN": 7, "TEN-40": 4}
    for _ in range(2):
        canceled = ok(api.put(f"/orders/cancel/{ident}"))
        assert canceled == {"message": "Canceled", "id": ident, "code": 200}
    assert api.sandbox.held_stock() == {"CAN": 10, "TEN-40": 6}
    assert get_order(api, ident)["status"] == "CANCELADO"
    assert api.sandbox.held_status(ident) == "10"


def test_the_status_filter_takes_the_status_name(api: Api) -> None:
    waiting = api.sandbox.place_order(an_order(platform_status="1"))
    api.sandbox.place_order(an_order(platform_status="6"))
    assert api.ids("/orders", status="AGUARDANDO PAGAMENTO") == [waiting]


def _invoice(**changes: Any) -> dict[str, Any]:
    return {"issue_date": "2026-03-03", "number": "1234", "serie": "1", "value": "40.00",
            "key": KEY, "link": "https://nfe.example.com/1234", "xml_danfe": "<nfeProc/>",
            "ProductCfop": [{"product_id": "1", "variation_id": "0", "cfop": "5102"}], **changes}


def test_invoices_are_not_deduplicated_and_mark_the_order(api: Api) -> None:
    store = api.sandbox
    ident = store.place_order(an_order())
    before = get_order(api, ident)
    assert before["has_invoice"] == "0"
    first = ok(api.post(f"/orders/{ident}/invoices", _invoice()), 201)
    assert first["message"] == "Created" and first["code"] == 201
    as_form = {"issue_date": "2026-03-03", "number": "1234", "key": KEY,
               "ProductCfop[0][cfop]": "5102"}
    ok(api.post(f"/orders/{ident}/invoices", data=as_form), 201)
    after = get_order(api, ident)
    assert after["has_invoice"] == "1" and after["modified"] > before["modified"]
    listed = ok(api.get(f"/orders/{ident}/invoices"))["OrderInvoices"]
    assert [i["OrderInvoice"]["key"] for i in listed] == [KEY, KEY]
    assert listed[1]["ProductCfop"][0]["cfop"] == "5102"
    assert store.held_invoices() == {ident: [KEY, KEY]}
    ok(api.put(f"/orders/{ident}/invoices/{first['id']}", {"value": "45.00"}))
    everything = ok(api.get("/orders/invoices"))
    assert everything["paging"]["total"] == 2
    assert everything["OrderInvoices"][0]["OrderInvoice"]["value"] == "45.00"


def test_an_invoice_needs_its_date_number_and_a_44_digit_key(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    wrong = _invoice(key="123", issue_date="amanhã")
    causes = refused(api.post(f"/orders/{ident}/invoices", wrong))
    assert {c.split(":")[0] for c in causes} == {"key", "issue_date"}
    assert set(refused(api.post(f"/orders/{ident}/invoices", {"value": "1.00"}))) == {
        "issue_date: obrigatório", "number: obrigatório", "key: obrigatório"}
    assert api.sandbox.held_invoices() == {}


def test_the_fixed_lists_of_statuses_shipping_methods_and_payment_options(api: Api) -> None:
    statuses = ok(api.get("/orders/statuses"))
    assert statuses["paging"]["total"] == 10
    named = {s["OrderStatus"]["id"]: (s["OrderStatus"]["status"], s["OrderStatus"]["type"])
             for s in statuses["OrderStatuses"]}
    assert named["1"] == ("AGUARDANDO PAGAMENTO", "open")
    assert named["3"] == ("EM SEPARAÇÃO", "open") and named["7"] == ("FINALIZADO", "closed")
    assert named["10"] == ("CANCELADO", "closed")
    assert ok(api.get("/orders/statuses/6"))["OrderStatus"]["status"] == "ENVIADO"
    shippings = [s["Shipping"] for s in ok(api.get("/shippings"))["Shippings"]]
    assert [(s["id"], s["name"]) for s in shippings] == [
        ("1", "Correios PAC"), ("2", "Correios Sedex"), ("3", "Retirada na loja")]
    options = ok(api.get("/payments/options"))["paymentoptions"]
    assert [(o["id"], o["name"]) for o in options] == [
        ("80", "Boleto - Yapay"), ("81", "Pix - Yapay"), ("82", "Cartão de crédito - Yapay")]
    assert ok(api.get("/info"))["Info"]["id"] == STORE_ID


def test_an_app_may_create_an_order_from_the_stores_products(api: Api) -> None:
    simple, shoes, size = _catalogue(api)
    address = {"address": "Rua Augusta", "number": "10", "zip_code": "01305000",
               "city": "São Paulo", "state": "SP", "type": "1"}
    body = {"Order": {
        "point_sale": "LOJA VIRTUAL", "shipment": "Correios PAC", "shipment_value": "15.00",
        "payment_form": "Boleto - Yapay",
        "Customer": {"name": "Bruno Lima", "cpf": CPF, "CustomerAddress": [address]},
        "ProductsSold": [{"product_id": simple, "quantity": 2},
                         {"product_id": shoes, "variant_id": size, "price": "99.90",
                          "quantity": 1}]}}
    ident = ok(api.post("/orders", body), 201)["id"]
    order = get_order(api, ident, "/complete")
    assert (order["total"], order["payment_method_id"], order["Customer"]["name"]) == (
        "214.70", "80", "Bruno Lima")
    assert api.sandbox.held_stock() == {"CAN": 8, "TEN-40": 5}
    wrong = {"Order": {"Customer": {}, "ProductsSold": [{"product_id": "99"}]}}
    assert set(refused(api.post("/orders", wrong))) == {
        "Order.Customer.name: obrigatório",
        "Order.ProductsSold[0].product_id: produto inexistente"}


# -- faults ---------------------------------------------------------------------------------------


def test_past_the_rate_limit_comes_a_429_with_trays_body_and_retry_after(api: Api) -> None:
    # Platform time at the wall clock's pace: two calls an hour, so the third surely waits.
    api.sandbox.configure(time_scale=1, rate_limits=(Window(2, 3600),))
    for _ in range(2):
        ok(api.get("/orders"))
    response = api.get("/orders")
    assert refused(response, 429)
    assert response.json()["name"] == "Too Many Requests"
    assert float(response.headers["Retry-After"]) > 0


def test_injected_faults_come_back_with_trays_error_bodies(api: Api) -> None:
    api.sandbox.inject(Fault.SERVER_ERROR)
    response = api.get("/products")
    assert refused(response, 500) and response.json()["name"] == "Internal Server Error"
    api.sandbox.configure(retry_after=2.0)
    api.sandbox.inject(Fault.RATE_LIMITED)
    limited = api.post("/products", {"Product": {"name": "X", "price": 1}})
    assert refused(limited, 429)
    assert float(limited.headers["Retry-After"]) == pytest.approx(0.02)
    assert ok(api.get("/products"))["paging"]["total"] == 0


def test_a_duplicate_page_fault_repeats_the_page_served_before(api: Api) -> None:
    for n in range(4):
        category(api, f"C{n}")
    first = ok(api.get("/categories", limit=2, page=1))
    api.sandbox.inject(Fault.DUPLICATE_PAGE)
    assert ok(api.get("/categories", limit=2, page=2)) == first


# -- the documented payloads ----------------------------------------------------------------------

#: Published examples that are not valid JSON: listed, never repaired (and so not copied here).
INVALID_AS_PUBLISHED = {
    "orders_list_page.json": "invalid as published: an extra outer brace before paging",
    "order_complete.json": "invalid as published: an unterminated string in ProductsSold.name",
    "products_list_page.json": "invalid as published: the Products array is never closed",
    "payment_options.json": "invalid as published: the paymentoptions array is never closed",
    "variant_create_request.json": "invalid as published: missing commas after value_1, value_2",
}

#: Request bodies (not answers), and where the sandbox takes each one.
REQUEST_BODIES = {
    "product_create_request.json": "POST /products (test_documented_request_bodies_are_accepted)",
    "product_update_request.json": "PUT /products/:id (same test)",
    "variant_update_request.json": "PUT /products/variants/:id (same test)",
    "category_create_request.json": "POST /categories (same test)",
    "order_update_request.json": "PUT /orders/:id (same test; its status_id 16 is another store's)",
    "order_create_request.json": "POST /orders (same test, with this store's product ids)",
    "invoice_create_request.json": "POST /orders/:id/invoices (same test)",
    "invoice_update_request.json": "PUT /orders/:id/invoices/:id (same test)",
    "brand_create_request.json": "not served: brands come from the products' brand text",
    "order_status_create_request.json": "not served: the statuses are the fixed set",
    "order_include_product_request.json": "not served: orders are not edited item by item",
}


@attrs.define
class Rich:
    """A store with one of everything, and the ids the shape requests need."""

    api: Api
    product: str
    simple: str
    variant: str
    order: str
    market: str


def rich_store(api: Api) -> Rich:
    moda = category(api, "Moda")
    shirts = category(api, "Camisetas", moda)
    pictures = {f"picture_source_{n}": f"https://img.example.com/cam-{n}.jpg" for n in (1, 2)}
    main = product(api, reference="CAM", ean="7891234567895", brand="Hering", category_id=shirts,
                   related_categories=[moda], promotional_price="39.90",
                   start_promotion="2026-03-01", end_promotion="2026-03-31", weight=250,
                   length=30, width=20, height=2, **pictures)
    size = variant(api, main, reference="CAM-P", stock=3, price="49.90",
                   Sku=[{"type": "Cor", "value": "Azul"}, {"type": "Tamanho", "value": "P"}],
                   picture_source_1="https://img.example.com/cam-p.jpg")
    simple = product(api, name="Caneca", reference="CAN", stock=10, weight=400, category_id=moda,
                     picture_source_1="https://img.example.com/can.jpg")
    order = api.sandbox.place_order(an_order(("CAM-P", 1), ("CAN", 2)))
    channel = tramo.SalesChannel(platform_channel="Mercado Livre", marketplace_order_id="2000001")
    market = api.sandbox.place_order(an_order(("CAN", 1), sales_channel=channel))
    ok(api.post(f"/orders/{order}/invoices", _invoice()), 201)
    return Rich(api, product=main, simple=simple, variant=size, order=order, market=market)


def _expired(rich: Rich) -> httpx.Response:
    rich.api.sandbox.expire_access_tokens()
    return rich.api.get("/orders")


def _quote(rich: Rich) -> httpx.Response:
    items = {"products[0][product_id]": rich.simple, "products[0][price]": "10.00",
             "products[0][quantity]": "2"}
    return rich.api.get("/shippings/cotation", zipcode="01310-100", **items)


def _new_order(rich: Rich) -> httpx.Response:
    return rich.api.post("/orders", {"Order": {
        "Customer": {"name": "Bruno Lima"}, "ProductsSold": [{"product_id": rich.simple}]}})


#: Response fixture -> the same request to the sandbox (its JSON answer is compared).
SHAPES: dict[str, Callable[[Rich], Any]] = {
    "auth_create_tokens_response.json": lambda r: r.api.client.post("/auth", data=CREDENTIALS),
    "auth_refresh_tokens_response.json":
        lambda r: r.api.client.get("/auth", params={"refresh_token": r.api.refresh}),
    "error_401_error_code.json": _expired,
    "brands_list_page.json": lambda r: r.api.get("/products/brands"),
    "categories_list_page.json": lambda r: r.api.get("/categories"),
    "categories_tree.json": lambda r: r.api.get("/categories/tree/1"),
    "customer_get.json": lambda r: r.api.get("/customers/1"),
    "customers_list_page.json": lambda r: r.api.get("/customers"),
    "product_get.json": lambda r: r.api.get(f"/products/{r.product}"),
    "product_create_response.json":
        lambda r: r.api.post("/products", {"Product": {"name": "Nova", "price": "1"}}),
    "variant_get.json": lambda r: r.api.get(f"/products/variants/{r.variant}"),
    "variants_list_page.json": lambda r: r.api.get("/products/variants"),
    "order_get.json": lambda r: r.api.get(f"/orders/{r.order}"),
    "order_mlorder_fragment.json": lambda r: get_order(r.api, r.market, "/complete"),
    "order_create_response.json": _new_order,
    "order_update_response.json":
        lambda r: r.api.put(f"/orders/{r.order}", {"Order": {"status_id": "3"}}),
    "order_invoices_by_order.json": lambda r: r.api.get(f"/orders/{r.order}/invoices"),
    "invoices_list_page.json": lambda r: r.api.get("/orders/invoices"),
    "invoice_create_response.json": lambda r: r.api.post(f"/orders/{r.order}/invoices", _invoice()),
    "order_statuses_list.json": lambda r: r.api.get("/orders/statuses"),
    "order_status_get.json": lambda r: r.api.get("/orders/statuses/6"),
    "payment_get.json": lambda r: r.api.get("/payments/1"),
    "payments_list_page.json": lambda r: r.api.get("/payments"),
    "shippings_list_page.json": lambda r: r.api.get("/shippings"),
    "shipping_cotation.json": _quote,
}

#: Where an answer departs from its example, and why (one not listed fails; so does a stale one).
ALLOWED: dict[str, dict[str, str]] = {
    "product_get.json": {
        "Product.Properties: object in the example, list in the answer":
            "the sandbox keeps no properties, and Tray (PHP) writes none as [] "
            "(products_list_page shows \"Properties\": [])",
        "Product.related_products[]: empty in the answer": "the sandbox keeps no related products",
        "Product.AdditionalInfos[]: empty in the answer": "the sandbox keeps no additional infos",
    },
    "categories_list_page.json": {
        "Categories[].Category.Images[]: empty in the answer":
            "the sandbox keeps no category images",
    },
    "categories_tree.json": {
        "Category[].Category.images[]: empty in the answer": "the sandbox keeps no category images",
        "Category[].Category.children[].Category.images[]: empty in the answer": "likewise",
    },
    "variants_list_page.json": {
        "Variants[].Variant.illustrative_image: object in the example, string in the answer":
            "the two examples disagree (variant_get has \"\"); the sandbox has no swatch images",
        "Variants[].Variant.Sku[].image: missing": "colour swatch images; the sandbox keeps none",
        "Variants[].Variant.Sku[].image_secure: missing": "likewise",
    },
}


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = ((bool, "bool"), (str, "string"), ((int, float), "number"), (list, "list"),
             (dict, "object"))
    return next(name for kind, name in kinds if isinstance(value, kind))


def shape_problems(example: Any, answer: Any, path: str = "") -> list[str]:
    """Keys of ``example`` missing in ``answer`` or of another JSON type (lists: first items)."""
    kind, got = json_kind(example), json_kind(answer)
    if kind != got:
        return [f"{path}: {kind} in the example, {got} in the answer"]
    if kind == "object":
        problems = []
        for key, value in example.items():
            where = f"{path}.{key}" if path else key
            if key not in answer:
                problems.append(f"{where}: missing")
            else:
                problems += shape_problems(value, answer[key], where)
        return problems
    if kind == "list" and example:
        if not answer:
            return [f"{path}[]: empty in the answer"]
        return shape_problems(example[0], answer[0], f"{path}[]")
    return []


def test_the_shape_comparison_notices_missing_keys_other_types_and_empty_lists() -> None:
    example = {"a": "1", "b": {"c": 1}, "d": [{"e": "x"}], "f": None}
    same = {"a": "1", "b": {"c": 2}, "d": [{"e": "y", "g": 1}], "f": None}
    assert shape_problems(example, same) == []
    assert shape_problems(example, {"a": 1, "b": {}, "d": [], "f": "x"}) == [
        "a: string in the example, number in the answer", "b.c: missing",
        "d[]: empty in the answer", "f: null in the example, string in the answer"]


def _fixtures() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_answers_carry_every_key_of_the_documented_example(api: Api, name: str) -> None:
    answer = SHAPES[name](rich_store(api))
    if isinstance(answer, httpx.Response):
        answer = answer.json()
    problems = shape_problems(fixture(name), answer)
    allowed = ALLOWED.get(name, {})
    assert [p for p in problems if p not in allowed] == []
    assert [p for p in allowed if p not in problems] == [], "an allowance no longer needed"


def test_every_response_fixture_has_its_request_in_the_table() -> None:
    names = _fixtures()
    assert names, "no fixtures copied"
    assert [n for n in names if n not in SHAPES and n not in REQUEST_BODIES] == []
    assert [n for n in SHAPES if n not in names] == []
    assert [n for n in REQUEST_BODIES if n not in names] == []
    assert [n for n in INVALID_AS_PUBLISHED if n in names] == [], "an invalid example was copied"


def test_every_fixture_is_valid_json_with_its_source_note() -> None:
    for name in _fixtures():
        fixture(name)
        source = FIXTURES / name.replace(".json", ".source.txt")
        assert source.exists() and "Source:" in source.read_text(encoding="utf-8")


def test_documented_request_bodies_are_accepted(api: Api) -> None:
    category(api, "Um")
    category(api, "Dois")
    ident = ok(api.post("/products", fixture("product_create_request.json")), 201)["id"]
    got = get_product(api, ident)
    assert [got[k] for k in ("name", "price", "reference", "category_id")] == [
        "Produto Teste API", "0.01", "111", "2"]
    assert len(got["ProductImage"]) == 6 and got["metatag"][0]["content"] == "Key1, Key2, Key3"
    ok(api.put(f"/products/{ident}", fixture("product_update_request.json")))
    size = variant(api, ident, reference="THR016-2")
    ok(api.put(f"/products/variants/{size}", fixture("variant_update_request.json")))
    read = ok(api.get(f"/products/variants/{size}"))["Variant"]
    assert read["Sku"] == [{"type": "Cor", "value": "Azul"}, {"type": "Tamanho", "value": "38"}]
    assert read["reference"] == "THR016-1" and len(read["VariantImage"]) == 6
    ok(api.post("/categories", fixture("category_create_request.json")), 201)
    order = api.sandbox.place_order(an_order())
    update = fixture("order_update_request.json")
    assert refused(api.put(f"/orders/{order}", update)) == ["Order.status_id: status inexistente"]
    ok(api.put(f"/orders/{order}", {"Order": {**update["Order"], "status_id": "6"}}))
    assert api.sandbox.held_trackings() == {order: ["123456"]}
    invoices = f"/orders/{order}/invoices"
    invoice = ok(api.post(invoices, fixture("invoice_create_request.json")), 201)["id"]
    ok(api.put(f"{invoices}/{invoice}", fixture("invoice_update_request.json")))
    new = fixture("order_create_request.json")
    new["Order"]["ProductsSold"][0].update(product_id=int(ident), variant_id=int(size))
    placed = ok(api.post("/orders", new), 201)["id"]
    market = get_order(api, placed, "/complete")["MarketplaceOrder"][0]["MarketplaceOrder"]
    assert market["marketplace_order_id"] == "4429804558"


# -- the platform's side agrees with its API ------------------------------------------------------


def test_held_products_are_what_the_api_shows(api: Api) -> None:
    shirts = category(api, "Camisetas")
    main = product(api, reference="CAM", ean="7891234567895", brand="Hering", ncm="61091000",
                   description="Algodão", description_small="Básica", weight=250, length=30,
                   width=20, height=2, category_id=shirts,
                   picture_source_1="https://img.example.com/1.jpg")
    variant(api, main, reference="CAM-P", ean="12345", weight=200, available=0,
            Sku=[{"type": "Tamanho", "value": "P"}],
            picture_source_1="https://img.example.com/p.jpg")
    bare = product(api, name="Sob consulta", price=0, reference="")
    held = {p.remote_id: p for p in api.sandbox.held_products()}
    got = get_product(api, main)
    shirt = held[main]
    assert (shirt.code, shirt.name, shirt.gtin, shirt.ncm) == (
        "CAM", got["name"], "7891234567895", "61091000")
    assert shirt.brand == tramo.Brand(id=got["brand_id"], name="Hering")
    assert (shirt.description, shirt.short_description) == ("Algodão", "Básica")
    assert shirt.price == Decimal("49.90") and shirt.weight_kg == Decimal("0.25")
    assert shirt.dimensions == tramo.Dimensions(length_cm=Decimal(30), width_cm=Decimal(20),
                                                height_cm=Decimal(2))
    assert list(shirt.images) == [i["https"] for i in got["ProductImage"]]
    assert shirt.categories == ()
    modified = datetime.strptime(got["modified"], "%Y-%m-%d %H:%M:%S")
    assert shirt.updated_at == modified.replace(tzinfo=STORE_TZ)
    [size] = shirt.variants
    assert (size.sku, size.gtin, size.price, size.available) == ("CAM-P", None, None, False)
    assert size.attributes == (tramo.Attribute(name="Tamanho", value="P"),)
    assert size.weight_kg == Decimal("0.2") and size.dimensions is None
    assert (held[bare].code, held[bare].price, held[bare].gtin) == (bare, None, None)


def test_held_stock_and_prices_are_what_the_api_shows(api: Api) -> None:
    main = product(api, reference="CAM", price="50.00")
    variant(api, main, reference="CAM-P", stock=3, price="55.00", promotional_price="45.00",
            start_promotion="2026-03-01", end_promotion="2026-03-01")
    variant(api, main, reference="CAM-M", stock=4)
    product(api, reference="CAN", stock=9, price="20.00", promotional_price="15.00",
            end_promotion="2026-04-01")
    assert api.sandbox.held_stock() == {"CAM-P": 3, "CAM-M": 4, "CAN": 9}
    assert get_product(api, main)["stock"] == "7"
    prices = api.sandbox.held_prices()
    assert prices["CAM-M"] == tramo.Price(sku="CAM-M", list_price=Decimal("50.00"))
    one_day = prices["CAM-P"]
    assert (one_day.list_price, one_day.promotional_price) == (Decimal("55.00"), Decimal("45.00"))
    assert one_day.promotion_start == datetime(2026, 3, 1, tzinfo=STORE_TZ)
    assert one_day.promotion_end == datetime(2026, 3, 2, tzinfo=STORE_TZ)
    assert prices["CAN"].promotion_start is None
    assert prices["CAN"].promotion_end == datetime(2026, 4, 1, tzinfo=STORE_TZ)


def test_the_seed_is_a_realistic_store_and_the_same_each_time(store: TraySandbox) -> None:
    store.seed()
    products = store.held_products()
    assert len(products) == 20 and len(store.data["orders"]) == 10
    assert any(p.variants for p in products) and any(not p.variants for p in products)
    assert all(p.gtin and p.brand and p.ncm and p.images for p in products)
    names = {a.name for p in products for v in p.variants for a in v.attributes}
    assert names <= {"Cor", "Tamanho"}
    other = TraySandbox()
    other.seed()
    assert other.held_products() == products and other.held_stock() == store.held_stock()
    statuses = [store.held_status(i) for i in store.data["orders"]]
    assert statuses == [other.held_status(i) for i in other.data["orders"]]
    api = Api(store)
    api.login()
    assert len(api.ids("/orders", limit=50)) == 10
    store.seed(products=2, orders=1, seed=5)
    assert len(store.held_products()) == 22
