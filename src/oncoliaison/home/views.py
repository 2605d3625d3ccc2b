"""The home page after sign-in: what a staff member, a patient or a caregiver has to do today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.views import PAGE_SIZE, actor_of
from oncoliaison.organisations.models import Membership, Organization, OrganizationKind
from oncoliaison.organisations.selectors import organizations_missing_contact_points
from oncoliaison.patients.forms import LANGUAGES
from oncoliaison.patients.models import CareTeamParticipant, ConsentKind, Patient, PatientIdentifier
from oncoliaison.patients.selectors import (
    access_patient,
    active_consents,
    care_team_queryset_for,
    consent_queryset_for,
    current_participant_q,
    patient_queryset_for,
)
from oncoliaison.worklists.selectors import work_counts_for


def _active_count(model: type[Membership] | type[Patient]) -> Coalesce:
    """The number of the organisation's active rows of ``model``, as a subquery of Organization."""
    per_org = (model.objects.filter(organization=OuterRef("pk"), active=True).order_by()
               .values("organization").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(per_org, output_field=IntegerField()), 0)


def _staff_home(actor: Actor) -> dict[str, Any]:
    orgs = Organization.objects.filter(pk__in=actor.organization_ids).order_by("name")
    ctx: dict[str, Any] = {"organisations": list(orgs), "shown_patient_ids": []}
    clinical = actor.clinical_organization_ids
    ctx["clinical"] = bool(clinical)
    # Patients of these are told to call a number nobody configured (they see 911/988 instead).
    ctx["missing_contact_points"] = organizations_missing_contact_points(clinical)
    if clinical:
        ctx["work"] = work_counts_for(actor)
        mrns = Prefetch("identifiers", queryset=PatientIdentifier.objects.filter(type_code="MR"), to_attr="mrns")
        visible = patient_queryset_for(actor).prefetch_related(mrns)
        mine = (
            # Care teams the actor is a member of today (not those they were handed off from).
            visible.filter(current_participant_q(prefix="care_teams__participants__"),
                           care_teams__participants__user_id=actor.user_id or 0, care_teams__status="active")
            .select_related("organization")
            .distinct()
        )
        ctx["my_patient_count"] = mine.count()
        ctx["my_patients"] = list(mine[:PAGE_SIZE])
        ctx["shown_patient_ids"] += [p.pk for p in ctx["my_patients"]]
        partner_orgs = [o.pk for o in orgs if o.pk in clinical and o.kind == OrganizationKind.PARTNER_HOSPITAL]
        if partner_orgs:
            shared_ids = active_consents().filter(
                kind=ConsentKind.DATA_SHARING, grantee_organization_id__in=partner_orgs
            ).values("patient_id")
            shared = visible.filter(pk__in=shared_ids).exclude(organization_id__in=partner_orgs)
            ctx["shared_count"] = shared.count()
            ctx["shared_patients"] = list(shared.select_related("organization")[:PAGE_SIZE])
            ctx["shown_patient_ids"] += [p.pk for p in ctx["shared_patients"]]
    admin_orgs = actor.admin_organization_ids()
    if admin_orgs:
        since = clock.now() - dt.timedelta(days=1)
        ctx["admin_orgs"] = list(
            # Each count its own subquery: counting both over one join multiplied the members by the
            # patients (a COUNT(DISTINCT) over every member paired with every patient grew with the program's size).
            Organization.objects.filter(pk__in=admin_orgs)
            .annotate(member_count=_active_count(Membership), patient_count=_active_count(Patient))
            .order_by("name")
        )
        ctx["audit_today"] = AuditEvent.objects.filter(
            organization_id__in=admin_orgs, recorded_at__gte=since
        ).count()
        ctx["may_create_org"] = Organization.objects.filter(
            pk__in=admin_orgs, kind=OrganizationKind.LEAD_PROGRAM
        ).exists()
    ctx["roles"] = sorted({m.get_role_display() for m in Membership.objects.filter(
        user_id=actor.user_id or 0, active=True, organization__active=True)})
    return ctx


def _patient_home(actor: Actor) -> dict[str, Any]:
    if actor.own_patient_id is None:
        return {"no_record": True}
    patient = access_patient(actor, actor.own_patient_id, category="summary", channel="web")
    teams = care_team_queryset_for(actor).filter(patient=patient).prefetch_related(Prefetch(
        "participants", queryset=CareTeamParticipant.objects.filter(current_participant_q()).select_related("user")))
    consents = (
        consent_queryset_for(actor)
        .filter(patient=patient)
        .select_related("grantee_organization", "grantee_user")
        .order_by("-status", "-created_at")
    )
    return {"patient": patient, "care_teams": list(teams), "consents": list(consents),
            "language_name": dict(LANGUAGES).get(patient.preferred_language, patient.preferred_language)}


def _caregiver_home(actor: Actor) -> dict[str, Any]:
    grants = list(
        active_consents()
        .filter(kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id)
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name")
    )
    return {"grants": grants, "shown_patient_ids": [g.patient_id for g in grants]}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind == "patient":
        ctx = _patient_home(actor)
        template = "home/home_patient.html"
    elif actor.kind == "caregiver":
        ctx = _caregiver_home(actor)
        template = "home/home_caregiver.html"
    else:
        ctx = _staff_home(actor)
        template = "home/home.html"
    shown = ctx.pop("shown_patient_ids", [])
    if shown:
        audit.log_patients_read(actor, shown, category="patient-list", resource_type="Patient",
                                action=AuditAction.SEARCH, channel="web")
    return render(request, template, ctx)
