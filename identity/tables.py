"""Tables of the identity package (created by migration 0002)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

members = Table(
    "members",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("status", Text, nullable=False),
    Column("merged_into", BigInteger, ForeignKey("members.id")),
    Column("registered_channel", Text, nullable=False),
    Column("name", Text),
    Column("gender", Text, nullable=False),
    Column("birthday", Date),
    Column("region", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

member_identities = Table(
    "member_identities",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("member_id", BigInteger, ForeignKey("members.id"), nullable=False),
    Column("type", Text, nullable=False),
    Column("namespace", Text),
    Column("value", Text, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("channel", Text, nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

member_merges = Table(
    "member_merges",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("survivor_id", BigInteger, ForeignKey("members.id"), nullable=False),
    Column("merged_id", BigInteger, ForeignKey("members.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence_identity_id", BigInteger, ForeignKey("member_identities.id")),
    Column("actor", Text, nullable=False),
    #: What the merge moved, so that unmerge gives back exactly the merged member's own.
    Column("moved_identity_ids", ARRAY(BigInteger), nullable=False),
    Column("filled_fields", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undone_by", Text),
    Column("undo_reason", Text),
)

identity_reviews = Table(
    "identity_reviews",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("member_ids", ARRAY(BigInteger), nullable=False),
    Column("identity_ids", ARRAY(BigInteger), nullable=False),
    Column("channel", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

erased_phones = Table(
    "erased_phones",
    metadata,
    Column("phone_hash", Text, primary_key=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
)
