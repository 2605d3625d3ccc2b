"""What the portal home shows, gathered from the domains that own it (care plans, symptom monitoring).

Each section reads through the owning app's actor-scoped selectors and says ``available=False`` when that
app is not installed, so the page shows a clear empty state instead of invented data.  ``patient`` always
comes from ``portal_subject_for`` (which audited the page's read).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import F
from django.utils.translation import gettext_noop

from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.patients.models import Patient

OPEN_GOALS = ("proposed", "active", "on-hold")
CLOSED_TASKS = ("completed", "cancelled")


def care_plan_section(actor: Actor, patient: Patient) -> dict[str, Any]:
    if not apps.is_installed("oncoliaison.careplans"):
        return {"available": False}
    from oncoliaison.careplans import selectors as careplans
    from oncoliaison.careplans.rules import goal_label

    plans = list(
        careplans.care_plan_list_for_patient(actor, patient).filter(status="active").prefetch_related("goals")
    )
    goals = [g for plan in plans for g in plan.goals.all() if g.status in OPEN_GOALS]
    tasks = list(
        careplans.task_queryset_for(actor).filter(patient=patient).exclude(status__in=CLOSED_TASKS)
        .order_by(F("due_date").asc(nulls_last=True), "id")[:10]
    )
    today = clock.today()
    for t in tasks:
        t.overdue = bool(t.due_date and t.due_date < today)  # type: ignore[attr-defined]  # shown by the template
    for g in goals:
        g.label = goal_label(g.description, g.need)  # type: ignore[attr-defined]  # shown by the template
    return {"available": True, "plans": plans, "goals": goals, "tasks": tasks}


def resources_section(actor: Actor, patient: Patient) -> dict[str, Any]:
    if not apps.is_installed("oncoliaison.careplans"):
        return {"available": False}
    from oncoliaison.careplans.selectors import recommended_resources_for

    return {"available": True, "recommendations": recommended_resources_for(actor, patient, limit=6)}


HISTORY_DAYS = 90
MAX_CHARTS = 6


def symptom_section(actor: Actor, patient: Patient) -> dict[str, Any]:
    """The patient's own symptom history as charts (one per symptom, last 90 days) and a table."""
    if not apps.is_installed("oncoliaison.monitoring"):
        return {"available": False}
    import datetime as dt

    from django.utils.translation import gettext as _

    from oncoliaison.monitoring.selectors import symptom_history_for

    from .charts import Band, Point, line_chart

    since = clock.now() - dt.timedelta(days=HISTORY_DAYS)
    reports = symptom_history_for(actor, patient, since=since, limit=200)
    series: dict[str, dict[str, Any]] = {}
    for report in reversed(reports):  # oldest first
        for s in report.scores.all():
            if s.kind not in ("item", "composite") or s.value is None:
                continue
            entry = series.setdefault(s.code, {"label": symptom_name(s.label), "max": s.max_value, "points": []})
            entry["points"].append(Point(report.authored_at, s.value))
    charts = []
    ranked = sorted(series.items(), key=lambda kv: (-max(p.value for p in kv[1]["points"]), kv[1]["label"]))
    for code, entry in ranked[:MAX_CHARTS]:
        top = entry["max"] or 10
        bands = (
            [Band(7, 10, "band-severe"), Band(4, 7, "band-moderate")] if top == 10
            else [Band(3, top, "band-severe"), Band(2, 3, "band-moderate")] if top >= 3 else []
        )
        points = entry["points"]
        latest = points[-1]
        description = _("%(label)s: %(count)d reports; latest %(value)s out of %(max)s.") % {
            "label": entry["label"], "count": len(points), "value": f"{latest.value:g}", "max": top}
        charts.append({
            "code": code, "label": entry["label"], "max": top, "points": points, "latest": latest,
            "label_lang": entry["label"].lang,
            "svg": line_chart(points, title=entry["label"], description=description, y_min=0, y_max=top,
                              y_ticks=(0, top // 2, top) if top >= 4 else tuple(range(top + 1)), bands=bands,
                              chart_id=f"chart-{code}"),
        })
    return {"available": True, "charts": charts, "report_count": len(reports), "days": HISTORY_DAYS}


class SymptomName(str):
    """A symptom's name with the language it is written in (``lang`` for the page's markup)."""

    lang: str


# The names of the symptoms and scores the charts show, translated as plain words (the chart's caption),
# never as the questionnaire's items.  A name not in this list is shown as stored, marked as English.
SYMPTOM_NAMES = (
    gettext_noop("Pain"), gettext_noop("Tiredness"), gettext_noop("Drowsiness"), gettext_noop("Nausea"),
    gettext_noop("Lack of appetite"), gettext_noop("Shortness of breath"), gettext_noop("Depression"),
    gettext_noop("Anxiety"), gettext_noop("Wellbeing"), gettext_noop("Other problem"),
    gettext_noop("Total symptom distress score"), gettext_noop("Physical symptom subscore"),
    gettext_noop("Emotional symptom subscore"),
)


def symptom_name(stored: str) -> SymptomName:
    from django.utils import translation

    language = translation.get_language() or "en"
    if stored in SYMPTOM_NAMES:
        name = SymptomName(translation.gettext(stored))
        name.lang = language
    else:
        name = SymptomName(stored)
        name.lang = "en"
    return name


RESPONSE_DAYS = 30


def alert_response_section(actor: Actor, patient: Patient, *, proxy: bool) -> dict[str, Any]:
    """The care team's responses to the patient's symptom alerts of the last 30 days ("Your care team
    responded on <date>: called you"), worded for the patient or for a caregiver."""
    if not apps.is_installed("oncoliaison.monitoring"):
        return {"available": False}
    import datetime as dt

    from django.utils.translation import gettext as _

    from oncoliaison.monitoring.selectors import alert_responses_for_patient

    to_patient = {
        "called_patient": _("called you"),
        "advised": _("gave you advice on looking after yourself"),
        "escalated_physician": _("asked a doctor to review your symptoms"),
        "sent_emergency": _("told you to go to the emergency department"),
    }
    to_proxy = {
        "called_patient": _("called the patient"),
        "advised": _("gave advice on looking after the symptoms"),
        "escalated_physician": _("asked a doctor to review the symptoms"),
        "sent_emergency": _("advised going to the emergency department"),
    }
    words = to_proxy if proxy else to_patient
    rows = []
    for r in alert_responses_for_patient(actor, patient, since=clock.now() - dt.timedelta(days=RESPONSE_DAYS)):
        rows.append({
            "reported_at": r.reported_at, "deadline": r.deadline, "open": r.open,
            "responses": [{"at": at, "text": words.get(kind, "")} for at, kind in r.actions if kind in words],
        })
    return {"available": True, "alerts": rows}
