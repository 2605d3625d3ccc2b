"""E-mail notices: what every domain's ``notifications.py`` builds and its tasks send.

A notice names no patient, identifier, symptom or message content — only that something waits, with a link
to the page where a signed-in person reads it.  Each domain keeps the texts of its notices together in one
module (``<domain>/notifications.py``), so that they are reviewed, translated and checked in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def absolute_url(path: str, base: str = "") -> str:
    """A link for an e-mail: ``path`` under ``base`` or PUBLIC_BASE_URL (the path alone when neither is set)."""
    root = (base or settings.PUBLIC_BASE_URL).rstrip("/")
    return root + path if root else path
