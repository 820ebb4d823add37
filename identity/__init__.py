"""Identity resolution: every phone, OpenID, UnionID, card and account resolves to one member."""
