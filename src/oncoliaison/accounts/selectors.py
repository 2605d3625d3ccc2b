"""Reads of accounts data, always given the actor."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from oncoliaison.core import clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor

from .models import ApiClient


def api_client_list_for(actor: Actor) -> QuerySet[ApiClient]:
    """The API clients of the organisations the actor administers, with their live token counts and last use."""
    require_admin(actor)
    return (
        ApiClient.objects.filter(organization_id__in=actor.admin_organization_ids())
        .select_related("organization")
        .annotate(live_tokens=Count("tokens", filter=Q(tokens__revoked_at__isnull=True,
                                                        tokens__expires_at__gt=clock.now())))
        .order_by("-active", "organization__name", "name")
    )
