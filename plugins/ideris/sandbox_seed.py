"""A realistic seller for the Ideris sandbox: a catalogue, then orders from many marketplaces.

``IderisSandbox.seed`` calls :func:`fill`. Products go through the same
checks as ``POST /Produto`` (:func:`creation_draft`) and are created at once
(as their protocols would be); orders are placed the way marketplace buyers
place them (``place_order``), and some move on afterwards (separated,
invoiced, shipped, cancelled). Everything is drawn from one
``random.Random(seed)``: the same seed gives the same account.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import tramo
from tramo.model.identifiers import cnpj_check_digits, cpf_check_digits, gtin_check_digit

from tramo_ideris.sandbox_catalogue import create_now, creation_draft
from tramo_ideris.sandbox_records import next_id

if TYPE_CHECKING:
    from tramo_ideris.sandbox import IderisSandbox

__all__ = ["fill"]


class Model(NamedTuple):
    """A kind of product the seller lists: ``variation`` names its attribute, if any."""

    name: str
    brands: tuple[str, ...]
    variation: tuple[str, tuple[str, ...]] | None
    reais: tuple[int, int]
    grams: int
    size_cm: tuple[int, int, int]


SIZES = ("Tamanho", ("P", "M", "G", "GG"))
SHOE_SIZES = ("Tamanho", ("38", "40", "42", "44"))
CATALOGUE: tuple[Model, ...] = (
    Model("Camiseta Dry Fit Masculina", ("Olympikus", "Penalty"), SIZES, (39, 79), 180,
          (30, 25, 3)),
    Model("Fone de Ouvido Bluetooth", ("JBL", "Philips", "Edifier"),
          ("Cor", ("Preto", "Branco", "Azul")), (89, 349), 250, (18, 12, 6)),
    Model("Garrafa Térmica Inox 1 L", ("Stanley", "Termolar"),
          ("Cor", ("Verde", "Preto", "Rosa")), (79, 259), 600, (10, 10, 30)),
    Model("Tênis Casual Couro", ("Democrata", "Ferracini"), SHOE_SIZES, (189, 399), 900,
          (33, 22, 12)),
    Model("Carregador Turbo USB-C 25W", ("Samsung", "Motorola"), None, (59, 149), 120, (12, 8, 4)),
    Model("Panela de Pressão 4,5 L", ("Tramontina", "Rochedo"), None, (119, 259), 2100,
          (32, 24, 22)),
    Model("Mouse Sem Fio", ("Logitech", "Multilaser"), None, (49, 169), 150, (15, 10, 5)),
    Model("Kit 3 Toalhas de Banho", ("Buddemeyer", "Santista"), None, (99, 199), 1200,
          (35, 30, 10)),
    Model("Luminária de Mesa LED", ("Taschibra", "Elgin"), None, (69, 189), 800, (30, 20, 15)),
    Model("Mochila Executiva Notebook", ("Samsonite", "Swissland"), None, (149, 459), 950,
          (45, 32, 15)),
)

PEOPLE = ("Ana Souza", "Bruno Lima", "Carla Ferreira Santos", "Diego Alves", "Eduarda Rocha",
          "Felipe Costa", "Gabriela Martins", "Henrique Gomes", "Isabela Ribeiro", "João Pereira")
COMPANIES = ("Comercial Horizonte Ltda", "Papelaria Boa Vista ME")
#: (street, district, city, UF, CEP)
PLACES = (
    ("Rua Augusta", "Consolação", "São Paulo", "SP", "01305000"),
    ("Avenida Afonso Pena", "Centro", "Belo Horizonte", "MG", "30130001"),
    ("Rua das Laranjeiras", "Laranjeiras", "Rio de Janeiro", "RJ", "22240003"),
    ("Rua XV de Novembro", "Centro", "Curitiba", "PR", "80020310"),
    ("Avenida Boa Viagem", "Boa Viagem", "Recife", "PE", "51011000"),
)
MARKETPLACES = ("Mercado Livre", "Mercado Livre", "Amazon", "Shopee", "Magalu", "Americanas",
                "Via")
SHIPPING = {"Mercado Livre": ("Mercado Envios", "Mercado Envios Full"),
            "Amazon": ("Correios", "Transportadora")}
PAYMENTS = ("credit_card", "credit_card", "pix", "ticket", "account_money")
#: Where a placed order may go next (the marketplace moves it on).
LATER = ("Em separação", "Faturado", "Expedido", "Em trânsito", "Entregue", "Cancelado")


class Sellable(NamedTuple):
    """A SKU a buyer can pick: a variation, or a product without variations."""

    sku: str
    name: str
    price: Decimal


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _gtin(rng: random.Random) -> str:
    body = "789" + _digits(rng, 9)
    return body + gtin_check_digit(body)


def _brand(sandbox: IderisSandbox, name: str) -> int:
    """The brand's id, registered as ``POST /Marca`` would when the account lacks it."""
    brands: dict[int, str] = sandbox.data["brands"]
    found = next((i for i, n in brands.items() if n.casefold() == name.casefold()), None)
    if found is not None:
        return found
    ident = next_id(sandbox.data, "brand")
    brands[ident] = name
    return ident


