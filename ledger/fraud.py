"""The anti-fraud rules of the ledger's own operations, and the operations' names.

Each rule is a check in ``ledger.checks`` with a stable code; its thresholds come from the
settings through ``FraudConfig``. Checks run after the posting path has locked the member,
so each one's query sees every earlier posting of that member committed. The ledger knows a
member only by its ID: the rules that read purchase history (velocity, large amounts, a
cashier's own purchase, impossible travel) live with the purchases, in
``sync.purchases.fraud``, and join the same registry.

DUPLICATE_RECEIPT is enforced before any posting, by the unique (store, receipt) of
purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import CheckRegistry, CheckResult, FraudOutcome, Posting, checks

PURCHASE = "purchase"
REDEEM = "redeem"


@dataclass(frozen=True)
class FraudConfig:
    new_identity_hours: int = 24
    new_identity_redeem_points: int = 500


def _member(posting: Posting) -> int:
    member_id = posting.attributes.get("member_id")
    return int(member_id) if member_id is not None else posting.entries[0].member_id


#: The earliest identity change of a member within the window (a link, a merge into it, an
#: unmerge of it) and the points it redeemed since, held redemptions included (they are
#: debited as asked).
_NEW_IDENTITY_REDEEMED = text(
    "WITH changed AS (SELECT min(at) AS at FROM ("
    "  SELECT linked_at AS at FROM member_identities"
    "   WHERE member_id = :member AND linked_at > :since"
    "  UNION ALL SELECT created_at FROM member_merges"
    "   WHERE survivor_id = :member AND created_at > :since"
    "  UNION ALL SELECT undone_at FROM member_merges"
    "   WHERE (survivor_id = :member OR merged_id = :member) AND undone_at > :since) c)"
    " SELECT changed.at AS changed_at, coalesce((SELECT -sum(e.amount) FROM ledger_entries e"
    "  WHERE e.member_id = :member AND e.kind = 'REDEEM' AND e.amount < 0"
    "  AND e.created_at >= changed.at), 0) AS redeemed FROM changed"
)


def register_fraud_checks(config: FraudConfig, registry: CheckRegistry = checks) -> None:
    """Register (or re-register with new thresholds) the ledger's rules."""

    async def new_identity_redeem(session: AsyncSession, posting: Posting) -> CheckResult | None:
        points = -sum(e.amount for e in posting.entries if e.amount < 0)
        if points <= 0:
            return None
        # Judged over everything redeemed since the earliest identity change in the window,
        # so that splitting a redemption below the threshold gains nothing. A merge into the
        # member and an unmerge of it change its identities as much as a link does.
        row = (
            await session.execute(
                _NEW_IDENTITY_REDEEMED,
                {
                    "member": _member(posting),
                    "since": posting.now - timedelta(hours=config.new_identity_hours),
                },
            )
        ).one()
        if row.changed_at is None:
            return None
        total = row.redeemed + points
        if total > config.new_identity_redeem_points:
            return CheckResult(
                FraudOutcome.HELD,
                "NEW_IDENTITY_REDEEM",
                f"{total} points redeemed within {config.new_identity_hours} h of an identity "
                "change (a new identity or a merge)",
            )
        return None

    registry.register("NEW_IDENTITY_REDEEM", new_identity_redeem, operations=[REDEEM])
