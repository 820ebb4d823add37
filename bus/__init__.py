"""The in-transaction event bus the domain packages publish to and subscribe on."""
