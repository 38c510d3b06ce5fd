"""tramo.scalars: text-minded platforms' values, read and written."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.scalars import day, decimal, latin1, measure, moment, money, stamp, whole

ZONE = timezone.utc


@given(st.text(st.characters(max_codepoint=255)))
def test_latin1_takes_any_text_iso_8859_1_holds(value: str) -> None:
    assert latin1(value, "Product.name") == value


@given(st.text(st.characters(max_codepoint=255)), st.characters(min_codepoint=256))
def test_latin1_refuses_a_character_beyond_it_naming_the_field_and_the_character(
        head: str, beyond: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        latin1(head + beyond, "Product.name")
    assert caught.value.field == "Product.name"
    assert f"U+{ord(beyond):04X}" in str(caught.value)


def test_zero_and_empty_dates_are_none_and_days_round_trip() -> None:
    assert moment("0000-00-00", ZONE, "f") is None
    assert moment("0000-00-00 00:00:00", ZONE, "f") is None
    assert moment("", ZONE, "f") is None
    when = moment("2026-03-01 10:20:30", ZONE, "f")
    assert when == datetime(2026, 3, 1, 10, 20, 30, tzinfo=ZONE)
    assert stamp(when, ZONE) == "2026-03-01 10:20:30" and day(when, ZONE) == "2026-03-01"
    assert day(None, ZONE) == "0000-00-00"
    with pytest.raises(tramo.ValidationError, match="Order.date"):
        moment("01/03/2026", ZONE, "Order.date")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_money_and_measures_read_back_as_the_same_number(value: Decimal) -> None:
    assert decimal(money(value), "f") == value
    assert decimal(measure(value), "f") == value
    assert "E" not in measure(value)


def test_iso_8601_moments_read_naive_in_the_zone_and_with_their_own_offset() -> None:
    from datetime import timedelta
    assert moment("2026-03-01T10:20:30", ZONE, "f") == datetime(2026, 3, 1, 10, 20, 30, tzinfo=ZONE)
    with_offset = moment("2026-03-01T10:20:30.5-03:00", ZONE, "f")
    assert with_offset is not None and with_offset.utcoffset() == timedelta(hours=-3)
    assert moment("2026-03-01T13:20:30Z", ZONE, "f") == datetime(2026, 3, 1, 13, 20, 30, tzinfo=ZONE)
    with pytest.raises(tramo.ValidationError, match="ISO 8601"):
        moment("2026-03-01T25:00", ZONE, "f")


@given(st.integers(min_value=-10**6, max_value=10**6), st.sampled_from([str, int, lambda n: f"{n}.0"]))
def test_a_whole_count_reads_as_itself_however_it_is_sent(count: int, form: object) -> None:
    assert whole(form(count), "Item.quantity") == count  # type: ignore[operator]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3).filter(
    lambda d: d != d.to_integral_value()))
def test_a_fraction_is_refused_never_cut_down(value: Decimal) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        whole(str(value), "Item.quantity")
    assert caught.value.field == "Item.quantity" and "whole number" in str(caught.value)


def test_a_count_below_the_minimum_is_refused_and_empty_is_none() -> None:
    assert whole("", "Line.quantity", minimum=0) is None
    assert whole("0", "Line.quantity", minimum=0) == 0
    with pytest.raises(tramo.ValidationError, match="0 or more"):
        whole("-1", "Line.quantity", minimum=0)
