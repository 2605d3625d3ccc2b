"""The unread-messages badge of the main menu: counted once per page, and only on pages that show it."""

from __future__ import annotations

import functools

from django.http import HttpRequest

from . import selectors


def unread_messages(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    if actor is None or not getattr(request.user, "is_authenticated", False):
        return {}
    # A callable: the template calls it where the badge is drawn (one query), never on pages without a menu.
    return {"unread_messages": functools.cache(lambda: selectors.unread_count_for(actor))}
