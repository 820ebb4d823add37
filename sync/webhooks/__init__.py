"""Webhooks: registrations, delivery, egress rules and the signed envelope."""
