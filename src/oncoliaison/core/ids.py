"""Record ids as they arrive from outside: URL segments, FHIR references, JSON fields.

Primary keys are 64-bit signed integers (``BigAutoField``) on both databases.  A number outside
1 … 2**63-1 names no record; passed to a query it overflows in the database driver (SQLite's
``OverflowError``, PostgreSQL's ``NumericValueOutOfRange``) and the request fails with a 500.  Every door
reads ids through this module instead, so an impossible id is "not found" (URLs, FHIR reads and search
references) or a 422 naming the field (JSON bodies and query parameters, through ``core.schemas.Id``).
"""

from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))  # 19


def parse_id(text: str) -> int | None:
    """``"123"`` -> 123; anything that cannot be a primary key (not digits, 0, above 2**63-1) -> None."""
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class IdConverter:
    """The ``<id:name>`` / ``{id:name}`` path converter: a primary key, or no match (a 404 for the route).

    Use it instead of Django's ``int`` converter for any segment that names a record."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError("not a record id")  # Django: this pattern does not match
        return parsed

    def to_url(self, value: int | str) -> str:
        return str(value)


register_converter(IdConverter, "id")
