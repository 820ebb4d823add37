"""Channel adapters: how one campaign message leaves the hub.

Each adapter answers a ``SendResult`` or raises ``SendFailed`` (retried with backoff) or
``SendRefused`` (the provider said no for good: a bad template, an unknown recipient).
Texts are filled from the member's data first (``fill``); adapters never read the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
import orjson


class SendFailed(Exception):
    """A passing failure (timeout, 5xx, rate limit): try again later."""


class SendRefused(Exception):
    """The provider refused the message for good."""


@dataclass(frozen=True)
class SendResult:
    #: The provider confirmed delivery to the handset (SMS receipts), not only acceptance.
    delivered: bool = False
    #: The provider's ID of the message, which its delivery receipts name later.
    message_id: str | None = None


#: Longest provider message ID kept (the column's limit).
MAX_MESSAGE_ID = 128


def message_id_of(value: object) -> str | None:
    """A provider's message ID as the hub keeps it: a string or a whole number (WeChat's
    msgid is a JSON number), 1 to 128 characters without control characters; else None, and
    the touch is recorded without one (its receipts are then ignored as unknown)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_MESSAGE_ID:
        return None
    return None if any(ord(c) < 32 for c in value) else value


@dataclass(frozen=True)
class Recipient:
    member_id: int
    name: str | None
    points_available: int
    coupon_code: str | None
    phone: str | None
    openid: str | None


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")


def fill(template: str, recipient: Recipient) -> str:
    """Replace {{member.name}}, {{points.available}}, {{coupon.code}}; others stay as typed."""
    values = {
        "member.name": recipient.name or "",
        "points.available": str(recipient.points_available),
        "coupon.code": recipient.coupon_code or "",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def filled_data(data: Sequence[tuple[str, str]], recipient: Recipient) -> dict[str, str]:
    return {key: fill(value, recipient) for key, value in data}


def _check(response: httpx.Response) -> dict[str, object]:
    if response.status_code == 429 or response.status_code >= 500:
        raise SendFailed(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise SendRefused(f"HTTP {response.status_code}")
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError as error:
        raise SendFailed("unreadable answer") from error
    return body if isinstance(body, dict) else {}


@dataclass
class SmsProvider:
    """One small HTTP interface: ``POST {url}`` with ``{to, templateId, data}``, the key as a
    bearer token and the touch as ``Idempotency-Key`` (a resend after a crash is the same
    message to the provider); answers ``{"status": "DELIVERED" | "ACCEPTED", "messageId"}``,
    the ID its status reports name."""

    url: str
    key: str
    timeout: float = 5.0

    async def send(
        self,
        client: httpx.AsyncClient,
        recipient: Recipient,
        template_id: str,
        data: Mapping[str, str],
        key: str,
    ) -> SendResult:
        if not recipient.phone:
            raise SendRefused("the member has no phone")
        try:
            response = await client.post(
                self.url,
                json={"to": recipient.phone, "templateId": template_id, "data": dict(data)},
                headers={"Authorization": f"Bearer {self.key}", "Idempotency-Key": key},
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"SMS provider unreachable: {type(error).__name__}") from error
        body = _check(response)
        return SendResult(
            delivered=body.get("status") == "DELIVERED",
            message_id=message_id_of(body.get("messageId")),
        )


#: WeChat errcodes worth retrying: system busy, access token expired or invalid.
_WECHAT_RETRY = {-1, 40001, 42001, 45009}


@dataclass
class WechatSubscribe:
    """Mini-program subscribe messages: ``/cgi-bin/token`` for the app's access token (kept
    until shortly before it expires), then ``/cgi-bin/message/subscribe/send``."""

    base_url: str
    app_id: str
    secret: str
    timeout: float = 5.0
    _token: tuple[str, float] | None = field(default=None, init=False)

    async def _access_token(self, client: httpx.AsyncClient) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        try:
            response = await client.get(
                f"{self.base_url.rstrip('/')}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.secret,
                },
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"WeChat unreachable: {type(error).__name__}") from error
        body = _check(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise SendFailed(f"WeChat gave no access token (errcode {body.get('errcode')})")
        expires = body.get("expires_in")
        lifetime = float(expires) if isinstance(expires, int) else 7200.0
        self._token = (token, time.monotonic() + max(lifetime - 300, 60))
        return token

    async def send(
        self,
        client: httpx.AsyncClient,
        recipient: Recipient,
        template_id: str,
        data: Mapping[str, str],
        key: str,
    ) -> SendResult:
        if not recipient.openid:
            raise SendRefused("the member has no OpenID for the app")
        token = await self._access_token(client)
        try:
            response = await client.post(
                f"{self.base_url.rstrip('/')}/cgi-bin/message/subscribe/send",
                params={"access_token": token},
                json={
                    "touser": recipient.openid,
                    "template_id": template_id,
                    "data": {k: {"value": v} for k, v in data.items()},
                },
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"WeChat unreachable: {type(error).__name__}") from error
        body = _check(response)
        errcode = body.get("errcode") or 0
        if errcode in (40001, 42001):
            self._token = None
        if errcode in _WECHAT_RETRY:
            raise SendFailed(f"WeChat errcode {errcode}")
        if errcode:
            # 43101: the member has not accepted this template (or used up the acceptance).
            raise SendRefused(f"WeChat errcode {errcode}")
        # The msgid is what the subscribe_msg_sent_event push names.
        return SendResult(message_id=message_id_of(body.get("msgid")))
