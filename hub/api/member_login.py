"""Member tokens: minted by the retailer's own server (``members:impersonate``), or by
WeChat mini-program login, whose evidence the hub checks itself (``members:token``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from hub.api.member_inputs import ProfileInput, identity_config
from hub.api.member_types import MemberObject, member_object
from hub.api.members import attempt, member_key
from hub.errors import ErrorCode, UserError, to_user_error, user_error
from hub.http.member_tokens import issue_member_token
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.http.wechat import WechatLoginError, exchange_code
from identity import lookup, resolve
from identity.errors import IdentityError
from identity.model import Channel, IdentityType, MemberStatus, RawIdentity
from identity.records import MemberRecord

#: Lifetime of the token a WeChat login answers (capped by the configured maximum).
WECHAT_LOGIN_TTL = timedelta(hours=1)


@strawberry.type
class MemberTokenPayload:
    token: str | None = strawberry.field(
        default=None, description="Bearer token that acts for one member; shown once."
    )
    expires_at: datetime | None = None
    member: MemberObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _token_payload(
    info: strawberry.Info, member: MemberRecord, ttl: timedelta
) -> MemberTokenPayload:
    token, expires_at = issue_member_token(
        info.context.settings.resolved_token_secret(),
        member_id=member.id,
        client_id=info.context.principal.client_id,
        ttl=ttl,
        now=info.context.now(),
    )
    return MemberTokenPayload(token=token, expires_at=expires_at, member=member_object(member))


@strawberry.type
class MemberTokenMutation:
    @strawberry.mutation(
        description="For the retailer's own server (scope members:impersonate, never a key "
        "shipped in an app): a short-lived token that acts for one member."
    )
    @requires(Scope.MEMBERS_IMPERSONATE)
    async def issue_member_token(
        self, info: strawberry.Info, member_id: strawberry.ID, ttl_seconds: int | None = 3600
    ) -> MemberTokenPayload:
        longest = info.context.settings.member_token_max_ttl_seconds
        ttl = 3600 if ttl_seconds is None else ttl_seconds
        if not 1 <= ttl <= longest:
            message = f"ttlSeconds must be between 1 and {longest}"
            return MemberTokenPayload(
                user_errors=[user_error(ErrorCode.INVALID_INPUT, message, ["ttlSeconds"])]
            )
        try:
            key = member_key(member_id, "memberId")
        except IdentityError as error:
            return MemberTokenPayload(user_errors=[to_user_error(error)])
        member = await lookup.resolve_member(info.context.execute, key)
        if member is None:
            error = user_error(ErrorCode.NOT_FOUND, "no such member", ["memberId"])
            return MemberTokenPayload(user_errors=[error])
        if member.status is not MemberStatus.ACTIVE:
            error = user_error(ErrorCode.MEMBER_NOT_ACTIVE, "the member was erased", ["memberId"])
            return MemberTokenPayload(user_errors=[error])
        return _token_payload(info, member, timedelta(seconds=ttl))

    @strawberry.mutation(
        description="Mini-program login: exchanges a wx.login code at WeChat for the OpenID (and "
        "UnionID), identifies the member, returns a member token."
    )
    @requires(Scope.MEMBER_TOKENS)
    async def login_with_wechat(
        self,
        info: strawberry.Info,
        app_id: str,
        code: str,
        profile: ProfileInput | None = strawberry.UNSET,
    ) -> MemberTokenPayload:
        settings = info.context.settings
        secret = settings.wechat_apps.get(app_id)
        if secret is None:
            error = user_error(ErrorCode.INVALID_INPUT, "unknown mini-program AppID", ["appId"])
            return MemberTokenPayload(user_errors=[error])
        try:
            session = await exchange_code(
                base_url=settings.wechat_api_base_url,
                app_id=app_id,
                secret=secret.get_secret_value(),
                code=code,
                timeout_seconds=settings.wechat_timeout_seconds,
            )
        except WechatLoginError as error:
            return MemberTokenPayload(user_errors=[to_user_error(error)])
        identities = [
            RawIdentity(IdentityType.WECHAT_OPENID, session.openid, namespace=app_id, verified=True)
        ]
        if session.unionid is not None:
            identities.append(
                RawIdentity(IdentityType.WECHAT_UNIONID, session.unionid, verified=True)
            )
        config = identity_config(settings)
        now = info.context.now()
        result, errors = await attempt(
            info,
            lambda s: resolve.identify(
                s,
                identities=identities,
                channel=Channel.MINI_PROGRAM,
                profile=profile.to_patch() if profile else None,
                actor=info.context.principal.name,
                now=now,
                config=config,
            ),
        )
        if result is None:
            return MemberTokenPayload(user_errors=errors)
        if result.member is None:
            message = "this WeChat account matches several members; an operator will review it"
            return MemberTokenPayload(
                user_errors=[user_error(ErrorCode.IDENTITY_CONFLICT, message)]
            )
        ttl = min(WECHAT_LOGIN_TTL, timedelta(seconds=settings.member_token_max_ttl_seconds))
        return _token_payload(info, result.member, ttl)
