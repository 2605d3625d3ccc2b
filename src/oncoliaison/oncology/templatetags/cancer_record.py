"""Template filters of the cancer record: a code system's name instead of its URI, and where a row came from."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from oncoliaison.oncology import codes
from oncoliaison.oncology.entry import REFERRAL_SOURCE

register = template.Library()


@register.filter
def code_system(system: str) -> str:
    """'SNOMED CT' for http://snomed.info/sct."""
    return codes.system_name(system or "")


def _when(value: Any) -> str:
    if value is None:
        return ""
    return f"{timezone.localdate(value):%Y-%m-%d}"


@register.filter
def provenance(obj: Any) -> str:
    """Who entered a row, or where it was imported from; and whether it was corrected since."""
    source = getattr(obj, "source_system", "") or ""
    if source == REFERRAL_SOURCE:
        number = str(getattr(obj, "source_id", "")).rsplit("/", 1)[-1]
        text = f"From referral #{number}, as the referrer reported it ({_when(obj.created_at)})"
    elif source:
        text = f"Imported from {source} on {_when(obj.created_at)}"
    elif getattr(obj, "entered_by_id", None):
        user = obj.entered_by
        text = f"Entered by {user.get_full_name() or user.username} on {_when(obj.created_at)}"
    else:
        text = f"Recorded on {_when(getattr(obj, 'created_at', None))}"
    version = getattr(obj, "version", 1) or 1
    if version > 1:
        text += f"; corrected (version {version})"
    return text
