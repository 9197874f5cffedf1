"""A small thread-safe time-to-live cache for the server's lists.

Keys start with the server config's fingerprint, so a changed URL or credential
never sees another's entries. An expired entry stays until it is replaced or, as the
least recently used of ``max_entries``, pushed out: a caller that prefers an old list to
none (a picker while the server is down) can ask for it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

LIST_TTL = 30.0
FLAVOUR_TTL = 600.0


class TTLCache:
    def __init__(self, max_entries: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def get_or_load(
        self,
        key: Hashable,
        ttl: float,
        load: Callable[[], Any],
        stale_if: type[Exception] | tuple[type[Exception], ...] = (),
    ) -> Any:
        """The cached value if younger than ``ttl``, else ``load()`` (errors are not cached).

        When ``load()`` raises one of ``stale_if``, the last value, however old, is returned
        instead if there is one."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < ttl:
                self._entries.move_to_end(key)
                return entry[1]
        try:
            value = load()
        except stale_if:
            if entry is None:
                raise
            return entry[1]
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value
