"""One outcome per answer: a refusal is REJECTED with its user error, a conflict says so."""

from __future__ import annotations

from tests.hub.api.members_graphql import card, created_member, phone
from tests.hub.api.points_graphql import adjust, codes, redeem

IDENTIFY = """
mutation Identify($input: IdentifyInput!) {
  identify(input: $input) {
    outcome member { id }
    review { id status reason occurrences members { id } }
    userErrors { code field message }
  }
}
"""

IDENTITY_REVIEWS = """
query Reviews($status: IdentityReviewStatus) {
  identityReviews(status: $status, first: 10) {
    edges { node { id status reason occurrences channel members { id } } }
    pageInfo { hasNextPage }
  }
}
"""


async def test_a_redemption_over_the_balance_is_rejected_not_held(live_client):
    admin = await live_client("admin")
    pos = await live_client("pos", store="S001")
    # Just enrolled, so a large redemption would also be held (NEW_IDENTITY_REDEEM).
    own = await created_member(pos, "POS", card("C-1"))
    await adjust(admin, own["id"], 100, "goodwill-1")

    large = await redeem(pos, own["id"], 600, "large")
    small = await redeem(pos, own["id"], 200, "small")

    for answer in (large, small):
        assert answer["decision"]["outcome"] == "REJECTED", answer
        assert codes(answer) == ["INSUFFICIENT_POINTS"]
        assert answer["entry"] is None
    replayed = await redeem(pos, own["id"], 600, "large")
    assert replayed["replayed"] and replayed["decision"]["outcome"] == "REJECTED"


async def test_an_identify_conflict_is_a_user_error_and_admins_read_its_case(live_client):
    admin = await live_client("admin")
    pos = await live_client("pos", store="S001")
    first = await created_member(pos, "POS", phone("13800138000", verified=False))
    second = await created_member(pos, "POS", card("C-1"))
    both = [phone("13800138000", verified=False), card("C-1")]

    at_till = (await pos.data(IDENTIFY, input={"identities": both, "channel": "POS"}))["identify"]
    by_admin = (await admin.data(IDENTIFY, input={"identities": both, "channel": "POS"}))[
        "identify"
    ]

    for answer in (at_till, by_admin):
        assert answer["outcome"] == "CONFLICT" and answer["member"] is None
        assert [e["code"] for e in answer["userErrors"]] == ["IDENTITY_CONFLICT"]
    assert at_till["review"] is None, "the case is for operators"
    case = by_admin["review"]
    assert case["status"] == "OPEN" and case["reason"] == "NO_VERIFIED_EVIDENCE"
    assert case["occurrences"] == 2
    assert sorted(m["id"] for m in case["members"]) == sorted([first["id"], second["id"]])
    listed = (await admin.data(IDENTITY_REVIEWS, status="OPEN"))["identityReviews"]["edges"]
    assert [edge["node"]["id"] for edge in listed] == [case["id"]]
    node = await admin.data(
        "query N($id: ID!) { node(id: $id) { id ... on IdentityReview { reason } } }",
        id=case["id"],
    )
    assert node["node"] == {"id": case["id"], "reason": "NO_VERIFIED_EVIDENCE"}
    refused = await pos.execute(IDENTITY_REVIEWS)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
