"""A purchase's base and tier points on its row; ``purchase_points`` keeps the rest.

Every priced purchase has a ``BASE`` line and, when it earns anything, a ``TIER`` line;
only promotion and coupon lines vary in number, and only promotion lines name another
row. Two rows a purchase in ``purchase_points`` (each with its foreign-key check) were
the dearest statement of a purchase batch but one, for two integers the purchase row can
hold. Purchases recorded before this revision keep all their lines in ``purchase_points``
(``base_points`` NULL), and the readers take either form.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NOT VALID: the rows already there hold NULL; new rows are checked all the same, and
    # the table is not scanned under its lock.
    op.execute(
        "ALTER TABLE purchases ADD COLUMN base_points integer, ADD COLUMN tier_points integer,"
        " ADD CONSTRAINT purchases_base_points CHECK (base_points >= 0) NOT VALID,"
        " ADD CONSTRAINT purchases_tier_points"
        "  CHECK (tier_points IS NULL OR base_points IS NOT NULL) NOT VALID"
    )


def downgrade() -> None:
    # The lines kept on the purchase row go back to purchase_points first.
    op.execute(
        "INSERT INTO purchase_points (purchase_id, line_no, cause, points)"
        " SELECT id, 1, 'BASE', base_points FROM purchases WHERE base_points IS NOT NULL"
        " UNION ALL"
        " SELECT id, 2, 'TIER', tier_points FROM purchases WHERE tier_points IS NOT NULL"
    )
    op.execute("ALTER TABLE purchases DROP COLUMN base_points, DROP COLUMN tier_points")
