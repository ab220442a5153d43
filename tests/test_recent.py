"""The bounded LRU shared by the caches (schemas, Basic logins, views, source sets)."""

from __future__ import annotations

from isofind.recent import Recent


def test_the_least_recently_used_entry_goes_first() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # "a" is now the most recently used
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c"), len(recent)) == (1, None, 3, 2)


def test_putting_a_key_again_replaces_its_entry_and_refreshes_it() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 10)
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (10, None, 3)


def test_entries_longer_than_largest_are_not_kept() -> None:
    recent: Recent[str, bytes] = Recent(4, largest=3)
    recent.put("small", b"abc")
    recent.put("large", b"abcd")
    assert (recent.get("small"), recent.get("large"), len(recent)) == (b"abc", None, 1)
