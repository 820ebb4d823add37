"""Creating members and changing their profiles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish
from identity.errors import InvalidIdentity, MemberNotActive, MemberNotFound
from identity.events import MemberCreated
from identity.lookup import lock_members, survivor_id
from identity.model import PROFILE_FIELDS, Channel, Gender, MemberStatus, empty_value
from identity.records import MemberRecord, member_from_row
from identity.tables import members

MAX_TEXT_FIELD = 100
EARLIEST_BIRTHDAY = date(1900, 1, 1)


def clean_profile(patch: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Validated profile fields to set; a None value clears the field.

    Raises InvalidIdentity with the field at fault (``("name",)`` …).
    """
    cleaned: dict[str, Any] = {}
    for name, value in patch.items():
        if name not in PROFILE_FIELDS:
            raise InvalidIdentity(f"unknown profile field {name!r}", field=(name,))
        if value is None:
            cleaned[name] = empty_value(name)
        elif name in ("name", "region"):
            text = str(value).strip()
            if len(text) > MAX_TEXT_FIELD:
                raise InvalidIdentity(f"{name} is too long", field=(name,))
            cleaned[name] = text or None
        elif name == "gender":
            cleaned[name] = Gender(value)
        else:
            if not EARLIEST_BIRTHDAY <= value <= today:
                raise InvalidIdentity("birthday must be a past date", field=(name,))
            cleaned[name] = value
    return cleaned


_MEMBER_COLUMNS = ("status", "registered_channel", *PROFILE_FIELDS, "created_at", "updated_at")
#: Built once, as plain text: an expression tree cost more to build per call than the
#: round trip, and text runs on the session's fast path (``hub.db.driver_session``).
_INSERT_MEMBER = text(
    f"INSERT INTO members ({', '.join(_MEMBER_COLUMNS)})"
    f" VALUES ({', '.join(f':{c}' for c in _MEMBER_COLUMNS)}) RETURNING *"
)


async def create_member(
    session: AsyncSession,
    *,
    channel: Channel,
    profile: Mapping[str, Any],
    referrer_id: int | None,
    now: datetime,
) -> MemberRecord:
    """Insert an ACTIVE member and publish MemberCreated (in this transaction)."""
    values = {name: empty_value(name) for name in PROFILE_FIELDS} | dict(profile)
    row = (
        await session.execute(
            _INSERT_MEMBER,
            {
                "status": MemberStatus.ACTIVE.value,
                "registered_channel": channel.value,
                "created_at": now,
                "updated_at": now,
                **_column_values(values),
            },
        )
    ).one()
    member = member_from_row(row)
    await publish(
        session, MemberCreated(member_id=member.id, channel=channel.value, referrer_id=referrer_id)
    )
    return member


def _column_values(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Gender) else v) for k, v in profile.items()}


async def set_profile(
    session: AsyncSession, member_id: int, fields: Mapping[str, Any], *, now: datetime
) -> None:
    if fields:
        await session.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(updated_at=now, **_column_values(fields))
        )


async def lock_active_member(session: AsyncSession, member_id: int) -> MemberRecord:
    """The ACTIVE member ``member_id`` acts as (following merges), row-locked.

    Raises MemberNotFound, or MemberNotActive for an erased member.
    """
    for _ in range(3):
        target = await survivor_id(session, member_id)
        if target is None:
            raise MemberNotFound(f"no member {member_id}")
        locked = (await lock_members(session, [target]))[target]
        if locked.status is MemberStatus.ERASED:
            raise MemberNotActive(f"member {member_id} was erased")
        if locked.status is MemberStatus.ACTIVE:
            return locked
        # Merged while we waited for the lock: follow the chain again.
    raise MemberNotActive(f"member {member_id} keeps changing; try again")


async def update_profile(
    session: AsyncSession, *, member_id: int, patch: Mapping[str, Any], now: datetime
) -> MemberRecord:
    """Set the given profile fields (None clears one) of the member ``member_id`` acts as."""
    try:
        fields = clean_profile(patch, today=now.date())
    except InvalidIdentity as error:
        raise error.under("profile") from None
    member = await lock_active_member(session, member_id)
    await set_profile(session, member.id, fields, now=now)
    row = (await session.execute(members.select().where(members.c.id == member.id))).one()
    return member_from_row(row)
