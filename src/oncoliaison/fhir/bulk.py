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
The job is a row (oncology.ExportJob) run by a django-tasks task: with the immediate backend it runs
inside the kick-off request, which still answers 202; with a queue, ``oncoliaison run-export-jobs``
works it.  A job is claimed with a conditional UPDATE, so running it twice does nothing the second time.
Every exported patient gets one EXPORT audit row.  Lines are orjson dumps of the mappers' dicts.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django_tasks import task

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor, system_actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound
from oncoliaison.core.files import open_private, private_dir
from oncoliaison.core.ids import parse_id
from oncoliaison.core.models import AuditAction
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.oncology.fhir import AUDIT_CATEGORY
from oncoliaison.oncology.models import ExportJob, ExportLevel, ExportStatus
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.selectors import patient_queryset_for

from .auth import actor_for_request, base_url
from .codes import instant
from .everything import allowed_types, parse_since, parse_types, resources_of
from .outcome import FhirError, error_response, fhir_response
from .views import fhir_view, log_unexpected

CHANNEL = "fhir"  # audit channel (bulk exports are told apart by resource_type Bundle / ExportJob)
NDJSON = "application/fhir+ndjson"
_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
_KICKOFF_PARAMS = {"_outputFormat", "_type", "_since"}
logger = logging.getLogger(__name__)


def export_root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def job_dir(job: ExportJob) -> Path:
    return export_root() / job.key


def job_actor(job: ExportJob) -> Actor:
    """The client as it was when it asked (its organisation and scopes)."""
    return system_actor(organization_id=job.organization_id, client_id=job.client_id,
                        scopes=ScopeSet.parse(job.scopes))


# --- kick-off ------------------------------------------------------------------------------------------


def _require_client(actor: Actor) -> None:
    if not actor.is_system or not actor.client_id or not actor.client_organization_id:
        raise Forbidden("Bulk export is for API clients (OAuth 2.0 client credentials).")


def _kick_off(request: HttpRequest, level: str, group: Organization | None, actor: Actor | None = None
              ) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "Start an export with GET.", headers={"Allow": "GET"})
    actor = actor or actor_for_request(request)
    _require_client(actor)
    if "respond-async" not in request.headers.get("Prefer", "").replace(" ", ""):
        raise FhirError(400, "A bulk export must be asked for with 'Prefer: respond-async'.", expression=["Prefer"])
    for name in request.GET:
        if name not in _KICKOFF_PARAMS:
            raise FhirError(400, f"Parameter '{name[:40]}' is not supported by $export.", code="not-supported",
                            expression=[name[:40]])
    fmt = request.GET.get("_outputFormat")
    if fmt is not None and fmt not in _FORMATS:
        raise FhirError(400, "_outputFormat must be application/fhir+ndjson.", expression=["_outputFormat"])
    types = allowed_types(actor, parse_types(request.GET.get("_type")))
    since = parse_since(request.GET.get("_since"))
    assert actor.client_id is not None and actor.client_organization_id is not None
    scopes = str(actor.scopes) if actor.scopes is not None else ""
    job = ExportJob.objects.create(
        key=secrets.token_urlsafe(32), level=level, group_organization=group,
        organization_id=actor.client_organization_id, client_id=actor.client_id, scopes=scopes,
        types=types, since=since, request_url=request.build_absolute_uri()[:2000],
    )
    audit.log(actor, AuditAction.EXPORT, category=AUDIT_CATEGORY, resource_type="ExportJob", resource_id=job.pk,
              channel=CHANNEL, detail=f"kick-off {level}")
    run_export_job.enqueue(job.pk)
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
    _require_client(actor)
    group_pk = parse_id(pk)
    group = Organization.objects.filter(pk=group_pk).first() if group_pk is not None else None
    # A Group is listed for the client when it is its own organisation or one of its patients is shared.
    if group is None:
        raise NotFound()
    if group.pk != actor.client_organization_id and not patient_queryset_for(actor).filter(organization=group).exists():
        raise NotFound()
    return _kick_off(request, ExportLevel.GROUP, group, actor)


# --- the work ------------------------------------------------------------------------------------------


def _patient_ids(job: ExportJob, actor: Actor) -> list[int]:
    qs = patient_queryset_for(actor)
    if job.level == ExportLevel.GROUP:
        qs = qs.filter(organization_id=job.group_organization_id or 0)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def _cancelled(job: ExportJob) -> bool:
    return not ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).exists()


