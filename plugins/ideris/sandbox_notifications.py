"""The Ideris sandbox's notification endpoints: tracking codes and invoices pushed by the ERP.

Ideris support hands each account two URLs ("URL para envio de rastreio",
"URL para envio da nota fiscal"); they are not part of the API proper: no
Authorization header, the secret is the URL's last segment. The body is
modelled on Tiny's documented webhook envelope ``{versao, tipo, idEvento,
dados}``. The receiver de-duplicates by ``idEvento``, so a retried POST is
safe; a tracking also becomes the order's ``numeroRastreio``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tramo.sandbox import HttpSandbox, Request, Response, json_response

from tramo_ideris.sandbox_records import (
    NOTIFICATION_TOKEN,
    Bad,
    as_number,
    as_text,
    parse_query_moment,
    pick,
    read_json,
)

__all__ = ["KINDS", "NotificationRoutes"]

#: route segment -> the ``tipo`` its body must carry
KINDS = {"rastreio": "rastreio", "nota-fiscal": "nota_fiscal"}
EVENT = re.compile(r"[0-9a-fA-F]{64}")
KEY = re.compile(r"\d{44}")
INVOICE_KINDS = ("NFe", "NFCe")


def _optional_moment(value: Any, name: str) -> None:
    text = as_text(value, name, required=False)
    if text:
        try:
            parse_query_moment(text)
        except ValueError:
            raise Bad(f"O campo {name} é inválido") from None


def _tracking(dados: Mapping[str, Any]) -> None:
    as_text(pick(dados, "codigoRastreio"), "dados.codigoRastreio")
    for name in ("urlRastreio", "transportadora"):
        as_text(pick(dados, name), f"dados.{name}", required=False)
    _optional_moment(pick(dados, "dataEnvio"), "dados.dataEnvio")
    key = as_text(pick(dados, "chaveNota"), "dados.chaveNota", required=False)
    if key and not KEY.fullmatch(key):
        raise Bad("O campo dados.chaveNota é inválido")


def _invoice(dados: Mapping[str, Any]) -> None:
    key = as_text(pick(dados, "chaveNota"), "dados.chaveNota")
    if not KEY.fullmatch(key or ""):
        raise Bad("O campo dados.chaveNota é inválido")
    for name in ("numeroNota", "serieNota"):
        if not (as_text(pick(dados, name), f"dados.{name}") or "").isdigit():
            raise Bad(f"O campo dados.{name} é inválido")
    as_text(pick(dados, "dataEmissaoNota"), "dados.dataEmissaoNota")
    _optional_moment(pick(dados, "dataEmissaoNota"), "dados.dataEmissaoNota")
    as_number(pick(dados, "valorNota"), "dados.valorNota")
    if pick(dados, "tipoNota") not in INVOICE_KINDS:
        raise Bad("O campo dados.tipoNota é inválido")
    for name in ("cfop", "urlDanfe", "urlXml"):
        as_text(pick(dados, name), f"dados.{name}", required=False)


def checked(data: Mapping[str, Any], kind: str, body: Any) -> dict[str, Any]:
    """The notification body after every check, or the 400 naming the first bad field."""
    if not isinstance(body, dict):
        raise Bad("Requisição mal formada: esperado um objeto JSON")
    if pick(body, "tipo") != kind:
        raise Bad("O campo tipo é inválido")
    as_text(pick(body, "versao"), "versao")
    if not EVENT.fullmatch(str(pick(body, "idEvento") or "")):
        raise Bad("O campo idEvento é inválido")
    dados = pick(body, "dados")
    if not isinstance(dados, dict):
        raise Bad("O campo dados é obrigatório")
    order = pick(dados, "idPedido")
    if isinstance(order, bool) or not isinstance(order, int) or order not in data["orders"]:
        raise Bad("O campo dados.idPedido é inválido: pedido não encontrado")
    (_tracking if kind == "rastreio" else _invoice)(dados)
    return body


class NotificationRoutes(HttpSandbox):
    """``POST /notificacoes/rastreio/<token>`` and ``POST /notificacoes/nota-fiscal/<token>``."""

    def on_notification(self, request: Request, kind: str, token: str) -> Response:
        # The token is compared as sent (paths are matched ignoring case, secrets are not).
        sent = request.path.rstrip("/").rsplit("/", 1)[-1]
        if sent != NOTIFICATION_TOKEN or kind not in KINDS:
            raise Bad("Recurso não encontrado", 404)
        tipo = KINDS[kind]
        body = read_json(request)
        with self.lock:
            body = checked(self.data, tipo, body)
            event = str(pick(body, "idEvento")).lower()
            if event not in self.data["events"]:
                self.data["events"].add(event)
                self.data["notifications"][tipo].append(body)
                if tipo == "rastreio":
                    dados = pick(body, "dados")
                    order = self.data["orders"][pick(dados, "idPedido")]
                    order["numeroRastreio"] = pick(dados, "codigoRastreio")
                    order["metodoRastreio"] = pick(dados, "transportadora")
            return json_response({"recebido": True, "idEvento": pick(body, "idEvento")})