def _body(sandbox: IderisSandbox, model: Model, sku: str, rng: random.Random) -> dict[str, Any]:
    brand = rng.choice(model.brands)
    low, high = model.reais
    price = Decimal(rng.randrange(low * 100, high * 100 + 1, 10)) / 100
    length, width, height = model.size_cm
    body: dict[str, Any] = {
        "sku": sku, "titulo": f"{model.name} {brand}",
        "descricaoLonga": f"{model.name} {brand}. Produto original, nota fiscal e garantia.",
        "categoriaIdIderis": 1, "subCategoriaIdIderis": 1, "departamentoIdIderis": 1,
        "marcaIdIderis": _brand(sandbox, brand), "valorVenda": price,
        "valorCusto": (price * Decimal("0.55")).quantize(Decimal("0.01")), "ean": _gtin(rng),
        "peso": model.grams, "comprimento": length, "largura": width, "altura": height,
        "Imagem": [{"urlImagem": f"https://images.example.com/ideris-sandbox/{sku.lower()}-{n}.jpg"}
                   for n in range(1, rng.randrange(2, 5))],
    }
    if model.variation is None:
        body["quantidadeEstoquePrincipal"] = rng.randrange(0, 60)
        return body
    attribute, values = model.variation
    body["Variacao"] = [
        {"skuVariacao": f"{sku}-{value.upper()}", "quantidadeVariacao": rng.randrange(0, 25),
         "nomeAtributo": attribute, "valorAtributo": value,
         "Imagem": [{"urlImagem": f"https://images.example.com/ideris-sandbox/"
                                  f"{sku.lower()}-{value.lower()}.jpg"}]}
        for value in rng.sample(values, rng.randrange(2, len(values) + 1))]
    return body


def _products(sandbox: IderisSandbox, count: int, rng: random.Random) -> list[Sellable]:
    """Create ``count`` products; returns what a buyer can pick."""
    sellable: list[Sellable] = []
    first = len(sandbox.data["products"])
    for n in range(count):
        body = _body(sandbox, CATALOGUE[n % len(CATALOGUE)], f"ID-{first + n + 1:04d}", rng)
        product = create_now(sandbox.data, creation_draft(sandbox.data, body))
        price = product["valorVenda"]
        sellable += [Sellable(v["skuVariacao"], product["titulo"], price)
                     for v in product["variations"]] or [Sellable(product["sku"],
                                                                  product["titulo"], price)]
    return sellable


def _customer(rng: random.Random) -> tramo.Customer:
    if rng.random() < 0.15:
        base = _digits(rng, 8) + "0001"
        return tramo.Customer(name=rng.choice(COMPANIES), kind=tramo.CustomerKind.COMPANY,
                              cnpj=base + cnpj_check_digits(base),
                              email=f"compras{rng.randrange(100)}@example.com.br",
                              phones=(f"11{_digits(rng, 8)}",))
    base = _digits(rng, 9)
    name = rng.choice(PEOPLE)
    return tramo.Customer(name=name, cpf=base + cpf_check_digits(base),
                          email=f"{name.split()[0].lower()}{rng.randrange(100)}@example.com.br",
                          phones=(f"119{_digits(rng, 8)}",))


def _order(n: int, rng: random.Random, sellable: list[Sellable], sandbox: IderisSandbox
           ) -> tramo.Order:
    picks = rng.sample(sellable, min(len(sellable), rng.randrange(1, 3))) if sellable else [
        Sellable("AVULSO-1", "Item avulso", Decimal("10.00"))]
    items = tuple(tramo.OrderItem(sku=p.sku, name=p.name, quantity=rng.randrange(1, 3),
                                  unit_price=p.price) for p in picks)
    marketplace = rng.choice(MARKETPLACES)
    customer = _customer(rng)
    street, district, city, state, cep = rng.choice(PLACES)
    address = tramo.Address(street=street, number=str(rng.randrange(10, 2000)), district=district,
                            city=city, state=state, postal_code=cep, recipient=customer.name)
    freight = Decimal(rng.randrange(0, 4000)) / 100
    total = sum((i.total for i in items), Decimal(0)) + freight
    method = rng.choice(SHIPPING.get(marketplace, ("Correios",)))
    payment = rng.choice(PAYMENTS)
    when = sandbox.data["clock"]
    status = rng.choice(("Aprovado", "Aprovado", "Aberto"))
    paid = None if status == "Aberto" else when + timedelta(minutes=rng.randrange(1, 30))
    return tramo.Order(
        id=f"SEED-{n + 1}", placed_at=when, customer=customer, items=items, total=total,
        platform_status=status, delivery_address=address,
        shipping=tramo.Shipping(platform_method=method, freight=freight),
        payments=(tramo.Payment(value=total, platform_method=payment,
                                installments=rng.randrange(1, 7) if payment == "credit_card" else 1,
                                paid_at=paid),),
        sales_channel=tramo.SalesChannel(platform_channel=marketplace,
                                         marketplace_order_id=_digits(rng, 13)))


def fill(sandbox: IderisSandbox, products: int, orders: int, seed: int) -> None:
    """Add ``products`` products (some with variations) and ``orders`` marketplace orders."""
    rng = random.Random(seed)
    with sandbox.lock:
        sellable = _products(sandbox, products, rng)
        for n in range(orders):
            ident = sandbox.place_order(_order(n, rng, sellable, sandbox))
            if rng.random() < 0.4:
                sandbox.set_status(ident, rng.choice(LATER))
