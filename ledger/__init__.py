"""The points ledger: append-only, idempotent, tamper-evident."""
