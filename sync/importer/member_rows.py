"""Member rows of an import file: the columns, and one row checked and normalised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from identity.errors import IdentityError
from identity.model import (
    Channel,
    Gender,
    IdentityConfig,
    IdentityType,
    RawIdentity,
    normalise_claims,
)
from sync.importer.staging import RowError

COLUMNS = (
    "phone",
    "phone_verified",
    "wechat_app_id",
    "wechat_openid",
    "wechat_unionid",
    "pos_system",
    "pos_card",
    "email",
    "name",
    "gender",
    "birthday",
    "region",
    "registered_channel",
    "registered_at",
    "points_balance",
)


@dataclass
class MemberRow:
    row_no: int
    raw: dict[str, str]
    identities: list[RawIdentity]
    channel: Channel
    registered_at: datetime
    profile: dict[str, Any]
    points: int
    claims: list[Any] = field(default_factory=list)


def _bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "y")


def parse_row(
    row_no: int, raw: dict[str, str], *, config: IdentityConfig, now: datetime
) -> MemberRow:
    """One CSV row, checked; RowError names what is wrong."""
    get = lambda name: (raw.get(name) or "").strip()  # noqa: E731
    identities = []
    if get("phone"):
        identities.append(
            RawIdentity(IdentityType.PHONE, get("phone"), None, _bool(get("phone_verified")))
        )
    if get("wechat_openid"):
        identities.append(
            RawIdentity(
                IdentityType.WECHAT_OPENID, get("wechat_openid"), get("wechat_app_id") or None, True
            )
        )
    if get("wechat_unionid"):
        identities.append(
            RawIdentity(IdentityType.WECHAT_UNIONID, get("wechat_unionid"), None, True)
        )
    if get("pos_card"):
        identities.append(
            RawIdentity(IdentityType.POS_CARD, get("pos_card"), get("pos_system") or None)
        )
    if get("email"):
        identities.append(RawIdentity(IdentityType.EMAIL, get("email")))
    if not identities:
        raise RowError("no identity: give a phone, an OpenID, a UnionID, a card or an e-mail")
    try:
        claims = normalise_claims(identities, region=config.phone_region)
    except IdentityError as error:
        raise RowError(f"{'/'.join(error.field or ())}: {error}") from None
    try:
        channel = Channel(get("registered_channel") or "POS")
        registered_at = (
            datetime.fromisoformat(get("registered_at")) if get("registered_at") else now
        )
        if registered_at.tzinfo is None:
            raise RowError("registered_at needs a time zone offset")
        points = int(Decimal(get("points_balance") or "0"))
        if points < 0:
            raise RowError("points_balance must not be negative")
        profile: dict[str, Any] = {
            "name": get("name") or None,
            "gender": Gender(get("gender").upper() or "UNKNOWN").value,
            "birthday": date.fromisoformat(get("birthday")) if get("birthday") else None,
            "region": get("region") or None,
        }
    except (ValueError, InvalidOperation) as error:
        if isinstance(error, RowError):
            raise
        raise RowError(f"bad value: {error}") from None
    return MemberRow(row_no, raw, identities, channel, registered_at, profile, points, claims)
