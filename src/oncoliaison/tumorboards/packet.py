"""The case packet: what the board sees of a patient, assembled from the record.

Assembled when the coordinator accepts the case and refreshed until the meeting; frozen (never changed
again) when the meeting closes.  It is plain JSON so that a frozen packet reads the same whatever the
record later becomes.  Each section is read through the domain that owns it, with the actor's scope, and
the reads are audited there (the cancer record as one READ of the oncology record)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from oncoliaison.assessments.models import AssessmentScore
from oncoliaison.careplans.models import Barrier, BarrierStatus, Goal, GoalStatus
from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.monitoring.models import SymptomReport
from oncoliaison.oncology.selectors import cancer_record_for

from .models import BoardCase, CaseStatus

PACKET_VERSION = 1
RECENT_REPORTS = 3
DISTRESS_CODE = "distress-thermometer"


def _day(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localdate(value).isoformat()
    return value.isoformat()


def assemble(actor: Actor, case: BoardCase, *, channel: str) -> dict[str, Any]:
    record = cancer_record_for(actor, case.patient_id, channel=channel)
    patient = record.patient
    reports = list(SymptomReport.objects.filter(patient=patient).select_related("version__instrument")
                   .prefetch_related("scores").order_by("-authored_at", "-id")[:RECENT_REPORTS])
    distress = (AssessmentScore.objects.filter(patient=patient, code=DISTRESS_CODE)
                .order_by("-effective_at", "-id").first())
    barriers = list(Barrier.objects.filter(patient=patient).exclude(status=BarrierStatus.RESOLVED)
                    .order_by("identified_at", "id"))
    goals = list(Goal.objects.filter(care_plan__patient=patient, status__in=[GoalStatus.ACTIVE, GoalStatus.PROPOSED])
                 .exclude(care_plan__status__in=["revoked", "entered-in-error", "completed"]).order_by("position", "id"))
    prior = list(BoardCase.objects.filter(patient=patient, status=CaseStatus.DISCUSSED)
                 .exclude(pk=case.pk).select_related("meeting__series").prefetch_related("recommendations")
                 .order_by("-meeting__starts_at")[:5])
    return {
        "version": PACKET_VERSION,
        "assembled_at": clock.now().isoformat(),
        "patient": {"name": f"{patient.given_name} {patient.family_name}", "birth_date": patient.birth_date.isoformat(),
                    "gender": patient.gender, "language": patient.preferred_language,
                    "interpreter_needed": patient.interpreter_needed},
        "question": case.question,
        "prospective": case.prospective,
        "diagnoses": [{"display": c.display, "code": c.code, "diagnosed_on": _day(c.diagnosed_on),
                       "histology": c.histology_display, "body_site": c.body_site_display,
                       "laterality": c.laterality, "status": c.clinical_status, "stage_group": c.stage_group}
                      for c in record.cancers],
        "stage_history": [{"date": _day(s.when), "type": s.stage_type, "system": s.system, "t": s.t, "n": s.n,
                           "m": s.m, "group": s.group} for s in record.stage_history],
        "biomarkers": [{"display": o.display, "value": o.value_summary, "date": _day(o.effective_at)}
                       for o in record.tumor_markers],
        "genomics": [{"gene": v.gene_display, "change": v.protein_change or v.dna_change or v.variation_display,
                      "significance": v.significance_display, "source": v.genomic_source,
                      "present": v.present, "date": _day(v.effective_at)} for v in record.genomic_variants]
        + [{"gene": o.display, "change": o.value_summary, "significance": o.interpretation_display, "source": "",
            "present": None, "date": _day(o.effective_at)} for o in record.genomic_findings],
        "treatments": [{"when": _day(t.when), "until": _day(t.until), "kind": t.kind, "label": t.label,
                        "detail": t.detail, "status": t.status} for t in record.timeline],
        "performance": [{"instrument": p.get_instrument_display(), "score": p.score,
                         "interpretation": p.interpretation, "date": _day(p.effective_at)}
                        for p in record.performance[:3]],
        "comorbidities": [{"display": c.display, "status": c.clinical_status} for c in record.comorbidities],
        "symptom_reports": [{"instrument": r.version.instrument.title, "date": _day(r.authored_at),
                             "highest": r.highest_severity,
                             "scores": [{"label": s.label, "value": s.value, "max": s.max_value, "band": s.band}
                                        for s in r.scores.all() if s.band in {"moderate", "severe"}]}
                            for r in reports],
        "distress": ({"score": distress.value_integer, "date": _day(distress.effective_at),
                      "interpretation": distress.interpretation} if distress else None),
        "barriers": [{"kind": b.get_kind_display(), "description": b.description, "since": _day(b.identified_at)}
                     for b in barriers],
        "goals": [{"description": g.description, "status": g.status} for g in goals],
        "prior_discussions": [{"date": _day(p.meeting.starts_at), "series": p.meeting.series.name,
                               "question": p.question,
                               "recommendations": [r.get_kind_display() + ": " + r.description
                                                   for r in p.recommendations.all()]} for p in prior],
        "attachments": list(case.attachments),
        "open_issues": list(record.open_issues),
    }
