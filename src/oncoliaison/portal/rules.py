"""Pure rules of the portal: what each caregiver-proxy scope allows, invitation lifetimes."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from oncoliaison.patients.models import ProxyScope

# What each scope lets the caregiver do, in the patient's words (the grant form and the list of grants).
SCOPE_CHOICES = [
    (ProxyScope.VIEW, _("View only — see my care team, plan, appointments and symptom history")),
    (ProxyScope.REPORT, _("View and report symptoms on my behalf")),
    (ProxyScope.MESSAGE, _("View, report, and send secure messages to my care team")),
]

INVITATION_LIFETIME = dt.timedelta(days=7)
# A patient's portal is not a mailer: at most this many caregiver invitations per patient per day.
CAREGIVER_INVITATIONS_PER_DAY = 10


class ProxyAction:
    VIEW = "view"
    REPORT = "report"
    MESSAGE = "message"


# Each scope includes the ones before it: view < report on my behalf < message the team.
_ALLOWED: dict[str, frozenset[str]] = {
    ProxyScope.VIEW: frozenset({ProxyAction.VIEW}),
    ProxyScope.REPORT: frozenset({ProxyAction.VIEW, ProxyAction.REPORT}),
    ProxyScope.MESSAGE: frozenset({ProxyAction.VIEW, ProxyAction.REPORT, ProxyAction.MESSAGE}),
}


def proxy_scope_allows(scope: str, action: str) -> bool:
    """Whether a caregiver holding ``scope`` may take ``action`` for the patient."""
    return action in _ALLOWED.get(scope, frozenset())


def proxy_scopes_allowing(action: str) -> frozenset[str]:
    """The scopes that allow ``action`` (for filtering consents in the database)."""
    return frozenset(scope for scope, actions in _ALLOWED.items() if action in actions)


def invitation_usable(*, expires_at: dt.datetime, accepted_at: dt.datetime | None,
                      revoked_at: dt.datetime | None, now: dt.datetime) -> str:
    """'' when the invitation may be accepted, else the reason it may not."""
    if accepted_at is not None:
        return "used"
    if revoked_at is not None:
        return "revoked"
    if now >= expires_at:
        return "expired"
    return ""
