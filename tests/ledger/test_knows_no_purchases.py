"""The ledger knows members by ID only: no SQL of ledger/ names the purchase tables."""

import re
from pathlib import Path

import ledger

PURCHASE_TABLES = ("purchases", "purchase_items", "stores", "staff")
# A table name where SQL names a table: after FROM, JOIN, INTO, UPDATE or a column's
# REFERENCES (the project writes SQL keywords in capitals).
NAMED_IN_SQL = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|REFERENCES)\s+(" + "|".join(PURCHASE_TABLES) + r")\b"
)


def test_no_ledger_module_reads_a_purchase_table() -> None:
    root = Path(ledger.__file__).parent
    found = [
        f"{path.relative_to(root.parent)}: {match.group(0)}"
        for path in sorted(root.rglob("*.py"))
        for match in NAMED_IN_SQL.finditer(path.read_text())
    ]
    assert found == []


def test_the_scan_finds_a_purchase_table_in_sql() -> None:
    assert NAMED_IN_SQL.search("SELECT 1 FROM purchases p JOIN stores s ON s.id = p.store_id")
    assert not NAMED_IN_SQL.search("points earned from purchases at the till")
