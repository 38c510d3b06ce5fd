"""A realistic Brazilian store for the Tray sandbox: catalogue first, then orders placed from it.

``TraySandbox.seed`` calls :func:`fill`. The catalogue goes through the same
checks as ``POST /products`` (``write_product``/``write_variant``), so seeded
records are exactly what an app could have written; orders are placed the way
a buyer places them (``place_order``). Everything is drawn from one
``random.Random(seed)``: the same seed gives the same store.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import tramo
from tramo.model.identifiers import cnpj_check_digits, cpf_check_digits, gtin_check_digit

from tramo_tray_rest.sandbox_records import money_text, slugify

if TYPE_CHECKING:
    from tramo_tray_rest.sandbox import TraySandbox

__all__ = ["fill"]

#: Category tree: root -> children.
TREE: dict[str, tuple[str, ...]] = {
    "Moda": ("Camisetas", "Calças", "Vestidos"), "Calçados": ("Tênis", "Sandálias"),
    "Casa e Cozinha": ("Panelas", "Utensílios", "Eletroportáteis"),
    "Beleza e Perfumaria": ("Perfumes", "Cuidados com o Corpo"), "Esporte e Lazer": ("Fitness",),
}


class Model(NamedTuple):
    """A kind of product the store sells: ``variation`` says which variants it comes in."""

    name: str
    category: str
    brands: tuple[str, ...]
    variation: str | None  # "roupa" (Cor x P-GG), "calcado" (Cor x 36-44), "cor", or None
    reais: tuple[int, int]
    grams: int
    size_cm: tuple[int, int, int]
    ncm: str


CATALOGUE: tuple[Model, ...] = (
    Model("Camiseta Básica Algodão", "Camisetas", ("Hering", "Malwee", "Reserva"), "roupa",
          (39, 89), 200, (30, 25, 3), "61091000"),
    Model("Calça Jeans Slim", "Calças", ("Colcci", "Levi's"), "roupa",
          (149, 299), 600, (35, 30, 5), "62034200"),
    Model("Vestido Midi Estampado", "Vestidos", ("Farm", "Animale"), "roupa",
          (199, 459), 350, (35, 30, 4), "62044300"),
    Model("Tênis de Corrida Amortecido", "Tênis", ("Olympikus", "Mizuno", "Fila"), "calcado",
          (249, 599), 800, (33, 22, 12), "64041100"),
    Model("Chinelo Slim", "Sandálias", ("Havaianas", "Ipanema"), "calcado",
          (29, 59), 250, (28, 12, 4), "64022000"),
    Model("Jogo de Panelas Antiaderente 5 Peças", "Panelas", ("Tramontina", "Brinox"), None,
          (299, 699), 4200, (45, 30, 25), "73239300"),
    Model("Faqueiro Inox 24 Peças", "Utensílios", ("Tramontina",), None,
          (129, 249), 1500, (35, 25, 6), "82159100"),
    Model("Cafeteira Elétrica 30 Xícaras", "Eletroportáteis", ("Mondial", "Britânia", "Arno"),
          None, (119, 229), 1700, (30, 22, 32), "85167100"),
    Model("Liquidificador 12 Velocidades", "Eletroportáteis", ("Arno", "Philco", "Oster"), None,
          (159, 349), 2600, (25, 22, 40), "85094020"),
    Model("Fritadeira Air Fryer 4 Litros", "Eletroportáteis", ("Mondial", "Philco", "Britânia"),
          None, (349, 699), 4500, (38, 32, 36), "85167990"),
    Model("Perfume Colônia 100 ml", "Perfumes", ("Natura", "O Boticário"), None,
          (99, 229), 350, (12, 8, 16), "33030010"),
    Model("Hidratante Corporal 400 ml", "Cuidados com o Corpo", ("Nivea", "Natura"), None,
          (29, 69), 450, (8, 6, 20), "33049910"),
    Model("Tapete de Yoga 6 mm", "Fitness", ("Kikos", "Acte"), "cor",
          (89, 179), 1100, (62, 15, 15), "95069100"),
    Model("Garrafa Térmica 1 Litro", "Fitness", ("Stanley", "Invicta"), "cor",
          (89, 289), 600, (10, 10, 30), "96170010"),
)

#: Colours and the code each gives a variant's reference.
COLOUR_CODES = {"Preto": "PRT", "Branco": "BRA", "Azul Marinho": "AZM", "Vermelho": "VRM",
                "Cinza Mescla": "CZM", "Verde Militar": "VDM"}
SIZES = ("P", "M", "G", "GG")
SHOE_SIZES = ("36", "38", "40", "42", "44")

PEOPLE = ("Ana Souza", "Bruno Lima", "Carla Ferreira", "Diego Alves", "Eduarda Rocha",
          "Felipe Costa", "Gabriela Martins", "Henrique Gomes", "Isabela Ribeiro", "João Pereira")
COMPANIES = ("Comercial Horizonte Ltda", "Papelaria Boa Vista ME", "Mercado Sol Nascente Eireli")
#: (street, district, city, UF, CEP)
PLACES = (
    ("Rua Augusta", "Consolação", "São Paulo", "SP", "01305-000"),
    ("Avenida Afonso Pena", "Centro", "Belo Horizonte", "MG", "30130-001"),
    ("Rua das Laranjeiras", "Laranjeiras", "Rio de Janeiro", "RJ", "22240-003"),
    ("Avenida Sete de Setembro", "Centro", "Salvador", "BA", "40060-001"),
    ("Rua XV de Novembro", "Centro", "Curitiba", "PR", "80020-310"),
    ("Avenida Boa Viagem", "Boa Viagem", "Recife", "PE", "51011-000"),
    ("Rua dos Andradas", "Centro Histórico", "Porto Alegre", "RS", "90020-007"),
)
SHIPPING = ("Correios PAC", "Correios Sedex", "Retirada na loja")
CHANNELS = ("LOJA VIRTUAL",) * 4 + ("Mercado Livre", "Dafiti", "Amazon")


class Sellable(NamedTuple):
    """A SKU a buyer can pick: a variant, or a product without variants."""

    sku: str
    name: str
    price: Decimal
    gtin: str
    attributes: tuple[str, ...]


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _gtin(rng: random.Random) -> str:
    body = "789" + _digits(rng, 9)
    return body + gtin_check_digit(body)


def _cpf(rng: random.Random) -> str:
    base = _digits(rng, 9)
    return base + cpf_check_digits(base)


def _cnpj(rng: random.Random) -> str:
    base = _digits(rng, 8) + "0001"
    return base + cnpj_check_digits(base)


def _checked(result: tuple[int, list[str], str]) -> str:
    status, causes, ident = result
    if causes:
        raise RuntimeError(f"the seed wrote what the store refuses: {causes}")
    return ident


# -- the catalogue ---------------------------------------------------------------------------


def _category(sandbox: TraySandbox, name: str, parent: str) -> str:
    """The category of that name under ``parent``, made when the store lacks it (seeding twice)."""
    for record in sandbox.data["categories"].values():
        if record["name"] == name and record["parent_id"] == parent:
            return str(record["id"])
    body = {"name": name, "parent_id": parent, "description": f"Produtos de {name.lower()}"}
    return _checked(sandbox.write_category(body, None))


def _categories(sandbox: TraySandbox) -> dict[str, str]:
    ids: dict[str, str] = {}
    for root, children in TREE.items():
        ids[root] = _category(sandbox, root, "")
        for child in children:
            ids[child] = _category(sandbox, child, ids[root])
    return ids


def _variation(kind: str | None, rng: random.Random) -> list[list[dict[str, str]]]:
    """The attribute sets of a product's variants (none for a simple product)."""
    if kind is None:
        return []
    colours = rng.sample(tuple(COLOUR_CODES), 2)
    if kind == "cor":
        return [[{"type": "Cor", "value": c}] for c in colours]
    sizes = rng.sample(SHOE_SIZES if kind == "calcado" else SIZES, 3)
    return [[{"type": "Cor", "value": c}, {"type": "Tamanho", "value": s}]
            for c in colours for s in sizes]


