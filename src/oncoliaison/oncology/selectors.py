"""Reads of the cancer record, always given the actor.  "Missing" and "not yours" look the same."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Model, Prefetch, Q, QuerySet
from django.utils import timezone

from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.patients.models import CareTeam, CareTeamParticipant, Patient
from oncoliaison.patients.selectors import access_patient, care_team_queryset_for, patient_queryset_for

from . import rules
from .models import (
    ENTERED_IN_ERROR,
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    ConditionCategory,
    DiseaseStatus,
    GenomicVariant,
    ImportReview,
    Medication,
    ObservationKind,
    PerformanceStatus,
    Procedure,
    ProcedureKind,
    ReviewStatus,
    StageKind,
)

RECENT_LABS = 20
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class TimelineItem:
    when: dt.date | None
    until: dt.date | None
    kind: str  # surgery | radiotherapy | medication
    label: str
    detail: str
    status: str
    record_type: str = ""  # procedure | medication: what the correction page edits
    row: Procedure | Medication | None = None


@dataclass
class StageSnapshot:
    """The staging assessments of one date and type (clinical / pathological), T N M and group together."""

    when: dt.date | None
    stage_type: str
    system: str
    t: str = ""
    n: str = ""
    m: str = ""
    group: str = ""
    other: list[str] = field(default_factory=list)
    rows: list[CancerStage] = field(default_factory=list)


@dataclass
class CancerRecord:
    patient: Patient
    cancers: list[CancerCondition]
    comorbidities: list[CancerCondition]
    stage_history: list[StageSnapshot]
    tumor_markers: list[ClinicalObservation]
    tumor_findings: list[ClinicalObservation]
    labs: list[ClinicalObservation]
    genomic_variants: list[GenomicVariant]
    genomic_findings: list[ClinicalObservation]
    timeline: list[TimelineItem]
    other_treatments: list[TimelineItem]
    performance: list[PerformanceStatus]
    disease_statuses: list[DiseaseStatus]
    care_teams: list[CareTeam]
    open_issues: list[str]
    labs_total: int = 0


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def _stage_history(stages: list[CancerStage]) -> list[StageSnapshot]:
    """Group staging rows by (date, clinical/pathological); newest first."""
    snaps: dict[tuple[dt.date | None, str], StageSnapshot] = {}
    for s in stages:
        key = (s.effective_on, s.stage_type)
        snap = snaps.get(key)
        if snap is None:
            snap = snaps[key] = StageSnapshot(when=s.effective_on, stage_type=s.get_stage_type_display(),
                                              system=s.system_display)
        value = s.value_display or s.value_code
        snap.rows.append(s)
        if s.kind == StageKind.TNM_T:
            snap.t = value
        elif s.kind == StageKind.TNM_N:
            snap.n = value
        elif s.kind == StageKind.TNM_M:
            snap.m = value
        elif s.kind == StageKind.STAGE_GROUP:
            snap.group = value
        else:
            snap.other.append(f"{s.display or s.code}: {value}")
        if not snap.system and s.system_display:
            snap.system = s.system_display
    return sorted(snaps.values(), key=lambda x: (x.when or dt.date.min, x.stage_type), reverse=True)


def _treatments(procedures: list[Procedure], medications: list[Medication],
                cancer_ids: set[int]) -> tuple[list[TimelineItem], list[TimelineItem]]:
    cancer_items: list[TimelineItem] = []
    other_items: list[TimelineItem] = []
    for p in procedures:
        detail = ", ".join(x for x in (
            p.intent_display, p.body_site_display, p.laterality,
            f"{p.sessions} sessions" if p.sessions else "",
            f"{p.total_dose_cgy.normalize():f} cGy" if p.total_dose_cgy is not None else "",
            p.modality, p.termination_reason and f"stopped: {p.termination_reason}",
        ) if x)
        kind = {"surgical": "surgery", "radiotherapy": "radiotherapy"}.get(p.kind, "procedure")
        item = TimelineItem(_day(p.performed_start), _day(p.performed_end), kind, p.display or p.code, detail,
                            p.status, "procedure", p)
        is_cancer = p.kind in {ProcedureKind.SURGICAL, ProcedureKind.RADIOTHERAPY} and (
            p.condition_id in cancer_ids or bool(p.intent_code) or p.kind == ProcedureKind.RADIOTHERAPY
            or p.condition_id is None)
        (cancer_items if is_cancer and p.kind != ProcedureKind.OTHER else other_items).append(item)
    for med in medications:
        detail = ", ".join(x for x in (
            med.get_source_type_display(), med.intent_display, med.dose_text,
            med.termination_reason and f"stopped: {med.termination_reason}") if x)
        item = TimelineItem(_day(med.start), _day(med.end), "medication", med.display or med.code, detail, med.status,
                            "medication", med)
        (cancer_items if (med.condition_id in cancer_ids or med.intent_code) else other_items).append(item)
    def order(item: TimelineItem) -> tuple[dt.date, str]:
        return item.when or dt.date.min, item.label

    return sorted(cancer_items, key=order), sorted(other_items, key=order, reverse=True)


def current_conditions(patient: Patient) -> QuerySet[CancerCondition]:
    """The patient's conditions, without those withdrawn as entered in error (kept for their history)."""
    return CancerCondition.objects.filter(patient=patient).exclude(verification_status=ENTERED_IN_ERROR)


