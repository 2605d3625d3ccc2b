"""Portal pages for needs assessments: the screens a patient (or a caregiver allowed to report for them) may
fill, the form, and the confirmation that the care team will review the answers.

Pages only translate: the portal subject guard decides whose portal it is and refuses view-only proxies
(403); the assessments service checks the instrument is switched on (with its recorded permission), scores
the answers, proposes referrals for the care team and writes the audit row.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oncoliaison.assessments import selectors as assessments
from oncoliaison.assessments import services as assessment_services
from oncoliaison.assessments.views import _form_items
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound, ValidationFailed
from oncoliaison.core.views import actor_of, maps_domain_errors
from oncoliaison.instruments.models import InstrumentVersion

from . import selectors
from .rules import ProxyAction
from .views import _render

CATEGORY = "assessment"


def _subject(actor: Actor, patient_id: int | None) -> selectors.PortalSubject:
    return selectors.portal_subject_for(actor, patient_id, need=ProxyAction.REPORT, category=CATEGORY)


def _available(actor: Actor, subject: selectors.PortalSubject) -> list[InstrumentVersion]:
    return [v for v in assessments.available_versions_for(actor, subject.patient)
            if v.instrument.code in PORTAL_INSTRUMENTS]


# Instruments written for the person themself to answer (self-report).
PORTAL_INSTRUMENTS = frozenset({"nccn-dt", "ahc-hrsn-core"})


@login_required
@require_GET
@maps_domain_errors
def screen_list(request: HttpRequest, patient_id: int | None = None) -> HttpResponse:
    actor = actor_of(request)
    subject = _subject(actor, patient_id)
    last_sent: dict[str, Any] = {}
    for a in assessments.completed_assessments_for_patient(actor, subject.patient).order_by("authored_at"):
        last_sent[a.instrument_version.instrument.code] = a.authored_at
    screens = [{"version": v, "last_sent": last_sent.get(v.instrument.code)} for v in _available(actor, subject)]
    return _render(request, "portal/assessment_list.html", {
        "subject": subject, "patient": subject.patient, "screens": screens,
    })


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def screen_fill(request: HttpRequest, code: str, patient_id: int | None = None) -> HttpResponse:
    actor = actor_of(request)
    subject = _subject(actor, patient_id)
    version = next((v for v in _available(actor, subject) if v.instrument.code == code), None)
    if version is None:  # unknown, switched off, or without a recorded permission: not offered here
        raise NotFound()
    # Asked only in a language the publisher's official text exists in here (never translated by us).
    languages = tuple(version.definition.get("languages") or ("en",))
    answer_in = (request.POST if request.method == "POST" else request.GET).get("answer_in", "")
    if (translation.get_language() or "en") not in languages and answer_in not in languages:
        return _render(request, "portal/assessment_language.html", {
            "subject": subject, "patient": subject.patient, "instrument": version.instrument,
            "instrument_language": languages[0], "team_phone": subject.patient.organization.phone,
            "team_name": subject.patient.organization.name, "may_message": subject.allows(ProxyAction.MESSAGE),
        })
    answers: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        answers = {item["link_id"]: request.POST.getlist(item["link_id"]) for item in version.definition["items"]}
        try:
            assessment = assessment_services.assessment_submit(
                actor=actor, patient=subject.patient, version=version, answers=answers, channel="portal")
        except ValidationFailed as exc:
            errors = exc.field_errors or {"__all__": [exc.message]}
            status = 400
        else:
            if subject.is_proxy:
                return redirect("portal:screen_done_for", patient_id=subject.patient.pk, pk=assessment.pk)
            return redirect("portal:screen_done", pk=assessment.pk)
    items = _form_items(version, answers, errors)
    ctx: dict[str, Any] = {
        "subject": subject, "patient": subject.patient, "version": version, "instrument": version.instrument,
        "items": items, "errors": errors, "answer_in": answer_in if answer_in in languages else "",
        "general_errors": [m for k, ms in errors.items() if k == "__all__" or k not in {
            e["item"]["link_id"] for e in items} for m in ms],
    }
    return _render(request, "portal/assessment_form.html", ctx, status=status)


@login_required
@require_GET
@maps_domain_errors
def screen_done(request: HttpRequest, pk: int, patient_id: int | None = None) -> HttpResponse:
    actor = actor_of(request)
    subject = _subject(actor, patient_id)
    assessment = assessments.assessment_get_for(actor, pk, channel="portal")
    if assessment.patient_id != subject.patient.pk:
        raise NotFound()
    return _render(request, "portal/assessment_done.html", {
        "subject": subject, "patient": subject.patient, "assessment": assessment,
        "instrument": assessment.instrument_version.instrument,
        "heading": _("Thank you — your answers were sent"),
    })
