"""Reads of patient data, always given the actor.  "Missing" and "not yours" look the same."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from oncoliaison.core import audit, clock
from oncoliaison.core.access import owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.organisations.models import Role
from oncoliaison.organisations.rules import ContactPoints, merge
from oncoliaison.organisations.selectors import contact_points_of

from . import rules
from .models import CareTeam, Consent, ConsentKind, ConsentStatus, EmergencyAccess, Patient


def active_consents(today: dt.date | None = None) -> QuerySet[Consent]:
    today = today or clock.today()
    return Consent.objects.filter(status=ConsentStatus.ACTIVE).filter(
        Q(period_start__isnull=True) | Q(period_start__lte=today),
        Q(period_end__isnull=True) | Q(period_end__gte=today),
    )


def patient_access_q(actor: Actor, path: str = "") -> Q | None:
    """A filter on rows linked to a patient through ``path`` (e.g. "patient"; "" for Patient itself) that
    keeps only what ``actor`` may see, or None when they may see no patient.

    It is written on the row's own columns and its patient's, so the database applies it to rows an index
    already narrowed down instead of first computing every visible patient."""
    pk = f"{path}_id" if path else "pk"
    if actor.kind == "patient":
        return Q(**{pk: actor.own_patient_id}) if actor.own_patient_id else None
    if actor.kind == "caregiver":
        shared = active_consents().filter(kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id)
        return Q(**{f"{pk}__in": shared.values("patient_id")})
    orgs = actor.patient_care_organization_ids
    emergency = Q(**{f"{pk}__in": sorted(actor.emergency_patient_ids)}) if actor.emergency_access else None
    if not orgs:
        return emergency
    shared = active_consents().filter(kind=ConsentKind.DATA_SHARING, grantee_organization_id__in=orgs)
    org_field = f"{path}__organization_id__in" if path else "organization_id__in"
    q = Q(**{org_field: orgs}) | Q(**{f"{pk}__in": shared.values("patient_id")})
    return q | emergency if emergency is not None else q


def visible_patient_ids_q(actor: Actor) -> Q | None:
    """A filter on Patient for what ``actor`` may see, or None when they may see no patient."""
    return patient_access_q(actor)


def patient_queryset_for(actor: Actor) -> QuerySet[Patient]:
    q = visible_patient_ids_q(actor)
    if q is None:
        return Patient.objects.none()
    return Patient.objects.filter(q)


def may_see_patients(actor: Actor) -> bool:
    """Whether ``patient_access_q(actor)`` is not None, without building it (no query to compile)."""
    if actor.kind == "patient":
        return bool(actor.own_patient_id)
    if actor.kind == "caregiver":
        return True
    return bool(actor.patient_care_organization_ids) or bool(actor.emergency_access)


def require_patient_access_role(actor: Actor) -> None:
    """Listing or searching patients needs a care role (or being a patient / caregiver)."""
    if not may_see_patients(actor):
        raise Forbidden("Your role does not give access to patient records.")


def access_patient(actor: Actor, patient_id: int | str, *, category: str = "demographics", channel: str = "",
                   audit_read: bool = True) -> Patient:
    """The patient if ``actor`` may see them, else NotFound (and a denied audit row)."""
    try:
        pid = int(patient_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    patient = patient_queryset_for(actor).select_related("organization").filter(pk=pid).first()
    if patient is None:
        audit.log_refused(actor, category=category, resource_type="Patient", resource_id=pid,
                          patient_id=owner_patient_id(Patient, pid, "pk"), channel=channel)
        raise NotFound(audited=True)
    if audit_read:
        audit.log(actor, AuditAction.READ, category=category, resource_type="Patient", resource_id=pid,
                  patient_id=pid, channel=channel)
    return patient


def patient_search_for(
    actor: Actor,
    *,
    text: str = "",
    birth_date: dt.date | None = None,
    identifier: str = "",
) -> QuerySet[Patient]:
    """Patients matching a free-text name, a birth date and/or an identifier value (no audit: callers
    audit the page they disclose)."""
    require_patient_access_role(actor)
    return _matching(patient_queryset_for(actor), text=text, birth_date=birth_date, identifier=identifier)


def _matching(qs: QuerySet[Patient], *, text: str = "", birth_date: dt.date | None = None,
              identifier: str = "") -> QuerySet[Patient]:
    for word in text.split():
        w = word.casefold()
        qs = qs.filter(Q(family_name_search__startswith=w) | Q(given_name_search__startswith=w))
    if birth_date:
        qs = qs.filter(birth_date=birth_date)
    if identifier:
        qs = qs.filter(identifiers__value=identifier.strip())
    return qs.select_related("organization").distinct()


def patient_audit_choices_for(actor: Actor, *, text: str = "", identifier: str = "",
                              pk: int | None = None) -> QuerySet[Patient]:
    """Patients whose audit trail the actor reviews — those of the organisations they administer or are
    privacy officer of — to choose one on the audit report.  Name and MRN only: opening the record itself
    still goes through ``access_patient`` (no clinical content for an administrator).  No audit: the caller
    audits what it shows."""
    orgs = (actor.admin_organization_ids() | privacy_officer_organization_ids(actor)) if actor.kind == "staff" \
        else frozenset()
    if not orgs:
        raise Forbidden("The audit trail is for program administrators and privacy officers.")
    qs = Patient.objects.filter(organization_id__in=orgs)
    if pk is not None:
        return qs.filter(pk=pk)
    return _matching(qs, text=text, identifier=identifier)


def care_team_queryset_for(actor: Actor) -> QuerySet[CareTeam]:
    q = visible_patient_ids_q(actor)
    if q is None:
        return CareTeam.objects.none()
    return CareTeam.objects.filter(patient__in=Patient.objects.filter(q).values("pk"))


def consent_queryset_for(actor: Actor) -> QuerySet[Consent]:
    """Consents of visible patients; caregivers also see the proxy consents given to them."""
    q = visible_patient_ids_q(actor)
    if q is None:
        return Consent.objects.none()
    qs = Consent.objects.filter(patient__in=Patient.objects.filter(q).values("pk"))
    if actor.kind == "caregiver":
        qs = qs.filter(grantee_user_id=actor.user_id)
    return qs


def current_participant_q(today: dt.date | None = None, prefix: str = "") -> Q:
    """Care-team participants who are members today.  A period that ends today has ended: a hand-off of a
    patient to another navigator ends the previous navigator's period on the day it happens."""
    today = today or clock.today()
    return (Q(**{f"{prefix}start__isnull": True}) | Q(**{f"{prefix}start__lte": today})) & (
        Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gt": today}))


# --- emergency access (break-glass) ---------------------------------------------------------------------


def emergency_access_in_force_for(actor: Actor) -> list[EmergencyAccess]:
    """The actor's own sessions in force, with their patients (for the banner on every page)."""
    if not actor.emergency_access:
        return []
    return list(EmergencyAccess.objects.filter(pk__in=[aid for _, aid in actor.emergency_access])
                .select_related("patient").order_by("expires_at"))


def may_break_glass(actor: Actor) -> bool:
    if actor.kind != "staff":
        return False
    allowed = rules.emergency_access_organizations(actor.memberships, {})
    return allowed is None or bool(allowed)


def privacy_officer_organization_ids(actor: Actor) -> frozenset[int]:
    if actor.kind != "staff":
        return frozenset()
    return frozenset(org for org, role, _ in actor.memberships if role == Role.PRIVACY_OFFICER)


def emergency_access_queryset_for(actor: Actor) -> QuerySet[EmergencyAccess]:
    """Sessions the actor reviews: those on patients of organisations where they are privacy officer."""
    orgs = privacy_officer_organization_ids(actor)
    if not orgs:
        return EmergencyAccess.objects.none()
    return EmergencyAccess.objects.filter(organization_id__in=orgs)


def emergency_access_review_list_for(actor: Actor, *, unreviewed_only: bool = False,
                                     limit: int = 200) -> list[EmergencyAccess]:
    """Break-glass sessions for the privacy officer, newest first, each with ``accesses``: the audit rows
    written during it (what was opened, read or changed).  The patients named are audited as disclosed."""
    if not privacy_officer_organization_ids(actor):
        raise Forbidden("The emergency-access review is for privacy officers.")
    qs = emergency_access_queryset_for(actor).select_related("user", "patient", "reviewed_by")
    if unreviewed_only:
        qs = qs.filter(reviewed_at__isnull=True)
    sessions = list(qs.order_by("-started_at")[:limit])
    for s in sessions:
        s.accesses = list(  # type: ignore[attr-defined]  # shown by the review page
            AuditEvent.objects.filter(user_id=s.user_id, recorded_at__gte=s.started_at,
                                      detail__startswith=f"{audit.EMERGENCY_MARK}{s.pk};")
            .order_by("seq").only("recorded_at", "action", "category", "resource_type", "resource_id", "detail")
        )
    audit.log_patients_read(actor, [s.patient_id for s in sessions], category="emergency-access",
                            resource_type="EmergencyAccess", channel="web")
    return sessions


def contact_points_for(patient: Patient) -> ContactPoints:
    """The numbers this patient is told to call: their managing organisation's urgent and office lines,
    overridden by an active care team of that organisation that has its own (``patient`` comes from an
    access guard; the numbers themselves are the program's, not patient data)."""
    base = contact_points_of(patient.organization)
    team = (
        CareTeam.objects.filter(patient=patient, organization_id=patient.organization_id, status="active")
        .exclude(urgent_phone="", office_phone="").order_by("-updated_at", "-id")
        .values_list("urgent_phone", "office_phone").first()
    )
    return merge(base, *team) if team else base


# --- lists of a patient's records, as every door discloses them -----------------------------------------
# A list discloses its rows: one SEARCH audit row for the patient whose rows it returned (none when it
# returned none), with the category and resource type the FHIR mappers declare — the same rows whichever
# door asked (tests/test_door_contract.py).

CARE_TEAM_CATEGORY = "care_team"
CONSENT_CATEGORY = "consent"


def care_teams_of(actor: Actor, patient: Patient, *, channel: str) -> list[CareTeam]:
    """The patient's care teams the actor may see, oldest first, with their members; audited."""
    rows = list(care_team_queryset_for(actor).filter(patient=patient).select_related("organization")
                .prefetch_related("participants__user").order_by("id"))
    if rows:
        audit.log_patients_read(actor, [patient.pk], category=CARE_TEAM_CATEGORY, resource_type="CareTeam",
                                action=AuditAction.SEARCH, channel=channel)
    return rows


def consents_of(actor: Actor, patient: Patient, *, channel: str) -> list[Consent]:
    """The patient's consents the actor may see, oldest first; audited."""
    rows = list(consent_queryset_for(actor).filter(patient=patient)
                .select_related("organization", "grantee_organization", "patient").order_by("id"))
    if rows:
        audit.log_patients_read(actor, [patient.pk], category=CONSENT_CATEGORY, resource_type="Consent",
                                action=AuditAction.SEARCH, channel=channel)
    return rows

