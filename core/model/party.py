"""Customers, their addresses and contacts.

Documents are optional (marketplace and foreign orders may lack them) but are
checked by their check digits whenever present.
"""

from __future__ import annotations

import re

import enum
from datetime import date

import attrs

from tramo.model import fields as f
from tramo.model.identifiers import UFS, normalize_cep, normalize_cnpj, normalize_cpf

__all__ = ["Address", "Contact", "Customer", "CustomerKind"]


class CustomerKind(enum.Enum):
    """A person (pessoa física, CPF) or a company (pessoa jurídica, CNPJ)."""

    PERSON = "person"
    COMPANY = "company"


@attrs.frozen(kw_only=True)
class Address:
    """A postal address. In Brazil (``country`` BR) the CEP and the UF are checked."""

    street: str = f.text()
    city: str = f.text()
    postal_code: str = f.text()
    number: str = f.text(default="S/N")
    complement: str | None = f.optional_text()
    district: str | None = f.optional_text()
    state: str | None = f.optional_text()
    country: str = f.text(default="BR")
    recipient: str | None = f.optional_text()
    phone: str | None = f.optional_text()
    city_code: str | None = f.optional_text()

    def __attrs_post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise f.fail(self, "country", self.country, "must be an ISO 3166 alpha-2 code such as BR")
        if self.country != "BR":
            return
        try:
            cep = normalize_cep(self.postal_code)
        except ValueError as exc:
            raise f.fail(self, "postal_code", self.postal_code, str(exc)) from None
        object.__setattr__(self, "postal_code", cep)
        if self.state is not None and self.state not in UFS:
            raise f.fail(self, "state", self.state, "must be a Brazilian UF such as SP")


@attrs.frozen(kw_only=True)
class Contact:
    """Someone to reach at a customer (a buyer at a company, say)."""

    name: str = f.text()
    email: str | None = f.email()
    phone: str | None = f.optional_text()
    role: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class Customer:
    """A buyer. A person may carry a CPF, a company a CNPJ and a state registration (IE)."""

    name: str = f.text()
    kind: CustomerKind = f.choice(CustomerKind, default=CustomerKind.PERSON)
    cpf: str | None = f.identifier(normalize_cpf)
    cnpj: str | None = f.identifier(normalize_cnpj)
    state_registration: str | None = f.optional_text()
    email: str | None = f.email()
    phones: tuple[str, ...] = f.many(str)
    birth_date: date | None = f.day()
    addresses: tuple[Address, ...] = f.many(Address)
    contacts: tuple[Contact, ...] = f.many(Contact)
    id: str | None = f.optional_text()
    remote_id: str | None = f.optional_text()

    def __attrs_post_init__(self) -> None:
        if self.kind is CustomerKind.PERSON and self.cnpj is not None:
            raise f.fail(self, "cnpj", self.cnpj, "a person carries a CPF, not a CNPJ")
        if self.kind is CustomerKind.COMPANY and self.cpf is not None:
            raise f.fail(self, "cpf", self.cpf, "a company carries a CNPJ, not a CPF")
