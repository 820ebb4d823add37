"""Member intelligence: RFM, lifecycle, rule tags, segments and the dashboard."""
