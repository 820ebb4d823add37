"""The retired MEMBERHUB_EARN_PROMOTIONS: imported once, then priced like any promotion."""

from __future__ import annotations

from datetime import date

from hub.setting_promotions import import_setting_promotions
from hub.settings import PromotionSetting
from tests.conftest import START
from tests.hub.api.purchases_graphql import record
from tests.ledger.benefits.benefits_graphql import global_id
from tests.ledger.benefits.promotions_graphql import PROMOTIONS


async def test_the_settings_promotions_are_imported_once_and_price_their_lines(
    settings, run_in_transaction, graphql_client, members, count_rows
):
    legacy = settings.model_copy(
        update={
            "earn_promotions": [
                PromotionSetting(
                    multiplier=2, starts_on=date(2026, 11, 1), ends_on=START.date(), category="tea"
                )
            ]
        }
    )
    till = await graphql_client("pos", store="S001")
    (me,) = await members(1)

    first = await run_in_transaction(lambda s: import_setting_promotions(s, legacy, now=START))
    again = await run_in_transaction(lambda s: import_setting_promotions(s, legacy, now=START))
    tea = {"sku": "TEA-1", "category": "tea", "quantity": 1, "unitPrice": "50.00"}
    cake = {"sku": "CAKE", "category": "bakery", "quantity": 1, "unitPrice": "50.00"}
    bought = await record(
        till, "L-1", "100.00", memberId=global_id("Member", me), items=[tea, cake]
    )
    listed = (await till.data(PROMOTIONS))["promotions"]

    assert (first, again) == (1, 0)
    assert await count_rows("SELECT count(*) FROM promotions") == 1
    # Base 10 on the whole purchase; the tea line's 5 base points doubled: +5.
    assert bought["pointsEarned"] == 15
    assert [(p["categories"], p["stackable"], p["endsAt"]) for p in listed] == [
        (["tea"], True, "2026-11-21T16:00:00+00:00")
    ]
