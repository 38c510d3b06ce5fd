"""What every operation of the Tray SOAP store shares: its records, clock, checks and answers.

:class:`TrayStore` is the store's base: it serves :data:`SERVICE`, checks
``pid_loja``/``plogin``/``psenha`` on every call and keeps the records in
``data`` as Tray answers them (every value text). The operations live in
``sandbox_catalogue`` and ``sandbox_orders``; ``sandbox.TraySoapSandbox``
puts them together. A refusal is a SOAP fault whose code says why
(``Client.Autenticacao``, ``Client.NaoEncontrado``, ``Client.Dados``); a
business refusal of a write is a ``Retorno`` with ``status="erro"``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tramo.budget import Window
from tramo.sandbox import Knobs
from tramo.sandbox.soap import Params, SoapFault, SoapSandbox

from tramo_tray_soap.sandbox_service import PATH, SERVICE

__all__ = [
    "CHANNELS", "EMPTY_DATE", "LOGIN", "PASSWORD", "PAYMENTS", "SHIPPING", "START", "STATUSES",
    "STORE_ID", "STORE_TZ", "TRAY_LIMITS", "Causes", "TrayStore", "dados", "erro",
    "measure_text", "money_text", "not_found", "ok", "options", "read_count", "read_day",
    "read_decimal", "read_digits", "read_flag", "read_moment", "read_text", "read_url",
    "stamp_text", "text",
]

STORE_ID = "391250"
LOGIN = "webservice"
#: The webservice user's password (a test value: the sandbox is no real store).
PASSWORD = "sandbox-ws-senha-4e7b21"

#: Tray writes store-local times without an offset; this is the store's zone.
STORE_TZ = ZoneInfo("America/Sao_Paulo")
#: The store clock starts here and moves one second per change.
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=STORE_TZ)
EMPTY_DATE = "0000-00-00"

#: Order statuses: id -> Tray's name.
STATUSES: dict[str, str] = {
    "1": "AGUARDANDO PAGAMENTO", "2": "PAGAMENTO APROVADO", "3": "EM SEPARAÇÃO",
    "4": "FATURADO", "5": "PRONTO PARA ENVIO", "6": "ENVIADO", "7": "FINALIZADO",
    "8": "ENTREGUE", "9": "DEVOLVIDO", "10": "CANCELADO",
}
#: Shipping options, payment options and sales channels: id -> name.
SHIPPING: dict[str, str] = {"1": "Correios PAC", "2": "Correios Sedex", "3": "Retirada na loja"}
PAYMENTS: dict[str, str] = {"80": "Boleto", "81": "Pix", "82": "Cartão de crédito"}
CHANNELS: dict[str, str] = {"1": "LOJA VIRTUAL", "2": "Mercado Livre", "3": "Dafiti",
                            "4": "Amazon"}

#: Tray's REST limit, assumed for the webservice too (nothing public says otherwise).
TRAY_LIMITS = (Window(180, 60),)
CENT = Decimal("0.01")

_URL = re.compile(r"https?://[^\s/]+\S*")
_DIGITS = re.compile(r"[0-9]+")


# -- text as Tray writes it ----------------------------------------------------------------------


def text(params: Params, name: str) -> str:
    """A parameter as text, trimmed; a missing or nil one is empty."""
    value = params.get(name)
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def money_text(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def measure_text(value: Decimal) -> str:
    """A measure without exponent or trailing zeros: ``10``, ``2.5``."""
    return format(value.normalize(), "f")


def stamp_text(moment: datetime) -> str:
    """``Y-m-d H:i:s`` in store time (Tray's datetimes carry no offset)."""
    return moment.astimezone(STORE_TZ).strftime("%Y-%m-%d %H:%M:%S")


# -- answers and refusals --------------------------------------------------------------------------


def ok(ident: str) -> dict[str, str]:
    """A write that went through: the record's id."""
    return {"status": "ok", "mensagem": "", "id": ident}


def erro(message: str) -> dict[str, str]:
    """A write the store refuses on business grounds (not a fault: the call itself was fine)."""
    return {"status": "erro", "mensagem": message, "id": ""}


def not_found(what: str) -> SoapFault:
    return SoapFault("SOAP-ENV:Client.NaoEncontrado", f"{what} não encontrado")


class Causes:
    """The fields a call got wrong, raised together as one ``Client.Dados`` fault."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, field: str, why: str) -> None:
        self.found.append(f"{field}: {why}")

    def check(self) -> None:
        """Raise the fault when any field was refused."""
        if self.found:
            raise SoapFault("SOAP-ENV:Client.Dados", "; ".join(self.found))

    def read(self, field: str, value: str, reader: Callable[[str], str]) -> str:
        """``reader(value)``, or the value as given when the reader refuses it (noted)."""
        try:
            return reader(value)
        except ValueError as exc:
            self.add(field, str(exc))
            return value


def dados(field: str, why: str) -> SoapFault:
    return SoapFault("SOAP-ENV:Client.Dados", f"{field}: {why}")


# -- readers: text in, Tray's text out, ValueError with the reason ---------------------------------


def read_count(value: str, default: str = "0") -> str:
    """A whole number >= 0 ("" is ``default``)."""
    if value == "":
        return default
    if not _DIGITS.fullmatch(value):
        raise ValueError("deve ser um número inteiro maior ou igual a 0")
    return str(int(value))


def read_decimal(value: str, *, positive: bool = False) -> Decimal:
    try:
        number = Decimal(value.replace(",", ".")) if value else Decimal(0)
    except InvalidOperation:
        raise ValueError("deve ser um número (use ponto para decimais)") from None
    if not number.is_finite() or number < 0:
        raise ValueError("deve ser um número maior ou igual a 0")
    if positive and number <= 0:
        raise ValueError("deve ser maior que 0")
    return number


def read_flag(value: str, default: str = "S") -> str:
    """``S`` or ``N`` ("" is ``default``)."""
    if value == "":
        return default
    if value.upper() not in ("S", "N"):
        raise ValueError("use S ou N")
    return value.upper()


def read_url(value: str) -> str:
    if value and not _URL.fullmatch(value):
        raise ValueError("deve ser um endereço http(s) completo")
    return value


def read_digits(*lengths: int) -> Callable[[str], str]:
    """A reader of digit strings of one of these lengths (0 among them: may be empty)."""
    sizes = sorted(n for n in lengths if n)
    if len(sizes) > 2 and sizes == list(range(sizes[0], sizes[-1] + 1)):
        words = f"de {sizes[0]} a {sizes[-1]}"
    elif len(sizes) > 1:
        words = f"{', '.join(map(str, sizes[:-1]))} ou {sizes[-1]}"
    else:
        words = str(sizes[0])

    def reader(value: str) -> str:
        if value == "" and 0 in lengths:
            return ""
        if not _DIGITS.fullmatch(value) or len(value) not in lengths:
            raise ValueError(f"deve ter {words} dígitos")
        return value
    return reader


def read_day(value: str) -> str:
    """``Y-m-d``."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValueError("use AAAA-MM-DD")


def read_moment(value: str) -> str:
    """``Y-m-d H:i:s`` (a bare day is midnight)."""
    if len(value) == 10:
        return f"{read_day(value)} 00:00:00"
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError("use AAAA-MM-DD HH:MM:SS") from None


def read_text(limit: int, *, required: bool = False) -> Callable[[str], str]:
    def reader(value: str) -> str:
        if required and not value:
            raise ValueError("obrigatório")
        if len(value) > limit:
            raise ValueError(f"no máximo {limit} caracteres")
        return value
    return reader


# -- the store -------------------------------------------------------------------------------------


class TrayStore(SoapSandbox):
    """A Tray store's webservice: records, clock, auth; the operations come from mixins.

    Without knobs it enforces Tray's 180 calls a minute with platform time
    running 100 times faster, so waits stay short.
    """

    plugin = "tray_soap"
    service = SERVICE
    path = PATH

    def __init__(self, knobs: Knobs | None = None, **options: Any) -> None:
        if knobs is None:
            knobs = Knobs(time_scale=100, rate_limits=TRAY_LIMITS)
        super().__init__(knobs, **options)

    def fresh_data(self) -> dict[str, Any]:
        """A new store: no records (statuses, shipping, payments and channels are fixed)."""
        return {
            "clock": START, "ids": {},
            "products": {}, "variants": {}, "reservations": {},
            "customers": {}, "orders": {}, "items": {}, "invoices": {},
            "todo": {"pedidos": set(), "clientes": set()}, "emails": [], "last_page": None,
        }

    @property
    def settings(self) -> dict[str, Any]:
        """The plugin's settings for this store; the rate limit in real time (per real minute)."""
        scale = self.knobs.time_scale
        per_minute = next((w.limit for w in self.knobs.rate_limits if w.seconds == 60), 180)
        return {"store_url": self.url, "store_id": STORE_ID, "login": LOGIN,
                "password": PASSWORD, "requests_per_minute": int(per_minute * scale)}

    def authorize(self, name: str, params: Params) -> None:
        """Every operation checks the store id, login and password it carries."""
        given = (text(params, "pid_loja"), text(params, "plogin"), str(params.get("psenha") or ""))
        wanted = (STORE_ID, LOGIN, PASSWORD)
        if not all(hmac.compare_digest(g.encode(), w.encode()) for g, w in zip(given, wanted)):
            raise SoapFault("SOAP-ENV:Client.Autenticacao",
                            "Acesso negado: loja, login ou senha inválidos")

    # -- the store clock -------------------------------------------------------------------

    def tick(self) -> datetime:
        """The store clock one second after the last change: change times never repeat."""
        moment: datetime = self.data["clock"] + timedelta(seconds=1)
        self.data["clock"] = moment
        return moment

    def advance(self, **delta: float) -> None:
        """Time passes in the store (``advance(days=2)``): the next change is stamped later."""
        with self.lock:
            self.data["clock"] += timedelta(**delta)

    def next_id(self, kind: str) -> str:
        """The next id of a kind of record: "1", "2", ... (Tray's ids are numeric text)."""
        ids: dict[str, int] = self.data["ids"]
        ids[kind] = ids.get(kind, 0) + 1
        return str(ids[kind])

    # -- lookups shared by the operations ---------------------------------------------------

    def order(self, ident: str) -> dict[str, Any]:
        found: dict[str, Any] | None = self.data["orders"].get(ident)
        if found is None:
            raise not_found("Pedido")
        return found

    def product(self, ident: str) -> dict[str, Any]:
        found: dict[str, Any] | None = self.data["products"].get(ident)
        if found is None:
            raise not_found("Produto")
        return found

    def variant(self, ident: str) -> dict[str, Any]:
        found: dict[str, Any] | None = self.data["variants"].get(ident)
        if found is None:
            raise SoapFault("SOAP-ENV:Client.NaoEncontrado", "Variação não encontrada")
        return found

    def reference_owner(self, reference: str) -> tuple[str, str] | None:
        """("produto" | "variacao", id) of the record using ``reference``, if any."""
        for kind, records, key in (("produto", "products", "id_produto"),
                                   ("variacao", "variants", "id_variacao")):
            for record in self.data[records].values():
                if record["cod_referencia"] == reference:
                    return kind, record[key]
        return None


def options(table: Mapping[str, str]) -> list[dict[str, str]]:
    """An option list as ``ArrayOfOpcao``."""
    return [{"id": ident, "descricao": name} for ident, name in table.items()]
