"""Campaign fixtures: fake providers, members with phones and OpenIDs, purchases, jobs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from hub.settings import Settings
from hub.wiring import campaign_config, ledger_config
from sync.campaigns.assignment import Evaluation, evaluate_campaigns
from sync.campaigns.delivery import DeliveryRun, deliver_due_messages
from tests.campaigns.campaigns_graphql import campaign_input, create
from tests.campaigns.fakes import (
    APP_ID,
    APP_SECRET,
    PUSH_TOKEN,
    RECEIPT_SECRET,
    SMS_KEY,
    Received,
    fake_providers,
)
from tests.campaigns.receipts_http import WECHAT_ARMS, Sent

# The live hub over real HTTP (uvicorn on a free port), shared with the security tests.
from tests.security.conftest import live_client, live_http, live_url  # noqa: F401

#: When the ``sent`` fixture's messages leave: noon in Shanghai, outside the quiet hours.
SENT_AT = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


@pytest.fixture
def providers() -> Iterator[tuple[str, Received]]:
    with fake_providers() as found:
        yield found


@pytest.fixture
def received(providers: tuple[str, Received]) -> Received:
    return providers[1]


@pytest.fixture
def quiet_hours() -> str:
    return ""


@pytest.fixture
def settings(settings: Settings, providers: tuple[str, Received], quiet_hours: str) -> Settings:
    url = providers[0]
    return settings.model_copy(
        update={
            "wechat_api_base_url": url,
            "wechat_apps": Settings(wechat_apps={APP_ID: APP_SECRET}).wechat_apps,
            "sms_url": f"{url}/sms/send",
            "sms_key": Settings(sms_key=SMS_KEY).sms_key,
            "campaign_quiet_hours": quiet_hours,
            "campaign_consent_defaults": {"WEBHOOK": True},
            "sms_receipt_secret": Settings(sms_receipt_secret=RECEIPT_SECRET).sms_receipt_secret,
            "wechat_push_token": Settings(wechat_push_token=PUSH_TOKEN).wechat_push_token,
        }
    )


@pytest.fixture
def people(run_in_transaction):  # type: ignore[no-untyped-def]
    """``count`` ACTIVE members, each with a phone (+86 13800000000 + n) and an OpenID of
    the shop app, registered ``created`` ago; answer their IDs in order."""

    async def make(count: int, *, at: datetime, birthdays: list[object] | None = None) -> list[int]:
        async def write(session) -> list[int]:  # type: ignore[no-untyped-def]
            ids = (
                (
                    await session.execute(
                        text(
                            "INSERT INTO members (status, registered_channel, gender, name,"
                            " birthday, created_at, updated_at)"
                            " SELECT 'ACTIVE', 'MINI_PROGRAM', 'UNKNOWN', 'Member ' || n, b,"
                            " :at, :at"
                            " FROM unnest(CAST(:births AS date[])) WITH ORDINALITY AS x(b, n)"
                            " ORDER BY n RETURNING id"
                        ),
                        {"at": at - timedelta(days=400), "births": birthdays or [None] * count},
                    )
                )
                .scalars()
                .all()
            )
            ids = sorted(ids)
            await session.execute(
                text(
                    "INSERT INTO member_identities (member_id, type, namespace, value, verified,"
                    " channel, linked_at, last_seen_at)"
                    " SELECT m, 'PHONE', CAST(NULL AS text), '+86138' || lpad(m::text, 8, '0'),"
                    "  true,"
                    "  'MINI_PROGRAM', CAST(:at AS timestamptz), CAST(:at AS timestamptz)"
                    " FROM unnest(CAST(:ids AS bigint[])) m"
                    " UNION ALL SELECT m, 'WECHAT_OPENID', CAST(:app AS text), 'openid-' || m,"
                    "  false,"
                    "  'MINI_PROGRAM', :at, :at FROM unnest(CAST(:ids AS bigint[])) m"
                ),
                {"ids": ids, "at": at - timedelta(days=400), "app": APP_ID},
            )
            return ids

        return await run_in_transaction(write)

    return make


@pytest.fixture
def buy(run_in_transaction):  # type: ignore[no-untyped-def]
    """Counted purchases: (member, amount, when) each, written as the till would leave them."""

    async def write_all(purchases: list[tuple[int, Decimal, datetime]]) -> None:
        async def write(session) -> None:  # type: ignore[no-untyped-def]
            await session.execute(
                text(
                    "INSERT INTO stores (id, name) VALUES ('S001', 'Store') ON CONFLICT DO NOTHING"
                )
            )
            await session.execute(
                text(
                    "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
                    " occurred_at, recorded_at, status, content_hash, rule_version, business_day)"
                    # Receipt numbers unique across calls: a test may buy more than once.
                    " SELECT m, 'S001', 'R-' || n || '-' || m || '-' || gen_random_uuid(), 'POS',"
                    "  a, t, t, 'COMPLETED', '\\x00', 'test', CAST(t AS date)"
                    " FROM unnest(CAST(:members AS bigint[]), CAST(:amounts AS numeric[]),"
                    "  CAST(:times AS timestamptz[])) WITH ORDINALITY AS x(m, a, t, n)"
                ),
                {
                    "members": [p[0] for p in purchases],
                    "amounts": [p[1] for p in purchases],
                    "times": [p[2] for p in purchases],
                },
            )

        await run_in_transaction(write)

    return write_all


@pytest.fixture
def evaluate(session_factory, settings):  # type: ignore[no-untyped-def]
    """Run the campaigns.evaluate job's work at ``now`` in one transaction."""

    async def run(now: datetime) -> Evaluation:
        async with session_factory() as session, session.begin():
            return await evaluate_campaigns(
                session, now=now, zone=settings.time_zone, ledger=ledger_config(settings)
            )

    return run


@pytest.fixture
def deliver(session_factory, settings):  # type: ignore[no-untyped-def]
    """Run the campaigns.deliver job's work at ``now``."""

    async def run(now: datetime, **options: object) -> DeliveryRun:
        return await deliver_due_messages(
            session_factory, now=now, config=campaign_config(settings), **options
        )

    return run


@pytest.fixture
def count_rows(run_in_transaction):  # type: ignore[no-untyped-def]
    async def count(sql: str, **params: object) -> int:
        return int(await run_in_transaction(lambda s: s.scalar(text(sql), params)))

    return count


@pytest.fixture
async def sent(  # type: ignore[no-untyped-def]
    live_client,  # noqa: F811  (the fixture imported above)
    people,
    evaluate,
    deliver,
    received,
    run_in_transaction,
) -> Sent:
    """Three members with SMS and WeChat consent, each sent one SMS (accepted by the
    provider, not yet delivered) and one WeChat subscribe message by two campaigns, at
    ``SENT_AT``."""
    admin = await live_client("admin")
    ids = await people(3, at=SENT_AT)
    await run_in_transaction(
        lambda s: s.execute(
            text(
                "INSERT INTO member_consents (member_id, channel, granted, updated_at)"
                " SELECT m, c, true, :at FROM unnest(CAST(:ids AS bigint[])) m,"
                " unnest(ARRAY['SMS', 'WECHAT_SUBSCRIBE']) c"
            ),
            {"ids": ids, "at": SENT_AT},
        )
    )
    received.sms_status = "ACCEPTED"
    sms = await create(admin, campaign_input("Texts", frequencyCapDays=0))
    wechat = await create(admin, campaign_input("Subscribe", arms=WECHAT_ARMS, frequencyCapDays=0))
    await evaluate(SENT_AT)
    run = await deliver(SENT_AT)
    assert run.outcomes == {"SENT": 6}
    return Sent(ids, sms, wechat)