def _current(model: type[M], patient: Patient) -> QuerySet[M]:
    return (model._default_manager.filter(patient=patient).exclude(status=ENTERED_IN_ERROR)
            .select_related("entered_by"))


def cancer_record_for(actor: Actor, patient_id: int | str, *, channel: str = "web") -> CancerRecord:
    """The one-page cancer record of a patient the actor may see (NotFound otherwise); the read is audited."""
    patient = access_patient(actor, patient_id, category="oncology", channel=channel)
    conditions = list(current_conditions(patient).select_related("entered_by").order_by("-diagnosed_on", "id"))
    cancers = [c for c in conditions if c.category != ConditionCategory.COMORBIDITY]
    comorbidities = [c for c in conditions if c.category == ConditionCategory.COMORBIDITY]
    cancer_ids = {c.pk for c in cancers}
    stages = list(_current(CancerStage, patient).order_by("-effective_on", "id"))
    observations = _current(ClinicalObservation, patient)
    markers = list(observations.filter(kind=ObservationKind.TUMOR_MARKER).order_by("-effective_at", "id"))
    findings = list(observations.filter(kind__in=[ObservationKind.TUMOR, ObservationKind.COMORBIDITY])
                    .order_by("-effective_at", "id"))
    genomic_findings = list(observations.filter(kind=ObservationKind.GENOMIC).order_by("-effective_at", "id"))
    labs_qs = observations.filter(kind=ObservationKind.LABORATORY)
    labs = list(labs_qs.order_by("-effective_at", "id")[:RECENT_LABS])
    variants = list(GenomicVariant.objects.filter(patient=patient).order_by("-effective_at", "id"))
    procedures = list(_current(Procedure, patient).order_by("performed_start", "id"))
    medications = list(_current(Medication, patient).order_by("start", "id"))
    timeline, other = _treatments(procedures, medications, cancer_ids)
    performance = list(_current(PerformanceStatus, patient).order_by("-effective_at", "id"))
    statuses = list(DiseaseStatus.objects.filter(patient=patient).select_related("condition")
                    .order_by("-effective_at", "id"))
    teams = list(
        care_team_queryset_for(actor).filter(patient=patient).select_related("organization").prefetch_related(
            Prefetch("participants", queryset=CareTeamParticipant.objects.select_related("user")))
    )
    pending_reviews = ImportReview.objects.filter(status=ReviewStatus.PENDING, candidates=patient).count() \
        if actor.kind == "staff" else 0
    issues = rules.open_issues(
        today=clock.today(),
        primary_cancers=[c.display for c in cancers if c.category == ConditionCategory.PRIMARY
                         and c.clinical_status not in {"resolved", "inactive", "remission"}],
        staged=bool(stages) or any(c.stage_group for c in cancers),
        last_performance=_day(performance[0].effective_at) if performance else None,
        latest_disease_status=(statuses[0].value_code, statuses[0].value_display) if statuses else None,
        pending_reviews=pending_reviews,
    )
    return CancerRecord(
        patient=patient, cancers=cancers, comorbidities=comorbidities, stage_history=_stage_history(stages),
        tumor_markers=markers, tumor_findings=findings, labs=labs, genomic_variants=variants,
        genomic_findings=genomic_findings, timeline=timeline,
        other_treatments=other, performance=performance, disease_statuses=statuses, care_teams=teams,
        open_issues=issues, labs_total=labs_qs.count() if len(labs) == RECENT_LABS else len(labs),
    )


# --- import reviews ----------------------------------------------------------------------------------


def require_importer(actor: Actor) -> None:
    """Importing and deciding matches is for care staff (and, for imports, systems) of care organisations."""
    if actor.kind not in {"staff", "system"} or not actor.clinical_organization_ids:
        raise Forbidden("Importing records needs a care role in a cancer program or hospital.")


def import_review_list_for(actor: Actor, *, status: str = ReviewStatus.PENDING) -> QuerySet[ImportReview]:
    require_importer(actor)
    return (ImportReview.objects.filter(organization_id__in=actor.clinical_organization_ids, status=status)
            .select_related("organization").order_by("created_at", "id"))


def import_review_candidates(actor: Actor, review: ImportReview) -> QuerySet[Patient]:
    """The candidate patients the actor may see (never others)."""
    return patient_queryset_for(actor).filter(
        Q(pk__in=review.candidates.values("pk"))).select_related("organization").order_by("family_name", "given_name")
