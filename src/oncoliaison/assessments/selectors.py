"""Reads of instruments, assessments, scores and suggestions — always given the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import Instrument, InstrumentVersion, Purpose
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

from . import rules
from .models import Assessment, AssessmentStatus, ReferralSuggestion

CATEGORY = "assessment"
PURPOSE = Purpose.NEEDS_ASSESSMENT


def acting_organization_id(actor: Actor, patient: Patient) -> int | None:
    """The organisation an assessment of ``patient`` is taken under for ``actor``.

    Staff: the patient's managing organisation when they hold a care role there, else their first care
    organisation (patients shared by consent).  Patients, caregivers: the managing organisation.  Systems: the
    client's organisation.
    """
    if actor.kind in {"patient", "caregiver"}:
        return patient.organization_id
    if actor.is_system:
        return actor.client_organization_id
    orgs = actor.clinical_organization_ids
    if patient.organization_id in orgs:
        return patient.organization_id
    return min(orgs) if orgs else None


def current_version(instrument: Instrument) -> InstrumentVersion | None:
    return instruments.current_version(instrument)


def instrument_list_for(actor: Actor) -> list[dict[str, object]]:
    """Every instrument with its current version and whether it is on for the actor's organisation."""
    if actor.kind not in {"staff", "system"}:
        raise Forbidden("Instrument settings are for staff.")
    org_id = actor.primary_organization_id
    rows: list[dict[str, object]] = []
    for instrument in instruments.instruments_for_purpose(PURPOSE).order_by("title"):
        enabled, why = instrument_enabled_for(instrument, org_id)
        rows.append({
            "instrument": instrument,
            "version": current_version(instrument),
            "enabled": enabled,
            "why": why,
            "permission": instruments.recorded_permission(instrument, org_id),
        })
    return rows


def instrument_get(code: str) -> Instrument:
    instrument = instruments.instrument_by_code(code, purpose=PURPOSE)
    if instrument is None:
        raise NotFound()
    return instrument


def available_versions_for(actor: Actor, patient: Patient) -> list[InstrumentVersion]:
    """Current versions of the instruments the actor may use for this patient now."""
    org_id = acting_organization_id(actor, patient)
    out = []
    for instrument in instruments.instruments_for_purpose(PURPOSE).order_by("title"):
        version = current_version(instrument)
        if version is not None and instrument_enabled_for(instrument, org_id)[0]:
            out.append(version)
    return out


def assessment_queryset_for(actor: Actor) -> QuerySet[Assessment]:
    if actor.is_system and not actor.allows("QuestionnaireResponse", "r"):
        return Assessment.objects.none()
    qs = Assessment.objects.filter(patient__in=patient_queryset_for(actor).values("pk"))
    if actor.kind in {"patient", "caregiver"}:
        qs = qs.exclude(status=AssessmentStatus.ENTERED_IN_ERROR)
    return qs


def assessment_get_for(actor: Actor, pk: object, *, channel: str = "") -> Assessment:
    """One assessment the actor may see (same NotFound for missing and not visible); audited read."""
    qs = assessment_queryset_for(actor).select_related(
        "patient", "patient__organization", "instrument_version", "instrument_version__instrument", "author"
    )
    try:
        assessment = get_visible_or_404(qs, pk)
    except NotFound:
        audit.log_refused(actor, category=CATEGORY, resource_type="QuestionnaireResponse",
                          resource_id=str(pk)[:64], patient_id=owner_patient_id(Assessment, pk), channel=channel)
        raise
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="QuestionnaireResponse",
              resource_id=assessment.pk, patient_id=assessment.patient_id, channel=channel)
    return assessment


def assessment_list_for_patient(actor: Actor, patient: Patient) -> QuerySet[Assessment]:
    """Assessments of a patient obtained through access_patient (which audited the read)."""
    return (
        assessment_queryset_for(actor)
        .filter(patient=patient)
        .select_related("instrument_version", "instrument_version__instrument", "author")
        .prefetch_related("scores")
    )


def suggestion_queryset_for(actor: Actor) -> QuerySet[ReferralSuggestion]:
    return ReferralSuggestion.objects.filter(assessment__in=assessment_queryset_for(actor).values("pk"))


def suggestion_get_for(actor: Actor, pk: object) -> ReferralSuggestion:
    return get_visible_or_404(suggestion_queryset_for(actor).select_related("assessment"), pk)


def completed_assessments_for_patient(actor: Actor, patient: Patient) -> QuerySet[Assessment]:
    return assessment_list_for_patient(actor, patient).filter(
        status__in=[AssessmentStatus.COMPLETED, AssessmentStatus.AMENDED]
    )


def assessment_answers(assessment: Assessment) -> dict[str, list[object]]:
    """The stored answers as rules.Answers (link_id → codes or integers), in item order."""
    out: dict[str, list[object]] = {}
    for a in assessment.answers.all():
        out.setdefault(a.link_id, []).append(a.value_code or a.value_integer)
    return out


def assessment_outcome(assessment: Assessment) -> rules.Outcome:
    """Re-derive findings and suggestions from the stored answers with the version's own rules."""
    return rules.evaluate(assessment.instrument_version.definition, assessment_answers(assessment))
