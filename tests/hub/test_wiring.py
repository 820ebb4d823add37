"""The event bus is wired at start-up in one place: importing code subscribes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, pkgutil
import bus, hub, identity, ledger, sync
from bus.hooks import hooks

for package in (bus, identity, ledger, sync, hub):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
print(hooks.subscriptions())

from hub.settings import Settings
from hub.wiring import install_domain_hooks

install_domain_hooks(Settings())
print(hooks.subscriptions())
install_domain_hooks(Settings())
print(hooks.subscriptions())
"""


def test_only_the_start_up_wiring_subscribes_handlers_to_the_bus():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    after_imports, after_wiring, after_wiring_again = map(int, done.stdout.split())

    assert after_imports == 0
    assert after_wiring > 0
    assert after_wiring_again == after_wiring
