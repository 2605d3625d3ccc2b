"""The one way a signed-in browser session becomes an actor, for every door (pages, JSON API, FHIR).

A staff member who must use a second factor (``MFA_REQUIRED_FOR_STAFF``) and has not completed it in this
session is not signed in as far as any door is concerned: the pages send them to the second step, the JSON
API and FHIR answer 401.  A bearer token becomes an actor in ``services.actor_for_bearer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from oncoliaison.core.actor import Actor

from .services import actor_for_user

MFA_SESSION_KEY = "mfa_verified"


def second_factor_pending(user: Any, session: Mapping[str, Any]) -> bool:
    """True when this signed-in person must still complete the second sign-in step."""
    return bool(settings.MFA_REQUIRED_FOR_STAFF and getattr(user, "kind", "") == "staff"
                and not session.get(MFA_SESSION_KEY))


def session_actor(request: HttpRequest) -> Actor | None:
    """The signed-in, active person of this request's session, or None (nobody, or the second factor is
    pending).  Built once per request (``request.actor``, set lazily by SessionPolicyMiddleware)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if second_factor_pending(user, request.session):
        return None
    actor = getattr(request, "actor", None)
    if actor is not None:
        return cast(Actor, actor)
    return actor_for_user(user, source_address=getattr(request, "source_address", ""))
