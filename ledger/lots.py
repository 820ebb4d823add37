"""Lots: every credit to PENDING or AVAILABLE is a lot; debits take from lots.

Rules (the posting path applies them to the table, ``verify`` replays them over the entries):

- A credit forms a lot named by its entry's ID, with the entry's ``expires_at`` (AVAILABLE)
  or ``available_at`` (PENDING). When AVAILABLE is negative (a debt), the credit pays the
  debt first and only the rest forms a lot.
- A debit with ``consumes_lot`` takes from that lot (expiry, settlement, undoing a merge);
  any other debit takes first-in-first-out: earliest ``expires_at`` (``available_at`` for
  PENDING) first, then the oldest entry. What no lot covers becomes a debt, which only
  CLAWBACK and MERGE_IN may leave.
- Hence the lots of a bucket always hold exactly ``max(balance, 0)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ledger.model import Bucket


@dataclass
class OpenLot:
    entry_id: int
    bucket: Bucket
    amount: int
    remaining: int
    expires_at: datetime | None
    available_at: datetime | None

    @property
    def due(self) -> datetime | None:
        return self.expires_at if self.bucket is Bucket.AVAILABLE else self.available_at


def lot_amount_of_credit(balance_before: int, amount: int) -> int:
    """The part of a credit that forms a lot: what is left after paying a debt."""
    return amount - min(amount, max(-balance_before, 0))


def plan_debit(
    lots: Iterable[OpenLot], points: int, *, consumes_lot: int | None = None
) -> tuple[list[tuple[OpenLot, int]], int]:
    """Which lots a debit of ``points`` (positive) takes from, and the shortfall no lot covers.

    ``lots`` are the open lots of the debited bucket, in any order.
    """
    if consumes_lot is not None:
        candidates = [lot for lot in lots if lot.entry_id == consumes_lot]
    else:
        candidates = sorted((lot for lot in lots if lot.remaining > 0), key=_sort_key)
    takes: list[tuple[OpenLot, int]] = []
    left = points
    for lot in candidates:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            takes.append((lot, take))
            left -= take
    return takes, left


def _sort_key(lot: OpenLot) -> tuple[int, float, int]:
    due = lot.due
    # Lots without a date (none are made today) go last.
    return (0, due.timestamp(), lot.entry_id) if due is not None else (1, 0.0, lot.entry_id)


class LotBook:
    """Lots of one member rebuilt from entries in chain order (used by ``verify``)."""

    def __init__(self) -> None:
        self.lots: dict[int, OpenLot] = {}
        self.balances: dict[Bucket, int] = {Bucket.PENDING: 0, Bucket.AVAILABLE: 0}

    def apply(
        self,
        *,
        entry_id: int,
        bucket: Bucket,
        amount: int,
        expires_at: datetime | None,
        available_at: datetime | None,
        consumes_lot: int | None,
    ) -> str | None:
        """Apply one entry; answer a description of what is wrong with it, if anything."""
        if bucket is Bucket.HELD:
            return None
        before = self.balances[bucket]
        self.balances[bucket] = before + amount
        if amount > 0:
            lot_points = lot_amount_of_credit(before, amount)
            if lot_points > 0:
                self.lots[entry_id] = OpenLot(
                    entry_id=entry_id,
                    bucket=bucket,
                    amount=lot_points,
                    remaining=lot_points,
                    expires_at=expires_at if bucket is Bucket.AVAILABLE else None,
                    available_at=available_at if bucket is Bucket.PENDING else None,
                )
            return None
        own = [lot for lot in self.lots.values() if lot.bucket is bucket]
        takes, shortfall = plan_debit(own, -amount, consumes_lot=consumes_lot)
        for lot, take in takes:
            lot.remaining -= take
        if consumes_lot is not None and shortfall:
            return f"takes {-amount} from lot {consumes_lot}, which held less"
        return None
