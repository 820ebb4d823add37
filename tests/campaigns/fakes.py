"""Fake WeChat and SMS providers on real HTTP (127.0.0.1), recording what reached them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.live_server import serve_in_thread

APP_ID = "wx-shop"
APP_SECRET = "shop-secret"
SMS_KEY = "sms-key"
#: What the SMS provider signs its status reports with, and the app's message push token.
RECEIPT_SECRET = "sms-receipt-secret"
PUSH_TOKEN = "push-token"


@dataclass
class Received:
    """Messages as the providers took them; ``fail_next`` answers that many 503s first.

    The SMS provider answers ``sms_status`` (DELIVERED: it confirms at once; ACCEPTED: a
    status report follows) and a message ID ``sms-<n>``; WeChat answers msgid ``<n>``
    (a number, as WeChat does). A resend under the same idempotency key gets the same ID."""

    sms: list[dict[str, Any]] = field(default_factory=list)
    sms_status: str = "DELIVERED"
    sms_ids: dict[str, str] = field(default_factory=dict)
    wechat: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sms_to(self) -> list[str]:
        with self.lock:
            return [m["to"] for m in self.sms]

    def wechat_to(self) -> list[str]:
        with self.lock:
            return [m["touser"] for m in self.wechat]

    def sms_id(self, phone: str) -> str:
        """The message ID the provider gave the (last) message to ``phone``."""
        with self.lock:
            return next(self.sms_ids[m["key"]] for m in reversed(self.sms) if m["to"] == phone)

    def wechat_msgid(self, openid: str) -> int:
        with self.lock:
            return next(m["msgid"] for m in reversed(self.wechat) if m["touser"] == openid)


def _app(received: Received) -> Starlette:
    async def sms(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {SMS_KEY}":
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        body = await request.json()
        with received.lock:
            if received.fail_next:
                received.fail_next -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
            key = request.headers.get("idempotency-key") or ""
            received.sms.append({**body, "key": key})
            message_id = received.sms_ids.setdefault(key, f"sms-{len(received.sms_ids) + 1}")
            return JSONResponse({"status": received.sms_status, "messageId": message_id})

    async def token(request: Request) -> JSONResponse:
        params = request.query_params
        if (params.get("appid"), params.get("secret")) != (APP_ID, APP_SECRET):
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        with received.lock:
            received.tokens += 1
        return JSONResponse({"access_token": "token-1", "expires_in": 7200})

    async def subscribe_send(request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != "token-1":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        body = await request.json()
        with received.lock:
            msgid = 1_864_323_726_461_255_001 + len(received.wechat)
            received.wechat.append({**body, "msgid": msgid})
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    return Starlette(
        routes=[
            Route("/sms/send", sms, methods=["POST"]),
            Route("/cgi-bin/token", token),
            Route("/cgi-bin/message/subscribe/send", subscribe_send, methods=["POST"]),
        ]
    )


@contextmanager
def fake_providers() -> Iterator[tuple[str, Received]]:
    received = Received()
    with serve_in_thread(lambda: _app(received)) as url:
        yield url, received
