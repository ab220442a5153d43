"""A bounded map of the most recently used entries, shared between request threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sized
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The ``capacity`` most recently used entries; the least recently used one goes first.

    With ``largest``, entries longer than that (``len``) are not kept: a count alone does not
    bound memory when one entry may be a document of megabytes.
    """

    def __init__(self, capacity: int, *, largest: int | None = None) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity
        self._largest = largest
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def put(self, key: K, entry: V) -> None:
        if self._largest is not None and isinstance(entry, Sized) and len(entry) > self._largest:
            return
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
