"""Every string a client sends is stored within a maximum length.

The API refuses longer values first (``hub.api.input_bounds``, the same lengths); these
CHECK constraints hold for every other writer too (imports, the console, SQL by hand). One
unbounded category was enough to break the nightly refresh for good: an index row cannot
hold a value that long.

The constraints are added NOT VALID: rows written before them are left as they are (an
operator validates them with ``ALTER TABLE … VALIDATE CONSTRAINT`` once clean), every new
or changed row is checked at once.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: (table, column, longest value in characters)
BOUNDS: tuple[tuple[str, str, int], ...] = (
    ("stores", "id", 64),
    ("purchases", "store_id", 64),
    ("purchases", "receipt_no", 100),
    ("purchases", "operator_id", 64),
    ("purchase_items", "sku", 64),
    ("purchase_items", "category", 100),
    ("refunds", "store_id", 64),
    ("refunds", "refund_no", 100),
    ("members", "name", 100),
    ("members", "region", 100),
    ("member_identities", "namespace", 64),
    ("member_identities", "value", 256),
    ("member_merges", "reason", 500),
    ("ledger_entries", "store_id", 64),
    ("ledger_entries", "reason", 500),
    ("points_idempotency_keys", "key", 200),
    ("tags", "name", 100),
    ("tags", "description", 1000),
    ("segments", "name", 100),
    ("segments", "description", 1000),
    ("fraud_reviews", "note", 1000),
)


def _name(table: str, column: str) -> str:
    return f"{table}_{column}_length"


def upgrade() -> None:
    for table, column, longest in BOUNDS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_name(table, column)}"
            f" CHECK (char_length({column}) <= {longest}) NOT VALID"
        )


def downgrade() -> None:
    for table, column, _ in BOUNDS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_name(table, column)}")
