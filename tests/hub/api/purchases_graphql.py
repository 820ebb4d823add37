"""GraphQL documents and builders shared by the purchase API tests."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ledger.expiry import settle_pending
from ledger.model import LedgerConfig
from ledger.verify import verify_ledger
from tests.conftest import START
from tests.graphql_client import GraphQLClient

PURCHASE_FIELDS = """
    id channel storeId receiptNo amount refundedAmount occurredAt recordedAt pointsEarned status
    items { sku category quantity unitPrice }
    member { id }
"""

RECORD = f"""
mutation Record($input: PurchaseInput!) {{
  recordPurchase(input: $input) {{
    purchase {{ {PURCHASE_FIELDS} }}
    member {{ id points {{ available pending }} }}
    pointsEarned
    decision {{ outcome reasons review {{ id status reasons summary }} }}
    replayed
    userErrors {{ code field message }}
  }}
}}
"""

RECORD_BATCH = """
mutation Batch($inputs: [PurchaseInput!]!) {
  recordPurchases(inputs: $inputs) {
    purchase { id receiptNo status }
    pointsEarned
    replayed
    userErrors { code field message }
  }
}
"""

REFUND = f"""
mutation Refund($input: RefundInput!) {{
  refundPurchase(input: $input) {{
    purchase {{ {PURCHASE_FIELDS} }}
    pointsClawedBack
    replayed
    userErrors {{ code field message }}
  }}
}}
"""

PURCHASE = f"""
query Purchase($store: ID!, $receipt: String!) {{
  purchase(storeId: $store, receiptNo: $receipt) {{ {PURCHASE_FIELDS} }}
}}
"""

MEMBER_ACCOUNT = """
query Account($id: ID!) {
  member(id: $id) {
    id
    points { available pending lifetimeEarned }
    stats {
      orderCount totalSpend averageOrderValue spendLast12Months firstPurchaseAt lastPurchaseAt
    }
    tier {
      code name since pointsMultiplier spendToNext
      next { code name rank qualifyingSpend pointsMultiplier }
    }
    purchases(first: 10) {
      edges { cursor node { receiptNo status pointsEarned } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

TIERS = "{ tiers { code name rank qualifyingSpend pointsMultiplier } }"

REVIEWS = """
query Reviews($status: ReviewStatus, $after: String) {
  fraudReviews(status: $status, first: 10, after: $after) {
    edges {
      cursor
      node { id status reasons summary createdAt decidedAt decidedBy note member { id } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DECIDE = """
mutation Decide($id: ID!, $decision: ReviewDecision!, $note: String) {
  reviewFraudCase(id: $id, decision: $decision, note: $note) {
    review { id status decidedBy note decidedAt }
    userErrors { code field message }
  }
}
"""


def purchase_input(
    receipt: str,
    amount: str,
    *,
    store: str = "S001",
    channel: str = "POS",
    at: datetime = START,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "storeId": store,
        "receiptNo": receipt,
        "channel": channel,
        "occurredAt": at.isoformat(),
        "amount": amount,
        **extra,
    }


async def record(client: GraphQLClient, receipt: str, amount: str, **extra: Any) -> dict[str, Any]:
    data = await client.data(RECORD, input=purchase_input(receipt, amount, **extra))
    return data["recordPurchase"]


async def refund(
    client: GraphQLClient,
    receipt: str,
    refund_no: str,
    amount: str,
    *,
    store: str = "S001",
    at: datetime = START,
) -> dict[str, Any]:
    data = await client.data(
        REFUND,
        input={
            "storeId": store,
            "receiptNo": receipt,
            "refundNo": refund_no,
            "amount": amount,
            "occurredAt": at.isoformat(),
        },
    )
    return data["refundPurchase"]


async def account(client: GraphQLClient, member_id: str) -> dict[str, Any]:
    return (await client.data(MEMBER_ACCOUNT, id=member_id))["member"]


async def settle(run_in_transaction: Any, now: datetime) -> int:
    return await run_in_transaction(
        lambda s: settle_pending(session=s, now=now, config=LedgerConfig())
    )


async def assert_ledger_verifies(run_in_transaction: Any) -> None:
    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    assert report.ok, report.summary()


async def count(run_in_transaction: Any, table: str) -> int:
    return await run_in_transaction(lambda s: s.scalar(text(f"SELECT count(*) FROM {table}")))


async def stored_receipts(run_in_transaction: Any, prefix: str) -> int:
    return await run_in_transaction(
        lambda s: s.scalar(
            text("SELECT count(*) FROM purchases WHERE receipt_no LIKE :p"), {"p": prefix + "%"}
        )
    )


async def stored_while_sent(
    run_in_transaction: Any, sent: asyncio.Task, *, free: str, held: str, expected: int
) -> tuple[int, int]:
    """The receipts stored under the prefixes ``free`` and ``held`` once ``expected`` of
    ``free`` are (or 10 s have passed), ``sent`` still waiting for the held ones."""
    for _ in range(200):
        if await stored_receipts(run_in_transaction, free) == expected:
            break
        await asyncio.sleep(0.05)
    counts = (
        await stored_receipts(run_in_transaction, free),
        await stored_receipts(run_in_transaction, held),
    )
    assert not sent.done()
    return counts
