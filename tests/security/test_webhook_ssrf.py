"""Webhook URLs cannot aim the hub at itself or its network (server-side request forgery).

Registration refuses URLs that name a loopback, private, link-local, multicast, reserved
or metadata address in any spelling, carry credentials, or use plain http; delivery
resolves the host again and refuses to connect when it answers such an address, unless
the operator's ``MEMBERHUB_WEBHOOK_ALLOWED_HOSTS`` names it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from sqlalchemy import select

from identity.events import MemberCreated
from sync.tables import webhook_deliveries

# The background side as a worker has it, from the jobs suite.
from tests.sync.jobs.conftest import jobs  # noqa: F401
from tests.sync.jobs.webhooks_graphql import WEBHOOKS, register, registered

REFUSED_URLS = [
    "http://127.0.0.1:8000/graphql",
    "https://127.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "http://localhost:5432/",
    "https://localhost/hook",
    "https://LocalHost./hook",
    "https://db.localhost/hook",
    "http://[::1]/hook",
    "https://[::1]:8443/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fd00:ec2::254]/latest",
    "http://0x7f000001/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://127.1/hook",
    "https://0177.0.0.1/hook",
    "https://0.0.0.0/hook",
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://192.168.1.1/hook",
    "https://100.100.100.200/latest/meta-data/",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://user:secret@hooks.example.com/hook",
    "https://user@hooks.example.com/hook",
    "http://hooks.example.com/hook",
]


@pytest.fixture
def webhook_allowed_hosts() -> list[str]:
    """The operator's default: no exceptions."""
    return []


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_registering_a_url_into_the_hubs_network_is_refused(live_client, url):
    partner = await live_client("partner")

    payload = await register(partner, url, "member.created")

    assert payload["webhook"] is None and payload["signingSecret"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == ["input", "url"]
    assert (await partner.data(WEBHOOKS))["webhooks"] == []


async def test_a_public_https_url_is_accepted(live_client):
    partner = await live_client("partner")

    payload = await register(partner, "https://hooks.example.com/in", "member.created")

    assert payload["userErrors"] == [] and payload["webhook"]["url"] == (
        "https://hooks.example.com/in"
    )


class _Listener:
    """A TCP port on 127.0.0.1 that counts who connects to it."""

    def __init__(self) -> None:
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


async def test_the_dispatcher_does_not_connect_to_a_name_that_resolves_to_loopback(
    live_client,
    jobs,  # noqa: F811
    engine,
    monkeypatch,
):
    listener = _Listener()
    server = await asyncio.start_server(listener.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    real_getaddrinfo = socket.getaddrinfo

    def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        # The name looked public when it was registered; now it answers loopback.
        if host in ("hooks.partner.example", b"hooks.partner.example"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    admin = await live_client("admin")
    await registered(admin, f"https://hooks.partner.example:{port}/in", "member.created")
    await jobs.publish(MemberCreated(member_id=5, channel="POS"))

    try:
        await jobs.dispatch_and_drain()
    finally:
        server.close()
        await server.wait_closed()

    assert listener.connections == 0
    async with engine.connect() as conn:
        (delivery,) = (await conn.execute(select(webhook_deliveries))).all()
    assert delivery.status == "FAILED"
    assert "127.0.0.1" in delivery.last_error and "not allowed" in delivery.last_error
