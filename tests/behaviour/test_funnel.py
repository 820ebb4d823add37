"""``funnel``: members through view -> add to cart -> purchase, counted against a hand count."""

from __future__ import annotations

from datetime import timedelta

from tests.behaviour.behaviour_graphql import FUNNEL, event, track
from tests.conftest import START
from tests.hub.api.purchases_graphql import record
from tests.ledger.benefits.benefits_graphql import global_id


async def test_the_funnel_counts_members_step_by_step_within_the_window(
    admin, graphql_client, members, segment
):
    relay = await graphql_client("partner", scopes=("events:write",))
    till = await graphql_client("pos", store="S001")
    ids = await members(*({} for _ in range(6)))
    buyer, carted, viewer, late_cart, cart_first, outside = ids
    gid = {m: global_id("Member", m) for m in ids}
    day = START - timedelta(days=10)
    await track(
        relay,
        [
            # buyer: view, cart, purchase within the week.
            event("b1", "VIEW_PRODUCT", day, member=gid[buyer]),
            event("b2", "ADD_TO_CART", day + timedelta(hours=1), member=gid[buyer]),
            # carted: view, cart, no purchase.
            event("c1", "VIEW_PRODUCT", day, member=gid[carted]),
            event("c2", "ADD_TO_CART", day + timedelta(days=2), member=gid[carted]),
            # viewer: a view only.
            event("v1", "VIEW_PRODUCT", day + timedelta(days=1), member=gid[viewer]),
            # late_cart: the cart add falls outside the 7-day window.
            event("l1", "VIEW_PRODUCT", day, member=gid[late_cart]),
            event("l2", "ADD_TO_CART", day + timedelta(days=8), member=gid[late_cart]),
            # cart_first: added to cart before ever viewing: the cart step does not follow.
            event("f1", "ADD_TO_CART", day - timedelta(hours=1), member=gid[cart_first]),
            event("f2", "VIEW_PRODUCT", day, member=gid[cart_first]),
            # outside: viewed before the period.
            event("o1", "VIEW_PRODUCT", day - timedelta(days=5), member=gid[outside]),
            event("o2", "ADD_TO_CART", day - timedelta(days=5), member=gid[outside]),
        ],
    )
    await record(till, "R-1", "80.00", memberId=gid[buyer], at=day + timedelta(days=1))
    # A purchase without the earlier steps' order counts for nobody's funnel.
    await record(till, "R-2", "80.00", memberId=gid[outside], at=day)
    period = {
        "from": (day - timedelta(days=1)).date().isoformat(),
        "to": (day + timedelta(days=2)).date().isoformat(),
    }

    steps = (await admin.data(FUNNEL, steps=["VIEW_PRODUCT", "ADD_TO_CART", "PURCHASE"], **period))[
        "funnel"
    ]
    within_two = (
        await admin.data(FUNNEL, steps=["VIEW_PRODUCT", "ADD_TO_CART"], within=1, **period)
    )["funnel"]
    seg = await segment("buyers and viewers", [buyer, viewer])
    in_segment = (
        await admin.data(
            FUNNEL,
            steps=["VIEW_PRODUCT", "ADD_TO_CART", "PURCHASE"],
            segment=global_id("Segment", seg),
            **period,
        )
    )["funnel"]

    assert [(s["step"], s["members"]) for s in steps] == [
        ("VIEW_PRODUCT", 5),
        ("ADD_TO_CART", 2),
        ("PURCHASE", 1),
    ]
    assert [s["conversion"] for s in steps] == [None, 0.4, 0.5]
    assert [s["members"] for s in within_two] == [5, 1]
    assert [s["members"] for s in in_segment] == [2, 1, 1]


async def test_bad_funnels_are_invalid_input_and_need_members_read(admin, graphql_client):
    frontend = await graphql_client("frontend")
    bad = [
        {"steps": [], "from": "2026-11-01", "to": "2026-11-02"},
        {"steps": ["PURCHASE", "PURCHASE"], "from": "2026-11-01", "to": "2026-11-02"},
        {"steps": ["PURCHASE"], "from": "2026-11-02", "to": "2026-11-01"},
        {"steps": ["PURCHASE"], "from": "2020-01-01", "to": "2026-11-01"},
        {"steps": ["PURCHASE"], "from": "2026-11-01", "to": "2026-11-02", "within": 0},
    ]
    for variables in bad:
        body = await admin.execute(FUNNEL, **variables)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", variables
    refused = await frontend.execute(
        FUNNEL, steps=["PURCHASE"], **{"from": "2026-11-01", "to": "2026-11-02"}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
