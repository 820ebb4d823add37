"""Background work: the broker, actors, the scheduler, the outbox dispatcher."""