def _product_body(model: Model, reference: str, edition: int, rng: random.Random,
                  categories: dict[str, str]) -> dict[str, Any]:
    brand = rng.choice(model.brands)
    low, high = model.reais
    price = Decimal(rng.randrange(low * 100, high * 100 + 1, 10)) / 100
    length, width, height = model.size_cm
    body: dict[str, Any] = {
        "name": f"{model.name} {brand}" + (f" - Coleção {2026 + edition}" if edition else ""),
        "reference": reference, "ean": _gtin(rng), "ncm": model.ncm, "brand": brand,
        "model": f"M{rng.randrange(100, 999)}",
        "description": f"{model.name} da marca {brand}. Produto original com garantia.",
        "description_small": f"{model.name} {brand}", "price": money_text(price),
        "cost_price": money_text(price * Decimal("0.55")), "weight": model.grams,
        "length": length, "width": width, "height": height, "stock": rng.randrange(0, 80),
        "category_id": categories[model.category], "available": 1,
    }
    for slot in range(1, rng.randrange(2, 5)):
        body[f"picture_source_{slot}"] = (
            f"https://images.example.com/tramo-sandbox/{reference.lower()}-{slot}.jpg")
    if rng.random() < 0.3:
        body.update(promotional_price=money_text(price * Decimal("0.85")),
                    start_promotion="2026-03-01", end_promotion="2026-03-31")
    return body


