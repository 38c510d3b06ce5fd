"""A believable Brazilian store for the Tray SOAP sandbox: a catalogue, then orders placed from it.

``TraySoapSandbox.seed`` calls :func:`fill`. Products and variants go through
the very operations a client calls (``fWSCadastraProduto``,
``fWSCadastraVariacaoProduto``), so the seed holds only what the store would
accept; orders are placed as a buyer places them. One ``random.Random(seed)``
draws everything: the same seed gives the same store.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

import tramo
from tramo.model.identifiers import cnpj_check_digits, cpf_check_digits, gtin_check_digit

from tramo_tray_soap.sandbox_store import CHANNELS, PAYMENTS, SHIPPING, money_text

if TYPE_CHECKING:
    from tramo_tray_soap.sandbox import TraySoapSandbox

__all__ = ["fill"]


class Kind(NamedTuple):
    """A kind of product on sale; ``attributes`` name what its variants differ in."""

    name: str
    brands: tuple[str, ...]
    attributes: tuple[str, ...]
    reais: tuple[int, int]
    grams: int
    size_cm: tuple[str, str, str]  # altura, largura, comprimento
    ncm: str


KINDS: tuple[Kind, ...] = (
    Kind("Camisa Polo Piquet", ("Aramis", "Lacoste", "Hering"), ("Cor", "Tamanho"),
         (79, 249), 250, ("4", "25", "30"), "61051000"),
    Kind("Bermuda de Sarja", ("Reserva", "Colcci"), ("Cor", "Tamanho"),
         (89, 199), 350, ("5", "28", "32"), "62034300"),
    Kind("Sapatênis de Couro", ("Democrata", "Ferracini"), ("Cor", "Número"),
         (199, 399), 900, ("12", "20", "32"), "64039990"),
    Kind("Mochila Escolar Reforçada", ("Sestini", "Dermiwil"), ("Cor",),
         (99, 259), 700, ("45", "30", "15"), "42029200"),
    Kind("Panela de Pressão 4,5 L", ("Panelux", "Rochedo", "Clock"), (),
         (119, 279), 2100, ("25", "24", "38"), "76151000"),
    Kind("Chaleira Elétrica Inox 1,8 L", ("Mondial", "Oster"), (),
         (99, 219), 1200, ("25", "17", "23"), "85161000"),
    Kind("Ventilador de Mesa 40 cm", ("Arno", "Mallory", "Britânia"), (),
         (149, 289), 3200, ("62", "42", "22"), "84145190"),
    Kind("Café Torrado e Moído 500 g", ("Pilão", "Três Corações", "Melitta"), (),
         (17, 39), 520, ("18", "10", "6"), "09012100"),
    Kind("Óculos de Sol Aviador", ("Chilli Beans", "Mormaii"), ("Cor",),
         (129, 329), 150, ("6", "16", "8"), "90041000"),
    Kind("Jogo de Lençol Queen 4 Peças", ("Santista", "Buddemeyer"), ("Cor",),
         (139, 349), 1400, ("8", "30", "38"), "63022100"),
    Kind("Protetor Solar FPS 50 200 ml", ("Sundown", "Episol"), (),
         (39, 89), 240, ("18", "6", "4"), "33049990"),
    Kind("Bola de Futebol de Campo", ("Penalty", "Topper"), (),
         (89, 229), 450, ("22", "22", "22"), "95066200"),
)

VALUES: dict[str, tuple[str, ...]] = {
    "Cor": ("Preto", "Branco", "Azul-marinho", "Vermelho", "Verde-água", "Cinza-chumbo"),
    "Tamanho": ("P", "M", "G", "GG"),
    "Número": ("37", "38", "39", "40", "41", "42", "43"),
}

IMAGE_BASE = "https://cdn.example.com/tray-soap"
PEOPLE = ("Luíza Andrade", "Marcos Teixeira", "Patrícia Nogueira", "Rafael Cardoso",
          "Simone Araújo", "Thiago Moreira", "Vânia Duarte", "Wesley Barros")
COMPANIES = ("Distribuidora Pôr do Sol Ltda", "Armazém São Jorge ME")
#: (street, district, city, UF, CEP)
PLACES = (
    ("Rua Oscar Freire", "Jardim Paulista", "São Paulo", "SP", "01426001"),
    ("Avenida Getúlio Vargas", "Funcionários", "Belo Horizonte", "MG", "30112021"),
    ("Rua Voluntários da Pátria", "Botafogo", "Rio de Janeiro", "RJ", "22270010"),
    ("Avenida Beira Mar", "Meireles", "Fortaleza", "CE", "60165121"),
    ("Rua Marechal Deodoro", "Centro", "Florianópolis", "SC", "88010020"),
    ("Avenida Eduardo Ribeiro", "Centro", "Manaus", "AM", "69010001"),
    ("Rua Chile", "Comércio", "Salvador", "BA", "40020000"),
)


class Sellable(NamedTuple):
    sku: str
    name: str
    price: Decimal
    ean: str


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _ean(rng: random.Random) -> str:
    body = "789" + _digits(rng, 9)
    return body + gtin_check_digit(body)


def _ok(answer: dict[str, str]) -> str:
    if answer["status"] != "ok":
        raise RuntimeError(f"the seed wrote what the store refuses: {answer['mensagem']}")
    return answer["id"]


# -- the catalogue ---------------------------------------------------------------------------------


def _product(kind: Kind, reference: str, edition: int, rng: random.Random) -> dict[str, str]:
    brand = rng.choice(kind.brands)
    low, high = kind.reais
    price = Decimal(rng.randrange(low * 100, high * 100 + 1, 10)) / 100
    height, width, length = kind.size_cm
    name = f"{kind.name} {brand}" + (f" Linha {2026 + edition}" if edition else "")
    struct = {
        "cod_referencia": reference, "nome": name, "marca": brand, "ncm": kind.ncm,
        "descricao": f"{kind.name} {brand}: original, com nota fiscal e garantia do fabricante.",
        "descricao_resumida": f"{kind.name} {brand}", "ean": _ean(rng),
        "preco": money_text(price), "peso": str(kind.grams), "altura": height,
        "largura": width, "comprimento": length, "estoque": str(rng.randrange(0, 60)),
        "disponivel": "S",
    }
    for slot in range(1, rng.randrange(2, 5)):
        struct[f"imagem_{slot}"] = f"{IMAGE_BASE}/{reference.lower()}-{slot}.jpg"
    return struct


def _variants(sandbox: TraySoapSandbox, product_id: str, product: dict[str, str], kind: Kind,
              rng: random.Random) -> list[Sellable]:
    """Two or three values of each attribute, every combination a variant."""
    choices = [rng.sample(VALUES[a], 2 if len(kind.attributes) > 1 else 3) for a in kind.attributes]
    combos: list[tuple[str, ...]] = [()]
    for values in choices:
        combos = [(*combo, value) for combo in combos for value in values]
    sellable = []
    for n, combo in enumerate(combos if kind.attributes else [], start=1):
        reference = f"{product['cod_referencia']}-{n:02d}"
        struct = {"cod_referencia": reference, "ean": _ean(rng), "preco": product["preco"],
                  "peso": product["peso"], "estoque": str(rng.randrange(0, 25)), "disponivel": "S",
                  **{k: product[k] for k in ("altura", "largura", "comprimento")}}
        for slot, (attribute, value) in enumerate(zip(kind.attributes, combo), start=1):
            struct.update({f"tipo_{slot}": attribute, f"valor_{slot}": value})
        _ok(sandbox.op_fWSCadastraVariacaoProduto({"id_produto": product_id, "variacao": struct}))
        price = Decimal(product["preco"])
        sellable.append(Sellable(reference, product["nome"], price, struct["ean"]))
    return sellable


def _catalogue(sandbox: TraySoapSandbox, count: int, rng: random.Random) -> list[Sellable]:
    sellable: list[Sellable] = []
    first = len(sandbox.data["products"])
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        struct = _product(kind, f"TS-{first + n + 1:04d}", n // len(KINDS), rng)
        ident = _ok(sandbox.op_fWSCadastraProduto({"produto": struct}))
        sellable += _variants(sandbox, ident, struct, kind, rng) or [
            Sellable(struct["cod_referencia"], struct["nome"], Decimal(struct["preco"]),
                     struct["ean"])]
    return sellable


# -- orders ----------------------------------------------------------------------------------------


def _customer(rng: random.Random) -> tramo.Customer:
    street, district, city, uf, cep = rng.choice(PLACES)
    address = tramo.Address(street=street, number=str(rng.randrange(1, 3000)), district=district,
                            city=city, state=uf, postal_code=cep,
                            complement=rng.choice((None, "Apto 12", "Bloco B", "Casa 2")))
    area = rng.randrange(11, 99)
    phones = (f"{area}3{_digits(rng, 7)}", f"{area}9{_digits(rng, 8)}")
    if rng.random() < 0.25:
        name = rng.choice(COMPANIES)
        base = _digits(rng, 8) + "0001"
        return tramo.Customer(name=name, kind=tramo.CustomerKind.COMPANY,
                              cnpj=base + cnpj_check_digits(base),
                              state_registration=_digits(rng, 12), phones=phones,
                              addresses=(address,),
                              email=f"compras{rng.randrange(90)}@empresa.com.br")
    name = rng.choice(PEOPLE)
    base = _digits(rng, 9)
    login = name.lower().split()[0].translate(str.maketrans("áâãéêíóôõúç", "aaaeeiooouc"))
    born = date(rng.randrange(1955, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    return tramo.Customer(name=name, cpf=base + cpf_check_digits(base), phones=phones,
                          addresses=(address,), birth_date=born,
                          email=f"{login}.{rng.randrange(1000)}@example.com.br")


def _order(n: int, sandbox: TraySoapSandbox, rng: random.Random,
           sellable: list[Sellable]) -> tramo.Order:
    now = sandbox.data["clock"]
    picks = rng.sample(sellable, min(len(sellable), rng.randrange(1, 4))) if sellable else [
        Sellable("AVULSO-1", "Item avulso", Decimal("19.90"), "")]
    items = tuple(tramo.OrderItem(sku=p.sku, name=p.name, quantity=rng.randrange(1, 3),
                                  unit_price=p.price, gtin=p.ean or None) for p in picks)
    customer = _customer(rng)
    shipping = rng.choice(tuple(SHIPPING.values()))
    pickup = shipping == "Retirada na loja"
    freight = Decimal(0) if pickup else Decimal(rng.randrange(1290, 4990)) / 100
    total = sum((i.total for i in items), Decimal(0)) + freight
    payment = rng.choice(tuple(PAYMENTS))
    channel = rng.choice(("LOJA VIRTUAL",) * 3 + tuple(CHANNELS.values())[1:])
    paid = rng.random() < 0.7
    return tramo.Order(
        id=f"SEED-{n + 1}", placed_at=now, customer=customer, items=items, total=total,
        platform_status=rng.choice(("2", "3", "4", "6")) if paid else "1",
        billing_address=customer.addresses[0], delivery_address=customer.addresses[0],
        shipping=tramo.Shipping(platform_method=shipping, freight=freight,
                                estimated_delivery=now + timedelta(days=rng.randrange(2, 12))),
        payments=(tramo.Payment(value=total, platform_method=payment,
                                installments=rng.randrange(1, 6) if payment == "82" else 1,
                                paid_at=now if paid else None),),
        sales_channel=tramo.SalesChannel(
            platform_channel=channel,
            marketplace_order_id=None if channel == "LOJA VIRTUAL" else _digits(rng, 12)),
        notes=rng.choice((None, "Entregar no período da tarde", "Presente: não enviar nota")),
    )


def fill(sandbox: TraySoapSandbox, products: int, orders: int, seed: int) -> None:
    """Add ``products`` products (some with variants) and ``orders`` orders placed from them."""
    rng = random.Random(seed)
    with sandbox.lock:
        sellable = _catalogue(sandbox, products, rng)
        for n in range(orders):
            sandbox.place_order(_order(n, sandbox, rng, sellable))
