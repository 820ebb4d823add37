"""The allow-list's rules, without a network: what it opens and what it leaves closed."""

from __future__ import annotations

import pytest

from sync.webhooks.egress import EgressPolicy, RefusedDestination, check_url, vetted_addresses

POLICY = EgressPolicy.from_entries(["10.20.0.0/16", "hooks.internal", "::1"])


@pytest.mark.parametrize(
    "url",
    [
        "https://10.20.3.4/in",
        "http://10.20.3.4:8080/in",
        "http://hooks.internal/in",
        "http://HOOKS.internal./in",
        "http://[::1]:9000/in",
        "https://hooks.example.com/in",
    ],
)
def test_the_allow_list_opens_what_it_names(url):
    check_url(url, POLICY)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.21.0.1/in",
        "https://127.0.0.1/in",
        "http://hooks.example.com/in",
        "https://user:pw@hooks.internal/in",
        "https://other.internal.localhost/in",
    ],
)
def test_the_allow_list_leaves_the_rest_closed(url):
    with pytest.raises(RefusedDestination):
        check_url(url, POLICY)


def _answers(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> list[tuple]:
        return [(2, 1, 6, "", (address, port)) for address in addresses]

    return resolver


async def test_one_private_answer_among_public_ones_refuses_the_name():
    resolver = _answers("93.184.215.14", "192.168.0.7")

    with pytest.raises(RefusedDestination, match=r"192\.168\.0\.7"):
        await vetted_addresses("hooks.example.com", 443, EgressPolicy(), resolver=resolver)


async def test_a_name_answering_a_listed_range_is_reached():
    resolver = _answers("10.20.9.9")

    found = await vetted_addresses("svc.example.com", 443, POLICY, resolver=resolver)

    assert [str(a) for a in found] == ["10.20.9.9"]
