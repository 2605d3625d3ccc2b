"""Composition: the board's review of one discussed case (read, search; in the patient compartment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, SearchParam, register

from .. import selectors
from ..models import BoardCase
from .common import (
    SP,
    TUMOR_BOARD_NOTE,
    PatientLinked,
    patient_params,
    practitioner,
    recommendation_fid,
    section,
)


def _stage(c: BoardCase) -> str:
    if not c.stage_discussed:
        return "Stage was not discussed."
    agreed = c.stage_agreed or "Discussed; no stage recorded."
    return f"{agreed} ({c.stage_edition})" if c.stage_edition else agreed


def _guideline(c: BoardCase) -> str:
    if not c.guideline_body:
        return "No guideline recorded."
    text = " ".join(x for x in (c.guideline_body, c.guideline_name) if x)
    return f"{text}, version {c.guideline_version}" if c.guideline_version else text


def _trials(c: BoardCase) -> str:
    if not c.trial_discussed:
        return "Clinical trials were not discussed."
    return f"Discussed: {c.trials}" if c.trials else "Discussed."


def _recommendation_line(r: Any) -> str:
    """One line, e.g. "Surgery: Lumpectomy; responsible: Dr Doe; due 2026-12-18" (what is known)."""
    details = [f"responsible: {r.responsible.display_name}" if r.responsible_id else "",
               f"due {r.due_date.isoformat()}" if r.due_date else "",
               f"dissent: {r.dissent_reason}" if r.dissent_reason else ""]
    return "; ".join([f"{r.get_kind_display()}: {r.description}", *filter(None, details)])


def sections(c: BoardCase) -> list[dict[str, Any]]:
    recs = list(c.recommendations.all())
    addenda = list(c.addenda.all())
    out = [
        section("question", "Clinical question", c.question,
                "Prospective case." if c.prospective else "Retrospective case."),
        section("stage", "Stage as agreed by the board", _stage(c)),
        section("guideline", "Guideline consulted", _guideline(c)),
        section("trials", "Clinical trials", _trials(c)),
        section("discussion", "Discussion", c.discussion or "No discussion notes."),
        section("recommendations", "Recommendations",
                *([_recommendation_line(r) for r in recs] or ["No recommendation recorded."]),
                entries=[codes.ref("ServiceRequest", recommendation_fid(r.pk)) for r in recs]),
    ]
    if addenda:
        out.append(section("addenda", "Addenda", *(
            f"{a.written_at.date().isoformat()}, {a.author.display_name}: {a.text}" for a in addenda)))
    return out


@register
class CompositionMapper(PatientLinked):
    resource_type = "Composition"
    model = BoardCase
    interactions = (READ, SEARCH)
    documentation = (
        "The tumor board's review of a patient's case (LOINC 85232-7 Tumor board Consult note), once the case "
        "was discussed: the clinical question, stage as agreed, guideline, clinical trials, discussion, the "
        "recommendations (ServiceRequest entries) and any addenda (status amended). Partner organisations see "
        "the cases of patients shared with them."
    )
    search_params = (
        *patient_params("Composition"),
        SearchParam("date", "date", "When the board discussed the case; prefixes eq, ne, lt, gt, le, ge.",
                    params.datetime_filter("discussed_at"), SP + "clinical-date"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[BoardCase]:
        return selectors.discussed_case_queryset_for(actor)

    def audit_disclosed(self, actor: Actor, rows: Sequence[Any], *, action: str, channel: str, detail: str = "") -> None:
        selectors.audit_disclosed(actor, rows, channel=channel, action=action)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient", "meeting", "meeting__series", "meeting__series__organization",
                                 "meeting__series__coordinator").prefetch_related(
            "recommendations__responsible", "addenda__author")

    def to_fhir(self, c: BoardCase) -> dict[str, Any]:
        series = c.meeting.series
        when = c.discussed_at or c.meeting.held_at or c.meeting.starts_at
        organization = {**codes.ref("Organization", series.organization_id), "display": series.organization.name}
        return {
            "resourceType": "Composition",
            "id": str(c.pk),
            "meta": codes.meta(c.version, c.updated_at, synthetic=c.patient.synthetic),
            "status": "amended" if c.addenda.all() else "final",
            "type": {"coding": [TUMOR_BOARD_NOTE], "text": "Tumor board review"},
            "subject": codes.ref("Patient", c.patient_id),
            "date": codes.instant(when),
            "author": [practitioner(series.coordinator), organization],
            "title": f"{series.name}: review of {when.date().isoformat()}",
            "custodian": organization,
            "event": [{"period": {"start": codes.instant(c.meeting.starts_at)},
                       "detail": [codes.ref("Appointment", c.meeting_id)]}],
            "section": sections(c),
        }
