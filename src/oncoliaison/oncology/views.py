"""Cancer-record pages: the one-page oncology summary, FHIR file upload, and the patient-match review queue."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import orjson
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from oncoliaison.core import audit, prg
from oncoliaison.core.errors import DomainError, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.core.views import actor_of, maps_domain_errors
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.selectors import access_patient
from oncoliaison.tumorboards.selectors import board_discussions

from . import selectors
from .entry import may_write_record
from .importfiles import bundles_from_bytes
from .importing import bundle_import, import_review_resolve
from .importplan import ImportResult

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def cancer_summary(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.cancer_record_for(actor_of(request), pk, channel="web")
    actor = actor_of(request)
    ctx = {"record": record, "patient": record.patient, "is_staff": actor.kind == "staff",
           "can_write": may_write_record(actor), **board_discussions(actor, record.patient)}
    return no_store(render(request, "oncology/summary.html", ctx))


@login_required
@require_POST
@maps_domain_errors
def cancer_summary_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the oncology summary is being printed; the browser then prints the page."""
    actor = actor_of(request)
    patient = access_patient(actor, pk, category="oncology", channel="web", audit_read=False)
    audit.log(actor, AuditAction.PRINT, category="oncology", resource_type="Patient", resource_id=patient.pk,
              patient_id=patient.pk, channel="web")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    messages.info(request, "Printing is recorded. Use your browser's Print command (Ctrl+P) to print this summary.")
    return redirect("oncology:summary", pk=patient.pk)


# --- upload -------------------------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="FHIR Bundle JSON (transaction, batch or collection) or NDJSON; .gz accepted.")
    source = forms.CharField(
        max_length=200, required=False,
        help_text="URI of the sending system, e.g. the partner's FHIR base URL. The same resources from the "
                  "same source are imported once.")
    organization = forms.TypedChoiceField(coerce=int, help_text="The organisation the records belong to.")

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(o.pk, o.name) for o in organizations]
        if len(organizations) == 1:
            field.initial = organizations[0].pk

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if f.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; use the "
                                        "import-fhir command for large files.")
        return f


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def import_upload(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_importer(actor)
    orgs = list(Organization.objects.filter(pk__in=actor.clinical_organization_ids, active=True).order_by("name"))
    form = ImportUploadForm(request.POST or None, request.FILES or None, organizations=orgs)
    result: ImportResult | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            org = next(o for o in orgs if o.pk == form.cleaned_data["organization"])
            source = form.cleaned_data["source"].strip() or f"urn:oncoliaison:upload:{org.slug}"
            raw = upload.read()
            name = upload.name or ""
            try:
                if name.endswith(".gz"):
                    raw = gzip.decompress(raw)
                    name = name[:-3]
                bundles = bundles_from_bytes(raw, name=name)
            except (ValueError, OSError, EOFError, zlib.error, orjson.JSONDecodeError) as exc:
                form.add_error("file", f"The file is not readable FHIR JSON: {str(exc)[:200]}")
                bundles = []
            if not form.errors:
                result = ImportResult()
                try:
                    for bundle in bundles:
                        result.merge(bundle_import(actor=actor, bundle=bundle, source=source,
                                                   organization_id=org.pk, channel="web"))
                except DomainError as exc:
                    if exc.status == 403:
                        raise
                    form.add_error(None, exc.message)
                    result = None
        if form.errors:
            status = 400
        elif result is not None:
            # Post/redirect/get: the summary is shown once on the next page; a reload imports nothing again.
            prg.stash(request, "import-result", _result_shown(result))
            return redirect("oncology:import")
    shown = prg.take(request, "import-result") if request.method == "GET" else None
    ctx = {"form": form, **(shown or {"result": None, "rejected_types": [], "rows": []})}
    return no_store(render(request, "oncology/import.html", ctx, status=status))


def _result_shown(result: ImportResult) -> dict[str, Any]:
    """What the import page shows of a result, as plain data (it crosses the redirect in the session)."""
    return {
        "result": {
            "summary": result.summary(), "patients_created": result.patients_created,
            "patients_linked": result.patients_linked, "bundle_type": result.bundle_type, "stored": result.stored,
            "rejected": [{"index": i.index, "resource_type": i.resource_type, "resource_id": i.resource_id,
                          "reason": i.reason} for i in result.rejected[:200]],
            "unsupported": dict(result.unsupported),
        },
        "rejected_types": sorted({i.resource_type for i in result.rejected}),
        "rows": _result_rows(result),
    }


def _result_rows(result: ImportResult) -> list[dict[str, Any]]:
    rejected: dict[str, int] = {}
    for issue in result.rejected:
        rejected[issue.resource_type or "(none)"] = rejected.get(issue.resource_type or "(none)", 0) + 1
    types = sorted(set(result.created) | set(result.updated) | set(result.unchanged) | set(rejected)
                   | set(result.unsupported) | set(result.supporting))
    return [{"type": t, "created": result.created[t], "updated": result.updated[t], "unchanged": result.unchanged[t],
             "rejected": rejected.get(t, 0), "not_stored": result.unsupported[t] + result.supporting[t]}
            for t in types]


# --- review queue ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def review_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    reviews = list(selectors.import_review_list_for(actor)[:200])
    return no_store(render(request, "oncology/reviews.html", {"reviews": reviews}))


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("link", "Link"), ("create", "Register as new"), ("dismiss", "Dismiss")])
    patient = forms.IntegerField(required=False)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    review = selectors.import_review_list_for(actor).filter(pk=pk).first()
    if review is None:
        raise NotFound()
    candidates = list(selectors.import_review_candidates(actor, review))
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = import_review_resolve(
                actor=actor, review=review, decision=form.cleaned_data["decision"],
                patient_id=form.cleaned_data.get("patient"), channel="web")
        except DomainError as exc:
            if exc.status in {403, 404}:
                raise
            form.add_error(None, exc.message)
        else:
            s = outcome.summary()
            messages.success(request, f"Decision recorded. Imported {s['imported']} record(s); "
                                      f"{s['rejected']} rejected.")
            return redirect("oncology:reviews")
    audit.log_patients_read(actor, [c.pk for c in candidates], category="demographics", resource_type="Patient",
                            channel="web")
    held = [(e.get("resource") or {}).get("resourceType", "") for e in (review.bundle.get("entry") or [])]
    held_counts = sorted({t: held.count(t) for t in held if t}.items())
    status = 400 if form.errors else 200
    ctx = {"review": review, "candidates": candidates, "form": form, "held_counts": held_counts}
    return no_store(render(request, "oncology/review.html", ctx, status=status))