def _variants(sandbox: TraySandbox, product: str, body: dict[str, Any], kind: str | None,
              rng: random.Random) -> list[Sellable]:
    sellable = []
    for attributes in _variation(kind, rng):
        suffix = "-".join(COLOUR_CODES.get(a["value"], a["value"]) for a in attributes)
        reference = f"{body['reference']}-{suffix}"
        gtin = _gtin(rng)
        fields = {"product_id": product, "reference": reference, "ean": gtin,
                  "price": body["price"], "stock": rng.randrange(0, 30), "Sku": attributes,
                  **{k: body[k] for k in ("weight", "length", "width", "height")}}
        _checked(sandbox.write_variant(fields, None))
        sellable.append(Sellable(reference, body["name"], Decimal(body["price"]), gtin,
                                 tuple(f"{a['type']}: {a['value']}" for a in attributes)))
    return sellable


def _products(sandbox: TraySandbox, count: int, rng: random.Random,
              categories: dict[str, str]) -> list[Sellable]:
    """Write ``count`` products (and their variants); returns what a buyer can pick."""
    sellable: list[Sellable] = []
    first = len(sandbox.data["products"])
    for n in range(count):
        model = CATALOGUE[n % len(CATALOGUE)]
        body = _product_body(model, f"TR-{first + n + 1:04d}", n // len(CATALOGUE), rng, categories)
        ident = _checked(sandbox.write_product(body, None))
        variants = _variants(sandbox, ident, body, model.variation, rng)
        sellable += variants or [Sellable(body["reference"], body["name"],
                                          Decimal(body["price"]), body["ean"], ())]
    return sellable


# -- orders ---------------------------------------------------------------------------------


def _customer(rng: random.Random) -> tramo.Customer:
    street, district, city, state, cep = rng.choice(PLACES)
    address = tramo.Address(street=street, number=str(rng.randrange(10, 2000)), district=district,
                            city=city, state=state, postal_code=cep)
    phones = (f"11{_digits(rng, 8)}", f"119{_digits(rng, 8)}")
    if rng.random() < 0.2:
        name = rng.choice(COMPANIES)
        email = f"compras{rng.randrange(100)}@{slugify(name.split()[0])}.com.br"
        return tramo.Customer(name=name, kind=tramo.CustomerKind.COMPANY, cnpj=_cnpj(rng),
                              state_registration=_digits(rng, 12), phones=phones,
                              addresses=(address,), email=email)
    name = rng.choice(PEOPLE)
    email = f"{slugify(name).replace('-', '.')}{rng.randrange(100)}@example.com.br"
    born = date(rng.randrange(1960, 2004), rng.randrange(1, 13), rng.randrange(1, 29))
    return tramo.Customer(name=name, cpf=_cpf(rng), email=email, phones=phones,
                          addresses=(address,), birth_date=born)


def _items(rng: random.Random, sellable: list[Sellable]) -> tuple[tramo.OrderItem, ...]:
    picks = rng.sample(sellable, min(len(sellable), rng.randrange(1, 4))) if sellable else [
        Sellable("AVULSO-1", "Item avulso", Decimal("10.00"), "", ())]
    return tuple(tramo.OrderItem(sku=p.sku, name=p.name, quantity=rng.randrange(1, 4),
                                 unit_price=p.price, gtin=p.gtin or None, attributes=p.attributes)
                 for p in picks)


def _order(n: int, now: datetime, rng: random.Random, sellable: list[Sellable]) -> tramo.Order:
    """A buyer's order of a few SKUs, shipped and paid the ways the store offers."""
    items = _items(rng, sellable)
    customer = _customer(rng)
    method = rng.choice(SHIPPING)
    pickup = method == "Retirada na loja"
    freight = Decimal(0) if pickup else Decimal(rng.randrange(1500, 6000)) / 100
    total = sum((i.total for i in items), Decimal(0)) + freight
    payment = rng.choice(("80", "81", "82"))
    paid = rng.random() < 0.7
    channel = rng.choice(CHANNELS)
    return tramo.Order(
        id=f"SEED-{n + 1}", placed_at=now, customer=customer, items=items, total=total,
        platform_status=rng.choice(("2", "3", "4", "6")) if paid else "1",
        billing_address=customer.addresses[0], delivery_address=customer.addresses[0],
        shipping=tramo.Shipping(platform_method=method, freight=freight,
                                carrier=None if pickup else "Correios",
                                estimated_delivery=now + timedelta(days=rng.randrange(2, 10))),
        payments=(tramo.Payment(value=total, platform_method=payment,
                                installments=rng.randrange(1, 7) if payment == "82" else 1,
                                paid_at=now if paid else None),),
        sales_channel=tramo.SalesChannel(
            platform_channel=channel,
            marketplace_order_id=None if channel == "LOJA VIRTUAL" else _digits(rng, 10)),
    )


def fill(sandbox: TraySandbox, products: int, orders: int, seed: int) -> None:
    """Add ``products`` products (some with variants) and ``orders`` orders to the store."""
    rng = random.Random(seed)
    with sandbox.lock:
        categories = _categories(sandbox)
        sellable = _products(sandbox, products, rng, categories)
        for n in range(orders):
            sandbox.place_order(_order(n, sandbox.data["clock"], rng, sellable))
