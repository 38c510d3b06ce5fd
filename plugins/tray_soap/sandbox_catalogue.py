"""The Tray SOAP store's catalogue: products, variants, stock, availability and reservations.

Products and variants are kept as their ``Produto``/``Variacao`` structs
(text), plus the ids of a product's variants. Stock moves only through
``fWSAtualizaEstoqueProduto`` (and sales); ``estoque`` in a product struct
counts on creation only. Reservations are the store's: they take nothing off
``estoque`` but off what can still be reserved or sold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tramo.sandbox.soap import Params, SoapFault

from tramo_tray_soap.sandbox_store import (
    Causes,
    TrayStore,
    erro,
    measure_text,
    money_text,
    not_found,
    ok,
    read_count,
    read_decimal,
    read_digits,
    read_flag,
    read_text,
    read_url,
    stamp_text,
    text,
)

__all__ = ["CatalogueOperations"]

Reader = Callable[[str], str]
IMAGES = tuple(f"imagem_{n}" for n in range(1, 7))
MEASURES = ("altura", "largura", "comprimento")


def _money(*, positive: bool) -> Reader:
    return lambda value: money_text(read_decimal(value, positive=positive))


def _measure(value: str) -> str:
    return measure_text(read_decimal(value))


_SHARED: dict[str, Reader] = {
    "cod_referencia": read_text(50, required=True), "ean": read_digits(0, 8, 12, 13, 14),
    "peso": read_count, **{m: _measure for m in MEASURES}, "disponivel": read_flag,
    **{i: read_url for i in IMAGES},
}
PRODUCT_READERS: dict[str, Reader] = {
    **_SHARED, "nome": read_text(200, required=True), "descricao": read_text(65_535),
    "descricao_resumida": read_text(500), "ncm": read_digits(0, 8), "marca": read_text(100),
    "preco": _money(positive=False),  # 0.00: price on request
}
VARIANT_READERS: dict[str, Reader] = {
    **_SHARED, "preco": _money(positive=False),
    **{f"{kind}_{n}": read_text(100) for n in (1, 2) for kind in ("tipo", "valor")},
}


def _read(given: Any, wrapper: str, readers: Mapping[str, Reader], creating: bool,
          causes: Causes) -> dict[str, str]:
    """A product or variant struct read field by field; on creation, its initial stock too."""
    if not isinstance(given, dict):
        causes.add(wrapper, "obrigatório")
        causes.check()
    fields = {name: causes.read(name, text(given, name), reader)
              for name, reader in readers.items()}
    if creating:
        fields["estoque"] = causes.read("estoque", text(given, "estoque"), read_count)
    return fields


def _check_attributes(given: Mapping[str, Any], fields: Mapping[str, str], causes: Causes) -> None:
    """One or two complete (tipo, valor) pairs, and no third."""
    extra = sorted(k for k in given if k.startswith(("tipo_", "valor_")) and k not in fields)
    if extra:
        causes.add(extra[0], "no máximo 2 atributos por variação")
    if not (fields["tipo_1"] and fields["valor_1"]):
        causes.add("tipo_1", "uma variação precisa de ao menos um atributo (tipo_1 e valor_1)")
    if bool(fields["tipo_2"]) != bool(fields["valor_2"]):
        causes.add("tipo_2", "tipo_2 e valor_2 vão juntos")


class CatalogueOperations(TrayStore):
    """Products, variants, stock and reservations, as ``op_<Name>`` handlers."""

    # -- what the answers show ------------------------------------------------------------

    def product_struct(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A product as ``Produto``: a product with variants has their stock summed."""
        variants = [self.data["variants"][v] for v in record["variant_ids"]]
        stock = sum(int(v["estoque"]) for v in variants) if variants else int(record["estoque"])
        return {**record, "estoque": str(stock), "possui_variacao": "S" if variants else "N"}

    def reserved(self, is_grade: str, ident: str) -> int:
        """What active reservations hold of a product (``N``) or variant (``S``)."""
        return sum(r["quantidade"] for r in self.data["reservations"].values()
                   if r["active"] and r["is_grade"] == is_grade and r["id_produto"] == ident)

    def touch(self, product_id: str) -> None:
        """A change to a product or one of its variants: its ``data_modificacao`` moves."""
        product = self.data["products"].get(product_id)
        if product is not None:
            product["data_modificacao"] = stamp_text(self.tick())

    def _unique(self, reference: str, own: tuple[str, str] | None, causes: Causes) -> None:
        owner = self.reference_owner(reference)
        if reference and owner is not None and owner != own:
            causes.add("cod_referencia", f"{reference} já é usado por outro produto ou variação")

    # -- products --------------------------------------------------------------------------

    def op_fWSCadastraProduto(self, params: Params) -> dict[str, str]:
        causes = Causes()
        fields = _read(params.get("produto"), "produto", PRODUCT_READERS, True, causes)
        self._unique(fields["cod_referencia"], None, causes)
        causes.check()
        ident = self.next_id("produto")
        self.data["products"][ident] = {"id_produto": ident, **fields, "variant_ids": []}
        self.touch(ident)
        return ok(ident)

    def op_fWSAtualizaProduto(self, params: Params) -> dict[str, str]:
        """Every field is replaced by the struct's, but the stock (changed on its own)."""
        ident = text(params, "id_produto")
        product = self.product(ident)
        causes = Causes()
        fields = _read(params.get("produto"), "produto", PRODUCT_READERS, False, causes)
        self._unique(fields["cod_referencia"], ("produto", ident), causes)
        causes.check()
        product.update(fields)
        self.touch(ident)
        return ok(ident)

    def op_fWSImportaProdutoPorID(self, params: Params) -> dict[str, Any]:
        return self.product_struct(self.product(text(params, "id_produto")))

    def op_fWSImportaProdutoPorCodReferencia(self, params: Params) -> dict[str, Any]:
        owner = self.reference_owner(text(params, "cod_prod"))
        if owner is None or owner[0] != "produto":
            raise not_found("Produto")
        return self.product_struct(self.product(owner[1]))

    # -- variants ----------------------------------------------------------------------------

    def _read_variant(self, params: Params, creating: bool, own: tuple[str, str] | None,
                      ) -> dict[str, str]:
        causes = Causes()
        given = params.get("variacao")
        fields = _read(given, "variacao", VARIANT_READERS, creating, causes)
        _check_attributes(given or {}, fields, causes)
        self._unique(fields["cod_referencia"], own, causes)
        causes.check()
        return fields

    def op_fWSImportaVariacoesProduto(self, params: Params) -> list[dict[str, Any]]:
        product = self.product(text(params, "id_produto"))
        return [self.data["variants"][v] for v in product["variant_ids"]]

    def op_fWSImportaVariacaoPorCodReferencia(self, params: Params) -> dict[str, Any]:
        owner = self.reference_owner(text(params, "cod_referencia"))
        if owner is None or owner[0] != "variacao":
            raise SoapFault("SOAP-ENV:Client.NaoEncontrado", "Variação não encontrada")
        return self.variant(owner[1])

    def op_fWSCadastraVariacaoProduto(self, params: Params) -> dict[str, str]:
        product_id = text(params, "id_produto")
        product = self.product(product_id)
        fields = self._read_variant(params, True, None)
        ident = self.next_id("variacao")
        self.data["variants"][ident] = {"id_variacao": ident, "id_produto": product_id, **fields}
        product["variant_ids"].append(ident)
        self.touch(product_id)
        return ok(ident)

    def op_fWSAtualizaVariacaoProduto(self, params: Params) -> dict[str, str]:
        ident = text(params, "id_variacao")
        variant = self.variant(ident)
        variant.update(self._read_variant(params, False, ("variacao", ident)))
        self.touch(variant["id_produto"])
        return ok(ident)

    def op_fWSExcluiVariacaoProduto(self, params: Params) -> dict[str, str]:
        """The variant goes, and with it whatever was reserved of it."""
        ident = text(params, "id_variacao")
        variant = self.variant(ident)
        del self.data["variants"][ident]
        self.data["products"][variant["id_produto"]]["variant_ids"].remove(ident)
        for reservation in self.data["reservations"].values():
            if reservation["is_grade"] == "S" and reservation["id_produto"] == ident:
                reservation["active"] = False
        self.touch(variant["id_produto"])
        return ok(ident)

    # -- stock, availability, reservations --------------------------------------------------------

    def _holder(self, params: Params, causes: Causes) -> tuple[str, str, dict[str, Any]]:
        """(is_grade, id, record) the call names: a variant (``S``) or a product (``N``)."""
        is_grade = causes.read("is_grade", text(params, "is_grade"), lambda v: read_flag(v, ""))
        causes.check()
        if is_grade not in ("S", "N"):
            causes.add("is_grade", "obrigatório (S para variação, N para produto)")
            causes.check()
        ident = text(params, "id_produto")
        record = self.variant(ident) if is_grade == "S" else self.product(ident)
        return is_grade, ident, record

    @staticmethod
    def _graded(is_grade: str, record: Mapping[str, Any]) -> dict[str, str] | None:
        """The refusal of a product-wide stock move on a product sold by its variants."""
        if is_grade == "N" and record["variant_ids"]:
            return erro("o produto tem variações: informe is_grade=S e o id da variação")
        return None

    def op_fWSAtualizaEstoqueProduto(self, params: Params) -> dict[str, str]:
        causes = Causes()
        stock = causes.read("estoque", text(params, "estoque"), lambda v: read_count(v, ""))
        if stock == "":
            causes.add("estoque", "obrigatório")
        is_grade, ident, record = self._holder(params, causes)
        refused = self._graded(is_grade, record)
        if refused is not None:
            return refused
        record["estoque"] = stock
        self.touch(record["id_produto"])
        return ok(ident)

    def op_fWSAtualizaProdutoDisponivel(self, params: Params) -> dict[str, str]:
        causes = Causes()
        flag = causes.read("disponivel", text(params, "disponivel"), lambda v: read_flag(v, ""))
        if flag == "":
            causes.add("disponivel", "obrigatório (S ou N)")
        _, ident, record = self._holder(params, causes)
        record["disponivel"] = flag
        self.touch(record["id_produto"])
        return ok(ident)

    def op_fWSReservaEstoque(self, params: Params) -> dict[str, str]:
        """Hold stock for an id: the same call again is a no-op, another one a conflict."""
        causes = Causes()
        reservation = causes.read("id_reserva", text(params, "id_reserva"),
                                  read_text(100, required=True))
        quantity = causes.read("quantidade", text(params, "quantidade"),
                               lambda v: read_count(v, ""))
        if not quantity.isdigit() or int(quantity) < 1:
            causes.add("quantidade", "deve ser um número inteiro maior que 0")
        is_grade, ident, record = self._holder(params, causes)
        wanted = {"is_grade": is_grade, "id_produto": ident, "quantidade": int(quantity)}
        held = self.data["reservations"].get(reservation)
        if held is not None:
            same = held["active"] and all(held[k] == v for k, v in wanted.items())
            return ok(reservation) if same else erro(
                f"conflito: a reserva {reservation} já existe com outro produto ou quantidade"
                if held["active"] else f"conflito: a reserva {reservation} já foi liberada")
        refused = self._graded(is_grade, record)
        if refused is not None:
            return refused
        available = int(record["estoque"]) - self.reserved(is_grade, ident)
        if int(quantity) > available:
            return erro(f"estoque insuficiente: {max(available, 0)} disponível")
        self.data["reservations"][reservation] = {**wanted, "active": True}
        return ok(reservation)

    def op_fWSLiberaReservaEstoque(self, params: Params) -> dict[str, str]:
        """Release a reservation; an unknown or released one is fine (nothing to do)."""
        causes = Causes()
        reservation = causes.read("id_reserva", text(params, "id_reserva"),
                                  read_text(100, required=True))
        causes.check()
        held = self.data["reservations"].get(reservation)
        if held is not None:
            held["active"] = False
        return ok(reservation)

