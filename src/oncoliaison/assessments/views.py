"""Needs-assessment pages: a patient's assessments, filling one on the patient's behalf, the result with its
referral suggestions, and the instrument settings (licences) for program administrators.

Pages only translate: the actor-scoped selectors decide what is visible, the services decide what is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core.access import require_staff
from oncoliaison.core.errors import Conflict, Forbidden, ValidationFailed
from oncoliaison.core.views import actor_of, announce_change, is_htmx, maps_domain_errors
from oncoliaison.instruments.models import InstrumentVersion
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from . import rules, selectors, services


def _require_care_staff(request: HttpRequest) -> None:
    actor = actor_of(request)
    require_staff(actor)
    require_patient_access_role(actor)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def patient_assessments(request: HttpRequest, patient_id: int) -> HttpResponse:
    _require_care_staff(request)
    actor = actor_of(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    return render(request, "assessments/patient.html", {
        "patient": patient,
        "assessments": selectors.assessment_list_for_patient(actor, patient),
        "versions": selectors.available_versions_for(actor, patient),
    })


def _form_items(version: InstrumentVersion, answers: dict[str, list[str]],
                errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Items with the answers already given and their errors, for re-displaying the form after an error."""
    out = []
    for item in version.definition["items"]:
        chosen = answers.get(item["link_id"], [])
        entry: dict[str, Any] = {"item": item, "errors": errors.get(item["link_id"], [])}
        if item["type"] != "integer":
            entry["options"] = [{**opt, "checked": opt["code"] in chosen} for opt in item["options"]]
        else:
            entry["scale"] = [{"value": str(n), "checked": str(n) in chosen}
                              for n in range(item["min"], item["max"] + 1)]
        out.append(entry)
    return out


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def assessment_new(request: HttpRequest, patient_id: int, code: str) -> HttpResponse:
    """Staff fill an instrument on the patient's behalf."""
    _require_care_staff(request)
    actor = actor_of(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    instrument = selectors.instrument_get(code)
    version = selectors.current_version(instrument)
    enabled, why = instrument_enabled_for(instrument, selectors.acting_organization_id(actor, patient))
    if version is None or not enabled:
        messages.error(request, f"{instrument.title} is not available: {why}")
        return redirect("assessments:patient", patient_id=patient.pk)
    answers: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    note = ""
    status = 200
    if request.method == "POST":
        answers = {item["link_id"]: request.POST.getlist(item["link_id"]) for item in version.definition["items"]}
        note = request.POST.get("note", "")
        try:
            assessment = services.assessment_submit(actor=actor, patient=patient, version=version,
                                                    answers=answers, note=note, channel="web")
        except ValidationFailed as exc:
            errors = exc.field_errors or {"__all__": [exc.message]}
            status = 400
        else:
            messages.success(request, "The assessment was recorded.")
            return redirect("assessments:detail", pk=assessment.pk)
    return render(request, "assessments/form.html", {
        "patient": patient, "version": version, "instrument": instrument, "items": _form_items(version, answers, errors),
        "errors": errors, "note": note, "general_errors": errors.get("__all__", []),
    }, status=status)


def _detail_context(actor: Any, assessment: Any) -> dict[str, Any]:
    items = rules.items_of(assessment.instrument_version.definition)
    answers = []
    for a in assessment.answers.all():
        answers.append({"question": items.get(a.link_id, {}).get("text", a.link_id), "answer": a.display})
    return {
        "assessment": assessment,
        "patient": assessment.patient,
        "instrument": assessment.instrument_version.instrument,
        "scores": list(assessment.scores.all()),
        "answers": answers,
        "suggestions": list(assessment.suggestions.select_related("decided_by")),
        "outcome": selectors.assessment_outcome(assessment),
    }


@never_cache
@login_required
@require_GET
@maps_domain_errors
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_care_staff(request)
    actor = actor_of(request)
    assessment = selectors.assessment_get_for(actor, pk, channel="web")
    return render(request, "assessments/detail.html", _detail_context(actor, assessment))


@never_cache
@login_required
@require_POST
@maps_domain_errors
def suggestion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or reject one proposed referral; htmx swaps the row, a plain POST goes back to the result."""
    _require_care_staff(request)
    actor = actor_of(request)
    suggestion = selectors.suggestion_get_for(actor, pk)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    error = ""
    if decision not in {"accept", "reject"}:
        error = "Choose accept or reject."
    else:
        try:
            suggestion = services.suggestion_decide(actor=actor, suggestion=suggestion, accept=decision == "accept",
                                                    note=note, channel="web")
        except (ValidationFailed, Conflict) as exc:
            error = next(iter(exc.field_errors.values()), [exc.message])[0] if exc.field_errors else exc.message
    done = f"{suggestion.get_service_display()}: {suggestion.get_status_display().lower()}."
    if is_htmx(request):
        response = render(request, "assessments/detail.html#suggestion", {"s": suggestion, "error": error,
                                                                          "note": note})
        return announce_change(response, error or done, focus=f"suggestion-{suggestion.pk}")
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("assessments:detail", pk=suggestion.assessment_id)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def assessment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    _require_care_staff(request)
    actor = actor_of(request)
    assessment = selectors.assessment_get_for(actor, pk, channel="web")
    try:
        services.assessment_mark_in_error(actor=actor, assessment=assessment, reason=request.POST.get("reason", ""))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The assessment is marked as entered in error.")
    return redirect("assessments:detail", pk=assessment.pk)


# --- instrument settings (program administrators) ---------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def instrument_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    org_id = actor.primary_organization_id
    return render(request, "assessments/instruments.html", {
        "rows": selectors.instrument_list_for(actor),
        "may_edit": org_id is not None and actor.is_admin_of(org_id),
    })


def _parse_date(raw: str, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = ["Enter a date as YYYY-MM-DD."]
        return None


@never_cache
@login_required
@require_POST
@maps_domain_errors
def instrument_permission(request: HttpRequest, code: str) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    instrument = selectors.instrument_get(code)
    errors: dict[str, list[str]] = {}
    data = services.PermissionData(
        enabled=request.POST.get("enabled") == "on",
        permission_reference=request.POST.get("permission_reference", ""),
        permission_holder=request.POST.get("permission_holder", ""),
        granted_on=_parse_date(request.POST.get("granted_on", ""), "granted_on", errors),
        expires_on=_parse_date(request.POST.get("expires_on", ""), "expires_on", errors),
        note=request.POST.get("note", ""),
    )
    org_id = actor.primary_organization_id
    if org_id is None:
        raise Forbidden("You have no organisation.")
    try:
        if errors:
            raise ValidationFailed("The permission record is not complete.", field_errors=errors)
        services.instrument_permission_set(actor=actor, instrument=instrument, organization_id=org_id, data=data)
    except ValidationFailed as exc:
        for field_messages in exc.field_errors.values():
            for m in field_messages:
                messages.error(request, f"{instrument.title}: {m}")
        if not exc.field_errors:
            messages.error(request, exc.message)
    else:
        messages.success(request, f"{instrument.title} is now {'on' if data.enabled else 'off'} for your organisation.")
    return redirect("assessments:instruments")

