"""Callback bodies the hub cannot read are 400 with a clear error, and write nothing."""

from __future__ import annotations

import orjson
import pytest

from tests.campaigns.receipts_http import post_sms, push, report, sent_event, touch_rows

SMS_BODIES = {
    "malformed JSON": (b'{"reports": [', "not valid JSON"),
    "not an object": (b"[]", "JSON object"),
    "no list": (b'{"reports": 3}', "reports: give a list"),
    "NUL in an ID": (
        orjson.dumps({"reports": [report("sms-1\x00", "DELIVERED")]}),
        "reports[0].messageId: control characters",
    ),
    "NUL in a phone": (
        orjson.dumps({"reports": [report("sms-1", "DELIVERED", phone="+86\x00")]}),
        "reports[0].phone: control characters",
    ),
    "unknown status": (
        orjson.dumps({"reports": [report("sms-1", "READ")]}),
        "reports[0].status",
    ),
    "time without offset": (
        orjson.dumps({"reports": [report("sms-1", "DELIVERED", at="2026-12-05T04:01:00")]}),
        "reports[0].at",
    ),
    "an ID too long": (
        orjson.dumps({"reports": [report("x" * 129, "DELIVERED")]}),
        "reports[0].messageId",
    ),
    "too many": (
        orjson.dumps({"reports": [report(f"sms-{n}", "DELIVERED") for n in range(1001)]}),
        "at most 1000",
    ),
    "oversized": (
        orjson.dumps({"reports": [report("sms-1", "DELIVERED", note="x" * 300_000)]}),
        "over 262144 bytes",
    ),
}


@pytest.mark.parametrize("case", SMS_BODIES, ids=list(SMS_BODIES))
async def test_unreadable_sms_reports_are_400(case, sent, live_http, run_in_transaction):
    body, says = SMS_BODIES[case]
    before = await touch_rows(run_in_transaction)

    answer = await post_sms(live_http, body=body)

    assert answer.status_code == 400
    assert says in answer.json()["error"]
    assert await touch_rows(run_in_transaction) == before


async def test_a_bad_report_spoils_its_whole_batch(sent, live_http, received, run_in_transaction):
    good = report(received.sms_id(f"+86138{sent.members[0]:08d}"), "DELIVERED")
    before = await touch_rows(run_in_transaction)

    answer = await post_sms(live_http, [good, report("sms-2\x00", "DELIVERED")])

    assert answer.status_code == 400
    assert await touch_rows(run_in_transaction) == before


def _event_with(**item: object) -> bytes:
    event = sent_event(("1", "0", "success"))
    event["List"] = {**event["List"], **item}
    return orjson.dumps(event)


WECHAT_BODIES = {
    "malformed JSON": (b"{", "not valid JSON"),
    "NUL in MsgID": (_event_with(MsgID="18\x0064"), "List[0].MsgID: control characters"),
    "no status": (_event_with(ErrorStatus=None), "List[0].ErrorStatus"),
    "encrypted": (orjson.dumps({"ToUserName": "gh", "Encrypt": "abc"}), "plaintext mode"),
    "bad time": (
        orjson.dumps({**sent_event(("1", "0", "success")), "CreateTime": "soon"}),
        "CreateTime",
    ),
    "oversized": (orjson.dumps({"MsgType": "text", "Content": "x" * 300_000}), "over 262144"),
}


@pytest.mark.parametrize("case", WECHAT_BODIES, ids=list(WECHAT_BODIES))
async def test_unreadable_wechat_pushes_are_400(case, sent, live_http, run_in_transaction):
    body, says = WECHAT_BODIES[case]
    before = await touch_rows(run_in_transaction)

    answer = await push(live_http, body=body)

    assert answer.status_code == 400
    assert says in answer.json()["error"]
    assert await touch_rows(run_in_transaction) == before


async def test_other_wechat_pushes_are_taken_and_ignored(sent, live_http, run_in_transaction):
    before = await touch_rows(run_in_transaction)

    answer = await push(live_http, {"MsgType": "text", "Content": "hello", "CreateTime": 1})

    assert answer.status_code == 200
    assert answer.json()["received"] == 0
    assert await touch_rows(run_in_transaction) == before
