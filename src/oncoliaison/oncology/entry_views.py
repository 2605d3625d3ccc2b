"""Pages that enter and correct the cancer record: one entry form per kind of fact, one correction page per
row (correct, or mark as entered in error, with the row's history).  They only translate: form → values →
``entry`` service; typed errors → form errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from oncoliaison.core.errors import DomainError, NotFound
from oncoliaison.core.views import actor_of, form_error_from, maps_domain_errors
from oncoliaison.patients.selectors import access_patient

from . import entry, entry_forms
from .models import CancerRecordRevision, CancerStage
from .selectors import current_conditions
from .views import no_store

ANCHOR = {"condition": "diagnosis", "stage": "stage", "marker": "markers", "procedure": "treatments",
          "medication": "treatments", "performance": "perf"}


def _summary(patient_id: int, record_type: str) -> str:
    return f"{reverse('oncology:summary', args=[patient_id])}#{ANCHOR[record_type]}"


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def record_new(request: HttpRequest, pk: int, record_type: str) -> HttpResponse:
    actor = actor_of(request)
    form_class = entry_forms.ENTRY_FORMS.get(record_type)
    if form_class is None:
        raise NotFound()
    entry.require_record_writer(actor)
    patient = access_patient(actor, pk, category="oncology", channel="web")
    cancers = [c for c in current_conditions(patient) if c.is_cancer]
    form = form_class(request.POST or None, cancers=cancers)  # type: ignore[call-arg]  # every entry form takes cancers
    if request.method == "POST" and form.is_valid():
        try:
            entry.record_enter(actor=actor, record_type=record_type, patient_id=patient.pk,
                               values=form.cleaned_data, channel="web")
        except DomainError as exc:
            if exc.status in {403, 404}:
                raise
            form_error_from(form, exc)
        else:
            messages.success(request, f"Recorded {entry_forms.TITLES[record_type]}.")
            return redirect(_summary(patient.pk, record_type))
    ctx = {"patient": patient, "form": form, "record_type": record_type,
           "title": f"Record {entry_forms.TITLES[record_type]}", "back": _summary(patient.pk, record_type)}
    return no_store(render(request, "oncology/entry_form.html", ctx, status=400 if form.errors else 200))


def _row_form(record_type: str, obj: Any, data: Any, cancers: list[Any]) -> forms.Form:
    initial = entry_forms.initial_for(record_type, obj)
    if isinstance(obj, CancerStage):
        return entry_forms.StageRowForm(data, initial=initial, kind=obj.kind)
    form_class = entry_forms.ENTRY_FORMS[record_type]
    return form_class(data, initial=initial, cancers=cancers)  # type: ignore[call-arg]  # every entry form takes cancers


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def record_correct(request: HttpRequest, record_type: str, pk: int) -> HttpResponse:
    actor = actor_of(request)
    model = entry.RECORD_MODELS.get(record_type)
    if model is None:
        raise NotFound()
    entry.require_record_writer(actor)
    patient_id = model._default_manager.filter(pk=pk).values_list("patient_id", flat=True).first()
    if patient_id is None:
        raise NotFound()
    patient = access_patient(actor, patient_id, category="oncology", channel="web")
    obj = model._default_manager.select_related("entered_by").get(pk=pk)
    cancers = [c for c in current_conditions(patient) if c.is_cancer and c.pk != pk]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    version = {"version": obj.version}  # type: ignore[attr-defined]  # every record model has version
    form = _row_form(record_type, obj, request.POST if action == "correct" else None, cancers)
    reason = entry_forms.ReasonForm(request.POST if action == "correct" else None, initial=version, prefix="correct")
    error_form = entry_forms.ReasonForm(request.POST if action == "in_error" else None, initial=version,
                                        prefix="in_error")
    error_form.fields["reason"].label = "Why is this entry wrong?"
    try:
        if action == "correct" and form.is_valid() & reason.is_valid():
            entry.record_correct(actor=actor, record_type=record_type, record_id=pk, values=form.cleaned_data,
                                 reason=reason.cleaned_data["reason"], expected_version=reason.cleaned_data["version"],
                                 channel="web")
            messages.success(request, "The correction was recorded; the previous version is kept.")
            return redirect(_summary(patient.pk, record_type))
        if action == "in_error" and error_form.is_valid():
            entry.record_mark_in_error(actor=actor, record_type=record_type, record_id=pk,
                                       reason=error_form.cleaned_data["reason"],
                                       expected_version=error_form.cleaned_data["version"], channel="web")
            messages.success(request, "The entry was marked as entered in error; it stays in the history.")
            return redirect(_summary(patient.pk, record_type))
    except DomainError as exc:
        if exc.status in {403, 404}:
            raise
        form_error_from(form if action == "correct" else error_form, exc)
    history = list(CancerRecordRevision.objects.filter(record_type=record_type, record_id=pk)
                   .select_related("changed_by").order_by("-version"))
    bad = form.errors or reason.errors or error_form.errors
    ctx = {"patient": patient, "obj": obj, "form": form, "reason_form": reason, "error_form": error_form,
           "record_type": record_type, "history": history, "back": _summary(patient.pk, record_type),
           "title": f"Correct {entry_forms.TITLES[record_type]}"}
    return no_store(render(request, "oncology/entry_correct.html", ctx, status=400 if bad else 200))
