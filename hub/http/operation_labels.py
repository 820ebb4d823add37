"""The ``operation`` label of the request metrics, bounded.

A client names its operations freely; a label taking any name would let three random names
make three new series (and a megabyte name a megabyte of ``/metrics``). A name is its own
label when the operator lists it (``MEMBERHUB_METRICS_OPERATIONS``) or when it names a
persisted query's operation (a registered document, up to ``MAX_LEARNT`` names); every
other name is counted as ``other``.
"""

from __future__ import annotations

import re
import threading

OTHER = "other"
#: Labels of requests without a name, or whose name could not be read.
FIXED = frozenset({"anonymous", "unknown", OTHER})
#: Persisted operations counted under their own name; later ones are ``other``.
MAX_LEARNT = 200
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


class OperationLabels:
    def __init__(self, known: frozenset[str] = frozenset()) -> None:
        self._known = frozenset(name for name in known if _NAME.fullmatch(name))
        self._learnt: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str, *, persisted: bool = False) -> str:
        if name in FIXED or name in self._known or name in self._learnt:
            return name
        if not persisted or not _NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if len(self._learnt) >= MAX_LEARNT:
                return OTHER
            self._learnt.add(name)
        return name
