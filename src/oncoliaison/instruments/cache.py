"""The one cache of instrument rows (versions, items, canonical look-ups, domains' scoring definitions).

Loaded versions never change in place while they are used, so reads are remembered for the process; a loader
(or a test that empties the database) calls ``clear()``.  Only found values are remembered, never "none".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_entries: dict[tuple[str, Hashable], Any] = {}


def remember(namespace: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The value cached under ``(namespace, key)``, computed (and kept unless None) the first time."""
    try:
        value: T = _entries[(namespace, key)]
        return value
    except KeyError:
        pass
    value = compute()
    if value is not None:
        _entries[(namespace, key)] = value
    return value


def clear() -> None:
    """Forget every cached instrument row (after loading instruments, or when a test database is emptied)."""
    _entries.clear()
