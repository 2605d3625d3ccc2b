"""FHIR Flag of symptom alerts and Task of the care team's response to an alert (read, search)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    READ,
    SEARCH,
    ResourceMapper,
    SearchParam,
    register,
)

from .. import selectors
from ..models import Alert, AlertStatus
from .common import (
    CS_ALERT,
    CS_FLAG_CATEGORY,
    EXT_DEADLINE,
    EXT_WORKFLOW,
    SP,
    SymptomIds,
    fid,
    staff_or_system,
)

# --- Flag (alerts) ------------------------------------------------------------------------------------------


@register
class SymptomAlertFlagMapper(ResourceMapper):
    resource_type = "Flag"
    model = Alert
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = (f"Symptom alerts. code in {CS_ALERT} (severity); status active until resolved; extensions "
                     "carry the response deadline and the workflow status (open, acknowledged, escalated, resolved).")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "Flag-subject"),
        SearchParam("status", "token", "active | inactive",
                    lambda n, v: Q(status=AlertStatus.RESOLVED) if params.token(v)[1] == "inactive"
                    else Q(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED])
                    if params.token(v)[1] == "active" else Q(pk__in=[]), ""),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        staff_or_system(actor, "symptom alerts")

    def queryset_for(self, actor: Actor) -> QuerySet[Alert]:
        return selectors.alert_queryset_for(actor)

    def updated_of(self, obj: Any) -> dt.datetime | None:
        return last_change(obj)

    def to_fhir(self, a: Alert) -> dict[str, Any]:
        period = {"start": codes.instant(a.created_at)}
        if a.resolved_at:
            period["end"] = codes.instant(a.resolved_at)
        updated = self.updated_of(a)
        return {
            "resourceType": "Flag",
            "id": str(a.pk),
            "meta": codes.meta(a.version, updated),
            "extension": [
                {"url": EXT_DEADLINE, "valueDateTime": codes.instant(a.deadline)},
                {"url": EXT_WORKFLOW, "valueCode": a.status},
            ],
            "status": "inactive" if a.status == AlertStatus.RESOLVED else "active",
            "category": [{"coding": [codes.coding(CS_FLAG_CATEGORY, "clinical", "Clinical")]}],
            "code": {"coding": [codes.coding(CS_ALERT, a.severity, f"{a.get_severity_display()} symptom alert")],
                     "text": a.summary},
            "subject": codes.ref("Patient", a.patient_id),
            "period": period,
            "author": codes.ref("Organization", a.organization_id),
        }


# --- Task (the care team's response to an alert) -------------------------------------------------------------

_TASK_STATUS = {AlertStatus.OPEN: "requested", AlertStatus.ACKNOWLEDGED: "in-progress",
                AlertStatus.ESCALATED: "in-progress", AlertStatus.RESOLVED: "completed"}


@register
class SymptomAlertResponseTaskMapper(SymptomIds, ResourceMapper):
    """The response to a symptom alert as a Task (composed with care-plan tasks; ids ``symptom-<alert id>``)."""

    resource_type = "Task"
    model = Alert
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = ("The care team's response to a symptom alert (focus: the Flag): owner the navigator, "
                     "restriction.period.end the response deadline, businessStatus the workflow status, one "
                     "note per action taken (called, advised, escalated, sent to emergency).")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "clinical-patient"),
        SearchParam("owner", "reference", "The navigator the alert is assigned to.",
                    params.reference_filter("assigned_to_id", "Practitioner"), SP + "Task-owner"),
        SearchParam("status", "token", "requested | in-progress | completed",
                    lambda _n, v: Q(status__in=[k for k, t in _TASK_STATUS.items() if t == params.token(v)[1]]),
                    SP + "Task-status"),
        SearchParam("focus", "reference", "The alert (Flag).", params.reference_filter("pk", "Flag"), ""),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        staff_or_system(actor, "symptom alert responses")

    def queryset_for(self, actor: Actor) -> QuerySet[Alert]:
        qs = selectors.alert_queryset_for(actor)
        if actor.is_system and not actor.allows("Task", "r"):
            return qs.none()
        return qs

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.prefetch_related("actions")

    def updated_of(self, obj: Any) -> dt.datetime | None:
        return last_change(obj)

    def to_fhir(self, a: Alert) -> dict[str, Any]:
        body: dict[str, Any] = {
            "resourceType": "Task",
            "id": fid(a.pk),
            "meta": codes.meta(a.version, self.updated_of(a)),
            "status": _TASK_STATUS[AlertStatus(a.status)],
            "businessStatus": {"coding": [codes.coding(CS_ALERT, f"workflow-{a.status}", a.get_status_display())]},
            "intent": "order",
            "priority": "stat" if a.severity == "severe" else "urgent" if a.severity == "moderate" else "routine",
            "code": {"text": "Respond to a symptom alert"},
            "focus": {"reference": f"Flag/{a.pk}"},
            "for": codes.ref("Patient", a.patient_id),
            "authoredOn": codes.instant(a.created_at),
            "lastModified": codes.instant(self.updated_of(a) or a.created_at),
            "restriction": {"period": {"end": codes.instant(a.deadline)}},
        }
        if a.assigned_to_id:
            body["owner"] = codes.ref("Practitioner", a.assigned_to_id)
        notes = [{"time": codes.instant(act.at), "text": f"{act.get_kind_display()}{': ' + act.note if act.note else ''}",
                  **({"authorReference": codes.ref("Practitioner", act.by_id)} if act.by_id else {})}
                 for act in a.actions.all()]
        if notes:
            body["note"] = notes
        return body


def last_change(alert: Alert) -> dt.datetime:
    """An alert's meta.lastUpdated: its latest step (raised, acknowledged, escalated, resolved)."""
    return max(t for t in (alert.created_at, alert.acknowledged_at, alert.escalated_at, alert.resolved_at) if t)
