"""The event bus is built at start-up in one place and handed to the units of work: no
module holds one, and a session publishes to the bus its factory was given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import EventHooks, bus_of, publish, session_info
from hub.settings import Settings
from hub.wiring import build_event_bus
from identity.events import MemberCreated

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, pkgutil
import bus, hub, identity, ledger, sync
from bus.hooks import EventHooks

held = []
for package in (bus, identity, ledger, sync, hub):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            loaded = importlib.import_module(module.name)
            held += [
                f"{module.name}.{name}"
                for name, value in vars(loaded).items()
                if isinstance(value, EventHooks)
            ]
print(len(held), *held)
"""


def test_no_module_holds_an_event_bus():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0"]


def test_each_start_up_builds_its_own_wired_bus():
    first, second = build_event_bus(Settings()), build_event_bus(Settings())

    assert first is not second
    assert first.subscriptions() == second.subscriptions() > 0


async def test_a_session_publishes_to_the_bus_its_factory_was_given():
    seen: list[object] = []
    bus = EventHooks()

    async def note(session: AsyncSession, event: MemberCreated) -> None:
        seen.append((bus_of(session) is bus, event.member_id))

    bus.subscribe(MemberCreated, note)
    event = MemberCreated(member_id=7, channel="POS")

    await publish(AsyncSession(info=session_info(bus)), event)
    with pytest.raises(RuntimeError, match="without the event bus"):
        await publish(AsyncSession(), event)

    assert seen == [(True, 7)]
