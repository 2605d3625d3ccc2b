"""Record versions on the wire: the weak ETag every door sends (``W/"3"``) and the one parser of what
clients send back in ``If-Match`` / ``If-None-Match`` (``W/"3"``, ``"3"`` or ``3``)."""

from __future__ import annotations

import re

_ETAG = re.compile(r'^(W/)?"?(?P<v>\d{1,9})"?$')


def etag(version: int) -> str:
    return f'W/"{version}"'


def version_from_etag(header: str) -> int | None:
    """The version an ETag names, or None when the header is not a version ETag."""
    m = _ETAG.match(header.strip())
    return int(m["v"]) if m else None
