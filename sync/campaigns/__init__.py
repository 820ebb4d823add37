"""Campaigns: audiences and triggers, A/B arms with a holdout, actions through the ledger and
the benefits room, messages through channel adapters (WeChat, SMS, webhooks), consent,
and per-arm reports."""
