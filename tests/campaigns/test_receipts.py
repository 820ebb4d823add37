"""Delivery receipts over real HTTP: the SMS provider's status reports and WeChat's push move
sent touches to DELIVERED or FAILED, as the report and the member's touches show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from hub.api.member_inputs import identity_config
from identity.erase import erase_member
from tests.campaigns.campaigns_graphql import REPORT, TOUCHES, campaign_input, create
from tests.campaigns.receipts_http import (
    SMS,
    WECHAT_ARMS,
    WECHAT_PATH,
    WX,
    post_sms,
    push,
    push_params,
    refusal_event,
    report,
    sent_event,
    touch_rows,
)
from tests.campaigns.test_delivery import NOW, grant
from tests.ledger.benefits.benefits_graphql import global_id


async def reached(client, campaign: str) -> int:  # type: ignore[no-untyped-def]
    arms = (await client.data(REPORT, id=campaign))["campaign"]["report"]["arms"]
    return sum(a["reached"] for a in arms)


async def test_sent_touches_keep_the_providers_message_ids(sent, received, run_in_transaction):
    rows = await touch_rows(run_in_transaction)

    for member in sent.members:
        assert rows[(member, SMS)] == ("SENT", received.sms_id(f"+86138{member:08d}"), None)
        msgid = received.wechat_msgid(f"openid-{member}")
        assert rows[(member, WX)] == ("SENT", str(msgid), None)


async def test_receipts_deliver_and_fail_as_the_api_shows(
    sent, live_client, live_http, received, run_in_transaction
):
    admin = await live_client("admin")
    a, b, c = sent.members
    sms_a, sms_b = (received.sms_id(f"+86138{m:08d}") for m in (a, b))
    wx_a, wx_b = (received.wechat_msgid(f"openid-{m}") for m in (a, b))

    texts = await post_sms(
        live_http,
        [
            report(sms_a, "DELIVERED"),
            report(sms_b, "FAILED", "UNDELIV"),
            report("sms-999", "FAILED"),
        ],
    )
    pushed = await push(
        live_http,
        sent_event((wx_a, "0", "success"), (str(wx_b), "10005", "failed"), (7, "0", "success")),
    )

    assert (texts.status_code, texts.json()) == (
        200,
        {"received": 3, "applied": 2, "unchanged": 0, "unknown": 1},
    )
    assert (pushed.status_code, pushed.json()) == (
        200,
        {"received": 3, "applied": 2, "unchanged": 0, "unknown": 1, "consentWithdrawn": 0},
    )
    rows = await touch_rows(run_in_transaction)
    assert [rows[(m, SMS)][0::2] for m in (a, b, c)] == [
        ("DELIVERED", None),
        ("FAILED", "UNDELIV"),
        ("SENT", None),
    ]
    assert [rows[(m, WX)][0::2] for m in (a, b, c)] == [
        ("DELIVERED", None),
        ("FAILED", "10005"),
        ("SENT", None),
    ]
    # Delivered and sent count as reached; a failed delivery does not.
    assert await reached(admin, sent.sms_campaign) == 2
    assert await reached(admin, sent.wechat_campaign) == 2
    seen = (await admin.data(TOUCHES, id=global_id("Member", b)))["member"]["campaignTouches"]
    assert sorted((t["channel"], t["outcome"], t["reachedAt"]) for t in seen) == [
        ("SMS", "FAILED", None),
        ("WECHAT_SUBSCRIBE", "FAILED", None),
    ]
    seen = (await admin.data(TOUCHES, id=global_id("Member", a)))["member"]["campaignTouches"]
    assert {t["outcome"] for t in seen} == {"DELIVERED"}
    assert all(t["reachedAt"] is not None for t in seen)


async def test_repeats_and_late_failures_change_nothing(
    sent, live_client, live_http, received, run_in_transaction
):
    admin = await live_client("admin")
    a, b, c = sent.members
    sms_a, sms_b, sms_c = (received.sms_id(f"+86138{m:08d}") for m in (a, b, c))

    first = await post_sms(live_http, [report(sms_a, "DELIVERED"), report(sms_b, "FAILED", "E1")])
    repeat = await post_sms(live_http, [report(sms_a, "DELIVERED"), report(sms_b, "FAILED", "E1")])
    late_failure = await post_sms(live_http, [report(sms_a, "FAILED", "E9")])
    other_error = await post_sms(live_http, [report(sms_b, "FAILED", "E2")])
    after_all = await post_sms(live_http, [report(sms_b, "DELIVERED")])
    # Both in one request, the failure first: the delivery still wins.
    one_request = await post_sms(
        live_http, [report(sms_c, "FAILED", "E3"), report(sms_c, "DELIVERED")]
    )

    counts = [r.json() for r in (first, repeat, late_failure, other_error, after_all, one_request)]
    assert [(c["applied"], c["unchanged"]) for c in counts] == [
        (2, 0),
        (0, 2),
        (0, 1),
        (0, 1),
        (1, 0),
        (1, 0),
    ]
    assert counts[-1]["received"] == 1
    rows = await touch_rows(run_in_transaction)
    assert [rows[(m, SMS)][0::2] for m in (a, b, c)] == [("DELIVERED", None)] * 3
    assert await reached(admin, sent.sms_campaign) == 3


async def test_a_failure_between_repeats_keeps_its_first_error_code(
    sent, live_http, received, run_in_transaction
):
    a = sent.members[0]
    sms_a = received.sms_id(f"+86138{a:08d}")

    await post_sms(live_http, [report(sms_a, "FAILED", "E1")])
    await post_sms(live_http, [report(sms_a, "FAILED", "E2")])

    assert (await touch_rows(run_in_transaction))[(a, SMS)][0::2] == ("FAILED", "E1")


async def test_a_bad_signature_is_401_and_changes_nothing(
    sent, live_http, received, run_in_transaction
):
    a = sent.members[0]
    delivered = [report(received.sms_id(f"+86138{a:08d}"), "DELIVERED")]
    wx = sent_event((received.wechat_msgid(f"openid-{a}"), "0", "success"))
    before = await touch_rows(run_in_transaction)

    answers = [
        await post_sms(live_http, delivered, signature=None),
        await post_sms(live_http, delivered, signature="sha256=" + "0" * 64),
        await post_sms(live_http, delivered, signature="not-a-signature"),
        await push(live_http, wx, params=push_params("another-token")),
        await push(live_http, wx, params={}),
        # Signed, but an hour old: a replayed signature.
        await push(live_http, wx, params=push_params(timestamp=int(NOW.timestamp()) - 3600)),
        await live_http.get(WECHAT_PATH, params={**push_params("wrong"), "echostr": "123"}),
    ]

    assert [r.status_code for r in answers] == [401] * len(answers)
    assert all("error" in r.json() for r in answers)
    assert await touch_rows(run_in_transaction) == before


async def test_wechat_checks_the_push_url_with_echostr(live_http):
    answer = await live_http.get(WECHAT_PATH, params={**push_params(), "echostr": "1234567890"})
    refused = await live_http.get(WECHAT_PATH, params={**push_params(), "echostr": "<script>"})

    assert (answer.status_code, answer.text) == (200, "1234567890")
    assert refused.status_code == 400


async def test_a_wechat_refusal_withdraws_consent_for_the_next_message(
    live_client, live_http, people, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    refuses, changes_mind, accepts, regranted = await people(4, at=NOW)
    await grant(run_in_transaction, [refuses, changes_mind, accepts, regranted], WX)
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    # The member granted again after refusing (the push arrives late): the grant stands.
    await run_in_transaction(
        lambda s: s.execute(
            text("UPDATE member_consents SET updated_at = now() WHERE member_id = :m"),
            {"m": regranted},
        )
    )

    answers = [
        await push(live_http, refusal_event(f"openid-{refuses}", "subscribe_msg_reject_event")),
        await push(
            live_http, refusal_event(f"openid-{changes_mind}", "subscribe_msg_change_event")
        ),
        await push(
            live_http, refusal_event(f"openid-{accepts}", "subscribe_msg_change_event", "accept")
        ),
        await push(
            live_http,
            refusal_event(f"openid-{regranted}", "subscribe_msg_reject_event", at=earlier),
        ),
        await push(live_http, refusal_event("openid-nobody", "subscribe_msg_reject_event")),
    ]
    await create(admin, campaign_input("After", arms=WECHAT_ARMS))
    await evaluate(NOW)
    await deliver(NOW)

    assert [r.json()["consentWithdrawn"] for r in answers] == [1, 1, 0, 0, 0]
    rows = await touch_rows(run_in_transaction)
    assert {m: rows[(m, WX)][0] for m in (refuses, changes_mind, accepts, regranted)} == {
        refuses: "SKIPPED_NO_CONSENT",
        changes_mind: "SKIPPED_NO_CONSENT",
        accepts: "SENT",
        regranted: "SENT",
    }
    assert sorted(received.wechat_to()) == sorted([f"openid-{accepts}", f"openid-{regranted}"])
    seen = (await admin.data(TOUCHES, id=global_id("Member", refuses)))["member"]
    assert seen["consents"] == [{"channel": WX, "granted": False}]


async def test_erasure_forgets_message_ids_so_later_receipts_are_unknown(
    sent, live_http, received, run_in_transaction, settings
):
    a = sent.members[0]
    sms_a = received.sms_id(f"+86138{a:08d}")
    await run_in_transaction(
        lambda s: erase_member(
            s, member_id=a, reason="asked", actor="test", now=NOW, config=identity_config(settings)
        )
    )

    answer = await post_sms(live_http, [report(sms_a, "DELIVERED")])

    assert answer.json()["unknown"] == 1
    assert (await touch_rows(run_in_transaction))[(a, SMS)] == ("SENT", None, None)
