"""``{% call_care_team contacts "urgent" %}``: the one place that renders "call …" with a number.

``contacts`` is an ``organisations.rules.ContactPoints`` (``patients.selectors.contact_points_for``).  The
line is ``urgent`` (the 24-hour line), ``office`` (with its hours) or ``both``.  The number is a ``tel:``
link in the page's language; where none is configured, patients get the 911/988 safety wording and staff
also a configuration warning — never "call us" with nothing to call."""

from __future__ import annotations

from typing import Any

from django import template

from oncoliaison.organisations.rules import ContactPoints

register = template.Library()

LINES = ("urgent", "office", "both")


@register.inclusion_tag("includes/call_care_team.html", takes_context=True)
def call_care_team(context: template.Context, contacts: ContactPoints | None, line: str = "urgent") -> dict[str, Any]:
    if line not in LINES:
        raise template.TemplateSyntaxError(f"call_care_team: line must be one of {', '.join(LINES)}")
    actor = context.get("actor")
    contacts = contacts or ContactPoints(organisation="")
    urgent = line in ("urgent", "both")
    office = line in ("office", "both")
    show_urgent = urgent and bool(contacts.urgent_phone)
    show_office = office and bool(contacts.office_phone)
    return {
        "contacts": contacts,
        "show_urgent": show_urgent,
        "show_office": show_office,
        "fallback": not (show_urgent or show_office),  # no number for this instruction: the safety wording
        "staff": getattr(actor, "kind", "") == "staff",
        "missing": [m for m in contacts.missing if (urgent and m == "urgent line") or (office and m == "office line")],
    }
