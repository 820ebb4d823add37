"""Identities as values: normalisation, masking, the phone hash and the merge rules.

Plain Python, no database: everything a lookup or a write needs to agree on what one
identity *is* (``138 0013 8000`` and ``+86 138-0013-8000`` are the same phone).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import phonenumbers

from identity.errors import InvalidIdentity

#: Longest identity value or namespace accepted; real ones are far shorter.
MAX_VALUE_LENGTH = 200


class IdentityType(enum.StrEnum):
    PHONE = "PHONE"
    WECHAT_OPENID = "WECHAT_OPENID"
    WECHAT_UNIONID = "WECHAT_UNIONID"
    POS_CARD = "POS_CARD"
    EMAIL = "EMAIL"
    WEB_ACCOUNT = "WEB_ACCOUNT"
    PARTNER_ID = "PARTNER_ID"


class Channel(enum.StrEnum):
    MINI_PROGRAM = "MINI_PROGRAM"
    WEB = "WEB"
    POS = "POS"
    PARTNER = "PARTNER"
    ADMIN = "ADMIN"


class MemberStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    MERGED = "MERGED"
    ERASED = "ERASED"


class Gender(enum.StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    UNKNOWN = "UNKNOWN"


#: Types whose values are only unique within a namespace (an AppID, a POS system, a partner).
NAMESPACED = frozenset({IdentityType.WECHAT_OPENID, IdentityType.POS_CARD, IdentityType.PARTNER_ID})
#: Types that are global: a namespace given for them is ignored.
GLOBAL = frozenset({IdentityType.PHONE, IdentityType.EMAIL})


@dataclass(frozen=True, slots=True)
class IdentityKey:
    """An identity as the hub stores it: normalised, unique across the hub."""

    type: IdentityType
    namespace: str | None
    value: str

    @property
    def lock_key(self) -> int:
        """A signed 64-bit key for ``pg_advisory_xact_lock``; identical for equal identities."""
        text = f"{self.type}\x1f{self.namespace or ''}\x1f{self.value}"
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """An identity a channel saw, and whether the channel proved the person owns it."""

    key: IdentityKey
    verified: bool


@dataclass(frozen=True, slots=True)
class RawIdentity:
    """An identity as a caller wrote it, before normalisation."""

    type: IdentityType
    value: str
    namespace: str | None = None
    verified: bool = False


#: A Chinese mobile number as a till types it: eleven digits from 13, 14, 15, 16, 18 or 19.
#: ``phonenumbers.parse`` reads one as the national number it is (it starts with neither the
#: international prefix, the country code, nor a carrier or national prefix: CN's are 0,
#: 11, 12 and 179), at 15 µs a number; a chain's tills send mostly numbers never seen.
#: ASCII digits only: the parser's own reading of other digits stays the judge of them.
_CN_MOBILE = re.compile(r"1[3-689][0-9]{9}")


@lru_cache(maxsize=16_384)
def normalise_phone(value: str, region: str) -> str:
    """E.164 for any spelling of a valid number; numbers without ``+`` are in ``region``."""
    if region == "CN" and _CN_MOBILE.fullmatch(value):
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(value))
    else:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidIdentity(f"{value!r} is not a phone number", field=("value",)) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity(f"{value!r} is not a valid phone number", field=("value",))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(raw: RawIdentity, *, region: str) -> IdentityKey:
    """The stored form of ``raw``; InvalidIdentity (field ``value``/``namespace``) otherwise."""
    value = raw.value.strip()
    if not value:
        raise InvalidIdentity("an identity value must not be empty", field=("value",))
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidIdentity("the identity value is too long", field=("value",))
    namespace = (raw.namespace or "").strip() or None
    if raw.type in GLOBAL:
        namespace = None
    elif raw.type in NAMESPACED and namespace is None:
        raise InvalidIdentity(f"a {raw.type} needs a namespace", field=("namespace",))
    if namespace is not None and len(namespace) > MAX_VALUE_LENGTH:
        raise InvalidIdentity("the namespace is too long", field=("namespace",))
    if raw.type is IdentityType.PHONE:
        value = normalise_phone(value, region)
    elif raw.type is IdentityType.EMAIL:
        value = value.lower()
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in value):
            raise InvalidIdentity(f"{raw.value!r} is not an email address", field=("value",))
    return IdentityKey(type=raw.type, namespace=namespace, value=value)


def normalise_claims(raws: Iterable[RawIdentity], *, region: str) -> list[IdentityClaim]:
    """Normalised claims, duplicates folded (verified if any spelling was).

    InvalidIdentity fields are prefixed with the identity's position: ``("identities", "2",
    "value")``.
    """
    verified: dict[IdentityKey, bool] = {}
    for index, raw in enumerate(raws):
        try:
            key = normalise(raw, region=region)
        except InvalidIdentity as error:
            raise error.under("identities", str(index)) from None
        verified[key] = verified.get(key, False) or raw.verified
    if not verified:
        raise InvalidIdentity("name at least one identity", field=("identities",))
    return [IdentityClaim(key=key, verified=v) for key, v in verified.items()]


def mask_value(identity_type: IdentityType, value: str) -> str:
    """What callers without ``pii:read`` see: ``138****8000``, ``oXyz****ab12``, ``a***@x.com``."""
    if identity_type is IdentityType.PHONE:
        try:
            number = phonenumbers.parse(value)
        except phonenumbers.NumberParseException:
            return _mask_middle(value)
        national = str(number.national_number)
        masked = _mask_middle(national, keep_head=3, keep_tail=4)
        return masked if number.country_code == 86 else f"+{number.country_code} {masked}"
    if identity_type is IdentityType.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return _mask_middle(value)


def mask_name(name: str | None) -> str | None:
    """What callers without ``pii:read`` see of a name: its first character (王**); the
    length is not shown either."""
    if not name:
        return name
    return f"{name.strip()[:1]}**"


def _mask_middle(value: str, *, keep_head: int = 4, keep_tail: int = 4) -> str:
    if len(value) >= keep_head + keep_tail + 3:
        return f"{value[:keep_head]}****{value[-keep_tail:]}"
    if len(value) >= 6:
        return f"{value[:2]}****{value[-2:]}"
    return f"{value[:1]}****"


def phone_hash(e164: str, salt: bytes) -> str:
    """HMAC-SHA256 of the E.164 number: recognises a phone again without keeping it."""
    return hmac.new(salt, e164.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Profile:
    name: str | None = None
    gender: Gender = Gender.UNKNOWN
    birthday: date | None = None
    region: str | None = None

    def gaps_filled_from(self, other: Profile) -> dict[str, object]:
        """Fields of ``other`` that fill this profile's gaps; never overwrites a value."""
        filled: dict[str, object] = {}
        for name in PROFILE_FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if _is_gap(name, mine) and not _is_gap(name, theirs):
                filled[name] = theirs
        return filled


