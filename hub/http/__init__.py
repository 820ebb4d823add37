"""The HTTP surface: the app, a request's handling, who calls, limits, metrics."""
