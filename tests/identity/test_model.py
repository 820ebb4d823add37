"""Normalisation, masking, the phone hash and the merge rules: plain functions, no database."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest

from identity.errors import InvalidIdentity
from identity.model import (
    IdentityKey,
    IdentityType,
    MergeRules,
    RawIdentity,
    mask_value,
    normalise,
    normalise_claims,
    phone_hash,
)

PHONE_SPELLINGS = [
    "13800138000",
    "１３８００１３８０００",
    "138 0013 8000",
    "+86 138-0013-8000",
    "008613800138000",
    "8613800138000",
]


@pytest.mark.parametrize("spelling", PHONE_SPELLINGS)
def test_every_spelling_of_a_chinese_mobile_is_one_e164_identity(spelling):
    key = normalise(RawIdentity(IdentityType.PHONE, spelling), region="CN")

    assert key == IdentityKey(IdentityType.PHONE, None, "+8613800138000")


def _parsed(value: str) -> str:
    """What phonenumbers' own parser makes of ``value`` in CN: E.164, or why not."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return "not valid"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalised(value: str) -> str:
    try:
        return normalise(RawIdentity(IdentityType.PHONE, value), region="CN").value
    except InvalidIdentity as error:
        return "not valid" if "valid phone" in str(error) else "not a phone number"


def test_eleven_digit_mobiles_read_as_phonenumbers_parses_them():
    rng = random.Random(22)
    # Every prefix from 100 to 199, the ones read without the parser and the others.
    numbers = [
        f"1{prefix:02d}{rng.randrange(10**8):08d}" for prefix in range(100) for _ in range(20)
    ]

    answers = {number: _normalised(number) for number in numbers}

    assert answers == {number: _parsed(number) for number in numbers}
    assert sum(a.startswith("+86") for a in answers.values()) > 1000
    # Read without the parser only while CN's carrier and national prefixes stay apart
    # from the mobiles taken that way (13–16, 18, 19).
    prefixes = phonenumbers.PhoneMetadata.metadata_for_region("CN").national_prefix_for_parsing
    assert not any(re.match(prefixes, n) for n in numbers if n[1] in "345689")


def test_foreign_numbers_keep_their_country_and_phones_ignore_namespaces():
    key = normalise(RawIdentity(IdentityType.PHONE, "+1 650-253-0000", namespace="x"), region="CN")

    assert key == IdentityKey(IdentityType.PHONE, None, "+16502530000")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (RawIdentity(IdentityType.PHONE, "12345"), ("value",)),
        (RawIdentity(IdentityType.PHONE, "not a phone"), ("value",)),
        (RawIdentity(IdentityType.EMAIL, "   "), ("value",)),
        (RawIdentity(IdentityType.EMAIL, "nobody-at-example.com"), ("value",)),
        (RawIdentity(IdentityType.WECHAT_OPENID, "oXyz"), ("namespace",)),
        (RawIdentity(IdentityType.POS_CARD, "C1", namespace="  "), ("namespace",)),
        (RawIdentity(IdentityType.PARTNER_ID, "P1"), ("namespace",)),
        (RawIdentity(IdentityType.WEB_ACCOUNT, "x" * 201), ("value",)),
    ],
)
def test_unusable_identities_name_the_field_at_fault(raw, field):
    with pytest.raises(InvalidIdentity) as raised:
        normalise(raw, region="CN")

    assert raised.value.code == "INVALID_INPUT"
    assert raised.value.field == field


def test_emails_are_trimmed_and_lower_cased():
    key = normalise(RawIdentity(IdentityType.EMAIL, "  Li.Na@Example.COM "), region="CN")

    assert key.value == "li.na@example.com"


def test_claims_fold_spellings_and_keep_the_strongest_verification():
    claims = normalise_claims(
        [
            RawIdentity(IdentityType.PHONE, "138 0013 8000"),
            RawIdentity(IdentityType.PHONE, "+8613800138000", verified=True),
        ],
        region="CN",
    )

    assert len(claims) == 1
    assert claims[0].verified is True


def test_a_bad_claim_is_reported_at_its_position_in_the_list():
    with pytest.raises(InvalidIdentity) as raised:
        normalise_claims(
            [RawIdentity(IdentityType.PHONE, "13800138000"), RawIdentity(IdentityType.PHONE, "1")],
            region="CN",
        )

    assert raised.value.field == ("identities", "1", "value")


def test_masks_hide_the_middle_of_each_value():
    assert mask_value(IdentityType.PHONE, "+8613800138000") == "138****8000"
    assert mask_value(IdentityType.PHONE, "+16502530000") == "+1 650****0000"
    assert mask_value(IdentityType.WECHAT_OPENID, "oXyz1234567890ab12") == "oXyz****ab12"
    assert mask_value(IdentityType.EMAIL, "li.na@example.com") == "l***@example.com"
    assert mask_value(IdentityType.POS_CARD, "C001") == "C****"


def test_phone_hash_depends_on_the_salt_and_not_on_the_spelling():
    a = normalise(RawIdentity(IdentityType.PHONE, "138 0013 8000"), region="CN").value
    b = normalise(RawIdentity(IdentityType.PHONE, "008613800138000"), region="CN").value

    assert phone_hash(a, b"salt") == phone_hash(b, b"salt")
    assert phone_hash(a, b"salt") != phone_hash(a, b"other salt")
    assert len(phone_hash(a, b"salt")) == 64


def test_merge_rules_count_verified_phones_unionids_and_ids_per_namespace():
    rules = MergeRules()
    phone1 = IdentityKey(IdentityType.PHONE, None, "+8613800138000")
    phone2 = IdentityKey(IdentityType.PHONE, None, "+8613900139000")
    openid_a = IdentityKey(IdentityType.WECHAT_OPENID, "wx1", "o-a")
    openid_b = IdentityKey(IdentityType.WECHAT_OPENID, "wx1", "o-b")
    openid_other_app = IdentityKey(IdentityType.WECHAT_OPENID, "wx2", "o-c")

    assert rules.violations([(phone1, True), (phone2, False)]) == set()
    assert rules.violations([(phone1, True), (phone2, True)]) == {"max_verified_phones"}
    assert rules.violations([(openid_a, False), (openid_other_app, False)]) == set()
    assert rules.violations([(openid_a, False), (openid_b, False)]) == {"max_openids_per_app"}
    assert MergeRules(max_openids_per_app=None).violations([(openid_a, 0), (openid_b, 0)]) == set()
