"""createCampaign, startCampaign, pauseCampaign over real HTTP: edges refused, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.campaigns_graphql import (
    CAMPAIGNS,
    CREATE,
    PAUSE,
    START,
    campaign_input,
    create,
)
from tests.ledger.benefits.benefits_graphql import global_id


def holdout_only(**overrides: Any) -> dict[str, Any]:
    values = campaign_input("Edge", arms=[{"name": "h", "weight": 1}])
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": "bad\x00name"}, "INVALID_INPUT", ["input", "name"]),
        ({"name": "x" * 101}, "INVALID_INPUT", ["input", "name"]),
        ({"trigger": "BIRTHDAY"}, "INVALID_INPUT", ["input", "triggerDays"]),
        ({"trigger": "BIRTHDAY", "triggerDays": 4000}, "INVALID_INPUT", ["input", "triggerDays"]),
        ({"trigger": "SEGMENT_ENTERED"}, "INVALID_INPUT", ["input", "audienceSegmentId"]),
        ({"conversionWindowDays": 0}, "INVALID_INPUT", ["input", "conversionWindowDays"]),
        ({"arms": []}, "INVALID_INPUT", ["input", "arms"]),
        ({"arms": [{"name": "a", "weight": 0}]}, "INVALID_INPUT", ["input", "arms", "0", "weight"]),
        (
            {"arms": [{"name": "a", "weight": 1}, {"name": "a", "weight": 1}]},
            "INVALID_INPUT",
            ["input", "arms"],
        ),
        (
            {"arms": [{"name": "a", "weight": 1, "action": {"awardPoints": -5}}]},
            "INVALID_INPUT",
            ["input", "arms", "0", "action", "awardPoints"],
        ),
        (
            {
                "arms": [
                    {
                        "name": "a",
                        "weight": 1,
                        "action": {"issueCouponTemplateId": global_id("CouponTemplate", 99)},
                    }
                ]
            },
            "NOT_FOUND",
            ["input", "arms", "0", "action", "issueCouponTemplateId"],
        ),
        ({"audienceSegmentId": global_id("Segment", 99)}, "NOT_FOUND", None),
        ({"endsAt": "2019-01-01T00:00:00+00:00"}, "INVALID_INPUT", ["input", "endsAt"]),
    ],
)
async def test_bad_campaigns_are_refused_and_nothing_is_written(
    live_client, overrides, code, field
):
    admin = await live_client("admin")
    body = await admin.execute(CREATE, input=holdout_only(**overrides))
    errors = body["data"]["createCampaign"]["userErrors"]
    assert [e["code"] for e in errors] == [code], errors
    if field is not None:
        assert errors[0]["field"] == field
    assert (await admin.data(CAMPAIGNS))["campaigns"] == []


async def test_start_pause_and_who_may(live_client):
    admin = await live_client("admin")
    partner = await live_client("partner")
    campaign = await create(admin, holdout_only(), start=False)

    paused_draft = (await admin.data(PAUSE, id=campaign))["pauseCampaign"]
    started = (await admin.data(START, id=campaign))["startCampaign"]
    paused = (await admin.data(PAUSE, id=campaign))["pauseCampaign"]
    refused = (await partner.data(START, id=campaign))["startCampaign"]
    unknown = (await admin.data(START, id=global_id("Campaign", 999)))["startCampaign"]

    assert [e["code"] for e in paused_draft["userErrors"]] == ["INVALID_INPUT"]
    assert started["campaign"]["status"] == "RUNNING"
    assert paused["campaign"]["status"] == "PAUSED"
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
