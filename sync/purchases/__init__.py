"""Purchases from every channel: their requests and records, tables and queries, the rules
against fraud that read purchase history, refunds, and the recording service
(``sync.purchases.recording.record_purchases``) every channel goes through."""
