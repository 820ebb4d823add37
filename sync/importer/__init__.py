"""Bulk import from another system (members now; see members.py)."""
