"""Refused requests are audited in every door: each 401 and 403 of the pages, the JSON API and the FHIR
API writes an ACCESS_DENIED row (ONC §170.315(d)(2): attempts as well as accesses).

A 401 has no actor: its row carries the source address and the channel.  When the URL names a record,
the row records the patient it belongs to (``register_route_owner``) so that the patient's organisation
sees the attempt in its audit view; ``auditlog.selectors.audit_events_reviewable_by`` hides that patient
from everyone else, and the answer to the request is the same whether or not the record exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest

from . import audit
from .actor import Actor

RouteOwner = Callable[[object], int | None]
_ROUTE_OWNERS: dict[str, RouteOwner] = {}


def register_route_owner(kwarg: str, lookup: RouteOwner) -> None:
    """URL keyword ``kwarg`` (e.g. "patient_id") names a record; ``lookup(value)`` is its patient or None.
    Domains register theirs in ``AppConfig.ready``."""
    _ROUTE_OWNERS[kwarg] = lookup


def route_owner_patient_id(kwargs: Mapping[str, object]) -> int | None:
    for name, value in kwargs.items():
        lookup = _ROUTE_OWNERS.get(name)
        patient_id = lookup(value) if lookup is not None else None
        if patient_id is not None:
            return patient_id
    return None


def audit_refused_request(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    channel: str,
    actor: Actor | None = None,
    category: str = "",
    resource_type: str = "",
    resource_id: str = "",
    patient_id: int | None = None,
) -> None:
    """One ACCESS_DENIED row for a request answered ``status`` (401 or 403); ``message`` is the answer's
    own sentence (written by us, never data)."""
    if actor is None or not actor.is_authenticated:
        actor = Actor(kind="anonymous", source_address=getattr(request, "source_address", ""))
    match: Any = getattr(request, "resolver_match", None)
    kwargs: Mapping[str, object] = getattr(match, "kwargs", None) or {}
    if patient_id is None:
        patient_id = route_owner_patient_id(kwargs)
    if not resource_id:
        resource_id = next((str(v) for v in kwargs.values() if str(v).isdigit()), "")
    route = str(getattr(match, "route", "") or "")
    audit.log_refused(actor, category=category, resource_type=resource_type, resource_id=resource_id[:64],
                      patient_id=patient_id, detail=f"{status} {request.method} /{route}: {message}"[:300],
                      channel=channel)
