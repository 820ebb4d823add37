"""Rules of the ledger that need no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ledger.chain import canonical_entry, canonical_time, chain_hash
from ledger.lots import OpenLot, lot_amount_of_credit, plan_debit
from ledger.model import Bucket, add_months, business_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def lot(entry_id: int, remaining: int, month: int) -> OpenLot:
    return OpenLot(
        entry_id=entry_id,
        bucket=Bucket.AVAILABLE,
        amount=remaining,
        remaining=remaining,
        expires_at=datetime(2026, month, 1, tzinfo=UTC),
        available_at=None,
    )


def test_debits_take_earliest_expiry_first_then_oldest_entry():
    lots = [lot(1, 100, 6), lot(2, 100, 3), lot(3, 10, 3)]

    takes, shortfall = plan_debit(lots, 150)

    assert [(t.entry_id, n) for t, n in takes] == [(2, 100), (3, 10), (1, 40)]
    assert shortfall == 0


def test_a_named_lot_is_taken_alone_and_the_rest_is_a_shortfall():
    takes, shortfall = plan_debit([lot(1, 100, 6), lot(2, 30, 3)], 50, consumes_lot=2)

    assert [(t.entry_id, n) for t, n in takes] == [(2, 30)]
    assert shortfall == 20


def test_a_credit_pays_a_debt_before_it_forms_a_lot():
    assert lot_amount_of_credit(-30, 100) == 70
    assert lot_amount_of_credit(-300, 100) == 0
    assert lot_amount_of_credit(50, 100) == 100


def test_months_keep_the_wall_clock_and_clamp_to_the_month_end():
    assert add_months(datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI), 1) == datetime(
        2026, 2, 28, 9, 0, tzinfo=SHANGHAI
    )
    assert add_months(datetime(2026, 11, 21, tzinfo=SHANGHAI), 12) == datetime(
        2027, 11, 21, tzinfo=SHANGHAI
    )


def test_business_day_is_the_day_in_the_programme_zone():
    assert business_day(datetime(2026, 11, 20, 16, 30, tzinfo=UTC), SHANGHAI).isoformat() == (
        "2026-11-21"
    )


def test_canonical_encoding_is_stable_and_the_chain_depends_on_the_previous_hash():
    fields = dict(
        member_id=7,
        seq=1,
        kind="BONUS",
        bucket="AVAILABLE",
        amount=100,
        balance_after=100,
        channel="WEB",
        store_id=None,
        reference="sign-up bonus",
        reason=None,
        idempotency_key=None,
        expires_at=datetime(2027, 11, 21, 2, 0, tzinfo=UTC),
        available_at=None,
        reverses_id=None,
        consumes_lot=None,
        held_for=None,
        hold_reasons=None,
        created_at=datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI),
    )

    encoded = canonical_entry(**fields)

    assert encoded == (
        b'{"amount":100,"available_at":null,"balance_after":100,"bucket":"AVAILABLE",'
        b'"channel":"WEB","consumes_lot":null,"created_at":"2026-11-21T02:00:00.000000Z",'
        b'"expires_at":"2027-11-21T02:00:00.000000Z","held_for":null,"hold_reasons":null,'
        b'"idempotency_key":null,"kind":"BONUS","member_id":7,"reason":null,'
        b'"reference":"sign-up bonus","reverses_id":null,"seq":1,"store_id":null}'
    )
    assert chain_hash(b"", encoded) != chain_hash(b"\x00" * 32, encoded)
    assert len(chain_hash(b"", encoded)) == 32


def test_canonical_times_keep_the_text_stored_hashes_were_made_of():
    assert canonical_time(datetime(2026, 11, 21, 10, 0, 5, 120, tzinfo=SHANGHAI)) == (
        "2026-11-21T02:00:05.000120Z"
    )
    assert canonical_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000000Z"
    )
    assert canonical_time(None) is None


TEXT = st.text(st.characters(exclude_categories=("Cs",))) | st.none()
TIME = st.datetimes(timezones=st.just(UTC)) | st.none()


@given(
    texts=st.tuples(TEXT, TEXT, TEXT, TEXT),
    numbers=st.tuples(*[st.integers(-(2**31), 2**31 - 1)] * 4),
    times=st.tuples(TIME, TIME),
    reasons=st.lists(st.text(st.characters(exclude_categories=("Cs",)))) | st.none(),
)
def test_canonical_encoding_is_the_stdlib_json_text_hashes_were_made_of(
    texts: tuple[str | None, ...],
    numbers: tuple[int, ...],
    times: tuple[datetime | None, datetime | None],
    reasons: list[str] | None,
) -> None:
    store_id, reference, reason, key = texts
    fields = dict(
        member_id=numbers[0],
        seq=numbers[1],
        kind="EARN",
        bucket="PENDING",
        amount=numbers[2],
        balance_after=numbers[3],
        channel="POS",
        store_id=store_id,
        reference=reference,
        reason=reason,
        idempotency_key=key,
        expires_at=times[0],
        available_at=times[1],
        reverses_id=None,
        consumes_lot=numbers[0],
        held_for=None,
        hold_reasons=reasons,
        created_at=datetime(2026, 11, 21, 10, 0, 5, 120, tzinfo=SHANGHAI),
    )
    document = {
        **fields,
        "expires_at": canonical_time(times[0]),
        "available_at": canonical_time(times[1]),
        "created_at": canonical_time(fields["created_at"]),  # type: ignore[arg-type]
    }

    stdlib = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert canonical_entry(**fields) == stdlib.encode()  # type: ignore[arg-type]
