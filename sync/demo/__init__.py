"""Demo data: a realistic programme, written through the same services the API uses.

``memberhub seed --members N`` fills stores in several cities, members enrolled over two
years on every channel (some enrolled twice and merged when a verified phone tied them),
referrals, purchases with refunds and held fraud cases, check-ins and redemptions; then
settles and expires as the jobs would have. Everything goes through identity resolution and
the ledger's posting path, so ``memberhub ledger verify`` is clean afterwards.

Each step runs in its own transaction at its own moment in the past: the ``now`` of the
services is the step's time, and the ledger's reactions to identity events read the same
moment from a context variable (``demo_clock``), so concurrent workers each keep their own.
"""

from sync.demo.people import DemoMember, DemoSummary, plan_members
from sync.demo.seed import DemoClock, Progress, demo_now, no_progress, seed_demo, seed_people
from sync.demo.writer import DemoWriter, demo_clock

__all__ = [
    "DemoClock",
    "DemoMember",
    "DemoSummary",
    "DemoWriter",
    "Progress",
    "demo_clock",
    "demo_now",
    "no_progress",
    "plan_members",
    "seed_demo",
    "seed_people",
]
