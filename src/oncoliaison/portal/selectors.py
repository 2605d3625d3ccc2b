"""Reads of the portal, always given the actor: whose portal, with which proxy scope, what to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.patients.models import CareTeamStatus, Consent, ConsentKind, Patient, ProxyScope
from oncoliaison.patients.selectors import access_patient, active_consents

from .models import InvitationKind, PortalInvitation
from .rules import SCOPE_CHOICES, ProxyAction, proxy_scope_allows

_SCOPE_RANK: dict[str, int] = {ProxyScope.VIEW: 1, ProxyScope.REPORT: 2, ProxyScope.MESSAGE: 3}


@dataclass(frozen=True)
class PortalSubject:
    """Whose portal a page shows and on what footing: the patient themself, or a proxy with a scope."""

    patient: Patient
    scope: str | None  # None: the patient themself

    @property
    def is_proxy(self) -> bool:
        return self.scope is not None

    def allows(self, action: str) -> bool:
        return self.scope is None or proxy_scope_allows(self.scope, action)

    @property
    def scope_label(self) -> str:
        labels: dict[str, Any] = dict(SCOPE_CHOICES)
        return str(labels.get(self.scope or "", ""))


def proxy_scope_for(actor: Actor, patient_id: int) -> str | None:
    """The widest active proxy scope ``actor`` (a caregiver) holds for the patient, or None."""
    scopes = active_consents().filter(
        kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id, patient_id=patient_id
    ).values_list("proxy_scope", flat=True)
    return max(scopes, key=lambda s: _SCOPE_RANK.get(s, 0), default=None)


def portal_subject_for(actor: Actor, patient_id: int | str | None = None, *, need: str = ProxyAction.VIEW,
                       category: str = "portal", channel: str = "web") -> PortalSubject:
    """The patient a portal page is about, audited as a read.

    A patient gets themself; a caregiver gets a patient who granted them active proxy access (anyone else
    is the same 404 as a patient who does not exist) and is refused (403) an action their scope lacks.
    Staff and others are refused: the portal is for patients and their caregivers.
    """
    if actor.kind == "patient":
        if actor.own_patient_id is None or (patient_id is not None and str(patient_id) != str(actor.own_patient_id)):
            raise NotFound()
        patient = access_patient(actor, actor.own_patient_id, category=category, channel=channel)
        return PortalSubject(patient, None)
    if actor.kind == "caregiver":
        if patient_id is None:
            raise NotFound()
        patient = access_patient(actor, patient_id, category=category, channel=channel)
        scope = proxy_scope_for(actor, patient.pk)
        if scope is None:  # consent ended between the two reads
            raise NotFound()
        if not proxy_scope_allows(scope, need):
            raise Forbidden(_scope_refusal(need))
        return PortalSubject(patient, scope)
    raise Forbidden("The portal is for patients and their caregivers.")


def _scope_refusal(need: str) -> str:
    from django.utils.translation import gettext as _

    if need == ProxyAction.REPORT:
        return _("Your access lets you view only. Ask the patient to let you report on their behalf.")
    if need == ProxyAction.MESSAGE:
        return _("Your access does not include messaging the care team. Ask the patient to allow it.")
    return _("Your access does not include this.")


def caregiver_grants_for(actor: Actor) -> list[Consent]:
    """The patients who have given this caregiver access, with the scope (no patient data beyond names)."""
    if actor.kind != "caregiver":
        raise Forbidden("This page is for caregivers.")
    return list(
        active_consents()
        .filter(kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id)
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name", "id")
    )


@dataclass
class SupportPerson:
    consent: Consent
    pending: bool  # invited, account not set up yet
    invitation: PortalInvitation | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def support_network_for(actor: Actor, patient: Patient) -> list[SupportPerson]:
    """The patient's caregiver-proxy grants (active and ended), newest first.  Only the patient."""
    if actor.kind != "patient" or actor.own_patient_id != patient.pk:
        raise Forbidden("Only the patient manages their support network.")
    consents = list(
        Consent.objects.filter(patient=patient, kind=ConsentKind.CAREGIVER_PROXY)
        .select_related("grantee_user")
        .order_by("-status", "-created_at", "-id")
    )
    invitations: dict[int, PortalInvitation] = {}
    for inv in PortalInvitation.objects.filter(
        consent__in=consents, kind=InvitationKind.CAREGIVER, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("created_at"):
        assert inv.consent_id is not None
        invitations[inv.consent_id] = inv
    active_ids = set(active_consents().filter(pk__in=[c.pk for c in consents]).values_list("pk", flat=True))
    people = []
    for c in consents:
        pending = bool(c.grantee_user and not c.grantee_user.is_active)
        people.append(SupportPerson(c, pending, invitations.get(c.pk), {"active": c.pk in active_ids}))
    return people


def proxy_consent_for(actor: Actor, patient: Patient, consent_id: int | str) -> Consent:
    """One of the patient's caregiver grants, for the patient to change; anything else is not found."""
    if actor.kind != "patient" or actor.own_patient_id != patient.pk:
        raise NotFound()
    try:
        pk = int(consent_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    consent = Consent.objects.filter(pk=pk, patient=patient, kind=ConsentKind.CAREGIVER_PROXY).first()
    if consent is None:
        raise NotFound()
    return consent


def care_team_for(patient: Patient) -> list[dict[str, str]]:
    """The people on the patient's active care teams: name, role and organisation (for the portal)."""
    from oncoliaison.patients.models import CareTeamParticipant

    rows = (
        CareTeamParticipant.objects.filter(care_team__patient=patient, care_team__status=CareTeamStatus.ACTIVE,
                                           end__isnull=True)
        .select_related("user", "care_team__organization")
        .order_by("care_team__name", "id")
    )
    return [
        {"name": r.user.get_full_name() or r.user.username, "role": r.role_label,
         "organisation": r.care_team.organization.name}
        for r in rows
    ]


def invitations_for_patient(actor: Actor, patient: Patient) -> QuerySet[PortalInvitation]:
    """Staff view of a patient's portal invitations (``patient`` from an access guard)."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("This needs a care role.")
    return PortalInvitation.objects.filter(patient=patient, kind=InvitationKind.PATIENT).select_related("created_by")
