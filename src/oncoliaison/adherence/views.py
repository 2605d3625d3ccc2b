"""The adherence page of a patient: PDC per drug and year with its basis, the fills, the cyclic regimens,
manual entry of a dispense and a regimen, and withdrawing a wrong entry.  Every form posts and redirects back
(post/redirect/get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from oncoliaison.core.access import require_staff
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, PreconditionFailed, ValidationFailed
from oncoliaison.core.views import actor_of, maps_domain_errors
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from . import rules, selectors, services
from .forms import DispenseForm, RegimenForm


def _care_staff(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    require_staff(actor)
    require_patient_access_role(actor)
    return actor


def _first_error(exc: ValidationFailed | Conflict | PreconditionFailed) -> str:
    return next((m[0] for m in exc.field_errors.values() if m), exc.message)


def _form_error(form: DispenseForm | RegimenForm) -> str:
    return next((f"{form.fields[k].label or k}: {v[0]}" if k in form.fields else str(v[0])
                 for k, v in form.errors.items()), "The form is not valid.")


def _posted(request: HttpRequest, patient_id: int, form_class: type[DispenseForm | RegimenForm]
            ) -> tuple[Actor, Patient, dict[str, Any] | None]:
    """The actor, the patient (audited by the service's write) and the form's values, or None (and the form's
    first error as a message) when it is not valid."""
    actor = _care_staff(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web", audit_read=False)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return actor, patient, None
    return actor, patient, form.cleaned_data


@never_cache
@login_required
@require_GET
@maps_domain_errors
def patient_adherence(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = _care_staff(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    measures = list(selectors.measures_of(actor, patient))
    return render(request, "adherence/patient.html", {
        "patient": patient,
        "measures": [(m, rules.percent(m.pdc), rules.percent(m.mpr)) for m in measures],
        "dispenses": selectors.dispenses_of(actor, patient, include_errors=True)[:200],
        "regimens": selectors.regimens_of(actor, patient),
        "dispense_form": DispenseForm(auto_id="dispense-%s"), "regimen_form": RegimenForm(auto_id="regimen-%s"),
    })


@never_cache
@login_required
@require_POST
@maps_domain_errors
def dispense_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient, d = _posted(request, patient_id, DispenseForm)
    if d is None:
        return redirect("adherence:patient", patient.pk)
    try:
        services.dispense_record(actor=actor, patient=patient, data=services.DispenseData(
            medication_code=d["medication_code"], medication_display=d["medication_display"],
            dispensed_on=d["dispensed_on"], days_supply=d["days_supply"], quantity=d["quantity"],
            quantity_unit=d["quantity_unit"]))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, "Dispense recorded; the adherence figures are up to date.")
    return redirect("adherence:patient", patient.pk)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def regimen_set(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient, d = _posted(request, patient_id, RegimenForm)
    if d is None:
        return redirect("adherence:patient", patient.pk)
    try:
        services.regimen_set(actor=actor, patient=patient, expected_version=d["version"], data=services.RegimenData(
            medication_code=d["medication_code"], medication_display=d["medication_display"],
            starts_on=d["starts_on"], days_on=d["days_on"], days_off=d["days_off"], note=d["note"]))
    except (ValidationFailed, Conflict, PreconditionFailed) as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, "Regimen saved; the figures follow it.")
    return redirect("adherence:patient", patient.pk)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def dispense_error(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    dispense = selectors.dispense_get_for(actor, pk, channel="web")
    raw = request.POST.get("version", "")
    try:
        services.dispense_mark_error(actor=actor, dispense=dispense,
                                     expected_version=int(raw) if raw.isdigit() else None)
    except (PreconditionFailed, Conflict) as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, "Dispense marked as entered in error; the figures leave it out.")
    return redirect("adherence:patient", dispense.patient_id)
