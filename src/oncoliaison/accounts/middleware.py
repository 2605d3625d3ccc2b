"""Per-request actor, inactivity log-off and the staff MFA requirement."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .services import actor_for_user
from .session import second_factor_pending

# A page's automatic refresh (e.g. an attendee's screen following the tumor-board presenter) sends this header:
# it is not activity, so it neither pushes the inactivity log-off back nor writes the session.
BACKGROUND_HEADER = "X-Background-Refresh"

# Paths a signed-in person may reach before completing the second factor.
_MFA_EXEMPT = ("/accounts/", "/static/", "/healthz", "/fhir", "/api")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        source = getattr(request, "source_address", "")
        request.actor = SimpleLazyObject(  # type: ignore[attr-defined]  # our own request attribute (core.views.actor_of)
            lambda: actor_for_user(user if user.is_authenticated else None, source_address=source)
        )
        if user.is_authenticated:
            # Sliding inactivity timeout: every request the person makes pushes the expiry forward.
            minutes = (
                settings.STAFF_IDLE_TIMEOUT_MINUTES
                if getattr(user, "kind", "staff") == "staff"
                else settings.PATIENT_IDLE_TIMEOUT_MINUTES
            )
            if not request.headers.get(BACKGROUND_HEADER):
                request.session.set_expiry(minutes * 60)
            if second_factor_pending(user, request.session) and not request.path.startswith(_MFA_EXEMPT):
                return HttpResponseRedirect(reverse("accounts:mfa"))
        return self.get_response(request)
