"""FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/ — Bulk Data Access IG v2), for API clients.

    GET  [base]/$export                 every patient the client may see
    GET  [base]/Patient/$export         the same (all the record here is patient data)
    GET  [base]/Group/{id}/$export      Group = an organisation's patient list: the patients managed by
                                        organisation {id} that the client may see (its own, or shared
                                        with its organisation by an active data-sharing consent)
    GET  [base]/bulkstatus/{key}        202 + X-Progress while running, 200 + manifest when done
    DELETE [base]/bulkstatus/{key}      cancel (or delete the files of a finished export)
    GET  [base]/bulkfiles/{key}/{file}  one NDJSON file (same client's token only)

Kick-off needs ``Prefer: respond-async``; ``_outputFormat`` may be application/fhir+ndjson (the default),
application/ndjson or ndjson; ``_type`` and ``_since`` (instant, on meta.lastUpdated) are supported.
The export covers every resource type the server serves for a patient (the registry's patient compartment).
This module is the door: it translates the requests and calls the exports domain (exports.services, which
runs the job, and exports.selectors).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, NotFound
from oncoliaison.core.ids import parse_id
from oncoliaison.core.logfilters import log_unexpected
from oncoliaison.exports import selectors, services
from oncoliaison.exports.models import ExportJob, ExportLevel, ExportStatus

from .auth import actor_for_request, base_url
from .codes import instant
from .everything import parse_since, parse_types
from .outcome import FhirError, error_response, fhir_response
from .views import fhir_view

NDJSON = "application/fhir+ndjson"
_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
_KICKOFF_PARAMS = {"_outputFormat", "_type", "_since"}


# --- kick-off ------------------------------------------------------------------------------------------


def _kick_off(request: HttpRequest, level: str, group_organization_id: int | None, actor: Actor | None = None
              ) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "Start an export with GET.", headers={"Allow": "GET"})
    actor = actor or actor_for_request(request)
    selectors.require_client(actor)
    if "respond-async" not in request.headers.get("Prefer", "").replace(" ", ""):
        raise FhirError(400, "A bulk export must be asked for with 'Prefer: respond-async'.", expression=["Prefer"])
    for name in request.GET:
        if name not in _KICKOFF_PARAMS:
            raise FhirError(400, f"Parameter '{name[:40]}' is not supported by $export.", code="not-supported",
                            expression=[name[:40]])
    fmt = request.GET.get("_outputFormat")
    if fmt is not None and fmt not in _FORMATS:
        raise FhirError(400, "_outputFormat must be application/fhir+ndjson.", expression=["_outputFormat"])
    types = selectors.allowed_types(actor, parse_types(request.GET.get("_type")))
    since = parse_since(request.GET.get("_since"))
    job = services.export_kick_off(actor=actor, level=level, group_organization_id=group_organization_id,
                                   types=types, since=since, request_url=request.build_absolute_uri())
    response = HttpResponse(status=202)
    response["Content-Location"] = f"{base_url(request)}/bulkstatus/{job.key}"
    return response


@fhir_view
def system_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportLevel.SYSTEM, None)


@fhir_view
def patient_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportLevel.PATIENT, None)


@fhir_view
def group_export(request: HttpRequest, pk: str) -> HttpResponse:
    actor = actor_for_request(request)
    selectors.require_client(actor)
    group_pk = parse_id(pk)
    if not selectors.group_visible(actor, group_pk):
        raise NotFound()
    return _kick_off(request, ExportLevel.GROUP, group_pk, actor)


# --- status, cancel, files -------------------------------------------------------------------------------


def _manifest(job: ExportJob, base: str) -> dict[str, Any]:
    assert job.transaction_time is not None
    return {
        "transactionTime": instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": o["type"], "url": f"{base}/bulkfiles/{job.key}/{o['file']}", "count": o["count"]}
                   for o in job.output],
        "error": [],
    }


@fhir_view
def export_status(request: HttpRequest, key: str) -> HttpResponse:
    actor = actor_for_request(request)
    job = selectors.own_job(actor, key)
    if request.method == "DELETE":
        services.export_cancel(actor=actor, job=job)
        return HttpResponse(status=202)
    if request.method != "GET":
        raise FhirError(405, "Poll with GET; cancel with DELETE.", headers={"Allow": "GET, DELETE"})
    if job.status in {ExportStatus.QUEUED, ExportStatus.RUNNING}:
        response = HttpResponse(status=202)
        response["X-Progress"] = job.progress or "queued"
        response["Retry-After"] = "2"
        return response
    if job.status == ExportStatus.FAILED:
        raise FhirError(500, "The export failed; it has been logged. Start a new export.", code="exception")
    response = fhir_response(_manifest(job, base_url(request)))
    response["Content-Type"] = "application/json"
    return response


def _plain_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """File downloads: errors as OperationOutcome, but no JSON content negotiation (Accept is NDJSON)."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (FhirError, DomainError) as exc:
            return error_response(exc)
        except Exception as exc:
            log_unexpected(request, exc, "FHIR")
            return error_response(FhirError(500, "Something went wrong on our side; it has been logged.",
                                            code="exception"))

    return wrapped


@_plain_errors
def export_file(request: HttpRequest, key: str, name: str) -> HttpResponseBase:
    if request.method != "GET":
        raise FhirError(405, "Download with GET.", headers={"Allow": "GET"})
    actor = actor_for_request(request)
    job = selectors.own_job(actor, key)
    files = {o["file"] for o in job.output} if job.status == ExportStatus.COMPLETED else set()
    path = services.job_dir(job) / name
    if name not in files or not path.is_file():
        raise NotFound()
    response = FileResponse(path.open("rb"), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response