def export_job_run(job_id: int) -> bool:
    """Claim and run one queued export; False when it was not queued (already taken, done or cancelled)."""
    now = clock.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now, transaction_time=now, progress="started")
    if not claimed:
        return False
    job = ExportJob.objects.get(pk=job_id)
    actor = job_actor(job)
    folder = job_dir(job)
    try:
        for path in (Path(settings.VAR_DIR), export_root(), folder):
            private_dir(path)  # var/, exports/ and the job's folder 0700; the files 0600
        patient_ids = _patient_ids(job, actor)
        output: list[dict[str, Any]] = []
        exported: set[int] = set()
        for n, rtype in enumerate(job.types, start=1):
            if _cancelled(job):
                shutil.rmtree(folder, ignore_errors=True)
                return True
            ExportJob.objects.filter(pk=job.pk).update(progress=f"{rtype}: type {n} of {len(job.types)}")
            name = f"{rtype}.ndjson"
            count = 0
            with open_private(folder / name, "wb") as fh:
                buffer: list[bytes] = []
                for _rtype, body in resources_of(patient_ids, [rtype], job.since):
                    buffer.append(orjson.dumps(body))
                    count += 1
                    subject = body.get("subject") or body.get("patient")
                    if rtype == "Patient":
                        exported.add(int(body["id"]))
                    elif subject:
                        exported.add(int(subject["reference"].rsplit("/", 1)[1]))
                    if len(buffer) >= 5000:
                        fh.write(b"\n".join(buffer) + b"\n")
                        buffer.clear()
                if buffer:
                    fh.write(b"\n".join(buffer) + b"\n")
            if count:
                output.append({"type": rtype, "file": name, "count": count})
            else:
                (folder / name).unlink(missing_ok=True)
        audit.log_patients_read(actor, sorted(exported), category=AUDIT_CATEGORY, resource_type="Bundle",
                                action=AuditAction.EXPORT, channel=CHANNEL)
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.COMPLETED, output=output, patient_count=len(exported), progress="done",
            finished_at=clock.now())
    except Exception as exc:  # the job fails visibly; the message could quote data, so log the type only
        logger.error("Bulk export job %s failed: %s", job.pk, type(exc).__name__)
        shutil.rmtree(folder, ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=type(exc).__name__,
                                                   finished_at=clock.now())
    return True


@task()
def run_export_job(job_id: int) -> bool:
    return export_job_run(job_id)


def run_queued_jobs(limit: int | None = None) -> int:
    """Work queued exports oldest first (the worker command); returns how many this call ran."""
    ran = 0
    while limit is None or ran < limit:
        job_id = ExportJob.objects.filter(status=ExportStatus.QUEUED).order_by("created_at", "pk").values_list(
            "pk", flat=True).first()
        if job_id is None:
            break
        if export_job_run(job_id):
            ran += 1
    return ran


# --- status, cancel, files -------------------------------------------------------------------------------


def _own_job(actor: Actor, key: str) -> ExportJob:
    """The client's own job, else NotFound (the same for another client's job and a missing one)."""
    _require_client(actor)
    job = ExportJob.objects.filter(key=key, client_id=actor.client_id).exclude(status=ExportStatus.CANCELLED).first()
    if job is None:
        raise NotFound()
    return job


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
    job = _own_job(actor, key)
    if request.method == "DELETE":
        ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.CANCELLED).update(
            status=ExportStatus.CANCELLED, finished_at=clock.now())
        shutil.rmtree(job_dir(job), ignore_errors=True)
        audit.log(actor, AuditAction.DELETE, category=AUDIT_CATEGORY, resource_type="ExportJob", resource_id=job.pk,
                  channel=CHANNEL, detail="cancelled")
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
            log_unexpected(request, exc)
            return error_response(FhirError(500, "Something went wrong on our side; it has been logged.",
                                            code="exception"))

    return wrapped


@_plain_errors
def export_file(request: HttpRequest, key: str, name: str) -> HttpResponseBase:
    if request.method != "GET":
        raise FhirError(405, "Download with GET.", headers={"Allow": "GET"})
    actor = actor_for_request(request)
    job = _own_job(actor, key)
    files = {o["file"] for o in job.output} if job.status == ExportStatus.COMPLETED else set()
    path = job_dir(job) / name
    if name not in files or not path.is_file():
        raise NotFound()
    response = FileResponse(path.open("rb"), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response


def jobs_expired_delete(before: Any) -> int:
    """Delete the files (and mark cancelled) of finished exports older than ``before``."""
    old = ExportJob.objects.filter(Q(finished_at__lt=before), ~Q(status=ExportStatus.CANCELLED))
    count = 0
    for job in old:
        shutil.rmtree(job_dir(job), ignore_errors=True)
        count += ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED)
    return count
