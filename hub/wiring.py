"""How the domain packages are joined at start: the event bus and cross-package hooks.

``build_event_bus`` is called once by the app factory, the worker and each CLI command:
it builds the bus, subscribes every package's handlers to it, and the session factory
made with it (``hub.db.engine.create_session_factory``) hands it to every unit of work,
so no package imports a bus and importing a module subscribes nothing.
"""

from __future__ import annotations

from bus.hooks import EventHooks
from hub.clock import Clock
from hub.scheduled_jobs import JobConfig, register_jobs
from hub.settings import Settings, built_per_settings
from ledger.earning import EarningRules
from ledger.fraud import FraudConfig, register_fraud_checks
from ledger.model import LedgerConfig
from ledger.subscriptions import subscribe_ledger
from sync.campaigns.channels import SmsProvider, WechatSubscribe
from sync.campaigns.consent import DEFAULT_CONSENT, subscribe_campaigns
from sync.campaigns.delivery import CampaignConfig
from sync.campaigns.quiet_hours import parse_quiet_hours
from sync.intelligence.refresh import Programme, subscribe_intelligence
from sync.intelligence.rule_sql import TierRanks
from sync.intelligence.scores import IntelligenceConfig
from sync.outbox import subscribe_outbox
from sync.purchases.fraud import PurchaseFraudConfig, register_purchase_fraud_checks
from sync.purchases.requests import IngestConfig
from sync.purchases.subscriptions import subscribe_purchases
from sync.purchases.unmerge_returns import subscribe_unmerge_returns
from sync.tiers import TierDefinition, TierProgramme


@built_per_settings
def ledger_config(settings: Settings) -> LedgerConfig:
    """The points programme, from the settings (the ledger reads no environment itself)."""
    return LedgerConfig(
        time_zone=settings.time_zone,
        signup_bonus=settings.points_signup_bonus,
        referral_bonus=settings.points_referral_bonus,
        referral_cap=settings.points_referral_cap,
        referral_cap_days=settings.points_referral_cap_days,
        checkin_points=settings.points_checkin,
        expiry_months=settings.points_expiry_months,
        idempotency_days=settings.idempotency_key_days,
    )


@built_per_settings
def fraud_config(settings: Settings) -> FraudConfig:
    return FraudConfig(
        new_identity_hours=settings.fraud_new_identity_hours,
        new_identity_redeem_points=settings.fraud_new_identity_redeem_points,
    )


@built_per_settings
def purchase_fraud_config(settings: Settings) -> PurchaseFraudConfig:
    return PurchaseFraudConfig(
        max_purchases_per_day=settings.fraud_max_purchases_per_day,
        max_points_per_day=settings.fraud_max_points_per_day,
        large_amount=settings.fraud_large_amount,
        travel_minutes=settings.fraud_travel_minutes,
    )


@built_per_settings
def tier_programme(settings: Settings) -> TierProgramme:
    return TierProgramme(
        tiers=tuple(
            TierDefinition(t.code, t.name, t.qualifying_spend, t.multiplier) for t in settings.tiers
        ),
        window_months=settings.tier_window_months,
    )


@built_per_settings
def intelligence_programme(settings: Settings) -> Programme:
    return Programme(
        config=IntelligenceConfig(
            rfm_window_days=settings.rfm_window_days,
            new_days=settings.lifecycle_new_days,
            active_days=settings.lifecycle_active_days,
            dormant_days=settings.lifecycle_dormant_days,
        ),
        tiers=TierRanks(tuple(t.code for t in settings.tiers)),
        time_zone=settings.time_zone,
        rule_timeout_ms=settings.rule_statement_timeout_ms,
    )


@built_per_settings
def ingest_config(settings: Settings) -> IngestConfig:
    """Everything recording a purchase needs from the settings."""
    from hub.api.member_inputs import identity_config

    return IngestConfig(
        earning=EarningRules(
            version=settings.earn_rule_version,
            points_per_100=settings.earn_points_per_100,
            settlement_days=settings.earn_settlement_days,
        ),
        tiers=tier_programme(settings),
        ledger=ledger_config(settings),
        identity=identity_config(settings),
    )


@built_per_settings
def campaign_config(settings: Settings) -> CampaignConfig:
    """Where campaign messages go and when they may, from the settings."""
    apps = settings.wechat_apps
    app_id = settings.campaign_wechat_app_id or (next(iter(apps)) if len(apps) == 1 else None)
    wechat = (
        WechatSubscribe(
            base_url=settings.wechat_api_base_url,
            app_id=app_id,
            secret=apps[app_id].get_secret_value(),
            timeout=settings.wechat_timeout_seconds,
        )
        if app_id is not None and app_id in apps
        else None
    )
    sms = (
        SmsProvider(
            url=settings.sms_url,
            key=settings.sms_key.get_secret_value() if settings.sms_key else "",
            timeout=settings.sms_timeout_seconds,
        )
        if settings.sms_url
        else None
    )
    return CampaignConfig(
        zone=settings.time_zone,
        quiet_hours=parse_quiet_hours(settings.campaign_quiet_hours),
        consent_defaults={**DEFAULT_CONSENT, **settings.campaign_consent_defaults},
        sms=sms,
        wechat=wechat,
    )


def build_event_bus(settings: Settings | None = None, clock: Clock | None = None) -> EventHooks:
    """The event bus with every package's handlers, and the fraud rules and jobs
    registered. ``clock`` dates what the ledger posts from identity's events (the
    database's transaction time when None)."""
    settings = settings or Settings()
    hooks = EventHooks()
    subscribe_ledger(hooks, ledger_config(settings), clock=clock.now if clock else None)
    # The purchase rules first: a purchase's reasons list them in this order.
    register_purchase_fraud_checks(purchase_fraud_config(settings))
    register_fraud_checks(fraud_config(settings))
    subscribe_purchases(hooks)
    subscribe_unmerge_returns(hooks, ledger_config(settings), clock=clock.now if clock else None)
    subscribe_intelligence(hooks, intelligence_programme(settings))
    subscribe_campaigns(hooks)
    subscribe_outbox(hooks)
    register_jobs(
        JobConfig(
            ledger=ledger_config(settings),
            tiers=tier_programme(settings),
            intelligence=intelligence_programme(settings),
            event_retention_days=settings.event_retention_days,
            campaigns=campaign_config(settings),
        )
    )
    return hooks
