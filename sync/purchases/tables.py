"""Tables of purchases, their items and refunds, stores, staff and the tier history
(created by migration 0005)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
)

metadata = MetaData()

stores = Table(
    "stores",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text),
    Column("city", Text),
    Column("time_zone", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("member_id", BigInteger),
    Column("store_id", Text, nullable=False),
    Column("receipt_no", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("operator_id", Text),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("refunded_amount", Numeric(14, 2), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("points_earned", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("has_promotion", Boolean, nullable=False),
    Column("content_hash", LargeBinary, nullable=False),
    Column("rule_version", Text, nullable=False),
    Column("tier_code", Text),
    Column("business_day", Date, nullable=False),
    Column("review_id", BigInteger),
    Column("fraud_reasons", ARRAY(Text), nullable=False),
)

purchase_items = Table(
    "purchase_items",
    metadata,
    Column("purchase_id", BigInteger, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("member_id", BigInteger),
    Column("sku", Text, nullable=False),
    Column("category", Text),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(14, 2), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("purchase_id", BigInteger, nullable=False),
    Column("member_id", BigInteger),
    Column("store_id", Text, nullable=False),
    Column("refund_no", Text, nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("points_clawed_back", Integer, nullable=False),
)

member_tiers = Table(
    "member_tiers",
    metadata,
    Column("member_id", BigInteger, primary_key=True),
    Column("tier_code", Text, nullable=False),
    Column("since", DateTime(timezone=True), primary_key=True),
    Column("until", DateTime(timezone=True)),
    Column("reason", Text, nullable=False),
)
