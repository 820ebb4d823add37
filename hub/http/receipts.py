"""Providers' callbacks about campaign messages, outside GraphQL (providers call them, not
clients): SMS status reports and WeChat's message push.

Neither carries an API key; each is authenticated by its provider's signature, checked in
constant time before the body is parsed. A bad or missing signature is 401, an unreadable
body 400, and neither writes anything. A request's receipts are applied in one statement
(``sync.campaigns.receipts``); the answer counts what happened to them.

- ``POST /callbacks/sms/status``: ``X-MemberHub-Signature: sha256=<hex>``, the HMAC-SHA256
  of the raw body with ``MEMBERHUB_SMS_RECEIPT_SECRET``.
- ``GET /callbacks/wechat/push``: WeChat's URL check, ``echostr`` answered back once
  ``signature`` (sha1 of the sorted token, ``timestamp`` and ``nonce``) holds for
  ``MEMBERHUB_WECHAT_PUSH_TOKEN`` and the timestamp is recent. ``POST`` the same: a pushed
  event (JSON, plaintext mode).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.http.graphql_request import RequestError, read_body
from hub.http.receipt_payloads import (
    MAX_BODY_BYTES,
    PayloadError,
    json_object,
    sms_receipts,
    wechat_event,
)
from sync.campaigns.model import MessageChannel
from sync.campaigns.receipts import (
    Receipt,
    ReceiptCount,
    Refusal,
    record_receipts,
    withdraw_wechat_consent,
)

log = structlog.get_logger("memberhub.receipts")

SMS_PATH = "/callbacks/sms/status"
WECHAT_PATH = "/callbacks/wechat/push"
SIGNATURE_HEADER = "x-memberhub-signature"
#: Longest echostr answered back (WeChat's are a few dozen digits).
MAX_ECHOSTR = 128
#: How far a push's ``timestamp`` may be from the hub's clock. WeChat's plaintext signature
#: does not cover the body, so a signature seen once (a proxy's log) could carry any body:
#: the window bounds how long it can be replayed.
MAX_PUSH_SKEW_SECONDS = 300


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _refused(message: str) -> Response:
    return _json({"error": message}, 401)


def _bad(message: str) -> Response:
    return _json({"error": message}, 400)


def sms_signature_ok(secret: bytes | None, body: bytes, header: str | None) -> bool:
    """``header`` is ``sha256=`` and the hex HMAC-SHA256 of ``body`` with ``secret``."""
    if secret is None or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256=") :].strip().encode())


def wechat_signature_ok(token: str | None, params: dict[str, str], now: datetime) -> bool:
    """WeChat's push signature: sha1 over the sorted token, timestamp and nonce, in hex;
    and the timestamp within ``MAX_PUSH_SKEW_SECONDS`` of ``now``."""
    signature, timestamp, nonce = (params.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not token or not signature or not nonce or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(int(timestamp) - now.timestamp()) > MAX_PUSH_SKEW_SECONDS:
        return False
    expected = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def _counts(count: ReceiptCount, **more: int) -> dict[str, int]:
    return {
        "received": count.received,
        "applied": count.applied,
        "unchanged": count.unchanged,
        "unknown": count.unknown,
        **more,
    }


@dataclass
class ReceiptEndpoints:
    session_factory: Callable[[], AsyncSession]
    now: Callable[[], datetime]
    sms_secret: bytes | None
    wechat_token: str | None
    #: The campaign mini-program, whose OpenIDs the refusal events name; None: no app.
    wechat_app_id: str | None

    async def _body(self, request: Request) -> bytes:
        try:
            return await read_body(request, MAX_BODY_BYTES)
        except RequestError as error:
            # A receipt batch that large is a sender's mistake, not a transient condition.
            raise PayloadError(str(error)) from error

    async def sms_status(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except PayloadError as error:
            return _bad(str(error))
        if not sms_signature_ok(self.sms_secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("receipts.refused", channel="SMS", reason="signature")
            return _refused("missing or wrong X-MemberHub-Signature")
        try:
            receipts = sms_receipts(json_object(body))
        except PayloadError as error:
            return _bad(str(error))
        async with self.session_factory() as session, session.begin():
            count = await record_receipts(
                session=session, channel=MessageChannel.SMS, receipts=receipts, now=self.now()
            )
        log.info("receipts.recorded", channel="SMS", **_counts(count))
        return _json(_counts(count))

    async def wechat_push(self, request: Request) -> Response:
        params = dict(request.query_params)
        if not wechat_signature_ok(self.wechat_token, params, self.now()):
            log.warning("receipts.refused", channel="WECHAT_SUBSCRIBE", reason="signature")
            return _refused("missing or wrong signature")
        if request.method == "GET":
            echo = params.get("echostr", "")
            if not echo or len(echo) > MAX_ECHOSTR or not echo.isascii() or not echo.isalnum():
                return _bad(f"echostr: give 1 to {MAX_ECHOSTR} letters and digits")
            return Response(
                echo, media_type="text/plain", headers={"X-Content-Type-Options": "nosniff"}
            )
        if params.get("encrypt_type", "raw") != "raw":
            return _bad("encrypted pushes are not read: set the push to plaintext mode")
        try:
            receipts, refusals = wechat_event(json_object(await self._body(request)))
        except PayloadError as error:
            return _bad(str(error))
        count, withdrawn = await self._apply_wechat(receipts, refusals)
        log.info("receipts.recorded", channel="WECHAT_SUBSCRIBE", **_counts(count))
        return _json(_counts(count, consentWithdrawn=withdrawn))

    async def _apply_wechat(
        self, receipts: list[Receipt], refusals: list[Refusal]
    ) -> tuple[ReceiptCount, int]:
        now = self.now()
        async with self.session_factory() as session, session.begin():
            count = await record_receipts(
                session=session,
                channel=MessageChannel.WECHAT_SUBSCRIBE,
                receipts=receipts,
                now=now,
            )
            withdrawn = 0
            if refusals and self.wechat_app_id is not None:
                withdrawn = await withdraw_wechat_consent(
                    session=session, app_id=self.wechat_app_id, refusals=refusals, now=now
                )
        return count, withdrawn

    def routes(self) -> list[Route]:
        return [
            Route(SMS_PATH, self.sms_status, methods=["POST"]),
            Route(WECHAT_PATH, self.wechat_push, methods=["GET", "POST"]),
        ]
