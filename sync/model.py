"""Plain rules of event delivery: which events exist, who may receive them, when to retry."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

#: Event types about members, their points, purchases, tiers, segments and fraud cases:
#: what admin and partner clients may subscribe webhooks to.
MEMBER_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "member.created",
        "member.merged",
        "member.unmerged",
        "member.erased",
        "identity.linked",
        "identity.unlinked",
        "points.credited",
        "points.debited",
        "points.expiring",
        "points.expired",
        "purchase.recorded",
        "purchase.refunded",
        "tier.changed",
        "segment.entered",
        "segment.exited",
        "fraud.held",
        "fraud.decided",
        "campaign.message",
    }
)

#: Events about the hub's own operation: only admin clients receive them.
ADMIN_EVENT_TYPES: frozenset[str] = frozenset({"webhook.disabled"})

#: A delivery a webhook's owner asked for to try its receiver; only that webhook gets it.
TEST_EVENT_TYPE = "webhook.test"

#: Scope names of API clients (``hub.http.principal.Scope``), as stored in ``api_clients.scopes``:
#: the worker reads them from the table to decide what a webhook's owner may receive.
ADMIN_SCOPE = "admin"
MEMBERS_READ_SCOPE = "members:read"
PII_READ_SCOPE = "pii:read"


def subscribable_event_types(*, admin: bool) -> frozenset[str]:
    return MEMBER_EVENT_TYPES | ADMIN_EVENT_TYPES if admin else MEMBER_EVENT_TYPES


def may_receive(scopes: Collection[str], event_type: str) -> bool:
    """Member events need ``members:read``; the hub's own events need ``admin``; a test
    delivery goes to whoever asked for it."""
    if ADMIN_SCOPE in scopes or event_type == TEST_EVENT_TYPE:
        return True
    return event_type not in ADMIN_EVENT_TYPES and MEMBERS_READ_SCOPE in scopes


def sees_personal_data(scopes: Collection[str]) -> bool:
    return ADMIN_SCOPE in scopes or PII_READ_SCOPE in scopes


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the hub tries to deliver a webhook, and when it gives up on one."""

    #: How long one HTTP attempt may take.
    timeout: timedelta = timedelta(seconds=10)
    #: The delay cap after the first failure; it doubles with each further failure.
    first_retry: timedelta = timedelta(seconds=10)
    max_retry_delay: timedelta = timedelta(hours=1)
    #: A delivery is retried until it is this old; the first failure after that ends it.
    retry_for: timedelta = timedelta(hours=24)
    #: A webhook whose deliveries have all failed for this long is disabled.
    disable_after: timedelta = timedelta(days=3)
    #: How long an enqueued or running attempt holds its delivery before the dispatcher
    #: assumes the message was lost (a worker killed mid-attempt) and sends it again.
    lease: timedelta = timedelta(minutes=10)


class Outcome(enum.StrEnum):
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"
    FAILED = "FAILED"


#: Request Timeout and Too Many Requests say "later", not "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def classify_response(status_code: int | None) -> Outcome:
    """``None`` is a network error (no response): worth another try, as is any 5xx."""
    if status_code is None or status_code >= 500 or status_code in RETRYABLE_CLIENT_ERRORS:
        return Outcome.RETRY
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    # Redirects are not followed: a receiver that moved registers its new URL.
    return Outcome.FAILED


def retry_delay(
    attempts: int, policy: DeliveryPolicy, *, fraction: Callable[[], float] = random.random
) -> timedelta:
    """Exponential backoff with full jitter: uniform in [0, min(cap, first * 2^(n-1))], so
    receivers that failed together do not get their retries all at once."""
    # The exponent is capped so the product stays a representable timedelta.
    exponent = min(max(attempts - 1, 0), 30)
    ceiling = min(policy.max_retry_delay, policy.first_retry * 2**exponent)
    return ceiling * fraction()