PROFILE_FIELDS = ("name", "gender", "birthday", "region")


def _is_gap(name: str, value: object) -> bool:
    return value is None or (name == "gender" and value == Gender.UNKNOWN)


def empty_value(name: str) -> object:
    """What a profile field holds when nothing is known."""
    return Gender.UNKNOWN if name == "gender" else None


@dataclass(frozen=True, slots=True)
class MergeRules:
    """Limits per member; a merge or link that would break one is refused. None: no limit."""

    max_verified_phones: int | None = 1
    max_unionids: int | None = 1
    max_openids_per_app: int | None = 1
    max_pos_cards_per_system: int | None = 1

    def violations(self, identities: Iterable[tuple[IdentityKey, bool]]) -> set[str]:
        """Names of the rules one member holding ``identities`` (key, verified) breaks."""
        counts: Counter[tuple[str, str | None]] = Counter()
        for key, verified in identities:
            if key.type is IdentityType.PHONE and verified:
                counts[("max_verified_phones", None)] += 1
            elif key.type is IdentityType.WECHAT_UNIONID:
                counts[("max_unionids", None)] += 1
            elif key.type is IdentityType.WECHAT_OPENID:
                counts[("max_openids_per_app", key.namespace)] += 1
            elif key.type is IdentityType.POS_CARD:
                counts[("max_pos_cards_per_system", key.namespace)] += 1
        broken: set[str] = set()
        for (rule, _namespace), count in counts.items():
            limit = getattr(self, rule)
            if limit is not None and count > limit:
                broken.add(rule)
        return broken


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    """What identity resolution needs from the hub's settings."""

    phone_region: str = "CN"
    phone_hash_salt: bytes = b""
    merge_rules: MergeRules = field(default_factory=MergeRules)
