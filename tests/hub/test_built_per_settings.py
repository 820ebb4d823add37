"""Configuration derived from settings is built once per Settings object, never shared."""

from __future__ import annotations

from decimal import Decimal

from hub.settings import Settings, TierSetting
from hub.wiring import tier_programme


def test_each_settings_object_gets_its_own_programme_built_once():
    default = Settings()
    two_tiers = Settings(
        tiers=[
            TierSetting(code="BASIC", name="Basic", qualifying_spend=0, multiplier=1),
            TierSetting(code="VIP", name="VIP", qualifying_spend=Decimal(500), multiplier=2),
        ]
    )

    assert [t.code for t in tier_programme(default).tiers][:2] == ["REGULAR", "SILVER"]
    assert [t.code for t in tier_programme(two_tiers).tiers] == ["BASIC", "VIP"]
    assert tier_programme(two_tiers).rank("VIP") == 1
    assert tier_programme(two_tiers) is tier_programme(two_tiers)
    assert tier_programme(default) is not tier_programme(Settings())
