"""The scheduled jobs every domain declares, run together by ``oncoliaison run-scheduled-jobs``.

Cron (or a worker loop) calls the command every minute; each job decides what is due, must be cheap
when nothing is, and returns a one-line summary.  A domain declares its job where the work lives
(``@scheduled_job("...")``) and imports that module in its ``AppConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from . import clock

Job = Callable[[dt.datetime], str]


class JobFailed(Exception):
    """A job's refusal whose message is safe to print (no patient data): the command shows it."""

_JOBS: dict[str, tuple[int, Job]] = {}


def scheduled_job(name: str, *, order: int = 0) -> Callable[[Job], Job]:
    """Decorator: run ``job(now)`` on every ``run-scheduled-jobs``, lower ``order`` first."""

    def register(job: Job) -> Job:
        _JOBS[name] = (order, job)
        return job

    return register


def jobs() -> list[tuple[str, Job]]:
    return [(name, job) for name, (_, job) in sorted(_JOBS.items(), key=lambda item: (item[1][0], item[0]))]


@dataclass(frozen=True)
class JobResult:
    name: str
    summary: str
    failed: bool


def run_all(now: dt.datetime | None = None) -> list[JobResult]:
    """Run every declared job once; one job's failure does not stop the others (each is reported)."""
    now = now or clock.now()
    results = []
    for name, job in jobs():
        try:
            results.append(JobResult(name, job(now), False))
        except JobFailed as exc:
            results.append(JobResult(name, str(exc), True))
        except Exception as exc:  # an exception's text can quote data: its type only; the command exits 1
            results.append(JobResult(name, type(exc).__name__, True))
    return results
