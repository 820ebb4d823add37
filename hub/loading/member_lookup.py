"""A member together with the account figures nearly every lookup asks for.

A till or mini-program looks a member up by phone, OpenID or card, or reads its own
member (``me``), and shows the tier and the points. Read field by field, that is three
statements, each dispatched by its own dataloader task on its own pooled connection; here
it is one statement, and its tier and balances prime the request's loaders, so ``tier``
and ``points`` answer from them without a round trip. Members without a tier row or an
account read as the lowest tier and zero points, as the loaders answer them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from hub.loading.loaders import Execute, Loaders
from identity.lookup import MAX_CHAIN, MERGE_CHAIN
from identity.model import IdentityKey
from identity.records import MemberRecord, member_from_row
from ledger.model import Balances
from ledger.queries import lifetime_with_merged
from ledger.rule_store import LADDER_JSON, ladder_from_json
from sync.tiers import MemberTier

_COLUMNS = (
    "SELECT members.*, tier.tier_code AS current_tier_code, tier.since AS current_tier_since,"
    f" {lifetime_with_merged('account.member_id')} AS account_lifetime_earned,"
    " buckets.available AS account_available, buckets.pending AS account_pending,"
    " buckets.held AS account_held,"
    # The ladder rides along, so the tier's discount and perks need no statement of their own.
    f" {LADDER_JSON} AS tier_ladder"
)
_ACCOUNT = (
    " LEFT JOIN member_tiers tier ON tier.member_id = members.id AND tier.until IS NULL"
    " LEFT JOIN points_accounts account ON account.member_id = members.id"
    " LEFT JOIN LATERAL (SELECT"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'AVAILABLE') AS available,"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'PENDING') AS pending,"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'HELD') AS held"
    "  FROM points_balances b WHERE b.member_id = account.member_id) buckets ON true"
)
_BY_IDENTITY = (
    _COLUMNS + " FROM member_identities"
    " JOIN members ON members.id = member_identities.member_id" + _ACCOUNT + " WHERE"
    " member_identities.type = :type AND member_identities.value = :value"
)
#: Two shapes, with or without a namespace, so that the unique index on (type, namespace,
#: value) serves both.
_BY_KEY = text(_BY_IDENTITY + " AND member_identities.namespace = :namespace")
_BY_KEY_WITHOUT_NAMESPACE = text(_BY_IDENTITY + " AND member_identities.namespace IS NULL")
#: By ID, following merges to the survivor, as ``member(id:)`` answers.
_BY_ID = text(
    MERGE_CHAIN
    + _COLUMNS
    + " FROM chain JOIN members USING (id)"
    + _ACCOUNT
    + " WHERE chain.merged_into IS NULL"
)


async def member_with_account(
    execute: Execute, loaders: Loaders, key: IdentityKey
) -> MemberRecord | None:
    """The member holding ``key``; its current tier and balances primed into ``loaders``."""
    parameters = {"type": key.type.value, "value": key.value}
    if key.namespace is None:
        statement = _BY_KEY_WITHOUT_NAMESPACE
    else:
        statement, parameters["namespace"] = _BY_KEY, key.namespace
    return _primed(loaders, (await execute(statement, parameters)).one_or_none())


async def resolved_member_with_account(
    execute: Execute, loaders: Loaders, member_id: int
) -> MemberRecord | None:
    """The member ``member_id`` answers as now (its survivor, if merged), or None; its
    current tier and balances primed into ``loaders``."""
    rows = await execute(_BY_ID, {"member_id": member_id, "max_chain": MAX_CHAIN})
    return _primed(loaders, rows.one_or_none())


def _primed(loaders: Loaders, row: Any) -> MemberRecord | None:
    if row is None:
        return None
    member = member_from_row(row)
    loaders.current_tier.prime(
        member.id, MemberTier(member.id, row.current_tier_code or "", row.current_tier_since)
    )
    loaders.tier_ladder.prime(0, ladder_from_json(row.tier_ladder))
    loaders.points_balances.prime(
        member.id,
        Balances(
            available=row.account_available or 0,
            pending=row.account_pending or 0,
            held=row.account_held or 0,
            lifetime_earned=row.account_lifetime_earned or 0,
        ),
    )
    return member
