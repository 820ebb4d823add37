"""Benchmarks, run by hand (``python -m bench.<name>``); figures go to the README."""
