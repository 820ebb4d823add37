"""Who bought: a batch's buyers resolved together, and the identities they were named by.

A till names its customer by a card or a phone, a shop by an account or a UnionID. All
identities of a batch are normalised, locked (the advisory locks ``identify`` takes, in key
order) and looked up in one statement each. Then, per purchase:

- every identity known and held by one ACTIVE member (row-locked): that member, the
  identities marked seen together;
- no identity known: a newcomer, enrolled with the batch's other newcomers in a fixed
  number of statements (``identity.enrolment``); purchases naming exactly the same
  identities are one newcomer;
- anything else (an identity tying two members, a new identity for a known member, an
  identity another purchase of the batch also names differently, a member merged away):
  ``identify`` with its full rules, in input order, in the same transaction. Purchases
  sharing an identity or a member with such a one go the same way, so order holds.

Each purchase's answer is what ``identify`` would answer it: its member, or the error
(a conflict opens no review case, as the purchase's transaction would have rolled back).

A till that names the buyer by a card while that card's member is merged into another
records the purchase on the survivor; should the merge be undone, the purchase belongs to
the member whose card it was (``sync.purchases.unmerge_returns``): each purchase notes the
identities it was named by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.enrolment import Newcomer, enrol_newcomers
from identity.errors import IdentityConflict, IdentityError, InvalidIdentity, MemberNotFound
from identity.link import mark_seen
from identity.lookup import (
    identities_by_keys,
    lock_identities,
    lock_member_statuses,
    try_lock_identities,
)
from identity.model import (
    IdentityClaim,
    IdentityConfig,
    IdentityKey,
    MemberStatus,
    RawIdentity,
    normalise,
    normalise_claims,
)
from identity.records import IdentityRecord
from identity.resolve import Outcome, identify
from sync.purchases.requests import PurchaseRequest

#: A purchase's buyer, or why it has none it may be recorded on.
Buyer = int | IdentityError


@dataclass
class Buyers:
    """Each purchase's buyer, and, where resolving read or wrote them anyway, the IDs of
    the identities it was named by (for ``note_buyer_identities``, which orders them and
    drops repeats)."""

    of: dict[int, Buyer] = field(default_factory=dict)
    identity_ids: dict[int, tuple[int, ...]] = field(default_factory=dict)


def _keys(identities: Sequence[RawIdentity], config: IdentityConfig) -> list[IdentityKey]:
    """The identities that normalise, in order (a purchase's note skips the others)."""
    keys = []
    for raw in identities:
        try:
            keys.append(normalise(raw, region=config.phone_region))
        except InvalidIdentity:
            continue
    return keys


async def known_buyers(
    session: AsyncSession, requests: Mapping[int, PurchaseRequest], config: IdentityConfig
) -> dict[int, int | None]:
    """Each purchase's buyer by its identities as things stand, writing nothing (to compare
    with a stored receipt): the member of its first identity that is known."""
    keys = {n: _keys(r.identities, config) for n, r in requests.items()}
    held = await identities_by_keys(session.execute, (k for ks in keys.values() for k in ks))
    return {n: next((held[k].member_id for k in ks if k in held), None) for n, ks in keys.items()}


async def resolve_buyers(
    session: AsyncSession,
    requests: Mapping[int, PurchaseRequest],
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IdentityConfig,
    skip_busy: bool = False,
) -> Buyers:
    """The buyer of each purchase naming identities (see the module's docstring).

    With ``skip_busy`` the purchases naming an identity another transaction holds, and
    those sharing an identity or a member with them, are left out of the answer (for the
    caller's next transaction) instead of waiting here."""
    found = Buyers()
    answers = found.of
    claims: dict[int, list[IdentityClaim]] = {}
    for n, request in requests.items():
        try:
            claims[n] = normalise_claims(request.identities, region=config.phone_region)
        except InvalidIdentity as error:
            answers[n] = error
    every_key = {c.key for cs in claims.values() for c in cs}
    if skip_busy:
        busy = await try_lock_identities(session, every_key)
    else:
        await lock_identities(session, every_key)
        busy = set()
    held = await identities_by_keys(session.execute, every_key)
    if busy:
        waiting = [n for n, cs in claims.items() if any(c.key in busy for c in cs)]
        left = _linked(waiting, claims, held)
        claims = {n: cs for n, cs in claims.items() if n not in left}
    statuses = await lock_member_statuses(
        session, {held[c.key].member_id for cs in claims.values() for c in cs if c.key in held}
    )

    matched: dict[int, int] = {}
    newcomers: dict[frozenset[IdentityClaim], list[int]] = {}
    involved: list[int] = []
    for n, cs in claims.items():
        members = {held[c.key].member_id for c in cs if c.key in held}
        if not members:
            newcomers.setdefault(frozenset(cs), []).append(n)
        elif (
            len(members) == 1
            and all(c.key in held for c in cs)
            and all(held[c.key].verified or not c.verified for c in cs)
            and statuses.get(next(iter(members))) is MemberStatus.ACTIVE
        ):
            matched[n] = next(iter(members))
        else:
            involved.append(n)
    # A key in two newcomers' different sets ties them: identify decides, in order.
    by_key: dict[IdentityKey, set[frozenset[IdentityClaim]]] = {}
    for group in newcomers:
        for claim in group:
            by_key.setdefault(claim.key, set()).add(group)
    for groups in by_key.values():
        if len(groups) > 1:
            for group in groups:
                involved.extend(newcomers.pop(group, []))
    # What identify does to one may change what another sharing its identities is answered.
    linked = _linked(involved, claims, held)
    matched = {n: member for n, member in matched.items() if n not in linked}
    # A newcomer's purchases name the same identities: one of them stands for all.
    newcomers = {group: ns for group, ns in newcomers.items() if ns[0] not in linked}

    if matched:
        seen = {held[c.key].id: (held[c.key], c.verified) for n in matched for c in claims[n]}
        first = requests[next(iter(matched))]
        await mark_seen(session, seen=seen.values(), channel=first.channel, now=now, config=config)
        answers.update(matched)
        for n in matched:
            found.identity_ids[n] = tuple(held[c.key].id for c in claims[n])
    if newcomers:
        if may_enrol:
            groups = list(newcomers.items())
            made = await enrol_newcomers(
                session,
                [Newcomer(tuple(g), requests[ns[0]].channel) for g, ns in groups],
                now=now,
                config=config,
            )
            for (_, ns), enrolled in zip(groups, made, strict=True):
                named_by = tuple(i.id for i in enrolled.identities)
                for n in ns:
                    answers[n] = enrolled.member.id
                    found.identity_ids[n] = named_by
        else:
            for ns in newcomers.values():
                for n in ns:
                    answers[n] = MemberNotFound(
                        "no member holds these identities", field=("identities",)
                    )
    for n in sorted(linked):
        answers[n] = await _identify(
            session, requests[n], may_enrol=may_enrol, actor=actor, now=now, config=config
        )
    return found


def _linked(
    seed: Iterable[int],
    claims: Mapping[int, Sequence[IdentityClaim]],
    held: Mapping[IdentityKey, IdentityRecord],
) -> set[int]:
    """``seed`` and every purchase sharing an identity or a member with one of them, and so
    on."""
    linked = set(seed)
    frontier = list(linked)
    keys: set[IdentityKey] = set()
    members: set[int] = set()
    while frontier:
        for n in frontier:
            keys.update(c.key for c in claims[n])
            members.update(held[c.key].member_id for c in claims[n] if c.key in held)
        frontier = [
            n
            for n, cs in claims.items()
            if n not in linked
            and any(
                c.key in keys or (c.key in held and held[c.key].member_id in members) for c in cs
            )
        ]
        linked.update(frontier)
    return linked


async def _identify(
    session: AsyncSession,
    request: PurchaseRequest,
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IdentityConfig,
) -> Buyer:
    """``identify`` with its full rules; what it wrote is undone when the purchase is
    refused, as the purchase's own transaction would have been."""
    savepoint = await session.begin_nested()
    try:
        # identify's errors already name their place under ``identities``.
        result = await identify(
            session,
            identities=request.identities,
            channel=request.channel,
            create_if_missing=may_enrol,
            actor=actor,
            now=now,
            config=config,
        )
    except IdentityError as error:
        await savepoint.rollback()
        return error
    if result.outcome is Outcome.CONFLICT or result.member is None:
        await savepoint.rollback()
        return IdentityConflict(
            "these identities belong to different members; an operator reviews them",
            field=("identities",),
        )
    await savepoint.commit()
    return result.member.id


#: A purchase's identities as resolving found them, or else looked up by key. Keys with a
#: namespace and keys without are joined apart, so that the unique index on (type,
#: namespace, value) serves both (``IS NOT DISTINCT FROM`` would read every identity).
_NOTE = text(
    "INSERT INTO purchase_buyer_identities (purchase_id, identity_ids)"
    " SELECT purchase_id, array_agg(DISTINCT id ORDER BY id) FROM ("
    " SELECT k.purchase_id, k.id FROM unnest(CAST(:known_purchases AS bigint[]),"
    " CAST(:known_ids AS bigint[])) AS k(purchase_id, id)"
    " UNION ALL SELECT k.purchase_id, i.id FROM unnest(CAST(:purchases AS bigint[]),"
    " CAST(:types AS text[]), CAST(:namespaces AS text[]), CAST(:values AS text[]))"
    " AS k(purchase_id, type, namespace, value)"
    " JOIN member_identities i ON i.type = k.type AND i.value = k.value"
    " AND i.namespace = k.namespace"
    " UNION ALL SELECT k.purchase_id, i.id FROM unnest(CAST(:bare_purchases AS bigint[]),"
    " CAST(:bare_types AS text[]), CAST(:bare_values AS text[]))"
    " AS k(purchase_id, type, value)"
    " JOIN member_identities i ON i.type = k.type AND i.value = k.value"
    " AND i.namespace IS NULL"
    ") AS named GROUP BY purchase_id ORDER BY purchase_id ON CONFLICT DO NOTHING"
)


async def note_buyer_identities(
    session: AsyncSession,
    notes: Sequence[tuple[int, Sequence[RawIdentity], tuple[int, ...] | None]],
    config: IdentityConfig,
) -> None:
    """Note, for each (purchase, identities, their IDs if resolving found them:
    ``Buyers.identity_ids``), the identities its buyer was named by."""
    known = [(p, i) for p, _, ids in notes if ids is not None for i in ids]
    rows = [(p, key) for p, raws, ids in notes if ids is None for key in _keys(raws, config)]
    if not rows and not known:
        return
    spaced = [(p, k) for p, k in rows if k.namespace is not None]
    bare = [(p, k) for p, k in rows if k.namespace is None]
    await session.execute(
        _NOTE,
        {
            "known_purchases": [p for p, _ in known],
            "known_ids": [i for _, i in known],
            "purchases": [p for p, _ in spaced],
            "types": [k.type.value for _, k in spaced],
            "namespaces": [k.namespace for _, k in spaced],
            "values": [k.value for _, k in spaced],
            "bare_purchases": [p for p, _ in bare],
            "bare_types": [k.type.value for _, k in bare],
            "bare_values": [k.value for _, k in bare],
        },
    )
