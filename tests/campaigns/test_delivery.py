"""Sending: consent, quiet hours, retries, a killed worker, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from hub.api.member_inputs import identity_config
from hub.wiring import campaign_config
from identity.erase import erase_member
from sync.campaigns.channels import SendResult
from tests.campaigns.campaigns_graphql import SET_CONSENT, TOUCHES, campaign_input, create
from tests.ledger.benefits.benefits_graphql import global_id

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)  # noon in Shanghai


async def outcomes(run_in_transaction) -> dict[int, str]:  # type: ignore[no-untyped-def]
    rows = await run_in_transaction(
        lambda s: s.execute(text("SELECT member_id, outcome FROM campaign_touches"))
    )
    return dict(rows.all())


async def grant(run_in_transaction, ids: list[int], channel: str = "SMS") -> None:  # type:
    # ignore[no-untyped-def]
    await run_in_transaction(
        lambda s: s.execute(
            text(
                "INSERT INTO member_consents (member_id, channel, granted, updated_at)"
                " SELECT m, :c, true, :now FROM unnest(CAST(:ids AS bigint[])) m"
            ),
            {"ids": ids, "c": channel, "now": NOW},
        )
    )


async def test_no_message_leaves_without_consent(
    live_client, people, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    yes, no, unsaid, revoked = await people(4, at=NOW)
    for member, granted in ((yes, True), (no, False), (revoked, True), (revoked, False)):
        body = await admin.data(
            SET_CONSENT, member=global_id("Member", member), channel="SMS", granted=granted
        )
        assert body["setConsent"]["userErrors"] == []
    await create(admin, campaign_input("Consent"))

    await evaluate(NOW)
    await deliver(NOW)

    assert received.sms_to() == [f"+86138{yes:08d}"]
    assert await outcomes(run_in_transaction) == {
        yes: "DELIVERED",
        no: "SKIPPED_NO_CONSENT",
        unsaid: "SKIPPED_NO_CONSENT",
        revoked: "SKIPPED_NO_CONSENT",
    }
    seen = (await admin.data(TOUCHES, id=global_id("Member", revoked)))["member"]
    assert seen["consents"] == [{"channel": "SMS", "granted": False}]
    assert seen["campaignTouches"][0]["outcome"] == "SKIPPED_NO_CONSENT"


async def test_consent_input_edges_write_nothing(live_client, people, count_rows):
    admin = await live_client("admin")
    (member,) = await people(1, at=NOW)
    bad_id = await admin.data(SET_CONSENT, member="nope", channel="SMS", granted=True)
    unknown = await admin.data(
        SET_CONSENT, member=global_id("Member", member + 99), channel="SMS", granted=True
    )
    assert [e["code"] for e in bad_id["setConsent"]["userErrors"]] == ["INVALID_INPUT"]
    assert [e["code"] for e in unknown["setConsent"]["userErrors"]] == ["NOT_FOUND"]
    assert await count_rows("SELECT count(*) FROM member_consents") == 0


class Crashing:
    """Sends through the real provider, then dies (as a killed worker) before the Nth."""

    def __init__(self, real, die_at: int) -> None:  # type: ignore[no-untyped-def]
        self.real, self.die_at, self.calls = real, die_at, 0

    async def send(self, client, recipient, template_id, data, key) -> SendResult:  # type:
        # ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.die_at:
            raise SystemExit("worker killed")
        return await self.real.send(client, recipient, template_id, data, key)


async def test_a_killed_worker_resumes_and_nobody_is_reached_twice(
    live_client, people, evaluate, deliver, received, run_in_transaction, settings
):
    admin = await live_client("admin")
    ids = await people(20, at=NOW)
    await grant(run_in_transaction, ids)
    await create(admin, campaign_input("Resume"))
    await evaluate(NOW)

    with pytest.raises(SystemExit):
        await deliver(NOW, senders={"SMS": Crashing(campaign_config(settings).sms, die_at=8)})
    sent_before = len(received.sms_to())
    await evaluate(NOW)  # a rerun of the evaluation assigns nobody again
    await deliver(NOW)
    await deliver(NOW + timedelta(minutes=1))

    assert sent_before == 7
    assert sorted(received.sms_to()) == sorted(f"+86138{m:08d}" for m in ids)
    assert set((await outcomes(run_in_transaction)).values()) == {"DELIVERED"}


async def test_failures_are_retried_with_backoff(
    live_client, people, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    (member,) = await people(1, at=NOW)
    await grant(run_in_transaction, [member])
    await create(admin, campaign_input("Retry"))
    await evaluate(NOW)
    received.fail_next = 1

    first = await deliver(NOW, fraction=lambda: 0.5)
    too_soon = await deliver(NOW + timedelta(seconds=5), fraction=lambda: 0.5)
    later = await deliver(NOW + timedelta(seconds=20), fraction=lambda: 0.5)

    assert (first.outcomes, too_soon.outcomes, later.outcomes) == (
        {"PENDING": 1},
        {},
        {"DELIVERED": 1},
    )
    assert received.sms_to() == [f"+86138{member:08d}"]


async def test_erasure_clears_consent_and_drops_waiting_messages(
    live_client, people, evaluate, deliver, received, run_in_transaction, settings, count_rows
):
    admin = await live_client("admin")
    (member,) = await people(1, at=NOW)
    await grant(run_in_transaction, [member])
    await create(admin, campaign_input("Erase"))
    await evaluate(NOW)

    await run_in_transaction(
        lambda s: erase_member(
            s,
            member_id=member,
            reason="asked",
            actor="test",
            now=NOW,
            config=identity_config(settings),
        )
    )
    await deliver(NOW)

    assert await count_rows("SELECT count(*) FROM member_consents") == 0
    assert await outcomes(run_in_transaction) == {member: "SKIPPED_NO_CONSENT"}
    assert received.sms_to() == []


async def test_webhook_messages_are_outbox_events_once(
    live_client, people, evaluate, deliver, run_in_transaction, count_rows
):
    admin = await live_client("admin")
    ids = await people(3, at=NOW)
    values = campaign_input("Partners")
    values["arms"][0]["action"]["message"]["channel"] = "WEBHOOK"
    await create(admin, values)
    await evaluate(NOW)

    await deliver(NOW)
    await deliver(NOW + timedelta(minutes=1))

    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT member_id, payload ->> 'data' AS data FROM outbox_events"
                " WHERE event_type = 'campaign.message' ORDER BY member_id"
            )
        )
    )
    found = rows.all()
    assert [r.member_id for r in found] == ids
    assert '"Hi Member 1"' in found[0].data


class TestQuietHours:
    @pytest.fixture
    def quiet_hours(self) -> str:
        return "21:00-09:00"

    async def test_messages_wait_for_the_end_of_quiet_hours(
        self, live_client, people, evaluate, deliver, received, run_in_transaction
    ):
        admin = await live_client("admin")
        (member,) = await people(1, at=NOW)
        await grant(run_in_transaction, [member])
        await create(admin, campaign_input("Night"))
        night = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
        await evaluate(night)

        at_night = await deliver(night)
        waiting = await outcomes(run_in_transaction)
        before_nine = await deliver(datetime(2026, 12, 6, 0, 59, tzinfo=UTC))
        at_nine = await deliver(datetime(2026, 12, 6, 1, 0, tzinfo=UTC))

        assert at_night.outcomes == {"SKIPPED_QUIET_HOURS": 1}
        assert waiting == {member: "SKIPPED_QUIET_HOURS"}
        assert before_nine.outcomes == {}
        assert at_nine.outcomes == {"DELIVERED": 1}
        assert received.sms_to() == [f"+86138{member:08d}"]
