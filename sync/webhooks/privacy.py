"""What a webhook receiver without ``pii:read`` must not see, taken out of event payloads.

Events are written with masked identity values already; this is the second line: fields
that name a person, and any value that still looks like a phone number or an e-mail
address, never leave the hub for such a receiver.
"""

from __future__ import annotations

import re
from typing import Any

#: Payload keys that carry personal data (or a stable pseudonym of it, like a phone hash).
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "phone",
        "phone_hash",
        "email",
        "birthday",
        "address",
        "value",
        "identity_value",
        "normalized_value",
        "ip_address",
    }
)

#: E.164 (+8613800138000) or a Chinese mobile number written without the country code;
#: bare digit strings otherwise are receipt numbers and IDs, which partners need.
_PHONE = re.compile(r"\+\d{7,15}|1[3-9]\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def mask_text(value: str) -> str:
    """138****8000 for a phone number, a***@example.com for an e-mail address."""
    if _EMAIL.fullmatch(value):
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = value.lstrip("+")
    return f"{digits[:3]}****{digits[-4:]}"


def looks_personal(value: str) -> bool:
    return bool(_PHONE.fullmatch(value) or _EMAIL.fullmatch(value))


def without_personal_data(data: Any) -> Any:
    """A copy of a JSON value with personal fields dropped and phone/e-mail values masked."""
    if isinstance(data, dict):
        return {
            key: without_personal_data(value)
            for key, value in data.items()
            if key not in PERSONAL_FIELDS
        }
    if isinstance(data, list):
        return [without_personal_data(value) for value in data]
    if isinstance(data, str) and looks_personal(data):
        return mask_text(data)
    return data
