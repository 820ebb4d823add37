"""Member rows of an import file: the columns, and one row checked and normalised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
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
from sync.importer.staging import RowError, check_row_shape, column

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


#: The columns of each kind of identity: its value's, and its namespace's.
_IDENTITY_COLUMNS = {
    IdentityType.PHONE: ("phone", "phone"),
    IdentityType.WECHAT_OPENID: ("wechat_openid", "wechat_app_id"),
    IdentityType.WECHAT_UNIONID: ("wechat_unionid", "wechat_unionid"),
    IdentityType.POS_CARD: ("pos_card", "pos_system"),
    IdentityType.EMAIL: ("email", "email"),
}
IDENTITY_VALUE_COLUMNS = tuple(value for value, _ in _IDENTITY_COLUMNS.values())


def identity_columns(raw: dict[str, str]) -> str:
    """The identity columns a row fills, for a reason that concerns its identities."""
    filled = [c for c in IDENTITY_VALUE_COLUMNS if (raw.get(c) or "").strip()]
    return ", ".join(filled) or ", ".join(IDENTITY_VALUE_COLUMNS)


def _column_of(error: IdentityError, identities: list[RawIdentity], raw: dict[str, str]) -> str:
    field = error.field or ()
    if len(field) >= 2 and field[0] == "identities" and field[1].isdigit():
        index = int(field[1])
        if index < len(identities):
            value, namespace = _IDENTITY_COLUMNS[identities[index].type]
            return namespace if field[2:] == ("namespace",) else value
    return identity_columns(raw)


def parse_row(
    row_no: int, raw: dict[str, str], *, config: IdentityConfig, now: datetime
) -> MemberRow:
    """One CSV row, checked; RowError names the column at fault and what is wrong."""
    check_row_shape(raw)  # type: ignore[arg-type]
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
        raise RowError(
            ", ".join(IDENTITY_VALUE_COLUMNS),
            "no identity: give a phone, an OpenID, a UnionID, a card or an e-mail",
        )
    try:
        claims = normalise_claims(identities, region=config.phone_region)
    except IdentityError as error:
        raise RowError(_column_of(error, identities, raw), str(error)) from None
    channel = column(raw, "registered_channel", lambda v: Channel(v or "POS"))
    registered_at = column(raw, "registered_at", lambda v: datetime.fromisoformat(v) if v else now)
    if registered_at.tzinfo is None:
        raise RowError("registered_at", "needs a time zone offset")
    points = column(raw, "points_balance", lambda v: int(Decimal(v or "0")))
    if points < 0:
        raise RowError("points_balance", "must not be negative")
    profile: dict[str, Any] = {
        "name": get("name") or None,
        "gender": column(raw, "gender", lambda v: Gender(v.upper() or "UNKNOWN").value),
        "birthday": column(raw, "birthday", lambda v: date.fromisoformat(v) if v else None),
        "region": get("region") or None,
    }
    return MemberRow(row_no, raw, identities, channel, registered_at, profile, points, claims)
