"""Brazilian identifiers and their check digits.

Pure functions, no I/O. ``normalize_*`` strips the usual punctuation and
returns the canonical form, or raises :class:`ValueError` saying what is
wrong; ``*_check_digits`` compute the digits, so test data generators build
valid values instead of filtering random ones.

CNPJ follows the alphanumeric form in force since July 2026 (Receita Federal,
IN RFB 2.229/2024): twelve characters 0-9 or A-Z, then two numeric check
digits, each character weighing ``ord(c) - 48``. Numeric CNPJs are the special
case where every character is a digit.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "UF_CODES",
    "cnpj_check_digits",
    "cpf_check_digits",
    "gtin_check_digit",
    "nfe_key_check_digit",
    "normalize_cep",
    "normalize_cfop",
    "normalize_cnpj",
    "normalize_cpf",
    "normalize_gtin",
    "normalize_ncm",
    "normalize_nfe_key",
    "UFS",
]

#: The 27 federative units, by IBGE code (the first two digits of an NF-e key).
UF_CODES: Final[dict[str, str]] = {
    "11": "RO", "12": "AC", "13": "AM", "14": "RR", "15": "PA", "16": "AP", "17": "TO",
    "21": "MA", "22": "PI", "23": "CE", "24": "RN", "25": "PB", "26": "PE", "27": "AL",
    "28": "SE", "29": "BA", "31": "MG", "32": "ES", "33": "RJ", "35": "SP", "41": "PR",
    "42": "SC", "43": "RS", "50": "MS", "51": "MT", "52": "GO", "53": "DF",
}
UFS: Final[frozenset[str]] = frozenset(UF_CODES.values())

_PUNCTUATION = re.compile(r"[\s./-]")
_DIGITS = re.compile(r"\d+")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


def _is_digits(value: str) -> bool:
    """Only ASCII 0-9: ``str.isdigit`` also takes other scripts' digits (``٥``, ``５``)."""
    return value.isascii() and value.isdigit()


def _strip(value: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, not {type(value).__name__}")
    return _PUNCTUATION.sub("", value)


def _mod11_digit(total: int) -> int:
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def cpf_check_digits(base: str) -> str:
    """The two check digits of a CPF whose first nine digits are ``base``."""
    if len(base) != 9 or not _is_digits(base):
        raise ValueError("a CPF base is nine digits")
    numbers = [int(c) for c in base]
    first = _mod11_digit(sum(n * w for n, w in zip(numbers, range(10, 1, -1))))
    numbers.append(first)
    second = _mod11_digit(sum(n * w for n, w in zip(numbers, range(11, 1, -1))))
    return f"{first}{second}"


def normalize_cpf(value: str) -> str:
    """The eleven digits of a valid CPF (``123.456.789-09`` is accepted)."""
    cpf = _strip(value)
    if len(cpf) != 11 or not _is_digits(cpf):
        raise ValueError("a CPF has eleven digits")
    if cpf == cpf[0] * 11:
        raise ValueError("a CPF of one repeated digit is not issued")
    if cpf_check_digits(cpf[:9]) != cpf[9:]:
        raise ValueError("CPF check digits do not match")
    return cpf


_CNPJ_WEIGHTS: Final = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def cnpj_check_digits(base: str) -> str:
    """The two check digits of a CNPJ whose first twelve characters are ``base``."""
    if len(base) != 12 or not re.fullmatch(r"[0-9A-Z]{12}", base):
        raise ValueError("a CNPJ base is twelve characters 0-9 or A-Z")
    values = [ord(c) - 48 for c in base]
    first = _mod11_digit(sum(v * w for v, w in zip(values, _CNPJ_WEIGHTS[1:])))
    values.append(first)
    second = _mod11_digit(sum(v * w for v, w in zip(values, _CNPJ_WEIGHTS)))
    return f"{first}{second}"


def normalize_cnpj(value: str) -> str:
    """The fourteen characters of a valid CNPJ (``12.ABC.345/01DE-35`` is accepted)."""
    cnpj = _strip(value).upper()
    if not _CNPJ.fullmatch(cnpj):
        raise ValueError("a CNPJ has twelve characters 0-9 or A-Z and two check digits")
    if cnpj == cnpj[0] * 14:
        raise ValueError("a CNPJ of one repeated digit is not issued")
    if cnpj_check_digits(cnpj[:12]) != cnpj[12:]:
        raise ValueError("CNPJ check digits do not match")
    return cnpj


def nfe_key_check_digit(base: str) -> str:
    """The check digit (mod 11, weights 2..9 from the right) of a 43-digit key base."""
    if len(base) != 43 or not _is_digits(base):
        raise ValueError("an NF-e key base is 43 digits")
    total = sum(int(c) * (2 + i % 8) for i, c in enumerate(reversed(base)))
    return str(_mod11_digit(total))


def normalize_nfe_key(value: str) -> str:
    """The 44 digits of a valid NF-e / NFC-e access key.

    Checks the length, the state code (first two digits), the month (digits
    5-6), the document model (55 NF-e or 65 NFC-e) and the check digit.
    """
    key = _strip(value)
    if len(key) != 44 or not _is_digits(key):
        raise ValueError("an NF-e access key has 44 digits")
    if key[:2] not in UF_CODES:
        raise ValueError(f"an NF-e access key starts with a state code, not {key[:2]}")
    if not 1 <= int(key[4:6]) <= 12:
        raise ValueError("an NF-e access key holds the issue month in digits 5-6")
    if key[20:22] not in ("55", "65"):
        raise ValueError("an NF-e access key holds model 55 (NF-e) or 65 (NFC-e) in digits 21-22")
    if nfe_key_check_digit(key[:43]) != key[43]:
        raise ValueError("NF-e access key check digit does not match")
    return key


def gtin_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of a GTIN whose digits before it are ``body``."""
    if not _is_digits(body) or len(body) not in (7, 11, 12, 13):
        raise ValueError("a GTIN body is 7, 11, 12 or 13 digits")
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def normalize_gtin(value: str) -> str:
    """A valid GTIN-8, -12, -13 or -14 (EAN/UPC), digits only."""
    gtin = _strip(value)
    if not _is_digits(gtin) or len(gtin) not in (8, 12, 13, 14):
        raise ValueError("a GTIN has 8, 12, 13 or 14 digits")
    if gtin_check_digit(gtin[:-1]) != gtin[-1]:
        raise ValueError("GTIN check digit does not match")
    return gtin


def normalize_cep(value: str) -> str:
    """The eight digits of a Brazilian postcode (``01310-100`` is accepted)."""
    cep = _strip(value)
    if len(cep) != 8 or not _is_digits(cep):
        raise ValueError("a CEP has eight digits")
    if cep == "00000000":
        raise ValueError("CEP 00000000 does not exist")
    return cep


def normalize_ncm(value: str) -> str:
    """The eight digits of an NCM code (``6109.10.00`` is accepted)."""
    ncm = _strip(value)
    if len(ncm) != 8 or not _is_digits(ncm):
        raise ValueError("an NCM code has eight digits")
    return ncm


def normalize_cfop(value: str) -> str:
    """A CFOP: four digits, the first 1-3 (entries) or 5-7 (exits)."""
    cfop = _strip(value)
    if len(cfop) != 4 or not _is_digits(cfop) or cfop[0] not in "123567":
        raise ValueError("a CFOP has four digits, the first 1, 2, 3, 5, 6 or 7")
    return cfop
