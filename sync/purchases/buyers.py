"""Which identities a purchase's buyer was named by (a card, a phone, an OpenID).

A till that names the buyer by a card while that card's member is merged into another
records the purchase on the survivor; should the merge be undone, the purchase belongs to
the member whose card it was (``sync.purchases.unmerge_returns``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import InvalidIdentity
from identity.model import IdentityConfig, RawIdentity, normalise

_NOTE = text(
    "INSERT INTO purchase_buyer_identities (purchase_id, identity_ids)"
    " SELECT :purchase, array_agg(i.id ORDER BY i.id) FROM member_identities i"
    " JOIN unnest(CAST(:types AS text[]), CAST(:namespaces AS text[]), CAST(:values AS text[]))"
    "  AS k(type, namespace, value) ON i.type = k.type"
    "  AND i.namespace IS NOT DISTINCT FROM k.namespace AND i.value = k.value"
    " HAVING count(*) > 0 ON CONFLICT DO NOTHING"
)


async def note_buyer_identities(
    session: AsyncSession,
    purchase_id: int,
    identities: Sequence[RawIdentity],
    config: IdentityConfig,
) -> None:
    keys = []
    for raw in identities:
        try:
            keys.append(normalise(raw, region=config.phone_region))
        except InvalidIdentity:
            continue
    if not keys:
        return
    await session.execute(
        _NOTE,
        {
            "purchase": purchase_id,
            "types": [k.type.value for k in keys],
            "namespaces": [k.namespace for k in keys],
            "values": [k.value for k in keys],
        },
    )
