"""Points follow merges and come back on unmerge, lots keeping their expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.tables import points_merge_moves
from ledger.verify import verify_ledger
from tests.hub.api.members_graphql import MERGE_MEMBERS, UNMERGE, card, created_member, openid
from tests.hub.api.points_graphql import adjust, own_points, points_of, redeem


async def merge(admin, survivor: str, merged: str) -> str:  # type: ignore[no-untyped-def]
    data = await admin.data(MERGE_MEMBERS, survivor=survivor, merged=merged, reason="same person")
    assert data["mergeMembers"]["userErrors"] == [], data
    return data["mergeMembers"]["merge"]["id"]


async def unmerge(admin, merge_id: str) -> None:  # type: ignore[no-untyped-def]
    data = await admin.data(UNMERGE, merge=merge_id, reason="different people")
    assert data["unmerge"]["userErrors"] == [], data


def summary(points: dict) -> tuple[int, int, list[tuple[int, str]]]:  # type: ignore[type-arg]
    return (
        points["available"],
        points["pending"],
        [(e["points"], e["expiresAt"]) for e in points["expiringSoon"]],
    )


async def test_merge_then_unmerge_leaves_both_balances_as_before(admin, clock, run_in_transaction):
    survivor = await created_member(admin, "POS", card("M-1"))
    merged = await created_member(admin, "MINI_PROGRAM", openid("o-2"))
    await adjust(admin, survivor["id"], 300, "s1")
    await adjust(admin, merged["id"], 120, "m1")
    clock.advance(timedelta(days=30))
    await adjust(admin, merged["id"], 80, "m2")
    before = [summary(await own_points(admin, m["id"], within=400)) for m in (survivor, merged)]

    merge_id = await merge(admin, survivor["id"], merged["id"])
    during = [summary(await own_points(admin, m["id"], within=400)) for m in (survivor, merged)]
    history = await points_of(admin, survivor["id"], kinds=["MERGE_IN"])
    await unmerge(admin, merge_id)
    after = [summary(await own_points(admin, m["id"], within=400)) for m in (survivor, merged)]
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert during[0][0] == 500 and during[1][0] == 0
    # The moved lots keep their own expiry on the survivor (same moments add up).
    combined: dict[str, int] = {}
    for points, expires_at in before[0][2] + before[1][2]:
        combined[expires_at] = combined.get(expires_at, 0) + points
    assert during[0][2] == [(p, at) for at, p in sorted(combined.items())]
    assert [e["node"]["amount"] for e in history["history"]["edges"]] == [80, 120]
    assert after == before
    assert report.ok, report.summary()


async def test_points_spent_while_merged_are_settled_as_a_debt_on_the_survivor(
    admin, graphql_client, run_in_transaction
):
    survivor = await created_member(admin, "POS", card("M-3"))
    merged = await created_member(admin, "MINI_PROGRAM", openid("o-4"))
    await adjust(admin, survivor["id"], 100, "s1")
    await adjust(admin, merged["id"], 100, "m1")
    merge_id = await merge(admin, survivor["id"], merged["id"])
    till = await graphql_client("pos", store="S001")
    # Both lots expire the same moment; the older one (the survivor's own) goes first.
    await redeem(till, survivor["id"], 150, "spend")

    await unmerge(admin, merge_id)
    note = await run_in_transaction(
        lambda s: s.execute(
            select(points_merge_moves.c.available, points_merge_moves.c.unreturned).where(
                points_merge_moves.c.direction == "UNMERGE"
            )
        )
    )
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    # The survivor spent 50 of the merged member's points: it owes them, and the restored
    # member has them back.
    assert (await own_points(admin, survivor["id"]))["available"] == -50
    assert (await own_points(admin, merged["id"]))["available"] == 100
    assert note.all() == [(50, 50)]
    assert report.ok, report.summary()
