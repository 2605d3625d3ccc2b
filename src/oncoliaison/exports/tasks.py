"""Background work of exports (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def run_export_job(job_id: int) -> bool:
    return services.export_job_run(job_id)
