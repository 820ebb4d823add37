"""The ledger's tables (created by migration 0003; foreign keys to members live only there)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

points_accounts = Table(
    "points_accounts",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("head_hash", LargeBinary, nullable=False),
    Column("lifetime_earned", Integer, nullable=False),
)

points_balances = Table(
    "points_balances",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("bucket", Text, primary_key=True),
    Column("balance", Integer, nullable=False),
    Column("last_kind", Text),
    Column("last_amount", Integer),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("member_id", BigInteger, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("bucket", Text, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("balance_after", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    Column("store_id", Text),
    Column("reference", Text),
    Column("reason", Text),
    Column("idempotency_key", Text),
    Column("expires_at", DateTime(timezone=True)),
    Column("available_at", DateTime(timezone=True)),
    Column("reverses_id", BigInteger),
    Column("consumes_lot", BigInteger),
    Column("held_for", Text),
    Column("hold_reasons", ARRAY(Text)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

points_lots = Table(
    "points_lots",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("entry_id", BigInteger, primary_key=True),
    Column("bucket", Text, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("available_at", DateTime(timezone=True)),
)

points_idempotency_keys = Table(
    "points_idempotency_keys",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("fingerprint", LargeBinary, nullable=False),
    Column("member_id", BigInteger),
    Column("outcome", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

points_signup_bonuses = Table(
    "points_signup_bonuses",
    metadata,
    Column("phone_hash", Text, primary_key=True),
    Column("member_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

points_referrals = Table(
    "points_referrals",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("referrer_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("referrer_paid", Boolean, nullable=False),
)

#: A referral named at sign-up; paid (``points_referrals``) once the referee is verified.
points_referral_claims = Table(
    "points_referral_claims",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("referrer_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

points_checkins = Table(
    "points_checkins",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("business_day", Date, primary_key=True),
    Column("entry_id", BigInteger, nullable=False),
    Column("channel", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

points_merge_moves = Table(
    "points_merge_moves",
    metadata,
    Column("member_id", BigInteger, nullable=False),
    Column("merge_id", BigInteger, primary_key=True),
    Column("direction", Text, primary_key=True),
    Column("counterpart", BigInteger, nullable=False),
    Column("available", Integer, nullable=False),
    Column("pending", Integer, nullable=False),
    Column("unreturned", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
