"""The rewards catalogue: a member exchanges points for a coupon of a template with a
points price, in one transaction.

The points are debited through ``ledger.redemption.redeem_points``, the path every
redemption takes, so the redemption rules (NEW_IDENTITY_REDEEM, debts, overdrafts) apply.
Whatever refuses the exchange (INSUFFICIENT_POINTS, a rule, OUT_OF_STOCK, the per-member
limit) rolls the whole transaction back: no points move, no coupon exists, and the key
stays unused. A redemption a rule would hold for review is refused too, since a coupon
handed over now could not be taken back by the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.errors import InvalidBenefit, LimitExceeded, OutOfStock, Refused
from ledger.benefits.issuing import issuable, issue_locked
from ledger.benefits.model import CouponSource
from ledger.benefits.requests import StoredOutcome, claim_request, record_outcome
from ledger.benefits.templates import lock_template
from ledger.checks import FraudOutcome
from ledger.model import Channel, LedgerConfig
from ledger.redemption import redeem_points


@dataclass(frozen=True)
class ExchangeResult:
    coupon_id: int
    points_spent: int
    replayed: bool = False


async def exchange_reward(
    *,
    session: AsyncSession,
    member_id: int,
    template_id: int,
    channel: Channel,
    store_id: str | None,
    key_scope: str,
    key: str,
    actor: str,
    now: datetime,
    config: LedgerConfig,
) -> ExchangeResult:
    """Debit the template's points price and issue its coupon to the member.

    Raises NotFound, InvalidBenefit, OutOfStock, LimitExceeded, Refused (the ledger's
    refusals) and the ledger's MemberNotFound / MemberNotActive; each writes nothing.
    """
    template = await lock_template(session, template_id)
    stored = await claim_request(
        session,
        scope=key_scope,
        key=key,
        operation="EXCHANGE",
        template_id=template_id,
        request={"member": member_id},
        now=now,
    )
    if stored is not None:
        assert stored.coupon_id is not None and stored.points_spent is not None
        return ExchangeResult(
            coupon_id=stored.coupon_id, points_spent=stored.points_spent, replayed=True
        )
    if template.points_price is None:
        raise InvalidBenefit(
            f"coupon template {template.code} is not in the rewards catalogue",
            field=("templateId",),
        )
    issuable(template, now)
    if template.stock == 0:
        raise OutOfStock(f"reward {template.code} is out of stock", field=("templateId",))
    posted = await redeem_points(
        session=session,
        member_id=member_id,
        points=template.points_price,
        channel=channel,
        store_id=store_id,
        reason=f"reward {template.code}",
        key_scope=key_scope,
        key=f"reward:{key}",
        now=now,
        config=config,
    )
    if posted.refusal is not None:
        raise Refused(posted.refusal.code, str(posted.refusal))
    if posted.decision.outcome is FraudOutcome.HELD:
        raise Refused(
            "REJECTED_BY_RULE",
            "the redemption needs a review first: " + ", ".join(posted.decision.reasons),
        )
    issued = await issue_locked(
        session,
        template,
        member_ids=[member_id],
        segment_id=None,
        source=CouponSource.REWARD,
        reason=f"reward for {template.points_price} points",
        actor=actor,
        now=now,
    )
    if issued.first_coupon_id is None:
        raise LimitExceeded(
            f"the member holds {template.per_member_limit} live coupons of {template.code}",
            field=("templateId",),
        )
    await record_outcome(
        session,
        scope=key_scope,
        key=key,
        outcome=StoredOutcome(
            issued=1,
            skipped=0,
            coupon_id=issued.first_coupon_id,
            points_spent=template.points_price,
        ),
    )
    return ExchangeResult(coupon_id=issued.first_coupon_id, points_spent=template.points_price)
