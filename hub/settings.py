"""Configuration from the environment (prefix ``MEMBERHUB_``), documented in the README."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Literal, TypeVar

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.campaigns.quiet_hours import parse_quiet_hours
from sync.webhooks.egress import EgressPolicy


class PromotionSetting(BaseModel):
    """Extra points on a category's or a SKU's lines between two business days."""

    multiplier: Decimal = Field(gt=1)
    starts_on: date
    ends_on: date
    category: str | None = None
    sku: str | None = None


class TierSetting(BaseModel):
    code: str
    name: str
    qualifying_spend: Decimal = Field(ge=0)
    multiplier: Decimal = Field(gt=0)


DEFAULT_TIERS = [
    TierSetting(code="REGULAR", name="Regular", qualifying_spend=Decimal(0), multiplier=Decimal(1)),
    TierSetting(
        code="SILVER", name="Silver", qualifying_spend=Decimal(1000), multiplier=Decimal("1.2")
    ),
    TierSetting(
        code="GOLD", name="Gold", qualifying_spend=Decimal(5000), multiplier=Decimal("1.5")
    ),
    TierSetting(
        code="DIAMOND", name="Diamond", qualifying_spend=Decimal(20000), multiplier=Decimal(2)
    ),
]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("memberhub"))


class RateLimit(BaseModel):
    #: Requests a second, sustained.
    rate: float = Field(gt=0)
    #: Requests that may arrive at once after a quiet spell.
    burst: int = Field(ge=1)


def _default_rate_limits() -> dict[str, RateLimit]:
    return {
        "admin": RateLimit(rate=200, burst=400),
        "pos": RateLimit(rate=50, burst=200),
        "partner": RateLimit(rate=50, burst=100),
        "frontend": RateLimit(rate=500, burst=1000),
        "member": RateLimit(rate=10, burst=40),
    }


class Settings(BaseSettings):
    # An empty variable (a compose file passing an unset one through) means the default.
    model_config = SettingsConfigDict(
        env_prefix="MEMBERHUB_", extra="ignore", env_ignore_empty=True
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset starts an embedded PostgreSQL in the data dir.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset starts an embedded Redis in the data dir."
    )
    redis_namespace: str = Field(
        default="memberhub", description="Prefix of every Redis key and dramatiq queue."
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Embedded PostgreSQL/Redis data and the generated token secret.",
    )
    time_zone: str = Field(default="Asia/Shanghai", description="Business days are in this zone.")
    phone_region: str = Field(default="CN", description="Region of phone numbers without +.")
    token_secret: SecretStr | None = Field(
        default=None,
        description="Signs member tokens. Required outside the embedded default; there, "
        "unset: generated once and kept in the data dir.",
    )
    member_token_max_ttl_seconds: int = Field(default=86_400, ge=60)
    phone_hash_salt: SecretStr | None = Field(
        default=None,
        description="Salts the phone hashes kept after erasure. Required outside the embedded "
        "default; there, unset: generated once and kept in the data dir. Never change it once "
        "members exist.",
    )
    merge_max_verified_phones: int | None = Field(default=1, ge=1)
    merge_max_unionids: int | None = Field(default=1, ge=1)
    merge_max_openids_per_app: int | None = Field(default=1, ge=1)
    merge_max_pos_cards_per_system: int | None = Field(default=1, ge=1)
    wechat_api_base_url: str = Field(
        default="https://api.weixin.qq.com", description="Where jscode2session is called."
    )
    wechat_apps: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Mini-program AppID -> AppSecret, as JSON: {"wx123": "secret"}.',
    )
    wechat_timeout_seconds: float = Field(default=5.0, gt=0)
    points_signup_bonus: int = Field(
        default=100, ge=0, description="Points for the first verified phone, once per phone."
    )
    points_referral_bonus: int = Field(
        default=100,
        ge=0,
        description="Points to both the referrer and the new member, once the new member "
        "holds a verified identity.",
    )
    points_referral_cap: int = Field(
        default=5, ge=0, description="Referral bonuses one referrer is paid per cap period."
    )
    points_referral_cap_days: int = Field(
        default=30, ge=1, description="The referral cap's period, in days (rolling)."
    )
    points_checkin: int = Field(default=2, ge=1, description="Points per daily check-in.")
    points_expiry_months: int = Field(
        default=12, ge=1, description="Credited points expire this many months later."
    )
    idempotency_key_days: int = Field(
        default=30, ge=30, description="How long a points request's idempotency key is kept."
    )
    earn_rule_version: str = Field(
        default="2026-01",
        description="Names the earning rules below; change it with them, so each purchase "
        "records which rules priced it.",
    )
    earn_points_per_100: int = Field(default=10, ge=0, description="Points per 100 yuan.")
    earn_promotions: list[PromotionSetting] = Field(
        default_factory=list,
        description="Retired: promotions are defined with definePromotion. A list set here "
        "(JSON, {multiplier, starts_on, ends_on, category | sku}) is imported once as "
        "promotions by `memberhub migrate` (see docs/benefits.md).",
    )
    point_value_yuan: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        le=1000,
        description="What one point is worth in yuan, for liabilities (a rule change's dry run).",
    )
    dry_run_parallel: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Connections a rule change's dry run splits the members over, run at once "
        "on one snapshot (the database server's cores share the replay).",
    )
    earn_settlement_days: int = Field(
        default=1, ge=0, description="Purchase points settle this many business days later."
    )
    tiers: list[TierSetting] = Field(
        default_factory=lambda: list(DEFAULT_TIERS),
        description="JSON list, lowest first; the first needs no spend.",
    )
    tier_window_months: int = Field(default=12, ge=1, description="The qualifying window.")
    rfm_window_days: int = Field(default=365, ge=1, description="RFM looks this far back.")
    event_retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="Behaviour events are kept this many days; older day partitions are "
        "dropped by the events.partitions job, and older events are refused.",
    )
    lifecycle_new_days: int = Field(default=30, ge=1, description="NEW: first purchase within.")
    lifecycle_active_days: int = Field(default=90, ge=1, description="ACTIVE: last within.")
    lifecycle_dormant_days: int = Field(
        default=180, ge=1, description="DORMANT up to this; CHURNED beyond."
    )
    fraud_max_purchases_per_day: int = Field(default=10, ge=1)
    fraud_max_points_per_day: int = Field(default=5_000, ge=1)
    fraud_large_amount: Decimal = Field(default=Decimal("20000"), gt=0)
    fraud_travel_minutes: int = Field(default=30, ge=1)
    fraud_new_identity_hours: int = Field(default=24, ge=1)
    fraud_new_identity_redeem_points: int = Field(default=500, ge=0)
    log_level: str = Field(default="INFO")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise."
    )
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a resolved API key, and whether a member token's issuing "
        "client is still active, is cached in-process (the delay of a revocation).",
    )
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=_default_rate_limits,
        description="Token bucket per client kind (JSON: {kind: {rate, burst}}).",
    )
    rate_limit_overrides: dict[str, RateLimit] = Field(
        default_factory=dict,
        description="Token bucket by client name, instead of its kind's (JSON).",
    )
    rule_statement_timeout_ms: int = Field(
        default=30_000,
        ge=1,
        description="Time limit of one segment or tag rule's statement (a definition, the "
        "nightly refresh).",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body; larger ones get 413."
    )
    query_max_depth: int = Field(default=15, ge=1)
    query_max_aliases: int = Field(default=30, ge=0)
    query_max_tokens: int = Field(default=5_000, ge=10)
    query_max_cost: int = Field(default=25_000, ge=1)
    query_max_page_size: int = Field(default=100, ge=1)
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Browser origins allowed to call the API, as JSON: ["https://shop.example"].',
    )
    metrics_operations: list[str] = Field(
        default_factory=list,
        description="Operation names counted under their own label in /metrics (JSON list); "
        "persisted queries' names are too, others count as `other`.",
    )
    introspection_for_all: bool = Field(
        default=False, description="Let every client introspect; off: admin clients only."
    )
    query_plans: bool = Field(
        default=True,
        description="Run cached queries and mutations from compiled plans; off: every operation"
        " on graphql-core.",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="JSON list of host names and addresses or CIDR ranges that webhook URLs "
        'may reach although they are not public, e.g. ["127.0.0.1"] for a local receiver; '
        "hosts named here may also use plain http. Empty: only public https URLs.",
    )
    campaign_quiet_hours: str = Field(
        default="21:00-09:00",
        description="Local hours (programme time zone) when campaign messages wait, e.g. "
        "21:00-09:00; empty or 'none': no quiet hours.",
    )
    campaign_consent_defaults: dict[str, bool] = Field(
        default_factory=lambda: {"WECHAT_SUBSCRIBE": False, "SMS": False, "WEBHOOK": False},
        description="Consent per message channel for members who never said: JSON, e.g. "
        '{"WEBHOOK": true}. A channel not named is opt-in (false).',
    )
    campaign_wechat_app_id: str | None = Field(
        default=None,
        description="The mini-program (one of MEMBERHUB_WECHAT_APPS) that sends subscribe "
        "messages; unset: the only app when there is one.",
    )
    sms_url: str | None = Field(
        default=None, description="The SMS provider's send endpoint; unset: no SMS."
    )
    sms_key: SecretStr | None = Field(default=None, description="The SMS provider's API key.")
    sms_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    sms_receipt_secret: SecretStr | None = Field(
        default=None,
        description="Shared with the SMS provider: its status reports to /callbacks/sms/status "
        "carry an HMAC-SHA256 of the body with it; unset: every report is refused (401).",
    )
    wechat_push_token: SecretStr | None = Field(
        default=None,
        description="The Token of the campaign mini-program's message push (plaintext, JSON) "
        "to /callbacks/wechat/push; unset: every push is refused (401).",
    )
    worker_threads: int = Field(default=4, ge=1, description="dramatiq worker threads.")
    embedded_worker: bool = Field(
        default=True,
        description="In the embedded default, `serve` also runs the worker in-process.",
    )

    @field_validator(
        "token_secret", "phone_hash_salt", "sms_receipt_secret", "wechat_push_token", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # Given in code (not the environment): an empty secret is no secret.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("campaign_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value.strip().lower() == "none":
            return ""
        parse_quiet_hours(value)
        return value.strip()

    @model_validator(mode="after")
    def _empty_quiet_hours_is_none(self) -> Settings:
        # Empty variables mean the default everywhere else; here DESIGN fixes "empty: none".
        if (
            "campaign_quiet_hours" not in self.model_fields_set
            and os.environ.get("MEMBERHUB_CAMPAIGN_QUIET_HOURS") == ""
        ):
            self.campaign_quiet_hours = ""
        return self

    @property
    def webhook_egress(self) -> EgressPolicy:
        return EgressPolicy.from_entries(self.webhook_allowed_hosts)

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None

    def missing_deployment_secrets(self) -> list[str]:
        """The secrets a deployment must set itself: outside the embedded default every
        process (hub, worker, replicas) must share them, so none may generate its own."""
        if self.embedded:
            return []
        return [
            f"MEMBERHUB_{name.upper()}"
            for name in ("phone_hash_salt", "token_secret")
            if getattr(self, name) is None
        ]

    def resolved_token_secret(self) -> bytes:
        """The configured secret, or one generated once and kept in the data dir (0600)."""
        return self._secret(self.token_secret, "token_secret")

    def resolved_phone_hash_salt(self) -> bytes:
        """The configured salt, or one generated once and kept in the data dir (0600)."""
        return self._secret(self.phone_hash_salt, "phone_hash_salt")

    def _secret(self, configured: SecretStr | None, file_name: str) -> bytes:
        if configured is not None:
            return configured.get_secret_value().encode()
        path = self.data_dir / file_name
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


T = TypeVar("T")


def built_per_settings(build: Callable[[Settings], T]) -> Callable[[Settings], T]:
    """``build`` run once per Settings object: resolvers ask for their configuration on
    every request, and an app's settings do not change while it runs."""
    built: dict[int, tuple[Settings, T]] = {}

    @wraps(build)
    def cached(settings: Settings) -> T:
        entry = built.get(id(settings))
        if entry is not None and entry[0] is settings:  # the id of a live object
            return entry[1]
        value = build(settings)
        if len(built) > 64:  # tests build many settings; an app keeps one
            built.clear()
        built[id(settings)] = (settings, value)
        return value

    return cached
