"""Template context: the signed-in person's break-glass sessions in force (a banner on every page)."""

from __future__ import annotations

from django.http import HttpRequest

from . import selectors


def emergency_access(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    if actor is None or getattr(actor, "kind", "") != "staff":
        return {}
    return {
        "emergency_sessions": selectors.emergency_access_in_force_for(actor),
        "may_break_glass": selectors.may_break_glass(actor),
        "is_privacy_officer": bool(selectors.privacy_officer_organization_ids(actor)),
    }
