"""Sending receipts to the live hub as the SMS provider and WeChat would, signed or not."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from tests.campaigns.fakes import PUSH_TOKEN, RECEIPT_SECRET

SMS_PATH = "/callbacks/sms/status"
WECHAT_PATH = "/callbacks/wechat/push"
SMS, WX = "SMS", "WECHAT_SUBSCRIBE"
WECHAT_ARMS = [
    {
        "name": "wechat",
        "weight": 1,
        "action": {"message": {"channel": WX, "templateId": "WX-1"}},
    }
]


@dataclass
class Sent:
    """Members each sent one SMS and one WeChat subscribe message, by two campaigns."""

    members: list[int]
    sms_campaign: str
    wechat_campaign: str


def sms_signature(body: bytes, secret: str = RECEIPT_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def report(message_id: str, status: str, error: str | None = None, **more: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "messageId": message_id,
        "phone": "+8613800000001",
        "status": status,
        "at": "2026-12-05T04:01:00Z",
        **more,
    }
    if error is not None:
        item["errorCode"] = error
    return item


async def post_sms(
    http: httpx.AsyncClient,
    reports: list[dict[str, Any]] | None = None,
    *,
    body: bytes | None = None,
    signature: str | None = "sign",
) -> httpx.Response:
    """POST ``{"reports": reports}`` (or ``body`` as given), signed unless ``signature`` is
    None (no header) or a string other than "sign" (sent as it is)."""
    raw = body if body is not None else orjson.dumps({"reports": reports or []})
    headers = {"content-type": "application/json"}
    if signature == "sign":
        headers["x-memberhub-signature"] = sms_signature(raw)
    elif signature is not None:
        headers["x-memberhub-signature"] = signature
    return await http.post(SMS_PATH, content=raw, headers=headers)


def push_params(token: str = PUSH_TOKEN, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = "nonce-1"
    signature = hashlib.sha1("".join(sorted((token, stamp, nonce))).encode()).hexdigest()
    return {"signature": signature, "timestamp": stamp, "nonce": nonce}


def sent_event(*items: tuple[int | str, str, str]) -> dict[str, Any]:
    """subscribe_msg_sent_event with (MsgID, ErrorCode, ErrorStatus) per message."""
    entries = [
        {"TemplateId": "WX-1", "MsgID": m, "ErrorCode": c, "ErrorStatus": s} for m, c, s in items
    ]
    return {
        "ToUserName": "gh_shop",
        "FromUserName": "openid-x",
        "CreateTime": str(int(time.time())),
        "MsgType": "event",
        "Event": "subscribe_msg_sent_event",
        "List": entries[0] if len(entries) == 1 else entries,
    }


def refusal_event(
    openid: str, event: str, status: str = "reject", at: datetime | None = None
) -> dict[str, Any]:
    return {
        "ToUserName": "gh_shop",
        "FromUserName": openid,
        "CreateTime": int((at or datetime.now(UTC)).timestamp()),
        "MsgType": "event",
        "Event": event,
        "List": [{"TemplateId": "WX-1", "SubscribeStatusString": status}],
    }


async def push(
    http: httpx.AsyncClient,
    event: dict[str, Any] | None = None,
    *,
    body: bytes | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    raw = body if body is not None else orjson.dumps(event)
    return await http.post(
        WECHAT_PATH,
        params=params if params is not None else push_params(),
        content=raw,
        headers={"content-type": "application/json"},
    )


Row = tuple[str, str | None, str | None]


async def touch_rows(run_in_transaction) -> dict[tuple[int, str], Row]:  # type: ignore[no-untyped-def]
    """(member, channel) -> (outcome, provider message ID, receipt error) of every touch."""
    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT member_id, channel, outcome, provider_message_id, receipt_error"
                " FROM campaign_touches ORDER BY id"
            )
        )
    )
    return {
        (r.member_id, r.channel): (r.outcome, r.provider_message_id, r.receipt_error) for r in rows
    }
