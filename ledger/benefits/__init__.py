"""Benefits: coupon templates, coupons and the rewards catalogue.

Coupons are value instruments, not points: they live in tables of their own (never in
``ledger_entries``), with an append-only ledger of coupon events of which each coupon's
status is the projection. A reward debits points through the ledger's redemption posting,
so every redemption rule applies to it.
"""
