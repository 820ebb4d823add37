"""Engines, sessions, the read pool, the driver session and embedded servers."""
