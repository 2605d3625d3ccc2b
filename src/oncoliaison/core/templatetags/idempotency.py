"""``{% idempotency_key %}``: the hidden one-time key of a state-changing form (see ``core.idempotency``).

A builtin (settings ``TEMPLATES[...]["OPTIONS"]["builtins"]``), so forms need no ``{% load %}``: put it
beside ``{% csrf_token %}`` in every form that changes something."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from oncoliaison.core.idempotency import FORM_FIELD, new_key

register = template.Library()


@register.simple_tag
def idempotency_key() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, new_key())
