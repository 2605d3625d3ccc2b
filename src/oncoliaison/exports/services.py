"""Writes of exports: ask for a bulk export, run it (claimed once), cancel it, delete old files.

The job is a row run by a django-tasks task (``run_export_job``): with the immediate backend it runs inside the
kick-off request, which still answers 202; with a queue, ``oncoliaison run-export-jobs`` works it.  A job
is claimed with a conditional UPDATE, so running it twice does nothing the second time.  Every exported
patient gets one EXPORT audit row.  Lines are orjson dumps of the mappers' dicts, written under
VAR_DIR/exports/<key>/ (0700 folders, 0600 files) that only the same client may download.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db.models import Q
from django_tasks import task

from oncoliaison.accounts.services import system_actor
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.files import open_private, private_dir
from oncoliaison.core.models import AuditAction
from oncoliaison.core.schedule import scheduled_job
from oncoliaison.core.scopes import ScopeSet

from . import selectors
from .models import ExportJob, ExportStatus

CHANNEL = "fhir"  # audit channel (bulk exports are told apart by resource_type Bundle / ExportJob)
logger = logging.getLogger(__name__)


def export_root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def job_dir(job: ExportJob) -> Path:
    return export_root() / job.key


def job_actor(job: ExportJob) -> Actor:
    """The client as it was when it asked (its organisation and scopes)."""
    return system_actor(organization_id=job.organization_id, client_id=job.client_id,
                        scopes=ScopeSet.parse(job.scopes))


def export_kick_off(*, actor: Actor, level: str, group_organization_id: int | None, types: list[str],
                    since: dt.datetime | None, request_url: str) -> ExportJob:
    """Queue an export for an API client (``types`` already checked with ``selectors.allowed_types``)."""
    selectors.require_client(actor)
    assert actor.client_id is not None and actor.client_organization_id is not None
    scopes = str(actor.scopes) if actor.scopes is not None else ""
    job = ExportJob.objects.create(
        key=secrets.token_urlsafe(32), level=level, group_organization_id=group_organization_id,
        organization_id=actor.client_organization_id, client_id=actor.client_id, scopes=scopes,
        types=types, since=since, request_url=request_url[:2000],
    )
    audit.log(actor, AuditAction.EXPORT, category=selectors.CATEGORY, resource_type="ExportJob",
              resource_id=job.pk, channel=CHANNEL, detail=f"kick-off {level}")
    run_export_job.enqueue(job.pk)
    return job


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
        patient_ids = selectors.export_patient_ids(actor, job.level, job.group_organization_id)
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
                for _rtype, body in selectors.resources_of(actor, patient_ids, [rtype], job.since):
                    buffer.append(orjson.dumps(body))
                    count += 1
                    owner = selectors.patient_of(rtype, body)
                    if owner is not None:
                        exported.add(owner)
                    if len(buffer) >= 5000:
                        fh.write(b"\n".join(buffer) + b"\n")
                        buffer.clear()
                if buffer:
                    fh.write(b"\n".join(buffer) + b"\n")
            if count:
                output.append({"type": rtype, "file": name, "count": count})
            else:
                (folder / name).unlink(missing_ok=True)
        audit.log_patients_read(actor, sorted(exported), category=selectors.CATEGORY, resource_type="Bundle",
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
    """The background task of one export (django-tasks; immediate in the kick-off request, or queued)."""
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


def export_cancel(*, actor: Actor, job: ExportJob) -> None:
    """Cancel a client's export, or delete the files of a finished one."""
    ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.CANCELLED).update(
        status=ExportStatus.CANCELLED, finished_at=clock.now())
    shutil.rmtree(job_dir(job), ignore_errors=True)
    audit.log(actor, AuditAction.DELETE, category=selectors.CATEGORY, resource_type="ExportJob", resource_id=job.pk,
              channel=CHANNEL, detail="cancelled")


def jobs_expired_delete(before: Any) -> int:
    """Delete the files (and mark cancelled) of finished exports older than ``before``."""
    old = ExportJob.objects.filter(Q(finished_at__lt=before), ~Q(status=ExportStatus.CANCELLED))
    count = 0
    for job in old:
        shutil.rmtree(job_dir(job), ignore_errors=True)
        count += ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED)
    return count


# Finished exports' files are kept this long for the client to download, then deleted (Bulk Data IG: the
# server may remove files after a period it chooses; the manifest then answers 404).
EXPORT_FILES_KEEP = dt.timedelta(days=7)


@scheduled_job("bulk export files")
def scheduled_export_cleanup(now: dt.datetime) -> str:
    """Delete the files of exports finished more than EXPORT_FILES_KEEP ago (run-scheduled-jobs)."""
    return f"deleted the files of {jobs_expired_delete(now - EXPORT_FILES_KEEP)} old export(s)"
