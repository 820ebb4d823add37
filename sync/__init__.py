"""Work after the request: POS ingest, dramatiq jobs, the transactional outbox, webhooks."""
