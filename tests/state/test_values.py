"""Exact money and time: what goes in comes out unchanged."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multialpha.state import StateStore, cents_to_dollars, to_cents, to_decimal
from multialpha.state.values import dump_json, parse_utc, redact, utc_text


@pytest.mark.parametrize(
    "amount,cents",
    [(0.125, 12), (0.135, 14), ("0.125", 12), ("-0.125", -12), (Decimal("1.005"), 100), (12.5, 1250),
     (4500.25, 450_025), (-0.015, -2), (0.1 + 0.2, 30), (3, 300)],
)
def test_to_cents_then_round_half_even(amount, cents) -> None:
    assert to_cents(amount) == cents


def test_to_decimal_when_float_then_shortest_repr() -> None:
    assert to_decimal(4500.25, field="p") == Decimal("4500.25")
    assert to_decimal(0.1 + 0.2, field="p") == Decimal("0.30000000000000004")
    for bad in (float("nan"), float("inf"), "x", True, None):
        with pytest.raises((TypeError, ValueError)):
            to_decimal(bad, field="p")


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_cents_round_trip_exactly(cents: int) -> None:
    assert to_cents(cents_to_dollars(cents)) == cents


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_float_price_round_trips_through_decimal_text(price: float) -> None:
    assert float(Decimal(str(to_decimal(price, field="p")))) == price


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1),
                    timezones=st.just(timezone(timedelta(hours=-5)))))
def test_utc_text_round_trips_the_instant_and_sorts_as_time(when: datetime) -> None:
    text = utc_text(when, field="t")
    assert parse_utc(text) == when and parse_utc(text).tzinfo is UTC
    assert len(text) == len("2024-03-01T15:00:00.000000Z")


def test_store_round_trips_prices_and_cents_exactly(tmp_path) -> None:
    prices = ["0.6543", "4500.25", "0.30000000000000004", "1E+2", "-12.50", "0.000001"]
    when = datetime(2024, 3, 1, 15, 0, 0, 123456, tzinfo=UTC)
    with StateStore.open(tmp_path / "s.sqlite") as store:
        for i, price in enumerate(prices):
            store.positions.open("ibs_a", f"S{i}", quantity=1, entry_time=when, entry_price=Decimal(price),
                                 signal_id=f"id{i}", entry_atr=price)
        store.daily.add_realized(datetime(2024, 3, 1).date(), "account", -123_456_789_012)
    with StateStore.open(tmp_path / "s.sqlite", create=False) as store:
        got = {p.symbol: p for p in store.positions.all()}
        for i, price in enumerate(prices):
            assert str(got[f"S{i}"].entry_price) == price and str(got[f"S{i}"].entry_atr) == price
            assert got[f"S{i}"].entry_time == when
        assert store.daily.for_day(datetime(2024, 3, 1).date())[0].realized_cents == -123_456_789_012


def test_dump_json_then_canonical_and_secret_free() -> None:
    assert dump_json({"b": Decimal("1.10"), "a": [1.5, float("nan")]}, field="x") == '{"a":[1.5,null],"b":"1.10"}'
    with pytest.raises(ValueError, match="URL"):
        dump_json({"a": ["discord://token"]}, field="x")
    with pytest.raises(ValueError, match="secret"):
        dump_json({"API_KEY": "k"}, field="x")
    with pytest.raises(TypeError):
        dump_json({"a": object()}, field="x")


@pytest.mark.parametrize(("value", "where"), [
    ({"a": {"b": ["ok", "https://host/p"]}}, r"x\.a\.b\[1\]"),
    ({"a": [{"webhook_url": "k"}]}, r"x\.a\[0\]\.webhook_url"),
    ({"a": [1, {"t": datetime(2024, 1, 2, tzinfo=UTC), "u": "https://h/"}]}, r"x\.a\[1\]\.u"),
])
def test_dump_json_when_refused_then_names_where_plain_or_not(value: object, where: str) -> None:
    with pytest.raises(ValueError, match=where):
        dump_json(value, field="x")


def test_dump_json_plain_values_equal_the_full_walk() -> None:
    value = {"z": [True, None, 3, 2.5, float("inf"), ("t", 1)], "a": {"n": -0.0, "s": "text"}}
    assert dump_json(value, field="x") == '{"a":{"n":-0.0,"s":"text"},"z":[true,null,3,2.5,null,["t",1]]}'


def test_redact_then_urls_and_url_paths_removed() -> None:
    assert redact("failed: https://host/path?x=1 after 3 tries") == "failed: <redacted-url> after 3 tries"
    assert redact("with url: /trading/webhook/abc/def (Caused by X)") == "with url: <redacted> (Caused by X)"
    assert redact(None) is None
    assert redact("see x+y.z-1://host/a and 9ab://h") == "see <redacted-url> and <redacted-url>"
    assert redact("no scheme: host/path, a:// b") == "no scheme: host/path, <redacted-url> b"


def test_long_text_is_scanned_once_not_once_per_letter() -> None:
    # A guard against quadratic scanning, loose because test machines are shared: the old pattern
    # took minutes on this input, the current one milliseconds.
    text = "a" * 200_000
    started = time.perf_counter()
    assert redact(text) == text
    assert dump_json({"pad": text}, field="x") == f'{{"pad":"{text}"}}'
    with pytest.raises(ValueError, match="URL"):
        dump_json({"pad": text + "://x"}, field="x")
    assert time.perf_counter() - started < 5.0


def test_secret_looking_keys_are_whole_name_parts_not_substrings():
    from multialpha.state.values import _secret_looking

    for key in ("url", "webhook_url", "apiKey", "API_KEY", "discord-webhook", "auth.token", "password"):
        assert _secret_looking(key), key
    for key in ("VX_hourly_return", "ES_hourly_z", "curly", "tokenizer_version"):
        assert not _secret_looking(key), key
