"""Brazilian identifiers: valid values pass in every usual spelling, corrupted ones fail."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tramo.model.identifiers import (
    UF_CODES,
    cnpj_check_digits,
    cpf_check_digits,
    gtin_check_digit,
    nfe_key_check_digit,
    normalize_cep,
    normalize_cfop,
    normalize_cnpj,
    normalize_cpf,
    normalize_gtin,
    normalize_ncm,
    normalize_nfe_key,
)
from tramo.testing import strategies as ts

DIGITS = string.digits
CNPJ_CHARS = string.digits + string.ascii_uppercase


def format_cpf(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def format_cnpj(cnpj: str) -> str:
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def format_cep(cep: str) -> str:
    return f"{cep[:5]}-{cep[5:]}"


def format_nfe_key(key: str) -> str:
    """As a DANFE prints it: eleven groups of four digits."""
    return " ".join(key[i:i + 4] for i in range(0, 44, 4))


def replace(value: str, position: int, char: str) -> str:
    return value[:position] + char + value[position + 1:]


def other_digit(draw: Callable[..., str], current: str) -> str:
    return draw(st.sampled_from([d for d in DIGITS if d != current]))


def cnpj_value(char: str) -> int:
    return ord(char) - 48


# -- known real examples ----------------------------------------------------------


def test_published_cpf_example_is_valid() -> None:
    assert normalize_cpf("529.982.247-25") == "52998224725"


def test_published_numeric_cnpj_example_is_valid() -> None:
    assert normalize_cnpj("11.222.333/0001-81") == "11222333000181"


def test_receita_federal_alphanumeric_cnpj_example_is_valid() -> None:
    assert normalize_cnpj("12.ABC.345/01DE-35") == "12ABC34501DE35"
    assert cnpj_check_digits("12ABC34501DE") == "35"


def test_real_gtin13_is_valid() -> None:
    assert normalize_gtin("7891000315507") == "7891000315507"


def test_formatted_cep_and_ncm_are_accepted() -> None:
    assert normalize_cep("01310-100") == "01310100"
    assert normalize_ncm("6109.10.00") == "61091000"


# -- every generated valid value is accepted, bare and formatted -------------------


@given(ts.cpfs())
def test_valid_cpf_is_accepted_bare_and_formatted(cpf: str) -> None:
    assert normalize_cpf(cpf) == cpf
    assert normalize_cpf(format_cpf(cpf)) == cpf


@given(ts.numeric_cnpjs())
def test_valid_numeric_cnpj_is_accepted_bare_and_formatted(cnpj: str) -> None:
    assert cnpj.isdigit()
    assert normalize_cnpj(cnpj) == cnpj
    assert normalize_cnpj(format_cnpj(cnpj)) == cnpj


@given(ts.alphanumeric_cnpjs())
def test_valid_alphanumeric_cnpj_is_accepted_bare_formatted_and_in_lower_case(cnpj: str) -> None:
    assert not cnpj.isdigit() and cnpj[12:].isdigit()
    assert normalize_cnpj(cnpj) == cnpj
    assert normalize_cnpj(format_cnpj(cnpj)) == cnpj
    assert normalize_cnpj(format_cnpj(cnpj).lower()) == cnpj


@given(ts.nfe_keys())
def test_valid_nfe_key_is_accepted_bare_and_in_groups_of_four(key: str) -> None:
    assert normalize_nfe_key(key) == key
    assert normalize_nfe_key(format_nfe_key(key)) == key


@given(ts.gtins())
def test_valid_gtin_of_every_length_is_accepted(gtin: str) -> None:
    assert len(gtin) in (8, 12, 13, 14)
    assert normalize_gtin(gtin) == gtin


@given(ts.ceps())
def test_valid_cep_is_accepted_bare_and_formatted(cep: str) -> None:
    assert normalize_cep(cep) == cep
    assert normalize_cep(format_cep(cep)) == cep


@given(ts.cfops())
def test_valid_cfop_is_accepted(cfop: str) -> None:
    assert normalize_cfop(cfop) == cfop


# -- changed check digits are rejected ------------------------------------------------


@given(ts.cpfs(), st.sampled_from([9, 10]), st.data())
def test_cpf_with_a_changed_check_digit_is_rejected(cpf: str, position: int,
                                                     data: st.DataObject) -> None:
    bad = replace(cpf, position, other_digit(data.draw, cpf[position]))
    with pytest.raises(ValueError):
        normalize_cpf(bad)
    with pytest.raises(ValueError):
        normalize_cpf(format_cpf(bad))


@given(ts.cpfs(), st.integers(0, 10), st.data())
def test_cpf_with_any_digit_changed_is_rejected_when_the_first_check_digit_is_not_zero(
        cpf: str, position: int, data: st.DataObject) -> None:
    # Remainders 0 and 1 both give check digit 0, so only a non-zero first
    # check digit is sure to change with the base.
    assume(position >= 9 or cpf[9] != "0")
    with pytest.raises(ValueError):
        normalize_cpf(replace(cpf, position, other_digit(data.draw, cpf[position])))


@given(ts.cnpjs(), st.sampled_from([12, 13]), st.data())
def test_cnpj_with_a_changed_check_digit_is_rejected(cnpj: str, position: int,
                                                      data: st.DataObject) -> None:
    char = data.draw(st.sampled_from([c for c in CNPJ_CHARS if c != cnpj[position]]))
    with pytest.raises(ValueError):
        normalize_cnpj(replace(cnpj, position, char))


@given(ts.cnpjs(), st.integers(0, 11), st.data())
def test_cnpj_with_a_changed_base_character_is_rejected_when_the_check_must_change(
        cnpj: str, position: int, data: st.DataObject) -> None:
    # Characters weigh ord(c) - 48, so a change by a multiple of 11 ("6" to "A")
    # keeps the weighted sum mod 11; remainders 0 and 1 both give digit 0.
    assume(cnpj[12] != "0")
    old = cnpj[position]
    char = data.draw(st.sampled_from(
        [c for c in CNPJ_CHARS if (cnpj_value(c) - cnpj_value(old)) % 11 != 0]))
    with pytest.raises(ValueError):
        normalize_cnpj(replace(cnpj, position, char))


@given(ts.cnpjs(), st.integers(0, 11), st.data())
def test_cnpj_check_digits_do_not_tell_apart_characters_eleven_values_apart(
        cnpj: str, position: int, data: st.DataObject) -> None:
    """A property of the Receita Federal algorithm itself, recorded so nobody 'fixes' it."""
    old = cnpj[position]
    twins = [c for c in CNPJ_CHARS if c != old and (cnpj_value(c) - cnpj_value(old)) % 11 == 0]
    assume(twins)
    base = replace(cnpj[:12], position, data.draw(st.sampled_from(twins)))
    assert cnpj_check_digits(base) == cnpj[12:]


@given(ts.nfe_keys(), st.data())
def test_nfe_key_with_a_changed_check_digit_is_rejected(key: str, data: st.DataObject) -> None:
    with pytest.raises(ValueError):
        normalize_nfe_key(replace(key, 43, other_digit(data.draw, key[43])))


@given(ts.nfe_keys(), st.integers(0, 42), st.data())
def test_nfe_key_with_any_digit_changed_is_rejected_when_the_check_digit_is_not_zero(
        key: str, position: int, data: st.DataObject) -> None:
    assume(key[43] != "0")  # remainders 0 and 1 both give check digit 0
    with pytest.raises(ValueError):
        normalize_nfe_key(replace(key, position, other_digit(data.draw, key[position])))


@given(ts.gtins(), st.data())
def test_gtin_with_any_single_digit_changed_is_rejected(gtin: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(gtin) - 1))
    with pytest.raises(ValueError):
        normalize_gtin(replace(gtin, position, other_digit(data.draw, gtin[position])))


# -- structure --------------------------------------------------------------------------


@pytest.mark.parametrize("digit", DIGITS)
def test_cpf_of_one_repeated_digit_is_rejected(digit: str) -> None:
    cpf = digit * 11
    with pytest.raises(ValueError, match="repeated"):
        normalize_cpf(cpf)
    with pytest.raises(ValueError, match="repeated"):
        normalize_cpf(format_cpf(cpf))


def test_cnpj_of_one_repeated_digit_is_rejected() -> None:
    assert cnpj_check_digits("0" * 12) == "00"
    with pytest.raises(ValueError, match="repeated"):
        normalize_cnpj("00.000.000/0000-00")


@pytest.mark.parametrize("value", ["", "5299822472", "529982247250", "5299822472A", None, 52998224725])
def test_cpf_of_wrong_length_characters_or_type_is_rejected(value: object) -> None:
    with pytest.raises(ValueError):
        normalize_cpf(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["12ABC34501DEAB", "12ABC34501DE3", "12ABC34501DE_35", "12ABC34501DÉ35"])
def test_malformed_cnpj_is_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_cnpj(value)


def _with_check_digit(base: str) -> str:
    return base + nfe_key_check_digit(base)


@given(ts.nfe_keys())
def test_nfe_key_with_an_unknown_state_code_is_rejected(key: str) -> None:
    bad_uf = next(f"{n:02d}" for n in range(100) if f"{n:02d}" not in UF_CODES)
    with pytest.raises(ValueError, match="state code"):
        normalize_nfe_key(_with_check_digit(bad_uf + key[2:43]))


@given(ts.nfe_keys(), st.sampled_from(["00", "13", "99"]))
def test_nfe_key_with_an_impossible_month_is_rejected(key: str, month: str) -> None:
    with pytest.raises(ValueError, match="month"):
        normalize_nfe_key(_with_check_digit(key[:4] + month + key[6:43]))


@given(ts.nfe_keys(), st.sampled_from(["01", "57", "59", "66"]))
def test_nfe_key_of_another_document_model_is_rejected(key: str, model: str) -> None:
    with pytest.raises(ValueError, match="model"):
        normalize_nfe_key(_with_check_digit(key[:20] + model + key[22:43]))


@pytest.mark.parametrize("value", ["00000000", "00000-000", "0131010", "013101000", "01310-10A"])
def test_impossible_cep_is_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_cep(value)


@pytest.mark.parametrize("value", ["0102", "4102", "8102", "9102", "510", "51020"])
def test_cfop_with_a_wrong_first_digit_or_length_is_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_cfop(value)


def test_gtin_of_an_unsupported_length_is_rejected() -> None:
    body = "789100031550"[:10]
    with pytest.raises(ValueError):
        normalize_gtin(body + "0")


def test_check_digit_helpers_refuse_bases_of_the_wrong_shape() -> None:
    for helper, base in [(cpf_check_digits, "12345678"), (cnpj_check_digits, "12abc34501de"),
                         (nfe_key_check_digit, "1" * 42), (gtin_check_digit, "123456")]:
        with pytest.raises(ValueError):
            helper(base)


# -- digits of other scripts (str.isdigit takes them) -------------------------------------

_FOREIGN_DIGITS = [
    str.maketrans(DIGITS, "٠١٢٣٤٥٦٧٨٩"),  # Arabic-Indic
    str.maketrans(DIGITS, "０１２３４５６７８９"),  # full width
]


@given(ts.cpfs(), ts.ceps(), ts.gtins(), ts.nfe_keys(), ts.ncms(), ts.cfops(),
       st.sampled_from(_FOREIGN_DIGITS))
def test_identifiers_written_with_non_ascii_digits_are_rejected(
        cpf: str, cep: str, gtin: str, key: str, ncm: str, cfop: str,
        table: dict[int, str]) -> None:
    # Keep the check digits ASCII so only the foreign body digits are at stake.
    cases = [
        (normalize_cpf, cpf[:9].translate(table) + cpf[9:]),
        (normalize_cnpj, "11222333000181"[:12].translate(table) + "81"),
        (normalize_cep, cep.translate(table)),
        (normalize_gtin, gtin[:-1].translate(table) + gtin[-1]),
        (normalize_nfe_key, key[:2] + key[2:43].translate(table) + key[43]),
        (normalize_ncm, ncm.translate(table)),
        (normalize_cfop, cfop[0] + cfop[1:].translate(table)),
    ]
    for normalize, value in cases:
        with pytest.raises(ValueError):
            normalize(value)
