"""Reads of patient data, always given the actor.  "Missing" and "not yours" look the same."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction

from .models import CareTeam, Consent, ConsentKind, ConsentStatus, Patient


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
    orgs = actor.clinical_organization_ids
    if not orgs:
        return None
    shared = active_consents().filter(kind=ConsentKind.DATA_SHARING, grantee_organization_id__in=orgs)
    org_field = f"{path}__organization_id__in" if path else "organization_id__in"
    return Q(**{org_field: orgs}) | Q(**{f"{pk}__in": shared.values("patient_id")})


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
    return bool(actor.clinical_organization_ids)


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
        audit.log(actor, AuditAction.ACCESS_DENIED, category=category, resource_type="Patient",
                  resource_id=pid, outcome="denied", channel=channel)
        raise NotFound()
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
    qs = patient_queryset_for(actor)
    for word in text.split():
        w = word.casefold()
        qs = qs.filter(Q(family_name_search__startswith=w) | Q(given_name_search__startswith=w))
    if birth_date:
        qs = qs.filter(birth_date=birth_date)
    if identifier:
        qs = qs.filter(identifiers__value=identifier.strip())
    return qs.select_related("organization").distinct()


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
