"""Members: identify, link, profile, merge, unmerge, erase, and the member queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.identity_reviews import IdentityReviewObject, identity_review
from hub.api.member_filters import filter_conditions
from hub.api.member_inputs import (
    IdentifyInput,
    IdentityInput,
    MemberFilter,
    ProfileInput,
    identity_config,
)
from hub.api.member_types import (
    IdentifyOutcome,
    MemberConnection,
    MemberEdge,
    MemberObject,
    MergeObject,
    member_object,
    merge_object,
)
from hub.api.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor
from hub.api.tier_ladder import current_programme
from hub.errors import ErrorCode, UserError, to_user_error, user_error
from hub.http.permissions import require_scope, requires
from hub.http.principal import ClientKind, Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.loading.member_lookup import member_with_account, resolved_member_with_account
from identity import erase, link, lookup, members, merge, resolve
from identity.errors import IdentityError, InvalidIdentity
from identity.model import Channel, MemberStatus, RawIdentity, normalise
from identity.records import MemberRecord, member_from_row
from identity.tables import members as members_table

T = TypeVar("T")


@strawberry.type
class IdentifyPayload:
    member: MemberObject | None = None
    outcome: IdentifyOutcome | None = None
    merge: MergeObject | None = strawberry.field(
        default=None, description="Present when outcome is MERGED."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    review_id: strawberry.Private[int | None] = None

    @strawberry.field(
        description="The review case of a CONFLICT outcome (operators only; null for others)."
    )
    async def review(self, info: strawberry.Info) -> IdentityReviewObject | None:
        return await identity_review(info, self.review_id)


@strawberry.type
class MergePayload:
    merge: MergeObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MemberPayload:
    member: MemberObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def member_key(global_id: str | None, field: str) -> int:
    """The integer key of a Member ID argument; InvalidIdentity at ``field`` otherwise."""
    try:
        return decode_int_id(global_id or "", "Member")
    except InvalidGlobalId as error:
        raise InvalidIdentity(str(error), field=(field,)) from None


async def attempt(
    info: strawberry.Info, work: Callable[[AsyncSession], Awaitable[T]], prefix: Sequence[str] = ()
) -> tuple[T | None, list[UserError]]:
    """Run ``work`` in one transaction; a domain error becomes a user error (nothing written)."""
    try:
        return await info.context.transact(work), []
    except IdentityError as error:
        return None, [to_user_error(error, field_prefix=prefix)]


def actor(info: strawberry.Info) -> str:
    return info.context.principal.name


def _query_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "INVALID_INPUT"})


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The member that a member token belongs to.")
    @requires(Scope.SELF)
    async def me(self, info: strawberry.Info) -> MemberObject | None:
        member_id = info.context.principal.member_id
        if member_id is None:
            return None
        found = await resolved_member_with_account(
            info.context.execute, info.context.loaders, member_id
        )
        return None if found is None else member_object(found)

    @strawberry.field(
        description="By ID or by any identity; an ID or identity of a merged member answers "
        "with the survivor. By identity needs the scope members:lookup."
    )
    @requires(Scope.MEMBERS_READ, self_member="id")
    async def member(
        self,
        info: strawberry.Info,
        id: strawberry.ID | None = strawberry.UNSET,
        identity: IdentityInput | None = strawberry.UNSET,
    ) -> MemberObject | None:
        if (id is None or id is strawberry.UNSET) == (
            identity is None or identity is strawberry.UNSET
        ):
            raise _query_error("give exactly one of `id` and `identity`")
        found: MemberRecord | None
        if identity:
            require_scope(info, Scope.MEMBERS_LOOKUP)
            config = identity_config(info.context.settings)
            try:
                key = normalise(identity.to_raw(), region=config.phone_region)
            except InvalidIdentity as error:
                raise _query_error(str(error)) from None
            found = await member_with_account(info.context.execute, info.context.loaders, key)
        else:
            try:
                member_id = decode_int_id(str(id), "Member")
            except InvalidGlobalId as error:
                raise _query_error(str(error)) from None
            found = await resolved_member_with_account(
                info.context.execute, info.context.loaders, member_id
            )
        return None if found is None else member_object(found)

    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def members(
        self,
        info: strawberry.Info,
        filter: MemberFilter | None = strawberry.UNSET,
        first: int | None = 50,
        after: str | None = strawberry.UNSET,
    ) -> MemberConnection:
        """Members that are not merged away (ACTIVE and ERASED), oldest first."""
        size = 50 if first is None else first
        check_page_size(size)
        conditions: list[Any] = [members_table.c.status != MemberStatus.MERGED.value]
        if filter:
            conditions.extend(filter_conditions(filter, await current_programme(info)))
        total = (
            await info.context.execute(
                select(func.count()).select_from(members_table).where(*conditions)
            )
        ).scalar_one()
        if after:
            conditions.append(members_table.c.id > decode_cursor(after, "member"))
        rows = (
            await info.context.execute(
                select(members_table)
                .where(*conditions)
                .order_by(members_table.c.id)
                .limit(size + 1)
            )
        ).all()
        page = [member_from_row(row) for row in rows[:size]]
        edges = [
            MemberEdge(node=member_object(m), cursor=encode_cursor("member", m.id)) for m in page
        ]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo.of(
                [e.cursor for e in edges], has_next=len(rows) > size, after=after or None
            ),
            total_count=total,
        )


def claimed(info: strawberry.Info, identity: IdentityInput) -> RawIdentity:
    """The identity as this caller may claim it: ``verified`` only from a caller that can
    vouch for it (a member token's or a shipped app's word proves nothing)."""
    raw = identity.to_raw()
    if raw.verified and not info.context.principal.vouches_for_claims:
        return replace(raw, verified=False)
    return raw


def _channel_of(info: strawberry.Info) -> Channel:
    # Operators link through ADMIN; a member token comes from a frontend, the web by default.
    return Channel.WEB if info.context.principal.kind is ClientKind.MEMBER else Channel.ADMIN


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        description="Resolve, create, link and merge in one call: the entry point of every channel."
    )
    @requires(Scope.MEMBERS_WRITE, Scope.SELF)
    async def identify(self, info: strawberry.Info, input: IdentifyInput) -> IdentifyPayload:
        principal = info.context.principal
        config = identity_config(info.context.settings)
        try:
            referrer = member_key(input.referrer_id, "referrerId") if input.referrer_id else None
        except IdentityError as error:
            return IdentifyPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
        now = info.context.now()
        result, errors = await attempt(
            info,
            lambda s: resolve.identify(
                s,
                identities=[identity.to_raw() for identity in input.identities],
                channel=Channel(input.channel),
                profile=input.profile.to_patch() if input.profile else None,
                create_if_missing=input.create_if_missing is not False,
                referrer_id=referrer,
                acting_member_id=principal.member_id,
                vouched=principal.vouches_for_claims,
                actor=principal.name,
                now=now,
                config=config,
            ),
            prefix=("input",),
        )
        if result is None:
            return IdentifyPayload(user_errors=errors)
        if result.outcome is resolve.Outcome.CONFLICT:
            # The case is recorded (committed) for operators; the caller learns why nothing
            # was resolved, as every refusal says it.
            message = "these identities belong to several members; an operator will review it"
            return IdentifyPayload(
                outcome=result.outcome,
                review_id=result.review_id,
                user_errors=[
                    user_error(ErrorCode.IDENTITY_CONFLICT, message, ["input", "identities"])
                ],
            )
        return IdentifyPayload(
            member=member_object(result.member) if result.member else None,
            outcome=result.outcome,
            merge=merge_object(result.merge) if result.merge else None,
        )

    @strawberry.mutation
    @requires(Scope.ADMIN, self_member="member_id")
    async def link_identity(
        self, info: strawberry.Info, member_id: strawberry.ID, identity: IdentityInput
    ) -> MemberPayload:
        config = identity_config(info.context.settings)
        now = info.context.now()
        channel = _channel_of(info)

        async def work(session: AsyncSession) -> MemberRecord:
            key = member_key(member_id, "memberId")
            await link.link_identity(
                session,
                member_id=key,
                identity=claimed(info, identity),
                channel=channel,
                now=now,
                config=config,
            )
            return await _reload(session, key)

        return _member_payload(*await attempt(info, work))

    @strawberry.mutation
    @requires(Scope.ADMIN)
    async def unlink_identity(
        self, info: strawberry.Info, member_id: strawberry.ID, identity: IdentityInput
    ) -> MemberPayload:
        config = identity_config(info.context.settings)

        async def work(session: AsyncSession) -> MemberRecord:
            key = member_key(member_id, "memberId")
            await link.unlink_identity(
                session, member_id=key, identity=identity.to_raw(), config=config
            )
            return await _reload(session, key)

        return _member_payload(*await attempt(info, work))

    @strawberry.mutation
    @requires(Scope.ADMIN, self_member="member_id")
    async def update_profile(
        self, info: strawberry.Info, member_id: strawberry.ID, profile: ProfileInput
    ) -> MemberPayload:
        now = info.context.now()

        async def work(session: AsyncSession) -> MemberRecord:
            return await members.update_profile(
                session,
                member_id=member_key(member_id, "memberId"),
                patch=profile.to_patch(),
                now=now,
            )

        return _member_payload(*await attempt(info, work))

    @strawberry.mutation
    @requires(Scope.ADMIN)
    async def merge_members(
        self,
        info: strawberry.Info,
        survivor_id: strawberry.ID,
        merged_id: strawberry.ID,
        reason: str,
    ) -> MergePayload:
        config = identity_config(info.context.settings)
        now = info.context.now()

        async def work(session: AsyncSession) -> Any:
            return await merge.merge_members(
                session,
                survivor_id=member_key(survivor_id, "survivorId"),
                merged_id=member_key(merged_id, "mergedId"),
                reason=reason,
                actor=actor(info),
                now=now,
                config=config,
            )

        record, errors = await attempt(info, work)
        return MergePayload(merge=merge_object(record) if record else None, user_errors=errors)

    @strawberry.mutation(
        description="Undo a merge: the merged member comes back with the identities, purchases "
        "and points that were its own."
    )
    @requires(Scope.ADMIN)
    async def unmerge(
        self, info: strawberry.Info, merge_id: strawberry.ID, reason: str
    ) -> MergePayload:
        now = info.context.now()

        async def work(session: AsyncSession) -> Any:
            try:
                key = decode_int_id(merge_id, "Merge")
            except InvalidGlobalId as error:
                raise InvalidIdentity(str(error), field=("mergeId",)) from None
            return await merge.unmerge(
                session, merge_id=key, reason=reason, actor=actor(info), now=now
            )

        record, errors = await attempt(info, work)
        return MergePayload(merge=merge_object(record) if record else None, user_errors=errors)

    @strawberry.mutation(description="Erase personal data (PIPL/GDPR request); ledger totals stay.")
    @requires(Scope.ADMIN)
    async def erase_member(
        self, info: strawberry.Info, member_id: strawberry.ID, reason: str
    ) -> MemberPayload:
        config = identity_config(info.context.settings)
        now = info.context.now()

        async def work(session: AsyncSession) -> MemberRecord:
            return await erase.erase_member(
                session,
                member_id=member_key(member_id, "memberId"),
                reason=reason,
                actor=actor(info),
                now=now,
                config=config,
            )

        return _member_payload(*await attempt(info, work))


async def _reload(session: AsyncSession, member_id: int) -> MemberRecord:
    found = await lookup.resolve_member(session.execute, member_id)
    assert found is not None  # the service just changed it, inside this transaction
    return found


def _member_payload(record: MemberRecord | None, errors: list[UserError]) -> MemberPayload:
    return MemberPayload(member=member_object(record) if record else None, user_errors=errors)
