"""Template helpers of the portal."""

from __future__ import annotations

from django import template

from oncoliaison.core.actor import Actor

register = template.Library()


@register.simple_tag
def may_use_messages(actor: Actor | None) -> bool:
    """Whether to offer the secure-message inbox (view-only and report-only proxies are not)."""
    if actor is None or not actor.is_authenticated:
        return False
    from oncoliaison.messaging.selectors import may_use_messages as allowed

    return allowed(actor)
