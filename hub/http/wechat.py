"""WeChat mini-program login: exchange a ``wx.login`` code for the OpenID (and UnionID).

Calls ``GET {base}/sns/jscode2session``; the session key WeChat returns is neither kept nor
logged. Any failure (an error code, a timeout, a malformed answer) is a WechatLoginError,
which the API answers as a user error.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import orjson

#: WeChat's "too many requests" errcode.
RATE_LIMITED = 45011


class WechatLoginError(Exception):
    """The code could not be exchanged; ``code``/``field`` as the API's user errors."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "INVALID_INPUT",
        field: tuple[str, ...] | None = ("code",),
    ):
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class WechatSession:
    openid: str
    unionid: str | None


async def exchange_code(
    *, base_url: str, app_id: str, secret: str, code: str, timeout_seconds: float
) -> WechatSession:
    """The OpenID (and UnionID, when the app is bound to an open platform) behind ``code``."""
    if not code.strip():
        raise WechatLoginError("the login code is empty")
    params = {
        "appid": app_id,
        "secret": secret,
        "js_code": code.strip(),
        "grant_type": "authorization_code",
    }
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as client:
            response = await client.get(f"{base_url.rstrip('/')}/sns/jscode2session", params=params)
    except httpx.TimeoutException as error:
        raise WechatLoginError("WeChat did not answer in time; try again", field=None) from error
    except httpx.HTTPError as error:
        raise WechatLoginError("WeChat could not be reached; try again", field=None) from error
    if response.status_code != 200:
        raise WechatLoginError(f"WeChat answered HTTP {response.status_code}", field=None)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise WechatLoginError("WeChat answered something unreadable", field=None) from error
    if not isinstance(body, dict):
        raise WechatLoginError("WeChat answered something unreadable", field=None)
    errcode = body.get("errcode") or 0
    if errcode == RATE_LIMITED:
        raise WechatLoginError(
            "WeChat is rate-limiting logins; try again later", code="LIMIT_EXCEEDED", field=None
        )
    if errcode:
        raise WechatLoginError(f"WeChat refused the login code (errcode {errcode})")
    openid = body.get("openid")
    if not isinstance(openid, str) or not openid:
        raise WechatLoginError("WeChat answered without an OpenID", field=None)
    unionid = body.get("unionid")
    return WechatSession(
        openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None
    )
