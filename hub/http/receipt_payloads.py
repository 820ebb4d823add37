"""Reading the providers' callback bodies into receipts and refusals, or a clear 400.

Only translation: what a receipt means is ``sync.campaigns.receipts``. Every string taken
from a body is bounded and free of control characters (a NUL would be refused by PostgreSQL
mid-statement, after the signature was already accepted: it is a 400 here instead).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from sync.campaigns.channels import MAX_MESSAGE_ID
from sync.campaigns.receipts import MAX_ERROR_CODE, Receipt, Refusal

#: Reports one request may carry (a provider batches; more is a misbehaving sender).
MAX_RECEIPTS = 1000
#: Largest callback body: a thousand reports fit in well under this.
MAX_BODY_BYTES = 256 * 1024
MAX_PHONE = 32
MAX_OPENID = 128


class PayloadError(Exception):
    """The body cannot be read as the callback it claims to be: HTTP 400, nothing written."""


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadError("the body is not valid JSON") from error
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object")
    return data


def _text(item: dict[str, Any], key: str, limit: int, at: str, *, required: bool) -> str | None:
    name = f"{at}.{key}" if at else key
    value = item.get(key)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # WeChat sends some IDs and codes as numbers
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise PayloadError(f"{name}: give a string of 1 to {limit} characters")
    if any(ord(c) < 32 for c in value):
        raise PayloadError(f"{name}: control characters (NUL, newlines) are not allowed")
    return value


def _list(data: dict[str, Any], key: str, at: str) -> list[dict[str, Any]]:
    """``data[key]`` as a list of objects; WeChat sends one object where there is one item."""
    items = data.get(key)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PayloadError(f"{at}{key}: give a list of objects")
    if len(items) > MAX_RECEIPTS:
        raise PayloadError(f"{at}{key}: at most {MAX_RECEIPTS} per request")
    return items


def sms_receipts(data: dict[str, Any]) -> list[Receipt]:
    """``{"reports": [{messageId, phone?, status: DELIVERED | FAILED, errorCode?, at}]}``;
    ``at`` is ISO 8601 with an offset. The phone is checked for shape, never stored."""
    receipts = []
    for n, item in enumerate(_list(data, "reports", "")):
        at = f"reports[{n}]"
        message_id = _text(item, "messageId", MAX_MESSAGE_ID, at, required=True)
        _text(item, "phone", MAX_PHONE, at, required=False)
        status = item.get("status")
        if status not in ("DELIVERED", "FAILED"):
            raise PayloadError(f"{at}.status: give DELIVERED or FAILED")
        error = _text(item, "errorCode", MAX_ERROR_CODE, at, required=False)
        when = _text(item, "at", 64, at, required=True)
        try:
            moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError(f"{at}.at: give an ISO 8601 time with an offset") from exc
        if moment.tzinfo is None:
            raise PayloadError(f"{at}.at: give an ISO 8601 time with an offset")
        receipts.append(
            Receipt(
                message_id=str(message_id),
                delivered=status == "DELIVERED",
                error_code=None if status == "DELIVERED" else error,
                at=moment,
            )
        )
    return receipts


#: Events after which the member no longer takes the app's subscribe messages.
_REFUSAL_EVENTS = ("subscribe_msg_reject_event", "subscribe_msg_change_event")


def _create_time(data: dict[str, Any]) -> datetime:
    value = data.get("CreateTime")
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 10**11:
        raise PayloadError("CreateTime: give the event's Unix time in seconds")
    return datetime.fromtimestamp(value, UTC)


def wechat_event(data: dict[str, Any]) -> tuple[list[Receipt], list[Refusal]]:
    """Receipts from ``subscribe_msg_sent_event`` and refusals from
    ``subscribe_msg_reject_event`` and a ``subscribe_msg_change_event`` whose list says
    ``reject``; any other message or event is neither (WeChat pushes them all here)."""
    if "Encrypt" in data:
        raise PayloadError("encrypted pushes are not read: set the push to plaintext mode")
    if data.get("MsgType") != "event":
        return [], []
    event = data.get("Event")
    if event == "subscribe_msg_sent_event":
        at = _create_time(data)
        receipts = []
        for n, item in enumerate(_list(data, "List", "")):
            where = f"List[{n}]"
            message_id = _text(item, "MsgID", MAX_MESSAGE_ID, where, required=True)
            code = _text(item, "ErrorCode", MAX_ERROR_CODE, where, required=False)
            status = _text(item, "ErrorStatus", 64, where, required=True)
            delivered = status == "success"
            receipts.append(
                Receipt(
                    message_id=str(message_id),
                    delivered=delivered,
                    error_code=None if delivered else (code or status),
                    at=at,
                )
            )
        return receipts, []
    if event in _REFUSAL_EVENTS:
        at = _create_time(data)
        openid = _text(data, "FromUserName", MAX_OPENID, "", required=True)
        items = _list(data, "List", "") if "List" in data else []
        statuses = [
            _text(item, "SubscribeStatusString", 64, f"List[{n}]", required=False)
            for n, item in enumerate(items)
        ]
        if event == "subscribe_msg_reject_event" or "reject" in statuses:
            return [], [Refusal(openid=str(openid), at=at)]
    return [], []
