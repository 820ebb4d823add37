"""What a coupon gives on a basket, and why it cannot: the pure rules, no database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from ledger.benefits.codes import (
    ALPHABET,
    CODE_LENGTH,
    code_sql,
    normalise_code,
    random_bits_sql,
)
from ledger.benefits.model import (
    Coupon,
    CouponKind,
    CouponSource,
    CouponStatus,
    CouponTemplate,
    validity,
)
from ledger.benefits.rules import Basket, BasketLine, QuoteReason, quote

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

TEMPLATE = CouponTemplate(
    id=1,
    code="BDAY-50",
    name="Birthday 50 off 200",
    kind=CouponKind.CASH_OFF,
    value=Decimal("50"),
    min_spend=Decimal("200"),
    categories=(),
    channels=(),
    store_ids=(),
    valid_days=30,
    valid_from=None,
    valid_until=None,
    stock=None,
    per_member_limit=None,
    points_price=None,
    active=True,
    created_at=NOW - timedelta(days=10),
)
COUPON = Coupon(
    id=7,
    code="0123456789ABCDEF",
    template_id=1,
    member_id=42,
    status=CouponStatus.ACTIVE,
    source=CouponSource.MANUAL,
    reason=None,
    issued_at=NOW - timedelta(days=1),
    valid_from=NOW - timedelta(days=1),
    valid_until=NOW + timedelta(days=29),
    redeemed_at=None,
    redeemed_purchase_id=None,
)
BASKET = Basket(member_id=42, store_id="S001", channel="POS", amount=Decimal("300.00"))


def test_cash_off_gives_its_value_when_the_minimum_spend_is_met():
    given = quote(COUPON, TEMPLATE, BASKET, NOW)
    assert (given.usable, given.discount, given.reason) == (True, Decimal("50.00"), None)


def test_cash_off_never_gives_more_than_the_eligible_amount():
    template = replace(TEMPLATE, value=Decimal("80"), min_spend=None)
    given = quote(COUPON, template, replace(BASKET, amount=Decimal("30.00")), NOW)
    assert given.discount == Decimal("30.00")


def test_percent_off_pays_value_percent_of_the_eligible_lines_rounded_to_the_fen():
    template = replace(
        TEMPLATE,
        kind=CouponKind.PERCENT_OFF,
        value=Decimal("95"),
        min_spend=None,
        categories=("dairy",),
    )
    basket = replace(
        BASKET,
        amount=Decimal("120.00"),
        lines=(
            BasketLine("MILK", "dairy", 3, Decimal("33.33")),
            BasketLine("SOAP", "home", 1, Decimal("20.01")),
        ),
    )
    # 5% of 99.99 is 4.9995: half up to the fen.
    assert quote(COUPON, template, basket, NOW).discount == Decimal("5.00")


@pytest.mark.parametrize("kind", [CouponKind.GIFT, CouponKind.FREE_SHIPPING])
def test_gifts_and_free_shipping_take_nothing_off(kind):
    template = replace(TEMPLATE, kind=kind, value=None, min_spend=None)
    given = quote(COUPON, template, BASKET, NOW)
    assert (given.usable, given.discount) == (True, Decimal("0.00"))


def test_points_multiplier_is_usable_and_takes_nothing_off():
    template = replace(TEMPLATE, kind=CouponKind.POINTS_MULTIPLIER, value=Decimal("2"))
    assert quote(COUPON, template, BASKET, NOW).discount == Decimal("0.00")


@pytest.mark.parametrize(
    ("coupon", "template", "basket", "at", "reason"),
    [
        (COUPON, TEMPLATE, replace(BASKET, member_id=43), NOW, QuoteReason.NOT_OWNER),
        (
            replace(COUPON, status=CouponStatus.REDEEMED, redeemed_at=NOW),
            TEMPLATE,
            BASKET,
            NOW,
            QuoteReason.USED,
        ),
        (replace(COUPON, status=CouponStatus.VOID), TEMPLATE, BASKET, NOW, QuoteReason.VOID),
        (replace(COUPON, status=CouponStatus.EXPIRED), TEMPLATE, BASKET, NOW, QuoteReason.EXPIRED),
        # Past its last moment, before the expiry job recorded it.
        (COUPON, TEMPLATE, BASKET, NOW + timedelta(days=29), QuoteReason.EXPIRED),
        (
            replace(COUPON, valid_from=NOW + timedelta(days=1)),
            TEMPLATE,
            BASKET,
            NOW,
            QuoteReason.NOT_YET_VALID,
        ),
        (COUPON, replace(TEMPLATE, channels=("MINI_PROGRAM",)), BASKET, NOW, QuoteReason.CHANNEL),
        (COUPON, replace(TEMPLATE, store_ids=("S002",)), BASKET, NOW, QuoteReason.STORE),
        (COUPON, replace(TEMPLATE, categories=("dairy",)), BASKET, NOW, QuoteReason.CATEGORY),
        (
            COUPON,
            TEMPLATE,
            replace(BASKET, amount=Decimal("199.99")),
            NOW,
            QuoteReason.MIN_SPEND,
        ),
    ],
)
def test_each_reason_a_coupon_cannot_be_used(coupon, template, basket, at, reason):
    given = quote(coupon, template, basket, at)
    assert (given.usable, given.discount, given.reason) == (False, Decimal("0.00"), reason)


def test_minimum_spend_counts_only_the_lines_of_the_coupons_categories():
    template = replace(TEMPLATE, categories=("dairy",))
    basket = replace(
        BASKET,
        lines=(
            BasketLine("MILK", "dairy", 1, Decimal("150.00")),
            BasketLine("TV", "electronics", 1, Decimal("150.00")),
        ),
    )
    assert quote(COUPON, template, basket, NOW).reason is QuoteReason.MIN_SPEND


def test_the_first_failing_check_names_the_reason():
    used_elsewhere = replace(COUPON, status=CouponStatus.REDEEMED, redeemed_at=NOW)
    template = replace(TEMPLATE, store_ids=("S002",))
    assert quote(used_elsewhere, template, BASKET, NOW).reason is QuoteReason.USED


def test_validity_runs_from_issue_within_the_templates_fixed_dates():
    fixed = replace(
        TEMPLATE, valid_from=NOW + timedelta(days=2), valid_until=NOW + timedelta(days=10)
    )
    assert validity(fixed, NOW) == (NOW + timedelta(days=2), NOW + timedelta(days=10))
    assert validity(TEMPLATE, NOW) == (NOW, NOW + timedelta(days=30))


async def test_codes_are_16_readable_characters_of_80_random_bits_and_all_differ(
    run_in_transaction,
):
    drawn = await run_in_transaction(
        lambda s: s.execute(
            text(
                f"SELECT {code_sql('d.bits')} FROM (SELECT {random_bits_sql('g.u')} AS bits"
                " FROM (SELECT CAST(gen_random_uuid() AS text) AS u"
                "  FROM generate_series(1, 10000) OFFSET 0) g OFFSET 0) d"
            )
        )
    )
    codes = list(drawn.scalars())
    assert len(set(codes)) == 10_000
    assert all(re.fullmatch(f"[{ALPHABET}]{{{CODE_LENGTH}}}", c) for c in codes)
    assert len(ALPHABET) ** CODE_LENGTH >= 2**80
    assert not set("ILOU") & set(ALPHABET)


def test_a_typed_code_is_read_as_stored():
    assert normalise_code(" 0123-4567 89ab-cdef ") == "0123456789ABCDEF"
    assert normalise_code("o1il") == "0111"
