"""registerWebhook, deleteWebhook, webhooks: who may, what is checked, what is shown."""

from __future__ import annotations

from sqlalchemy import func, select

from sync.tables import webhooks
from tests.sync.jobs.webhooks_graphql import DELETE, NODE, WEBHOOKS, register, registered


async def test_partner_registers_a_webhook_and_sees_the_secret_only_once(graphql_client):
    partner = await graphql_client("partner")

    payload = await register(
        partner, "https://partner.example/hooks", "member.created", "points.credited"
    )
    listed = await partner.data(WEBHOOKS)

    assert payload["userErrors"] == []
    assert payload["signingSecret"].startswith("whsec_") and len(payload["signingSecret"]) > 40
    webhook = payload["webhook"]
    assert webhook["url"] == "https://partner.example/hooks"
    assert webhook["events"] == ["member.created", "points.credited"]
    assert webhook["active"] is True
    assert listed["webhooks"] == [webhook]
    assert payload["signingSecret"] not in str(listed)


async def test_a_client_sees_its_own_webhooks_and_an_admin_sees_all(admin, graphql_client):
    first = await graphql_client("partner")
    second = await graphql_client("partner")
    first_id, _ = await registered(first, "https://one.example/h", "member.created")
    second_id, _ = await registered(second, "https://two.example/h", "tier.changed")

    seen_by_first = await first.data(WEBHOOKS)
    seen_by_admin = await admin.data(WEBHOOKS)
    node_of_other = await first.data(NODE, id=second_id)
    node_of_own = await first.data(NODE, id=first_id)

    assert [w["id"] for w in seen_by_first["webhooks"]] == [first_id]
    assert [w["id"] for w in seen_by_admin["webhooks"]] == [first_id, second_id]
    assert node_of_other["node"] is None
    assert node_of_own["node"] == {"id": first_id, "url": "https://one.example/h"}


async def test_bad_input_names_the_field_and_writes_nothing(admin, graphql_client, engine):
    partner = await graphql_client("partner")

    not_http = await register(partner, "ftp://files.example/in", "member.created")
    no_host = await register(partner, "https:///path", "member.created")
    unknown_event = await register(
        partner, "https://ok.example", "member.created", "member.sneezed"
    )
    no_events = await register(partner, "https://ok.example")
    admin_event = await register(partner, "https://ok.example", "webhook.disabled")
    admin_may = await register(admin, "https://ops.example", "webhook.disabled")

    def error(payload):  # type: ignore[no-untyped-def]
        assert payload["webhook"] is None and payload["signingSecret"] is None
        (only,) = payload["userErrors"]
        return only["code"], only["field"]

    assert error(not_http) == ("INVALID_INPUT", ["input", "url"])
    assert error(no_host) == ("INVALID_INPUT", ["input", "url"])
    assert error(unknown_event) == ("INVALID_INPUT", ["input", "events", "1"])
    assert error(no_events) == ("INVALID_INPUT", ["input", "events"])
    assert error(admin_event) == ("INVALID_INPUT", ["input", "events", "0"])
    assert admin_may["userErrors"] == []
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhooks)) == 1


async def test_clients_without_the_webhooks_scope_are_forbidden(graphql_client):
    pos = await graphql_client("pos", store="S001")

    registration = await register(pos, "https://till.example/h", "member.created")
    listing = await pos.execute(WEBHOOKS)

    assert registration["userErrors"][0]["code"] == "FORBIDDEN"
    assert registration["webhook"] is None
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_delete_stops_a_webhook_of_ones_own_only(admin, graphql_client):
    owner = await graphql_client("partner")
    other = await graphql_client("partner")
    webhook_id, _ = await registered(owner, "https://owner.example/h", "member.created")

    by_other = await other.data(DELETE, id=webhook_id)
    by_owner = await owner.data(DELETE, id=webhook_id)
    again = await owner.data(DELETE, id=webhook_id)
    malformed = await owner.data(DELETE, id="not-an-id")
    listed = await owner.data(WEBHOOKS)

    assert by_other["deleteWebhook"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    assert by_owner["deleteWebhook"] == {
        "webhook": {"id": webhook_id, "active": False},
        "signingSecret": None,
        "userErrors": [],
    }
    assert again["deleteWebhook"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert malformed["deleteWebhook"]["userErrors"] == [{"code": "INVALID_INPUT", "field": ["id"]}]
    assert listed["webhooks"] == []


async def test_an_admin_may_delete_any_clients_webhook(admin, graphql_client):
    partner = await graphql_client("partner")
    webhook_id, _ = await registered(partner, "https://p.example/h", "member.created")

    deleted = await admin.data(DELETE, id=webhook_id)

    assert deleted["deleteWebhook"]["userErrors"] == []
    assert (await partner.data(WEBHOOKS))["webhooks"] == []
